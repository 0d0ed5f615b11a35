# SPDX-License-Identifier: BSD-3-Clause
"""Exact 64-bit numbers (docs/SECURITY.md, "Control socket"; README,
gossipctl): `gossipctl --json` prints every u64 as a plain integer with all
its digits, above 2^63 too, and the control socket carries integers up to
2^64-1 in both directions. Parsed with Python's json, which keeps big
integers exact."""

import json
import os
import re
import socket
import struct
import subprocess
import time

import pytest

from conftest import CONVERGE_S, GOSSIPCTL

BIG_ID = 0xfedcba9876543210
U64_MAX = 2**64 - 1
TOP = 2**63                     # one above INT64_MAX


def exact(v, want):
    """A JSON integer (not a float) equal to want."""
    return type(v) is int and v == want


def no_exponent(text):
    """No big number in the JSON text is written as a float (a positive
    exponent; a few seconds ago may well be 1.5e-05)."""
    return re.search(r"[0-9][eE]\+?[0-9]", text) is None


# ---- a status view written by hand, with numbers at their edges ----------

MAGIC = 0x5745495653505347
HDR, MSTRIDE, LSTRIDE, MCAP, LCAP = 1024, 1024, 128, 4, 1


def put(buf, off, fmt, *v):
    struct.pack_into("<" + fmt, buf, off, *v)


def edge_view(path):
    """A view (format 1.5, docs/STATUS_VIEW.md "Layout") of a live writer
    (this process) whose u64 fields sit at 2^63 and 2^64-1."""
    moff, loff = HDR, HDR + MCAP * MSTRIDE
    total = loff + LCAP * LSTRIDE
    b = bytearray(total)
    now = time.time_ns()
    put(b, 0, "QHHIQ", MAGIC, 1, 5, HDR, total)
    put(b, 24, "QII", 0, os.getpid(), 0)             # seq, pid, flags
    put(b, 40, "QQQQ", now, now, BIG_ID, U64_MAX)    # start, hb, id, gen
    put(b, 72, "IIIIIIII", moff, MSTRIDE, MCAP, 2, loff, LSTRIDE, LCAP, 1)
    put(b, 104, "IH", 0x0a000001, 7946)
    put(b, 112, "QI", 10**8, 8000)
    b[128:128 + 5] = b"edges"
    b[160:160 + 3] = b"big"
    # security (minor 3, 4): key counters, limit hits, implausible
    put(b, 336, "IIIIQQQ", 1, 1, 0xa1b2c3d4, 1, U64_MAX, TOP, TOP + 1)
    put(b, 440, "QQ", U64_MAX, TOP)
    put(b, 512, "Q", U64_MAX)                        # counters.rounds
    put(b, 512 + 256 + 8, "Q", TOP)                  # rx_drop[1]
    put(b, 896 + 32, "Q", TOP)                       # extra.fault[0]
    # member 0: this node at the edges; member 1 at 0 and max-1
    for i, (mid, gen, hb, ver, name) in enumerate([
            (BIG_ID, U64_MAX, TOP, TOP - 1, b"big"),
            (1, 0, 1, U64_MAX - 1, b"small")]):
        m = moff + i * MSTRIDE
        put(b, m, "QQQQQQ", mid, gen, hb, ver, now, now)
        put(b, m + 48, "IHBBII", 0x0a000001 + i, 7946, 0, 0, 0,
            1 if i == 0 else 0)
        b[m + 64:m + 64 + len(name)] = name
    put(b, loff, "IHHQ", 0, 0, 0, U64_MAX)           # lcore rx_packets
    path.write_bytes(bytes(b))


def ctl_json(*args):
    p = subprocess.run([str(GOSSIPCTL), *args, "--json"], capture_output=True,
                       text=True, timeout=10, stdin=subprocess.DEVNULL)
    # 0, or 3 should this process look stale: the JSON is printed either way
    assert p.returncode in (0, 3), (p.returncode, p.stderr)
    return p.stdout, json.loads(p.stdout)


def test_view_numbers_at_their_edges_are_exact(env_ready, tmp_path):
    view = tmp_path / "gossipd.edges.big"
    edge_view(view)

    text, mem = ctl_json("--view", str(view), "members")
    assert no_exponent(text), text
    assert exact(mem["generation"], U64_MAX), mem["generation"]
    assert mem["self_id"] == "0xfedcba9876543210"
    by = {m["name"]: m for m in mem["members"]}
    assert by["big"]["id"] == "0xfedcba9876543210"
    assert exact(by["big"]["generation"], U64_MAX), by["big"]
    assert exact(by["big"]["heartbeat"], TOP), by["big"]
    assert exact(by["big"]["version"], TOP - 1), by["big"]
    assert exact(by["small"]["generation"], 0), by["small"]
    assert exact(by["small"]["version"], U64_MAX - 1), by["small"]

    text, st = ctl_json("--view", str(view), "stats")
    assert no_exponent(text), text
    assert exact(st["counters"]["rounds"], U64_MAX), st["counters"]
    assert exact(st["counters"]["rx_drop"]["truncated"], TOP)
    assert exact(st["faults"]["counters"]["dropped"], TOP), st["faults"]
    sec = st["security"]
    assert exact(sec["rx_key_primary"], U64_MAX), sec
    assert exact(sec["rx_key_other"], TOP), sec
    assert exact(sec["limit_hits"], TOP + 1), sec
    assert exact(sec["implausible"], U64_MAX), sec
    assert exact(sec["renewals"], TOP), sec
    assert exact(st["lcores"][0]["rx_packets"], U64_MAX), st["lcores"]


# ---- a cluster where one member's id is above 2^63 -----------------------

@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(
        3, node_extra_ini={3: {"node": {"id": f"0x{BIG_ID:016x}"}}})
    c.wait_converged(timeout=CONVERGE_S)
    return c


def test_big_member_id_is_exact_everywhere(c):
    want = f"0x{BIG_ID:016x}"
    assert c.members("node3")["self_id"] == want
    for o in c.names():
        m = c.member_map(o)["node3"]
        assert m["id"] == want, (o, m)
        assert type(m["generation"]) is int and m["generation"] > 0, m
        assert type(m["heartbeat"]) is int, m


def raw_request(path, line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(str(path))
        s.sendall(line + b"\n")
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    return json.loads(buf.split(b"\n", 1)[0])


def test_socket_takes_u64_above_int64(c):
    path = c.socket_path("node3")
    r = raw_request(path, b'{"cmd":"ping","n":%d,"m":%d}' % (U64_MAX, TOP))
    assert r["ok"] is True, r
    assert r["node"] == "node3"
    # counters come back as plain integers
    assert all(type(v) is int for v in r["control"].values()), r
    # one more than any u64: a clear error, not a wrap
    r = raw_request(path, b'{"cmd":"ping","n":%d}' % (U64_MAX + 1))
    assert r["ok"] is False and "too big" in r["error"], r
    assert c.is_running("node3")
