# SPDX-License-Identifier: BSD-3-Clause
"""Numbers as the benchmarks print them: Markdown tables and CSV files."""

import csv
import math


def fmt(v, digits=3):
    """A table cell: '-' for none/NaN, yes/no, 3 significant digits,
    thousands separators from 1000 (floats) or 10000 (ints)."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return "-"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}"
    if isinstance(v, int) and abs(v) >= 10000:
        return f"{v:,}"
    return str(v)


def md_table(head, rows):
    """A Markdown table, first column left-aligned, the others right;
    strings are printed as they are, other cells through fmt()."""
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" if i == 0 else "---:"
                          for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(v if isinstance(v, str) else fmt(v)
                              for v in row) + " |" for row in rows]
    return "\n".join(out)


def write_csv(path, records, fields, row=None):
    """records (dicts) as CSV with these columns; None becomes empty.
    row(record, dict) may adjust a row before it is written."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in records:
            d = {k: ("" if r.get(k) is None else r.get(k)) for k in fields}
            if row is not None:
                row(r, d)
            w.writerow(d)
