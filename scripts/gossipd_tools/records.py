# SPDX-License-Identifier: BSD-3-Clause
"""The JSON-lines records gossip-sim and gossipd --emulate write, as the
benchmarks read them."""

import json
import os
import subprocess

from .run import tail_text

SIM_EXIT_MEM = 3        # gossip-sim: would not fit in RAM

# Names records had before the simulator and the emulation shared one
# record (harness/gsp_record.h): records kept from then read as today's.
OLD_NAMES = {
    "join_time_s": "join_s", "sim_s": "window_s",
    "tx_pkts_per_s_mean": "tx_pps_mean", "tx_pkts_per_s_max": "tx_pps_max",
    "rx_pkts_per_s_mean": "rx_pps_mean", "rx_pkts_per_s_max": "rx_pps_max",
    "tx_bytes_per_s_mean": "tx_Bps_mean", "tx_bytes_per_s_max": "tx_Bps_max",
    "rx_bytes_per_s_mean": "rx_Bps_mean", "rx_bytes_per_s_max": "rx_Bps_max",
}
OLD_FP = {"fp_suspect": "suspect_transitions",
          "fp_down": "down_transitions",
          "false_suspicion_pair_s": "pair_s", "fp_open_peak": "open_peak",
          "fp_open_end": "open_end"}
OLD_STALL = {"resumed_suspected": "resumed_suspect",
             "resumed_downed": "resumed_down"}


def upgrade(r):
    """An older record under today's names (in place; returns it)."""
    for old, new in OLD_NAMES.items():
        if old in r and new not in r:
            r[new] = r.pop(old)
    if any(k in r for k in OLD_FP) and not isinstance(r.get("fp"), dict):
        r["fp"] = {new: r.pop(old) for old, new in OLD_FP.items()
                   if old in r}
    st = r.get("stall")
    if isinstance(st, dict):
        for old, new in OLD_STALL.items():
            if old in st and new not in st:
                st[new] = st.pop(old)
    return r


def read_records(path, say=None):
    """Every record of a JSON-lines file (none when it does not exist);
    unparsable lines are skipped (and said, given say)."""
    recs = []
    if not path.exists():
        return recs
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            recs.append(upgrade(json.loads(line)))
        except ValueError:
            if say:
                say(f"{path}: unparsable line ignored: {line[:80]}")
    return recs


def failed(mode, scenario, n, status, reason, **extra):
    """The record of a run that produced none."""
    rec = {"mode": mode, "scenario": scenario, "nodes": n,
           "status": status, "reason": reason}
    rec.update(extra)
    return rec


def sim_status(r):
    if r.get("ok"):
        return "ok"
    if r.get("memory_limited"):
        return "memory-limited"
    return "wall-limited" if r.get("wall_limited") else "not-reached"


def sim_errors(err):
    """The end of the simulator's stderr without its progress lines."""
    return tail_text("\n".join(ln for ln in err.splitlines()
                               if ": ... wall" not in ln), 3)


def emu_supported(gossipd):
    """(True, "") when gossipd has --emulate, else (False, why)."""
    if not os.access(gossipd, os.X_OK):
        return False, f"{gossipd} is missing"
    try:
        p = subprocess.run([str(gossipd), "--", "--help"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"gossipd -- --help failed: {e}"
    if "--emulate" not in p.stdout:
        return False, "gossipd has no --emulate option (gossipd -- --help)"
    return True, ""


def fp_flat(r):
    """The record's false-positive block as flat table columns
    (fp_suspect, fp_down: transitions; fp_suspect_pairs, fp_down_pairs,
    fp_pair_s, fp_open_peak), the same for both modes."""
    fp = r.get("fp") or {}
    return {"fp_suspect": fp.get("suspect_transitions"),
            "fp_down": fp.get("down_transitions"),
            "fp_suspect_pairs": fp.get("suspect_pairs"),
            "fp_down_pairs": fp.get("down_pairs"),
            "fp_pair_s": fp.get("pair_s"),
            "fp_open_peak": fp.get("open_peak")}
