# SPDX-License-Identifier: BSD-3-Clause
"""Emulation mode (docs/EMULATION.md): hundreds of vnodes in one gossipd
process, behind the in-process software switch, converge; a crashed vnode
is detected; node1's status view and control socket work meanwhile.

No port, no namespace: one process with --no-huge and no PCI. The normal
mode is covered by the other test files."""

import json
import os
import subprocess

import pytest

from conftest import GOSSIPCTL, GOSSIPD, require, wait_until

JOIN_NODES = 300
JOIN_BOUND_S = 30.0      # N=300 joins in about 1 s on an idle 2-core box
RUN_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def env():
    require("gossipd", "gossipctl")


@pytest.fixture
def paths(env, tmp_path):
    """(config, socket, view) for one run. Only the [control] paths
    matter: unique per test, so several runs (and a default emu
    instance) never share a socket or a view; the view is removed
    afterwards, pass or fail."""
    tag = f"{os.getpid()}-{tmp_path.name}"
    sock = tmp_path / "emu.sock"
    view = f"/dev/shm/gossipd-test-emu-{tag}"
    cfg = tmp_path / "emu.ini"
    cfg.write_text("[cluster]\nname = emu\n"
                   "[node]\nname = node1\naddress = 10.99.0.1\n"
                   "[control]\n"
                   f"socket = {sock}\nstatus_view = {view}\n")
    try:
        yield cfg, sock, view
    finally:
        try:
            os.unlink(view)
        except FileNotFoundError:
            pass


def command(tmp_path, cfg, nodes, scenario, json_path, *extra):
    lcores = "0@0,1@1" if (os.cpu_count() or 1) >= 2 else "0@0"
    return [str(GOSSIPD), "--no-huge", "-m", "1024", "--no-pci",
            "--no-telemetry", "--lcores", lcores,
            "--file-prefix", f"gsp-emu-{os.getpid()}-{tmp_path.name}",
            "--", "--emulate", str(nodes), "--scenario", scenario,
            "--json", str(json_path), "--config", str(cfg),
            "--max-seconds", "60", *extra]


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def check_curve(curve):
    assert curve and curve[0] == [0, 0], curve[:3]
    assert curve[-1][1] == pytest.approx(1.0), curve[-3:]
    for (t0, f0), (t1, f1) in zip(curve, curve[1:]):
        assert t1 >= t0 and f1 >= f0, (t0, f0, t1, f1)


def run(argv, tmp_path):
    p = subprocess.run(argv, capture_output=True, text=True,
                       timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL,
                       cwd=tmp_path)
    return p, f"rc={p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"


def test_join_300_nodes(paths, tmp_path):
    cfg, _, _ = paths
    out = tmp_path / "join.json"
    p, log = run(command(tmp_path, cfg, JOIN_NODES, "join", out), tmp_path)
    assert p.returncode == 0, log
    [r] = records(out)
    assert r["mode"] == "emu" and r["scenario"] == "join", r
    assert r["nodes"] == JOIN_NODES and r["timeout"] is False, r
    assert 0 < r["time_s"] < JOIN_BOUND_S, r
    assert r["rounds"] >= 1, r
    # the sizes nodes saw on the way: more than "alone" and "everyone"
    assert 2 < r["distinct_sizes"] <= JOIN_NODES, r
    check_curve(r["informed_curve"])
    # reported, not judged: an overloaded box makes some (docs/EMULATION.md)
    assert r["false_positives"] >= 0, r
    sw = r["switch"]
    # vnodes take their peers' MACs from the switch (no ARP request:
    # nothing to suppress), nothing flooded, nobody unknown
    assert sw["arp_derived"] > 0 and sw["arp_suppressed"] == 0, sw
    assert sw["garp_absorbed"] == JOIN_NODES, sw
    assert sw["flood_dropped"] == 0 and sw["unknown_dropped"] == 0, sw
    assert sw["arp_unknown"] == 0, sw
    assert r["tx_pps_mean"] > 0 and r["rx_Bps_mean"] > 0, r
    assert r["bytes_per_member"] > 0 and r["bytes_per_vnode"] > 0, r
    assert r["peak_rss_bytes"] >= r["rss_created_bytes"] > 0, r
    # the records are mapped during setup, which wall_s includes
    assert 0 <= r["populate_s"] < r["wall_s"], r


def test_detect_crashed_vnode(paths, tmp_path):
    cfg, _, _ = paths
    out = tmp_path / "detect.json"
    p, log = run(command(tmp_path, cfg, 100, "detect", out, "--settle-s",
                         "0.3"), tmp_path)
    assert p.returncode == 0, log
    [r] = records(out)
    assert r["scenario"] == "detect" and r["timeout"] is False, r
    # quiet for 0.3 s after the join, then the crash
    assert r["settle_s"] == pytest.approx(0.3) and r["quiet_s"] >= 0.3, r
    # the default detectors (SWIM probes every 100 ms, phi): seconds
    assert 0 < r["first_detect_s"] <= r["all_detect_s"] < 30, r
    assert 0 < r["first_suspect_s"] <= r["all_suspect_s"], r
    [s] = r["subjects"]
    assert s["down_by"] == s["observers"] == 99, s
    assert r["false_positives"] >= 0 and r["fp"]["down_pairs"] >= 0, r
    check_curve(r["informed_curve"])


def test_stall_and_resume(paths, tmp_path):
    """A vnode stops for 2 s (no timers, its frames queue in its ring)
    and resumes: the others mark it down, then alive again."""
    cfg, _, _ = paths
    out = tmp_path / "stall.json"
    p, log = run(command(tmp_path, cfg, 100, "stall", out, "--stall-s", "2",
                         "--settle-s", "0.5", "--probe-interval-ms", "20"),
                 tmp_path)
    assert p.returncode == 0, log
    [r] = records(out)
    assert r["scenario"] == "stall" and r["timeout"] is False, r
    st = r["stall"]
    assert st["stall_s"] == pytest.approx(2.0), st
    # nothing was taken from its ring while it was stopped
    assert st["rx_while_stopped"] == 0 and st["rx_queued"] > 0, st
    [s] = r["subjects"]
    assert s["down_by"] >= 1 and 0 < s["first_down_s"] < 2.0, s
    assert st["alive_again_s"] is not None, st
    # reported, not judged here (the core's unit tests judge them)
    assert st["resumed_suspect"] >= 0 and st["resumed_down"] >= 0, st


def test_switch_faults(paths, tmp_path):
    """--fault on every frame the switch forwards: the counters move and
    the cluster still forms; --loss and --fault drop= together refused."""
    cfg, _, _ = paths
    out = tmp_path / "fault.json"
    spec = "drop=0.05 dup=0.05 delay=1ms jitter=1ms reorder=0.05"
    p, log = run(command(tmp_path, cfg, 100, "fp", out, "--duration-s", "2",
                         "--fault", spec), tmp_path)
    assert p.returncode == 0, log
    [r] = records(out)
    assert r["scenario"] == "fp" and r["timeout"] is False, r
    # the record's spec is gsp_fault_format's: the same tokens
    assert sorted(r["fault"].split()) == sorted(spec.split()), r["fault"]
    assert r["loss"] == 0.05, r
    fc = r["switch"]["fault"]
    for k in ("dropped", "duplicated", "delayed", "reordered"):
        assert fc[k] > 0, (k, fc)
    assert fc["queue_full"] == 0 and r["switch"]["lost"] == fc["dropped"], fc
    assert r["fp"]["suspect_transitions"] >= 0, r
    q = subprocess.run([str(GOSSIPD), "--", "--emulate", "10", "--loss",
                        "0.1", "--fault", "drop=0.1"], capture_output=True,
                       text=True, timeout=30)
    assert q.returncode == 2 and "both set" in q.stderr, q.stderr


def test_node1_view_and_socket(paths, tmp_path):
    """While 100 vnodes run, node1's status view lists them all, and its
    control socket takes a `set` that shows in node1's own entry."""
    cfg, sock, view = paths
    out = tmp_path / "steady.json"
    argv = command(tmp_path, cfg, 100, "steady", out, "--duration", "8")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL, cwd=tmp_path)
    try:
        def members():
            q = subprocess.run([str(GOSSIPCTL), "--view", view, "members",
                                "--json"], capture_output=True, text=True,
                               timeout=10)
            if q.returncode != 0:
                return None
            m = json.loads(q.stdout)["members"]
            return m if sum(x["state"] == "alive" for x in m) == 100 else None
        wait_until(members, 30, "node1's view to list 100 alive members")
        q = subprocess.run([str(GOSSIPCTL), "--view", view, "--socket",
                            str(sock), "set", "role", "emu-test"],
                           capture_output=True, text=True, timeout=10)
        assert q.returncode == 0, q.stdout + q.stderr

        def app_set():
            me = [x for x in members() or [] if x["name"] == "node1"]
            return bool(me) and me[0]["app"].get("role") == "emu-test"
        wait_until(app_set, 10, "node1's own app state in its view")
    finally:
        try:
            rest, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
    assert proc.returncode == 0, rest
    [r] = records(out)
    assert r["scenario"] == "steady" and r["timeout"] is False, r
    assert r["window_s"] == pytest.approx(8, abs=1.0), r
    assert r["tx_pps_mean"] > 0 and r["cpu_us_per_node_s"] > 0, r
    assert not os.path.exists(sock), "control socket left behind"


def test_window_ticks_are_the_windows(paths, tmp_path):
    """Ticks and their lateness are counted over the measured window, as
    its traffic is: a vnode's rounds and probes (10 a second each, most
    on one tick) give 10 to 20 ticks per vnode-second. Counted from
    before --settle-s, 4 s of settling over a 2 s window read as 30."""
    cfg, _, _ = paths
    out = tmp_path / "settled.json"
    p, log = run(command(tmp_path, cfg, 20, "steady", out, "--duration",
                         "2", "--settle-s", "4"), tmp_path)
    assert p.returncode == 0, log
    [r] = records(out)
    assert r["settle_s"] == pytest.approx(4) and \
        r["window_s"] == pytest.approx(2, abs=0.5), r
    per_vnode = r["timing"]["ticks_per_s"] / r["nodes"]
    assert 5 <= per_vnode <= 20, r["timing"]


def test_timeout_record(paths, tmp_path):
    """A join that cannot finish in time: exit 1, a record whose time_s
    is the time actually spent (it once wrapped to ~1.8e10 s)."""
    cfg, _, _ = paths
    out = tmp_path / "timeout.json"
    argv = command(tmp_path, cfg, 200, "detect", out, "--interval-ms",
                   "2000")
    argv[argv.index("--max-seconds") + 1] = "1"
    p, log = run(argv, tmp_path)
    assert p.returncode == 1, log
    [r] = records(out)
    assert r["timeout"] is True and r["timeout_reason"] == "join", r
    assert 0.5 < r["time_s"] < 10, r
    assert r["first_detect_s"] is None and r["all_detect_s"] is None, r


def test_two_emulations_without_config(env, tmp_path):
    """Side by side, without a config file: each has its own control
    socket and status view (named after its EAL file prefix)."""
    procs, outs = [], []
    for k in range(2):
        out = tmp_path / f"side{k}.json"
        argv = command(tmp_path, tmp_path / "unused", 20, "steady", out,
                       "--duration", "2")
        i = argv.index("--config")
        del argv[i:i + 2]
        argv[argv.index("--file-prefix") + 1] += f"-{k}"
        outs.append(out)
        procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True,
                                      stdin=subprocess.DEVNULL, cwd=tmp_path))
    recs = []
    try:
        for p in procs:
            text, _ = p.communicate(timeout=RUN_TIMEOUT_S)
            assert p.returncode == 0, text
        recs = [records(o)[0] for o in outs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
        for r in recs:
            try:
                os.unlink(r["status_view"])
            except FileNotFoundError:
                pass
    assert recs[0]["control_socket"] != recs[1]["control_socket"], recs
    assert recs[0]["status_view"] != recs[1]["status_view"], recs
    for r in recs:
        assert r["timeout"] is False, r
        assert not os.path.exists(r["control_socket"]), r
