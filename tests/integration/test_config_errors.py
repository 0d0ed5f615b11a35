# SPDX-License-Identifier: BSD-3-Clause
"""`gossipd -- --config FILE --check-config` rejects bad files with
"FILE:LINE: message" (docs/CONFIG.md, "Errors") and accepts a good one.
No DPDK, no network: only the gossipd binary is needed."""

import subprocess

import pytest

import gsp_cluster
from conftest import GOSSIPD, require


@pytest.fixture(scope="module")
def gossipd():
    require("gossipd")
    return str(GOSSIPD)


def good_text():
    return gsp_cluster.render_config("gspcfg", "node1", "10.77.0.1",
                                     ["10.77.0.2:7946", "10.77.0.3"], 100, None)


def check(gossipd, path):
    return subprocess.run([gossipd, "--", "--config", str(path),
                           "--check-config"], capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)


def lineno(lines, pred):
    for i, ln in enumerate(lines):
        if pred(ln.strip()):
            return i
    raise AssertionError("template line not found")


def key_is(key):
    return lambda ln: "=" in ln and not ln.startswith(("#", ";")) and \
        ln.split("=", 1)[0].strip() == key


def replace_key(key, new):
    def edit(lines):
        i = lineno(lines, key_is(key))
        lines[i] = new
        return i
    return edit


def insert_after(pred, new):
    def edit(lines):
        i = lineno(lines, pred) + 1
        lines.insert(i, new)
        return i
    return edit


def append(*new):
    def edit(lines):
        lines.extend(new)
        return len(lines) - len(new)
    return edit


# (case, edit(lines) -> 0-based index of the line the error must name,
#  words the message must contain)
CASES = [
    ("unknown_key", insert_after(lambda ln: ln == "[gossip]", "bogus_key = 1"),
     ["bogus_key"]),
    ("bad_integer", replace_key("fanout", "fanout = two"), ["fanout"]),
    ("integer_out_of_range", replace_key("fanout", "fanout = 0"), ["fanout"]),
    ("bad_number", replace_key("phi_threshold", "phi_threshold = abc"),
     ["phi_threshold"]),
    ("bad_address", replace_key("address", "address = 10.77.0.300"),
     ["address"]),
    ("bad_seed_port", replace_key("seed", "seed = 10.77.0.2:70000"), ["seed"]),
    ("unknown_section", append("", "[bogus]", "key = 1"), ["bogus"]),
    ("syntax_error", insert_after(lambda ln: ln == "[node]", "this is not ini"),
     []),
    ("colon_separator", replace_key("fanout", "fanout: 3"), []),
    ("duplicate_key", insert_after(key_is("fanout"), "fanout = 3"),
     ["fanout"]),
]


@pytest.mark.parametrize("case,edit,words", CASES, ids=[c[0] for c in CASES])
def test_bad_config_names_file_and_line(gossipd, tmp_path, case, edit, words):
    lines = good_text().splitlines()
    idx = edit(lines)
    if case == "unknown_section":
        idx += 1                    # the error names the [bogus] header
    path = tmp_path / f"{case}.ini"
    path.write_text("\n".join(lines) + "\n")
    r = check(gossipd, path)
    assert r.returncode != 0, f"{case}: accepted:\n{path.read_text()}"
    want = f"{path}:{idx + 1}:"
    assert want in r.stderr, f"{case}: expected {want!r} in stderr:\n{r.stderr}"
    for w in words:
        assert w in r.stderr, f"{case}: expected {w!r} in stderr:\n{r.stderr}"


def test_missing_required_key(gossipd, tmp_path):
    lines = [ln for ln in good_text().splitlines() if not key_is("address")(ln.strip())]
    path = tmp_path / "missing_address.ini"
    path.write_text("\n".join(lines) + "\n")
    r = check(gossipd, path)
    assert r.returncode != 0
    assert f"{path}:" in r.stderr and "address" in r.stderr and \
        "required" in r.stderr, r.stderr


def test_missing_file(gossipd, tmp_path):
    path = tmp_path / "does-not-exist.ini"
    r = check(gossipd, path)
    assert r.returncode != 0
    assert f"{path}:" in r.stderr, r.stderr


def test_good_config_passes(gossipd, tmp_path):
    path = tmp_path / "good.ini"
    path.write_text(good_text())
    r = check(gossipd, path)
    assert r.returncode == 0, f"rejected ({r.returncode}):\n{r.stderr}\n{path.read_text()}"
