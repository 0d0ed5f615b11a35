# SPDX-License-Identifier: BSD-3-Clause
"""The Python client (python/gossipd, docs/PYTHON.md) against a real netns
cluster: what it reads from the status view is what gossipctl shows, a
`set` through it reaches another node, counters move, the control socket's
commands and errors come through; and on crafted copies of a real view:
the seqcount retry (a torn read is retried, then refused after its bound),
larger header and strides accepted, bad files refused by name."""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

import pytest

from conftest import CONVERGE_S, GOSSIPCTL, REPO, wait_heartbeats_advance

sys.path.insert(0, str(REPO / "python"))
import gossipd  # noqa: E402
from gossipd import statusview as sv  # noqa: E402

NODES = ["node1", "node2", "node3"]
FAST_S = 15


@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(3)
    c.wait_converged(timeout=CONVERGE_S)
    return c


def ctl(c, node):
    return gossipd.Control(c.socket_path(node))


def snap(c, node):
    return sv.read(c.view_path(node))


def test_members_match_gossipctl(c):
    wait_heartbeats_advance(c, NODES)
    for node in NODES:
        # membership is stable once converged: one read of each suffices
        g = c.members(node)
        s = snap(c, node).check_alive()
        assert s.node_name == node and s.cluster == g["cluster"]
        assert f"0x{s.self_id:016x}" == g["self_id"]
        assert s.self_generation == g["generation"]
        mine = {m.name: m for m in s.members}
        theirs = {m["name"]: m for m in g["members"]}
        assert set(mine) == set(theirs) == set(NODES)
        for name, m in theirs.items():
            p = mine[name]
            assert p.state == m["state"] == "alive"
            assert f"0x{p.id:016x}" == m["id"]
            assert p.address == m["address"]
            assert p.generation == m["generation"]
            assert p.incarnation == m["incarnation"]
            assert p.app == m["app"]
            assert p.is_self == m["self"] == (name == node)
        # view agreement: present exactly when gossipctl shows it
        assert (s.view is not None) == ("view" in g)
        if s.view is not None:
            assert s.view["agree"] <= s.view["peers"] <= len(NODES) - 1


def test_set_reaches_another_node(c):
    value = "py-" + uuid.uuid4().hex[:12]
    assert ctl(c, "node1").set("py_role", value) is None
    c.wait_until(lambda: snap(c, "node2").member("node1").app.get(
        "py_role") == value, FAST_S, "node2 to see node1's py_role")
    g = c.members("node2")
    n1 = [m for m in g["members"] if m["name"] == "node1"][0]
    assert n1["app"]["py_role"] == value
    s = snap(c, "node2").member("node1")
    assert s.app_versions["py_role"] > 0 and s.version >= \
        s.app_versions["py_role"]


def test_counters_move_and_match_stats(c):
    a = snap(c, "node1")
    g = c.stats("node1")
    # the same names as gossipctl stats --json, drop reasons by name
    assert set(a.counters) == set(g["counters"])
    assert set(a.counters["rx_drop"]) == set(g["counters"]["rx_drop"])
    assert "wrong_cluster" in a.counters["rx_drop"]
    assert set(a.faults["counters"]) == set(g["faults"]["counters"])
    assert a.security["mode"] == g["security"]["mode"]
    assert a.security["cipher"] == g["security"]["cipher"]
    assert a.security["primary_key"] == g["security"]["primary_key"]
    assert set(a.security) == set(g["security"])
    assert len(a.lcores) == len(g["lcores"]) >= 1
    assert a.lcores[0].lcore_id == g["lcores"][0]["lcore"]
    assert set(a.lcores[0].counters) <= set(g["lcores"][0])
    assert a.counters["members"] == 3 and a.counters["alive"] == 3
    # gauges agree; counters only grow, and they do grow
    c.wait_until(lambda: snap(c, "node1").counters["rounds"] >
                 a.counters["rounds"] + 5, FAST_S, "rounds to advance")
    b = snap(c, "node1")
    assert b.counters["rx_syn"] + b.counters["rx_ping"] > \
        a.counters["rx_syn"] + a.counters["rx_ping"]
    assert b.lcores[0].rx_packets > a.lcores[0].rx_packets
    assert b.heartbeat_unix_ns >= a.heartbeat_unix_ns
    if b.view is not None:
        assert b.view["peers"] <= 2 and b.view["agree"] <= b.view["peers"]
    assert b.drop_count("wrong_cluster") == b.drop_count(6)


def test_control_commands_and_errors(c):
    k = ctl(c, "node1")
    p = k.ping()
    assert p["ok"] is True and p["node"] == "node1"
    assert p["cluster"] == c.cluster and p["control"]["clients"] >= 1
    # the generic request is what every method uses
    assert k.request("ping")["node"] == "node1"
    assert gossipd.Control.for_node("node2", c.cluster).ping()["node"] == \
        "node2"
    with pytest.raises(gossipd.ControlError, match="invalid key"):
        k.set("bad key!", "x")
    with pytest.raises(gossipd.ControlError, match="invalid value"):
        k.set("k", "\x01")
    with pytest.raises(gossipd.ControlError,
                       match='unknown command "nosuch"'):
        k.request("nosuch")
    with pytest.raises(gossipd.ControlError, match='missing "value"'):
        k.request("set", key="k")
    f = k.fault()
    assert f["active"] is False and "dropped" in f["counters"]
    with pytest.raises(gossipd.ControlError,
                       match=r"drop: '2' is not a probability in \[0, 1\]"):
        k.fault_set("drop=2")
    with pytest.raises(gossipd.ControlError, match="unknown member"):
        k.block("no-such-node")
    ks = k.keys()
    assert ks["mode"] == snap(c, "node1").security["mode"]
    if ks["mode"] == "authenticated":
        assert ks["primary"] == snap(c, "node1").security["primary_key"]
        assert [x["id"] for x in ks["keys"] if x["primary"]] == \
            [ks["primary"]]
        with pytest.raises(gossipd.ControlError, match="no such key"):
            k.keys_use("ffffffff" if ks["primary"] != "ffffffff"
                       else "fffffffe")
        with pytest.raises(gossipd.ControlError, match="is the primary"):
            k.keys_remove(ks["primary"])
    else:
        with pytest.raises(gossipd.ControlError, match="plaintext"):
            k.keys_use("00000001")
    with pytest.raises(gossipd.ControlError, match="8 hex digits"):
        k.keys_use("xyz")
    with pytest.raises(ValueError, match="line limit"):
        k.set("k", "x" * 5000)
    e = gossipd.ControlError("x", {"ok": False, "error": "boom"})
    assert e.error == "boom" and str(e) == "x: boom"


def test_control_socket_unavailable_and_timeout(tmp_path):
    with pytest.raises(gossipd.ControlUnavailable, match="no control socket"):
        gossipd.Control(tmp_path / "none.sock").ping()
    # a socket that accepts and never answers: the deadline reports it
    path = tmp_path / "mute.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        srv.bind(str(path))
        srv.listen(1)
        t0 = time.monotonic()
        with pytest.raises(gossipd.ControlTimeout, match="within 0.5 s"):
            gossipd.Control(path, timeout=0.5).ping()
        assert time.monotonic() - t0 < 3
    finally:
        srv.close()
    # a bound socket nobody listens on: refused
    with pytest.raises(gossipd.ControlUnavailable, match="refused"):
        gossipd.Control(path).ping()


def test_stream_reads_pushed_lines(tmp_path):
    """stream(): the generic reader for commands that push lines (a
    monitor), against a socket that answers like one."""
    path = tmp_path / "push.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    got = []

    def serve():
        conn, _ = srv.accept()
        with conn:
            got.append(conn.recv(4096))
            conn.sendall(b'{"ok":true}\n{"event":"joined","name":"a"}\n'
                         b'\n{"event":"left","name":"a",'
                         b'"n":18446744073709551615}\n')
    try:
        srv.bind(str(path))
        srv.listen(1)
        t = threading.Thread(target=serve)
        t.start()
        lines = list(gossipd.Control(path).stream("monitor", idle_timeout=5,
                                                  filter=None))
        t.join()
    finally:
        srv.close()
    assert got == [b'{"cmd":"monitor"}\n']
    assert [m.get("event") for m in lines] == [None, "joined", "left"]
    assert lines[2]["n"] == 2**64 - 1


def test_find_view_like_gossipctl(c, tmp_path):
    assert sv.find_view("node1", c.cluster) == str(c.view_path("node1"))
    # names with dots are matched by header, not by file name
    shutil.copyfile(c.view_path("node1"), tmp_path / "gossipd.x.y.z")
    (tmp_path / "gossipd.junk.node").write_bytes(b"junk" * 400)
    assert sv.find_view("node1", directory=tmp_path) == \
        str(tmp_path / "gossipd.x.y.z")
    assert sv.find_view(directory=tmp_path) == str(tmp_path / "gossipd.x.y.z")
    shutil.copyfile(c.view_path("node2"), tmp_path / "gossipd.q.node2")
    with pytest.raises(sv.StatusViewError, match="2 status views match"):
        sv.find_view(directory=tmp_path)
    with pytest.raises(sv.StatusViewError, match="no status view for node"):
        sv.find_view("node9", directory=tmp_path)


def test_reads_interleave_with_the_writer(c):
    """Many reads while gossipd publishes: every one is consistent."""
    with sv.StatusView(c.view_path("node1")) as v:
        seqs = set()
        # a quiet view is rewritten once a second: read until 2 publishes
        deadline = time.monotonic() + 5
        n = 0
        while time.monotonic() < deadline and len(seqs) < 3:
            s = v.read()
            assert s.seq % 2 == 0
            assert len(s.members) == s.member_count
            assert sorted(m.name for m in s.members) == NODES
            assert s.counters["members"] == 3
            seqs.add(s.seq)
            n += 1
    assert len(seqs) >= 2, "the writer published during the reads"
    assert n > 20


# ---- crafted copies of a real view ------------------------------------

def _copy(c, tmp_path, name="v", view=None):
    """A sparse copy of node1's view: its header and records at their
    offsets, holes elsewhere (the view is 64 MiB, mostly never written)."""
    total, regions = view or view_regions(c)
    p = tmp_path / name
    with open(p, "wb") as f:
        f.truncate(total)
        for off, b in regions:
            f.seek(off)
            f.write(b)
    return p


def view_regions(c):
    """(total_size, [(offset, bytes)]) of node1's view: header, member
    records, lcore records, one consistent copy (seq even, unchanged)."""
    fd = os.open(c.view_path("node1"), os.O_RDONLY)
    try:
        for _ in range(1000):
            s1 = struct.unpack("<Q", os.pread(fd, 8, 24))[0]
            hdr = os.pread(fd, 1024, 0)
            total = struct.unpack_from("<Q", hdr, 16)[0]
            moff, ms, _, mn, loff, ls, _, ln = struct.unpack_from(
                "<8I", hdr, 72)
            m = os.pread(fd, mn * ms, moff)
            lc = os.pread(fd, ln * ls, loff)
            if s1 % 2 == 0 and \
                    struct.unpack("<Q", os.pread(fd, 8, 24))[0] == s1:
                return total, [(0, hdr), (moff, m), (loff, lc)]
            time.sleep(0.001)
    finally:
        os.close(fd)
    raise AssertionError("no consistent copy of node1's view")


def _poke(path, off, fmt, value):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(struct.pack(fmt, value))


def _dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_torn_read_retried_then_bounded(c, tmp_path):
    p = _copy(c, tmp_path)
    seq = struct.unpack_from("<Q", p.read_bytes(), 24)[0]
    _poke(p, 24, "<Q", seq + 1)                 # an update in progress
    v = sv.StatusView(p, tries=5000, pause_s=0.001)
    try:
        # a "writer" finishes its update 50 ms later: the reader waits
        def finish():
            time.sleep(0.05)
            _poke(p, 24, "<Q", seq + 2)
        t = threading.Thread(target=finish)
        t.start()
        s = v.read()
        t.join()
        assert s.seq == seq + 2 and len(s.members) == 3
    finally:
        v.close()
    # a writer that died mid-update: odd for good, refused after the bound
    _poke(p, 24, "<Q", seq + 3)
    _poke(p, 32, "<I", _dead_pid())
    t0 = time.monotonic()
    with pytest.raises(sv.TornRead, match=r"after 200 tries .* is gone"):
        sv.read(p, tries=200, pause_s=0.0001)
    assert time.monotonic() - t0 < 5
    # a live writer (our pid) that never finishes: "too busy"
    _poke(p, 32, "<I", os.getpid())
    with pytest.raises(sv.TornRead, match="running but too busy"):
        sv.read(p, tries=20, pause_s=0.0001)


def test_larger_header_and_strides_are_accepted(c, tmp_path):
    """A later minor may grow header_size and the strides: the reader
    locates records through offsets and strides only."""
    view = view_regions(c)
    h = sv.read(_copy(c, tmp_path, "orig", view))
    _, ((_, hdr), (_, mraw), (_, lraw)) = view
    hs, ms, ls = 2048, 2560, 256
    mcap, lcap = h.member_count + 1, max(h.lcore_count, 1)
    moff = hs
    loff = moff + mcap * ms
    total = loff + lcap * ls
    out = bytearray(total)
    out[:1024] = hdr
    n = min(h.member_stride, ms)
    for i in range(h.member_count):
        src = i * h.member_stride
        out[moff + i * ms:moff + i * ms + n] = mraw[src:src + n]
    for i in range(h.lcore_count):
        src = i * h.lcore_stride
        n = min(h.lcore_stride, ls)
        out[loff + i * ls:loff + i * ls + n] = lraw[src:src + n]
    struct.pack_into("<I", out, 12, hs)
    struct.pack_into("<Q", out, 16, total)
    struct.pack_into("<IIII", out, 72, moff, ms, mcap, h.member_count)
    struct.pack_into("<IIII", out, 88, loff, ls, lcap, h.lcore_count)
    p = tmp_path / "wide"
    p.write_bytes(bytes(out))
    w = sv.read(p)
    assert [m.name for m in w.members] == [m.name for m in h.members]
    assert [m.app for m in w.members] == [m.app for m in h.members]
    assert w.counters == h.counters
    assert [lc.counters for lc in w.lcores] == [lc.counters for lc in
                                                 h.lcores]


def test_bad_files_are_refused_by_name(c, tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a status view\n" * 100)
    with pytest.raises(sv.NotAStatusView, match="bad magic"):
        sv.read(junk)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(sv.NotAStatusView, match="too short"):
        sv.read(empty)
    with pytest.raises(sv.NotAStatusView, match="not a regular file"):
        sv.read(tmp_path)
    with pytest.raises(sv.StatusViewError, match="no such status view"):
        sv.read(tmp_path / "missing")
    cut = tmp_path / "cut"
    cut.write_bytes(view_regions(c)[1][0][1].ljust(4096, b"\0"))
    with pytest.raises(sv.CorruptView, match="truncated"):
        sv.read(cut)
    newer = _copy(c, tmp_path, "newer")
    _poke(newer, 8, "<H", 2)
    with pytest.raises(sv.UnsupportedVersion, match="format 2.*major 1"):
        sv.read(newer)
    over = _copy(c, tmp_path, "over")
    cap = struct.unpack_from("<I", over.read_bytes(), 80)[0]
    _poke(over, 84, "<I", cap + 1)
    with pytest.raises(sv.CorruptView, match="beyond capacity"):
        sv.read(over)


def test_writer_gone_closed_or_stale(c, tmp_path):
    assert snap(c, "node1").writer_alive()
    dead = _copy(c, tmp_path, "dead")
    _poke(dead, 32, "<I", _dead_pid())
    with pytest.raises(sv.WriterGone, match="is gone") as e:
        sv.read(dead).check_alive()
    assert len(e.value.snapshot.members) == 3   # the last state is kept
    closed = _copy(c, tmp_path, "closed")
    flags = struct.unpack_from("<I", closed.read_bytes(), 36)[0]
    _poke(closed, 36, "<I", flags | sv.FLAG_CLOSED)
    with pytest.raises(sv.WriterGone, match="CLOSED"):
        sv.read(closed).check_alive()
    stale = _copy(c, tmp_path, "stale")
    _poke(stale, 32, "<I", os.getpid())
    _poke(stale, 48, "<Q", time.time_ns() - 10 * 10**9)
    with pytest.raises(sv.WriterGone, match="no publish for 1"):
        sv.read(stale).check_alive()


def test_big_integers_exact(c, tmp_path):
    """u64 above 2^63 come back exact (Python ints, no float)."""
    p = _copy(c, tmp_path, "big")
    big = 2**64 - 1
    _poke(p, 512, "<Q", big)                    # counters.rounds
    _poke(p, 768 + 8 * 6, "<Q", big - 1)        # rx_drop[wrong_cluster]
    s = sv.read(p)
    assert s.counters["rounds"] == big
    assert s.counters["rx_drop"]["wrong_cluster"] == big - 1
    assert json.loads(json.dumps(s.counters))["rounds"] == big


# ---- the whole app state (status view minor 7) ---------------------------

WIDE_LONG = "py_w00"
# 10 keys, one value of 255 bytes: past the 8 slots of 63 bytes that
# views before minor 7 held; within app_bytes_max (1024) with py_role
WIDE = {f"py_w{i:02d}": ("x" * 255 if i == 0 else chr(97 + i) * 40
                         if i < 3 else f"v{i}") for i in range(10)}


def _as_minor6(view):
    """A view rewritten as a minor-6 writer made it: 1024-byte records
    (the legacy slots only), minor 6."""
    total, ((_, hdr), (moff, mraw), (loff, lraw)) = view
    h = bytearray(hdr)
    moff, ms, mcap, mn, loff, ls, lcap, ln = struct.unpack_from(
        "<8I", h, 72)
    loff6 = moff + mcap * 1024
    total6 = loff6 + lcap * ls
    struct.pack_into("<H", h, 10, 6)
    struct.pack_into("<Q", h, 16, total6)
    struct.pack_into("<II", h, 72, moff, 1024)
    struct.pack_into("<I", h, 88, loff6)
    recs = b"".join(mraw[i * ms:i * ms + 1024] for i in range(mn))
    return total6, [(0, bytes(h)), (moff, recs), (loff6, lraw)]


def test_whole_app_state_past_eight_keys(c, tmp_path):
    """node1's 10 keys, one 255 bytes long, come whole out of the view
    through the client and gossipctl; a minor-6 view of the same state
    holds the first 8, values cut to 63 bytes, for its old readers."""
    cl = ctl(c, "node1")
    for k, v in WIDE.items():
        assert cl.set(k, v) is None
    try:
        c.wait_until(lambda: all(
            snap(c, "node1").member("node1").app.get(k) == v
            for k, v in WIDE.items()), FAST_S, "node1's 10 keys in its view")
        s = snap(c, "node1")
        assert s.minor >= 7 and s.member_stride >= 2304
        me = s.member("node1")
        assert len(me.app) > 8 and len(me.app[WIDE_LONG]) == 255
        g = [m for m in c.members("node1")["members"]
             if m["name"] == "node1"][0]
        assert g["app"] == me.app
        assert all(me.app_versions[k] > 0 for k in WIDE)
        # the 10th key filters, the long value shows whole when piped
        r = c.ctl("node1", "members", "--app", "py_w09=v9")
        assert r.returncode == 0, r.stderr
        row = [ln for ln in r.stdout.splitlines()
               if ln.startswith("node1*")]
        assert len(row) == 1 and "py_w00=" + "x" * 255 in row[0] and \
            "py_w09=v9" in row[0]

        view = view_regions(c)
        full = {m.name: m for m in sv.read(_copy(c, tmp_path, "v7",
                                                   view)).members}
        old = _copy(c, tmp_path, "v6", _as_minor6(view))
        o = sv.read(old)
        assert o.minor == 6 and o.member_stride == 1024
        for m in o.members:
            f = full[m.name]
            both = {**m.app, **m.reserved}
            assert len(both) == min(8, len(f.app) + len(f.reserved))
            for k, v in m.app.items():
                assert v == f.app[k][:63]
        # gossipctl (libgsp_sv) fills app_ext from those slots alike
        r = subprocess.run([str(GOSSIPCTL), "members", "--view", str(old),
                            "--json"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode in (0, 3), r.stderr
        j = {m["name"]: m for m in json.loads(r.stdout)["members"]}
        assert j["node1"]["app"] == o.member("node1").app
    finally:
        for k in WIDE:
            cl.delete(k)


def test_malformed_app_state_is_refused(c, tmp_path):
    """A minor-7 record whose app_ext does not add up is a corrupt view,
    for the client as for libgsp_sv (gossipctl)."""
    view = view_regions(c)
    _, ((_, hdr), (moff, _), _) = view
    ms = struct.unpack_from("<I", hdr, 76)[0]
    ok = sv.read(_copy(c, tmp_path, "ok", view))
    assert ok.minor >= 7
    for name, off, fmt, value in (
            ("count", 1024, "<B", 17),          # more than 16 entries
            ("bytes", 1028, "<I", 1273),        # more than data holds
            ("sum", 1028, "<I", 3),             # entries past bytes
            ("klen", 1024 + 8 + 8, "<B", 0)):   # an empty key
        p = _copy(c, tmp_path, name, view)
        if name == "klen":
            _poke(p, moff + 1024, "<B", 1)      # at least one entry
            _poke(p, moff + 1028, "<I", 10)
        _poke(p, moff + off, fmt, value)
        with pytest.raises(sv.CorruptView, match="app_ext"):
            sv.read(p)
        r = subprocess.run([str(GOSSIPCTL), "members", "--view", str(p)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode not in (0, 3), (name, r.stdout)
    assert ms >= 2304


def test_meson_installs_the_package(tmp_path):
    """`meson install` puts the package into Debian's python3 path
    (dist-packages under the prefix), importable from there."""
    from conftest import BUILD_DIR
    dest = tmp_path / "root"
    p = subprocess.run(["meson", "install", "-C", str(BUILD_DIR),
                        "--no-rebuild", "--destdir", str(dest)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    found = sorted(dest.rglob("gossipd/statusview.py"))
    assert len(found) == 1, found
    pkg = found[0].parent
    assert sorted(f.name for f in pkg.glob("*.py")) == [
        "__init__.py", "control.py", "statusview.py"]
    assert pkg.parent.name == "dist-packages"
    out = subprocess.run(
        ["/usr/bin/python3", "-c", "import gossipd, gossipd.statusview as s;"
         " print(gossipd.__file__, s.MAGIC)"],
        env={"PYTHONPATH": str(pkg.parent), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.startswith(str(pkg)) and str(sv.MAGIC) in out


def test_leave_through_the_client(c):
    """Last in the module: node3 leaves through the client; the others
    list it left and its process exits 0."""
    assert ctl(c, "node3").leave() is None
    c.wait_until(lambda: snap(c, "node1").member("node3").state == "left",
                 FAST_S, "node1 to list node3 left")
    c.wait_until(lambda: not c.is_running("node3"), FAST_S,
                 "node3 to exit after its leave")
    proc = c.process("node3")
    assert proc is None or proc.returncode == 0
    with pytest.raises(gossipd.ControlUnavailable):
        ctl(c, "node3").ping()


def test_monitor_event_and_delete_through_the_client(c):
    """monitor() yields the subscription's reply, then pushed events;
    event() returns the sequence number; delete() removes a key."""
    mon = ctl(c, "node1").monitor(types=["user", "member-update"],
                                  idle_timeout=10)
    try:
        first = next(mon)
        assert first["ok"] and first["monitor"] == ["member-update", "user"]
        seq = ctl(c, "node2").event("py-ev", "hello")
        assert seq >= 1
        ev = next(e for e in mon if e["event"] == "user")
        assert (ev["name"], ev["payload"], ev["from"], ev["seq"]) == \
            ("py-ev", "hello", "node2", seq)
        ctl(c, "node2").set("py_tmp", "1")
        ev = next(e for e in mon if e["event"] == "member-update" and
                  e["name"] == "node2" and "py_tmp" in e["app"])
        ctl(c, "node2").delete("py_tmp")
        ev = next(e for e in mon if e["event"] == "member-update" and
                  e["name"] == "node2" and "py_tmp" not in e["app"])
        with pytest.raises(gossipd.ControlError, match="no such key"):
            ctl(c, "node2").delete("py_tmp")
    finally:
        mon.close()
