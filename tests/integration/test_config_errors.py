# SPDX-License-Identifier: BSD-3-Clause
"""`gossipd -- --config FILE --check-config` rejects bad files with
"FILE:LINE: message" (docs/CONFIG.md, "Errors") and accepts a good one.
No DPDK, no network: only the gossipd binary is needed."""

import base64
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

from gossipd_tools import cluster as gsp_cluster
from conftest import GOSSIPD, REPO, require


@pytest.fixture(scope="module")
def gossipd():
    require("gossipd")
    return str(GOSSIPD)


KEYRING = None       # set by the keyring fixture: every config uses it


@pytest.fixture(scope="module", autouse=True)
def keyring(tmp_path_factory):
    global KEYRING
    KEYRING = write_keyring(tmp_path_factory.mktemp("keys") / "good.keyring",
                            [key_b64()])
    return KEYRING


def key_b64(n=32):
    return base64.b64encode(os.urandom(n)).decode()


def write_keyring(path, lines, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, mode)
    return path


def good_text():
    text = gsp_cluster.render_config("gspcfg", "node1", "10.77.0.1",
                                     ["10.77.0.2:7946", "10.77.0.3"], 100, None)
    return gsp_cluster.ini_set(text, "security", "keyring", str(KEYRING))


def check(gossipd, path, timeout=30):
    return subprocess.run([gossipd, "--", "--config", str(path),
                           "--check-config"], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


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


def append_last(*new):
    """Appends lines; the error must name the last one."""
    def edit(lines):
        lines.extend(new)
        return len(lines) - 1
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
    ("bad_security_mode", insert_after(lambda ln: ln == "[security]",
                                       "mode = sometimes"),
     ["mode", "authenticated", "plaintext"]),
    ("bad_cipher", insert_after(lambda ln: ln == "[security]",
                                "cipher = rot13"), ["cipher", "aes-256-gcm"]),
    ("plaintext_with_keyring", append("mode = plaintext"),
     ["plaintext", "keyring"]),
    ("limit_out_of_range", append_last("", "[limits]", "app_value_max = 256"),
     ["app_value_max"]),
    ("bad_limit", append_last("", "[limits]", "join_rate = fast"), ["join_rate"]),
    ("bad_rx_interrupts", append_last("", "[dataplane]",
                                      "rx_interrupts = maybe"),
     ["rx_interrupts", "auto", "on", "off"]),
    ("rx_interrupts_on_busy_poll",
     append_last("", "[dataplane]", "rx_interrupts = on", "idle_sleep = 0"),
     ["rx_interrupts", "idle_sleep"]),
    # a time names its unit; the old name and the new one together clash
    ("duration_without_unit", append_last("", "[dataplane]",
                                          "arp_timeout = 300"),
     ["arp_timeout", "\"300\" needs a unit", "ms, s, m, h"]),
    ("duration_junk_unit", append_last("", "[dataplane]",
                                       "arp_timeout = 5min"),
     ["arp_timeout", "1s..1d", "5min"]),
    ("old_and_new_name", append_last("", "[dataplane]", "arp_timeout = 5m",
                                     "arp_timeout_s = 300"),
     ["arp_timeout_s", "also set as arp_timeout", "remove one"]),
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


def test_old_time_keys_work_with_a_warning(gossipd, tmp_path):
    """interval_ms = 100 is no guess (the unit is in the name): still
    accepted, with a warning naming the file, line and the new key."""
    text = gsp_cluster.ini_set(good_text(), "gossip", "interval", None)
    text = gsp_cluster.ini_set(text, "gossip", "interval_ms", 100)
    path = tmp_path / "old.ini"
    path.write_text(text)
    r = check(gossipd, path)
    assert r.returncode == 0, r.stderr
    i = lineno(text.splitlines(), key_is("interval_ms")) + 1
    want = (f"{path}:{i}: [gossip] interval_ms is deprecated: write "
            "interval = 100ms")
    assert want in r.stderr, r.stderr


# The keyring file: its errors name the file (and line), never a key.
KEYRING_CASES = [
    # (case, lines, mode, line the error must name or None, words)
    ("world_readable", None, 0o644, None, ["mode 0644", "chmod 600"]),
    ("group_readable", None, 0o640, None, ["chmod 600"]),
    ("not_base64", ["# comment", "", "not-a-key!"], 0o600, 3, ["base64"]),
    ("short_key", ["KEY16"], 0o600, 1, ["32 bytes"]),
    ("two_keys_one_line", ["KEY KEY"], 0o600, 1, ["one key per line"]),
    ("comma_after_key", ["KEY,KEY"], 0o600, 1, ["after the key"]),
    ("text_after_key", ["# ok", "KEY ;old"], 0o600, 2, ["after the key"]),
    ("nul_after_key", ["KEY\0junk"], 0o600, 1, ["NUL byte"]),
    ("all_zero_key", ["KEYA", "ZERO"], 0o600, 2, ["all zeros"]),
    ("all_zero_primary", ["ZERO  # primary", "KEYA"], 0o600, 1,
     ["all zeros"]),
    ("duplicate_key", ["KEYA", "KEYA"], 0o600, 2, ["same key"]),
    ("empty", ["# only a comment"], 0o600, None, ["no key"]),
]


@pytest.mark.parametrize("case,lines,mode,line,words", KEYRING_CASES,
                         ids=[c[0] for c in KEYRING_CASES])
def test_bad_keyring_file(gossipd, tmp_path, case, lines, mode, line, words):
    ka = key_b64()
    subst = {"KEY16": key_b64(16), "KEYA": ka, "KEY": key_b64(),
             "ZERO": base64.b64encode(bytes(32)).decode()}
    body = [re.sub("KEY16|KEYA|ZERO|KEY", lambda m: subst[m.group()], ln)
            for ln in (lines or [key_b64()])]
    kr = write_keyring(tmp_path / f"{case}.keyring", body, mode)
    text = gsp_cluster.ini_set(good_text(), "security", "keyring", str(kr))
    path = tmp_path / f"{case}.ini"
    path.write_text(text)
    r = check(gossipd, path)
    assert r.returncode != 0, f"{case}: accepted"
    want = f"{kr}:{line}:" if line else f"{kr}:"
    assert want in r.stderr, f"{case}: expected {want!r} in:\n{r.stderr}"
    for w in words:
        assert w in r.stderr, f"{case}: expected {w!r} in:\n{r.stderr}"
    for secret in body:         # a key, or a line that might be one
        if len(secret) >= 16 and not secret.startswith("#"):
            assert secret not in r.stderr, f"{case}: key text in the error"


def test_missing_keyring_is_refused(gossipd, tmp_path):
    text = gsp_cluster.ini_set(good_text(), "security", "keyring", None)
    path = tmp_path / "nokeys.ini"
    path.write_text(text)
    r = check(gossipd, path)
    assert r.returncode != 0
    assert "keyring is required" in r.stderr and "plaintext" in r.stderr, \
        r.stderr


def test_plaintext_is_loud(gossipd, tmp_path):
    text = gsp_cluster.ini_set(good_text(), "security", "keyring", None)
    text = gsp_cluster.ini_set(text, "security", "mode", "plaintext")
    path = tmp_path / "plain.ini"
    path.write_text(text)
    r = check(gossipd, path)
    assert r.returncode == 0, r.stderr
    assert "PLAINTEXT" in r.stderr + r.stdout and "NEITHER AUTHENTICATED" \
        in r.stderr + r.stdout, r.stderr


def test_keyring_comments_after_a_key(gossipd, tmp_path):
    """After a key: blanks and a '#' comment, with or without a blank
    before it (docs/SECURITY.md); CRLF line ends too."""
    kr = write_keyring(tmp_path / "commented.keyring",
                       ["# rotated in May", f"  {key_b64()}  # new\r",
                        f"{key_b64()}#old"])
    path = tmp_path / "commented.ini"
    path.write_text(gsp_cluster.ini_set(good_text(), "security", "keyring",
                                        str(kr)))
    r = check(gossipd, path)
    assert r.returncode == 0, r.stderr


# Files never block (docs/CONFIG.md, "Files"): whatever an operator's path
# names, --check-config answers at once; a hang fails by the timeout.
FAST_S = 10


@pytest.fixture
def special_file(tmp_path):
    """make(kind) -> (path, what gossipd must call it)."""
    socks = []

    def make(kind):
        if kind == "fifo":
            p = tmp_path / "file.fifo"
            os.mkfifo(p, 0o600)
            return p, "a FIFO"
        if kind == "directory":
            d = tmp_path / "dir"
            d.mkdir(mode=0o700)
            return d, "a directory"
        if kind == "device":
            return Path("/dev/zero"), "a character device"
        p = tmp_path / "file.sock"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        socks.append(s)
        s.bind(str(p))
        return p, "a socket"
    yield make
    for s in socks:
        s.close()


@pytest.mark.parametrize("kind", ["fifo", "directory", "device", "socket"])
def test_config_not_a_regular_file(gossipd, special_file, kind):
    path, what = special_file(kind)
    r = check(gossipd, path, timeout=FAST_S)
    assert r.returncode != 0
    assert f"{path}: not a regular file ({what})" in r.stderr, r.stderr


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_keyring_not_a_regular_file(gossipd, tmp_path, special_file, kind):
    kr, what = special_file(kind)
    path = tmp_path / f"{kind}.ini"
    path.write_text(gsp_cluster.ini_set(good_text(), "security", "keyring",
                                        str(kr)))
    r = check(gossipd, path, timeout=FAST_S)
    assert r.returncode != 0
    assert f"[security] keyring {kr}: not a regular file ({what})" in \
        r.stderr, r.stderr


def test_config_too_large(gossipd, tmp_path):
    """More than 1 MiB is refused, however harmless (all comments)."""
    path = tmp_path / "large.ini"
    text = good_text()
    pad = ("#" * 99 + "\n") * ((1 << 20) // 100 + 1)
    path.write_text(text + pad)
    r = check(gossipd, path)
    assert r.returncode != 0
    assert f"{path}: too large (" in r.stderr, r.stderr


def test_seed_that_is_this_node_is_a_warning(gossipd, tmp_path):
    """A seed at the node's own address:port: the file is accepted, with
    a warning naming its line (the template is node1 at 10.77.0.1)."""
    lines = good_text().splitlines()
    i = lineno(lines, key_is("seed")) + 1
    lines.insert(i, "seed = 10.77.0.1")
    lines.insert(i + 1, "seed = 10.77.0.1:7000")  # another port: a peer
    path = tmp_path / "self_seed.ini"
    path.write_text("\n".join(lines) + "\n")
    r = check(gossipd, path)
    assert r.returncode == 0, r.stderr
    want = (f"{path}:{i + 1}: [seeds] seed 10.77.0.1:"
            f"{gsp_cluster.GOSSIP_PORT} is this node itself")
    assert want in r.stderr, r.stderr
    assert r.stderr.count("is this node itself") == 1, r.stderr


# dataplane/core/gsp_params.h row -> its key in docs/CONFIG.md and unit;
# rows that are no config key (simulator options) map to None
PARAM_KEYS = {
    "INTERVAL_MS": ("gossip", "interval", "ms"),
    "FANOUT": ("gossip", "fanout", "int"),
    "PHI_SUSPECT": ("gossip", "phi_suspect", "num"),
    "PHI_CONVICT": ("gossip", "phi_threshold", "num"),
    "FORGET_S": ("gossip", "forget_after", "s"),
    "LEAVE_ROUNDS": ("gossip", "leave_rounds", "int"),
    "MAX_MEMBERS": ("gossip", "max_members", "int"),
    "CLOCK_SKEW_NS": ("gossip", "max_clock_skew", "ns"),
    "WIRE_VERSION": ("gossip", "wire_version", "int"),
    "SYN_PACKETS": None,
    "ACK_STATES": None,
    "PROBE_INTERVAL_NS": ("detector", "probe_interval", "ns"),
    "PROBE_TIMEOUT_NS": ("detector", "probe_timeout", "ns"),
    "INDIRECT_PROBES": ("detector", "indirect_probes", "int"),
    "SUSPICION_MULT": ("detector", "suspicion_mult", "int"),
    "SUSPICION_MAX_MULT": ("detector", "suspicion_max_mult", "int"),
    "AWARENESS_MAX": ("detector", "awareness_max", "int"),
}


def param_rows():
    """{NAME: (default, min, max)} from gsp_params.h, evaluated."""
    text = (REPO / "dataplane" / "core" / "gsp_params.h").read_text()
    text = text.replace("\\\n", " ")
    rows = {}
    for m in re.finditer(r"#define GSP_PARAM_([A-Z_]+)\s+\(([^)]*)\)", text):
        name, body = m.group(1), m.group(2)
        if name.endswith("_") or "," not in body:   # helpers, units
            continue
        body = re.sub(r"(\d)(ull|u)\b", r"\1", body)
        body = body.replace("GSP_PARAM_MS", "1000000")
        body = body.replace("GSP_PARAM_S", "1000000000")
        rows[name] = tuple(eval(v) for v in body.split(","))
    return rows


def doc_value(v, unit):
    if unit == "num":
        return f"{v:g}"
    if unit == "int":
        return str(v)
    if unit in ("ms", "s"):     # a field in ms or s, written with a unit
        v *= 10**6 if unit == "ms" else 10**9
    for suffix, ns in (("d", 86400 * 10**9), ("h", 3600 * 10**9),
                       ("m", 60 * 10**9), ("s", 10**9), ("ms", 10**6),
                       ("us", 10**3)):
        if v % ns == 0:
            return f"{v // ns}{suffix}"
    return f"{v}ns"


def test_documented_defaults_are_the_tables():
    """Every default and range in docs/CONFIG.md is the one the config,
    the core and the simulator use (one row in gsp_params.h)."""
    doc = (REPO / "docs" / "CONFIG.md").read_text()
    cells = {}
    for line in doc.splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) >= 5 and parts[1].startswith("`"):
            cells[(parts[0], parts[1].strip("`"))] = parts
    rows = param_rows()
    assert set(rows) == set(PARAM_KEYS), set(rows) ^ set(PARAM_KEYS)
    for name, (default, lo, hi) in rows.items():
        key = PARAM_KEYS[name]
        if key is None:
            continue
        section, k, unit = key
        assert (section, k) in cells, f"[{section}] {k} not in CONFIG.md"
        row = cells[(section, k)]
        if name != "PROBE_TIMEOUT_NS":      # documented as half the interval
            assert row[3] == f"`{doc_value(default, unit)}`", (name, row[3])
        want = f"{doc_value(lo, unit)}..{doc_value(hi, unit)}"
        assert row[4].startswith(want), (name, row[4], want)
