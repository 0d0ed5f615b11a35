# SPDX-License-Identifier: BSD-3-Clause
"""Fault injection in gossipd's own I/O path (docs/FAULTS.md) on a real
netns cluster: gossipctl fault set/show/clear, refused input, blocks, loss,
delay, and [fault] in the config at start.  Every wait is a bounded poll;
every test leaves the shared cluster without faults."""

import json
import socket
import subprocess

import pytest

from conftest import (CONVERGE_S, GOSSIPD, Observed, hold, wait_heartbeats_advance,
                      wait_until)
from gossipd_tools import cluster as gsp_cluster

NODES = ["node1", "node2", "node3"]
FAULT_CTRS = ["dropped", "blocked_out", "blocked_in", "duplicated", "delayed",
              "reordered", "queue_full"]
COUNT_S = 15.0          # bound of the waits for counters to move


@pytest.fixture(scope="module")
def cluster(make_module_cluster):
    c = make_module_cluster(3)
    c.wait_converged(timeout=CONVERGE_S)
    return c


@pytest.fixture
def c(cluster):
    """The shared cluster, converged and without faults before and after."""
    for n in NODES:
        r = cluster.fault(n, "clear")
        assert r.returncode == 0, f"{n}: fault clear: {r.stderr}"
    cluster.wait_converged(timeout=CONVERGE_S)
    yield cluster
    for n in cluster.running():
        r = cluster.fault(n, "clear")
        assert r.returncode == 0, f"{n}: fault clear: {r.stderr}"


def counters(c, node):
    return c.faults(node)["counters"]


def wait_counter(c, node, name, above, what=None):
    """Until node's fault counter `name` exceeds `above`; its value."""
    def check():
        v = counters(c, node)
        return Observed(v[name] > above, v)
    return wait_until(check, COUNT_S, what or f"{node}'s {name} to pass "
                      f"{above}", interval=0.1)[name]


def spec(c, node):
    return c.faults(node)["spec"]


def test_set_show_clear_roundtrip(c):
    j = c.faults("node1")
    assert j["spec"] == "none" and j["active"] is False, j
    assert sorted(j["counters"]) == sorted(FAULT_CTRS), j

    r = c.fault("node1", "set", "drop=0.05", "delay=2ms")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "faults: drop=0.05 delay=2ms", r.stdout
    j = c.faults("node1")
    assert j["spec"] == "drop=0.05 delay=2ms" and j["active"] is True, j

    # set applies on top of what is there; block by name becomes its IP
    assert c.fault("node1", "set", "dup=0.01").returncode == 0
    assert c.fault("node1", "block", "node3:out").returncode == 0
    assert spec(c, "node1") == \
        "drop=0.05 dup=0.01 delay=2ms block=10.77.0.3:out"
    assert c.fault("node1", "block", "10.77.0.2").returncode == 0
    assert c.fault("node1", "unblock", "node3").returncode == 0
    assert spec(c, "node1") == "drop=0.05 dup=0.01 delay=2ms block=10.77.0.2"
    assert c.fault("node1", "set", "drop=0", "unblock=all").returncode == 0
    assert spec(c, "node1") == "dup=0.01 delay=2ms"

    # the status view says so too (flag, within a few publishes)
    wait_until(lambda: Observed(c.stats("node1")["faults"]["active"] is True,
                                c.stats("node1")["faults"]),
               10, "node1's status view to flag faults on", interval=0.1)
    assert spec(c, "node2") == "none", "faults leaked to another node"

    r = c.fault("node1", "clear")
    assert r.returncode == 0 and r.stdout.startswith("faults: none"), r
    assert c.faults("node1")["active"] is False
    wait_until(lambda: Observed(c.stats("node1")["faults"]["active"] is False,
                                c.stats("node1")["faults"]),
               10, "node1's status view to flag faults off", interval=0.1)
    assert "FAULT INJECTION ON: drop=0.05 delay=2ms" in c.log("node1")
    assert "fault injection off" in c.log("node1")


REFUSED = [
    (("set", "drop=2"), "drop: '2' is not a probability in [0, 1]"),
    (("set", "delay=fast"), "delay: 'fast' is not a duration"),
    (("set", "delay=5ms", "bogus=1"), "unknown fault 'bogus'"),
    (("set", "drop"), "'drop': expected key=value"),
    (("block", "nosuchnode"), "unknown member 'nosuchnode'"),
    (("block", "node2:sideways"), "is not"),
    (("block", "node1"), "node1 is this node"),
    (("unblock", "10.77.0.2:in"), "is not an IPv4 address or 'all'"),
    (("set", *[f"block=10.9.{i // 250}.{i % 250 + 1}" for i in range(65)]),
     "block: at most 64 peers"),
]


def test_bad_input_refused(c):
    assert c.fault("node1", "set", "jitter=1ms").returncode == 0
    for args, msg in REFUSED:
        r = c.fault("node1", *args)
        assert r.returncode == 1, (args, r.returncode, r.stdout, r.stderr)
        assert msg in r.stderr, (args, r.stderr)
    # usage errors: gossipctl itself, exit 2
    for args in (("set",), ("frobnicate",), ("block",), ("clear", "x")):
        r = c.fault("node1", *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
    # nothing refused was applied, not even in part
    assert spec(c, "node1") == "jitter=1ms"
    # and the raw socket answers bad requests with an error, no crash
    for req in ({"cmd": "fault", "op": 7}, {"cmd": "fault", "op": "nuke"},
                {"cmd": "fault", "op": "set"},
                {"cmd": "fault", "op": "block", "peer": ["x"]}):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5.0)
            s.connect(str(c.socket_path("node1")))
            s.sendall(json.dumps(req).encode() + b"\n")
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        reply = json.loads(buf.split(b"\n", 1)[0])
        assert reply.get("ok") is False and reply.get("error"), (req, reply)
    assert c.is_running("node1")
    assert spec(c, "node1") == "jitter=1ms"


def test_block_counts_while_other_traffic_flows(c):
    before = counters(c, "node1")
    r = c.fault("node1", "block", "node2")
    assert r.returncode == 0, r.stderr
    assert spec(c, "node1") == "block=10.77.0.2"
    wait_counter(c, "node1", "blocked_out", before["blocked_out"])
    wait_counter(c, "node1", "blocked_in", before["blocked_in"])
    # node1 and node3 still talk: heartbeats advance both ways
    wait_heartbeats_advance(c, ["node1"], members=["node3"])
    wait_heartbeats_advance(c, ["node3"], members=["node1"])
    mid = counters(c, "node1")
    assert mid["dropped"] == before["dropped"], mid
    # and the counters keep rising while the block stands
    wait_counter(c, "node1", "blocked_out", mid["blocked_out"])

    # one direction: sends to node3 stop, node3's packets still arrive
    assert c.fault("node1", "unblock", "all").returncode == 0
    assert c.fault("node1", "block", "10.77.0.3:out").returncode == 0
    b0 = counters(c, "node1")
    wait_counter(c, "node1", "blocked_out", b0["blocked_out"] + 5)
    wait_heartbeats_advance(c, ["node1"], members=["node3"])
    assert counters(c, "node1")["blocked_in"] == b0["blocked_in"]

    assert c.fault("node1", "unblock", "all").returncode == 0
    c.wait_converged(timeout=CONVERGE_S)


def test_drop_all_counts_and_silences_the_node(c):
    before = counters(c, "node2")["dropped"]
    assert c.fault("node2", "set", "drop=1.0").returncode == 0
    wait_counter(c, "node2", "dropped", before + 20)
    # nothing leaves node2 any more: its heartbeat stands still elsewhere
    hb = c.member_map("node1")["node2"]["heartbeat"]
    hold(lambda: Observed(c.member_map("node1")["node2"]["heartbeat"] == hb,
                          c.member_map("node1")["node2"]), 1.0,
         "node2's heartbeat standing still at node1")
    j = counters(c, "node2")
    assert j["delayed"] == 0 and j["duplicated"] == 0, j
    # cleared: it is heard again
    assert c.fault("node2", "clear").returncode == 0
    wait_heartbeats_advance(c, ["node1", "node3"], members=["node2"])
    c.wait_converged(timeout=CONVERGE_S)


def test_delay_keeps_cluster_converged(c):
    # counters are cumulative: earlier tests' drop=0.05 may have dropped
    # some (more likely the slower the node, e.g. under ASan)
    start = {n: counters(c, n) for n in ("node1", "node3")}
    before = start["node1"]
    assert c.fault("node1", "set", "delay=20ms").returncode == 0
    assert c.fault("node3", "set", "delay=10ms", "jitter=10ms",
                   "reorder=0.2", "dup=0.1").returncode == 0
    wait_counter(c, "node1", "delayed", before["delayed"] + 20)
    wait_counter(c, "node3", "reordered", 0)
    wait_counter(c, "node3", "duplicated", 0)

    def all_alive():
        views = c.views(NODES)
        ok = all({n for n, m in v.items() if m["state"] == "alive"} ==
                 set(NODES) for v in views.values())
        return Observed(ok, {o: {n: m["state"] for n, m in v.items()}
                             for o, v in views.items()})
    c.wait_converged(timeout=CONVERGE_S)
    hold(all_alive, 3.0, "every node listing all three alive under delay")
    wait_heartbeats_advance(c, NODES)
    for n in ("node1", "node3"):
        j = counters(c, n)
        assert j["queue_full"] == start[n]["queue_full"] and \
            j["dropped"] == start[n]["dropped"], (n, start[n], j)


def test_config_fault_starts_and_warns(make_cluster):
    c2 = make_cluster(2, node_extra_ini={1: {"fault": {"drop": "0.5"}}})
    log = c2.log("node1")
    assert "warning: FAULT INJECTION ON for node node1 from [fault]" in log \
        and "drop=0.5" in log, log[-2000:]
    assert "FAULT INJECTION" not in c2.log("node2")
    j = c2.faults("node1")
    assert j["spec"] == "drop=0.5" and j["active"] is True, j
    assert c2.faults("node2")["spec"] == "none"
    wait_counter(c2, "node1", "dropped", 10)
    wait_until(lambda: Observed(c2.stats("node1")["faults"]["active"] is True,
                                c2.stats("node1")["faults"]),
               10, "node1's status view to flag faults on", interval=0.1)
    # half of node1's packets lost: gossip still gets through
    c2.wait_converged(timeout=CONVERGE_S)


def check_config(tmp_path, name, extra):
    text = gsp_cluster.render_config("gspflt", "node1", "10.77.0.1",
                                     ["10.77.0.2:7946"], 100, None)
    # [fault]/[detector] parsing is the point here, not the keyring
    text = gsp_cluster.ini_set(text, "security", "mode", "plaintext")
    lines = text.rstrip("\n").splitlines() + extra
    path = tmp_path / f"{name}.ini"
    path.write_text("\n".join(lines) + "\n")
    r = subprocess.run([str(GOSSIPD), "--", "--config", str(path),
                        "--check-config"], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    return r, path, len(lines) - len(extra)


@pytest.mark.parametrize("name,extra,at,msg", [
    ("drop", ["[fault]", "drop = 2"], 2,
     "[fault] drop: '2' is not a probability in [0, 1]"),
    ("block", ["[fault]", "block = 10.77.0.2 node3"], 2,
     "[fault] block: 'node3' is not IPv4[:in|:out|:both]"),
    ("nodetect", ["[detector]", "phi = off", "swim = off"], 3,
     "[detector] phi and swim are both off"),
    ("timeout", ["[detector]", "probe_interval = 50ms",
                 "probe_timeout = 50ms"], 3,
     "[detector] probe_timeout (50ms) must be below probe_interval (50ms)"),
], ids=["fault-drop", "fault-block", "detector-none", "detector-timeout"])
def test_bad_fault_or_detector_config(env_ready, tmp_path, name, extra, at,
                                      msg):
    r, path, base = check_config(tmp_path, name, extra)
    assert r.returncode != 0, f"accepted:\n{path.read_text()}"
    want = f"{path}:{base + at}: {msg}"
    assert want in r.stderr, f"expected {want!r} in:\n{r.stderr}"


def test_good_fault_and_detector_config(env_ready, tmp_path):
    r, path, _ = check_config(tmp_path, "good", [
        "[fault]", "drop = 0.1", "block = 10.77.0.2:in 10.77.0.3",
        "[detector]", "lifeguard = off", "probe_interval = 200ms"])
    assert r.returncode == 0, f"{r.stderr}\n{path.read_text()}"
