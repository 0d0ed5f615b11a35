# SPDX-License-Identifier: BSD-3-Clause
"""Stopping is leaving (docs/CONFIG.md, "Stopping"): SIGTERM and SIGINT
make gossipd announce LEAVE and exit 0, so the others list it "left", not
"down"; `[node] on_stop = exit` exits without it; the leave is bounded
(5 s) and a second signal cuts it short; `scripts/cluster stop` and `down`
stop nodes that way; an emulation ends at once.

One 3-node cluster, tests in file order; node3 is stopped each time,
restarted with another config where the test needs one."""

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from gossipd_tools import cluster as gsp_cluster
from conftest import (CONVERGE_S, DETECT_S, GOSSIPCTL, GOSSIPD, REPO,
                      Observed, hold, require, state_of, wait_until)

EXIT_WAIT_S = 30        # a bound of the waits; gossipd's own bound is 5 s
TRANSITION_RE = re.compile(r" member (\S+) \(0x[0-9a-f]+\) (\w+) -> (\w+)")


ON_STOP_EXIT = {"node": {"on_stop": "exit"}}
# a leave of 64 rounds of 250 ms: longer than the 5 s bound
LONG_LEAVE = {"gossip": {"leave_rounds": 64, "interval": "250ms"}}


@pytest.fixture(scope="module")
def c(make_module_cluster):
    return make_module_cluster(3)


def restart(c, name, extra_ini=None):
    """(Re)start name, with extra_ini as its config's extra keys."""
    if c.is_running(name):
        c.stop(name)
    c.reconfigure(name, extra_ini)
    c.start(name)


def log_offsets(c, names):
    return {n: len(c.log(n)) for n in names}


def new_log(c, name, offsets):
    return c.log(name)[offsets[name]:]


def transitions_of(c, member, offsets):
    """{observer: ["old->new", ...]} of member logged since offsets."""
    out = {}
    for o in offsets:
        if o == member:
            continue
        out[o] = [f"{m.group(2)}->{m.group(3)}"
                  for m in TRANSITION_RE.finditer(new_log(c, o, offsets))
                  if m.group(1) == member]
    return out


def wait_state_everywhere(c, observers, member, state, timeout):
    def check():
        st = state_of(c, observers, member)
        return Observed(all(s and s[0] == state for s in st.values()), st)
    c.wait_until(check, timeout, f"{observers} to list {member} {state}",
                 interval=0.1)
    return check


def stop_with(c, name, sig):
    """Converged cluster, then sig to name: (exit status, its new log,
    the others' log offsets from before the signal)."""
    c.wait_converged(timeout=CONVERGE_S)
    offsets = log_offsets(c, c.names())
    rc = c.kill(name, sig, timeout=EXIT_WAIT_S)
    return rc, new_log(c, name, offsets), offsets


def check_left(c, name, sig):
    rest = [n for n in c.running() if n != name]
    rc, own, offsets = stop_with(c, name, sig)
    signame = signal.Signals(sig).name
    assert rc == 0, f"{name} exited with status {rc} after {signame}:\n{own}"
    left = wait_state_everywhere(c, rest, name, "left", DETECT_S)
    seen = transitions_of(c, name, offsets)
    assert all(t == ["alive->left"] for t in seen.values()), seen
    assert f"stop: {signame}: leaving the cluster" in own, own
    assert f"node {name} stopped after leaving" in own, own
    return left


def test_sigterm_leaves(c):
    left = check_left(c, "node3", signal.SIGTERM)
    # and stays left: the failure detector does not turn it into down
    hold(left, 2.0, "node3 staying left (not down) everywhere")


def test_sigint_leaves(c):
    restart(c, "node3")
    check_left(c, "node3", signal.SIGINT)


def test_on_stop_exit(c):
    restart(c, "node3", ON_STOP_EXIT)
    rest = [n for n in c.running() if n != "node3"]
    rc, own, offsets = stop_with(c, "node3", signal.SIGTERM)
    assert rc == 0, own
    wait_state_everywhere(c, rest, "node3", "down", DETECT_S)
    seen = transitions_of(c, "node3", offsets)
    assert not any("left" in t for v in seen.values() for t in v), seen
    assert "stop: SIGTERM: exiting without a leave ([node] on_stop = exit)" \
        in own, own
    assert "after leaving" not in own, own


def test_leave_is_bounded(c):
    """node3's leave would last 64 x 250 ms: it exits after 5 s anyway,
    after its LEAVE went out."""
    restart(c, "node3", LONG_LEAVE)
    rest = [n for n in c.running() if n != "node3"]
    rc, own, _ = stop_with(c, "node3", signal.SIGTERM)
    assert rc == 0, own
    assert "stop: SIGTERM: leaving the cluster (LEAVE, 64 rounds" in own, own
    assert "stop: the leave did not finish within 5 s: exiting without it" \
        in own, own
    wait_state_everywhere(c, rest, "node3", "left", DETECT_S)


def test_second_signal_exits_now(c):
    restart(c, "node3", LONG_LEAVE)
    c.wait_converged(timeout=CONVERGE_S)
    off = log_offsets(c, ["node3"])
    assert c._signal_node("node3", signal.SIGTERM)
    wait_until(lambda: "leaving the cluster" in new_log(c, "node3", off),
               EXIT_WAIT_S, "node3 to start its leave")
    assert c._signal_node("node3", signal.SIGINT)
    rc = c.wait_exit("node3", timeout=EXIT_WAIT_S)
    own = new_log(c, "node3", off)
    assert rc == 0, own
    assert "stop: SIGINT again: exiting now" in own, own
    # the second signal ended it, not the bound
    assert "did not finish" not in own, own


def test_cluster_stop_command(c):
    """`scripts/cluster stop NODE`: SIGTERM, polled; the node leaves."""
    restart(c, "node3")
    c.wait_converged(timeout=CONVERGE_S)
    rest = [n for n in c.running() if n != "node3"]
    p = subprocess.run([sys.executable, str(REPO / "scripts" / "cluster"),
                        "stop", "node3", "--state", str(c.state_dir)],
                       capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "node3: exited after SIGTERM" in p.stdout, p.stdout
    assert not c.is_running("node3")
    wait_state_everywhere(c, rest, "node3", "left", DETECT_S)
    # the crash-style stop is still at hand for tests
    c.start("node3")
    c.wait_converged(timeout=CONVERGE_S)
    assert c.kill("node3", signal.SIGKILL) == -signal.SIGKILL


def test_down_leaves(c):
    """down() SIGTERMs every node: each one leaves and exits 0."""
    c.start("node3")
    c.wait_converged(timeout=CONVERGE_S)
    running = c.running()
    assert sorted(running) == ["node1", "node2", "node3"], running
    offsets = log_offsets(c, running)
    c.down()
    for n in running:
        own = new_log(c, n, offsets)
        assert c.returncode(n) == 0, own
        assert c._node(n)["stopped_by"] == "SIGTERM", own
        assert f"node {n} stopped after leaving" in own, own


def test_bad_on_stop_value(tmp_path):
    require("gossipd")
    text = gsp_cluster.render_config("gspstop", "node1", "10.77.0.1", [],
                                     100, {"node": {"on_stop": "drain"},
                                           "security": {"mode": "plaintext"}})
    cfg = tmp_path / "bad.ini"
    cfg.write_text(text)
    line = 1 + text.splitlines().index("on_stop = drain")
    p = subprocess.run([str(GOSSIPD), "--", "--config", str(cfg),
                        "--check-config"], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p.stderr
    assert f"{cfg}:{line}: [node] on_stop: must be leave or exit, got " \
        f"\"drain\"" in p.stderr, p.stderr
    cfg.write_text(text.replace("on_stop = drain", "on_stop = exit"))
    p = subprocess.run([str(GOSSIPD), "--", "--config", str(cfg),
                        "--check-config"], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr


def test_emulation_stops_at_once(tmp_path):
    """SIGTERM ends an emulation at once (no vnode leaves): a steady run
    records the shorter window it measured, exit 0 (docs/EMULATION.md)."""
    require("gossipd", "gossipctl")
    tag = f"{os.getpid()}-{tmp_path.name}"
    view = f"/dev/shm/gossipd-test-stop-{tag}"
    cfg = tmp_path / "emu.ini"
    cfg.write_text("[cluster]\nname = emu\n[node]\nname = node1\n"
                   "address = 10.99.0.1\n[control]\n"
                   f"socket = {tmp_path / 'emu.sock'}\nstatus_view = {view}\n")
    out = tmp_path / "steady.json"
    lcores = "0@0,1@1" if (os.cpu_count() or 1) >= 2 else "0@0"
    argv = [str(GOSSIPD), "--no-huge", "-m", "512", "--no-pci",
            "--no-telemetry", "--lcores", lcores, "--file-prefix",
            f"gsp-stop-{tag}", "--", "--emulate", "20", "--scenario",
            "steady", "--duration", "600", "--max-seconds", "900",
            "--json", str(out), "--config", str(cfg)]
    log = tmp_path / "emu.log"
    with open(log, "w") as lf:
        proc = subprocess.Popen(argv, stdout=lf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=tmp_path)
    try:
        def joined():
            # the scenario's own verdict: every vnode lists all 20 (node1
            # alone listing them may come a round before the last one)
            if proc.poll() is not None:
                raise gsp_cluster.NodeDied(log.read_text())
            return "20 nodes joined in" in log.read_text()
        wait_until(joined, 30, "the emulation's 20 nodes to join")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=EXIT_WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        try:
            os.unlink(view)
        except FileNotFoundError:
            pass
    text = log.read_text()
    assert rc == 0, text
    assert "stop: SIGTERM: exiting without a leave (emulation)" in text, text
    assert "-> left" not in text, text
    [r] = [json.loads(x) for x in out.read_text().splitlines() if x.strip()]
    assert r["scenario"] == "steady" and r["timeout"] is False, r
    assert 0 <= r["time_s"] < 600, r
