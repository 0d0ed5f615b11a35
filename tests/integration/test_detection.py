# SPDX-License-Identifier: BSD-3-Clause
"""Failure detection under faults, on a 5-node netns cluster with the
default detector (SWIM + Lifeguard, phi as a hint).  Faults are injected
in each node's own I/O path with `gossipctl fault` (no netem here).  Every
wait is a poll with a bound; "stays so" checks hold for a fixed time."""

import signal
import time

import pytest

from conftest import CONVERGE_S, DETECT_S, Observed, hold, state_of

ALL = ["node1", "node2", "node3", "node4", "node5"]
# 50 ms probes: verdicts in about a second, and a 5 s stop is long enough
# for the others to give a stopped node up
DETECTOR_INI = "[detector]\nprobe_interval = 50ms\n"


@pytest.fixture(scope="module")
def c(make_module_cluster):
    return make_module_cluster(5, extra_ini=DETECTOR_INI)


def ctl_ok(c, node, *args):
    r = c.ctl(node, *args)
    assert r.returncode == 0, \
        f"gossipctl {' '.join(args)} on {node} failed: {r.stderr}{r.stdout}"
    return r


def counters(c, node):
    """The core counters of gossipctl stats --json, flattened by name."""
    return c.stats(node)["counters"]


def nobody_down(c, observers):
    views = {o: {n: m["state"] for n, m in c.member_map(o).items()}
             for o in observers}
    bad = {o: [n for n, s in v.items() if s == "down"]
           for o, v in views.items()}
    bad = {o: v for o, v in bad.items() if v}
    return Observed(not bad, bad)


def clear_faults(c, nodes):
    for n in nodes:
        if c.is_running(n):
            ctl_ok(c, n, "fault", "clear")


def test_loss_10pct_no_false_positive(c):
    """10% of every node's packets lost for 15 s: suspicions may come and
    be refuted, but no live member is ever declared down."""
    c.wait_converged(timeout=CONVERGE_S)
    try:
        for n in ALL:
            ctl_ok(c, n, "fault", "set", "drop=0.1")
        hold(lambda: nobody_down(c, ALL), 15.0,
             "no live member down at 10% loss", interval=0.2)
        dropped = {n: c.stats(n)["faults"]["counters"]["dropped"]
                   for n in ALL}
        assert all(v > 0 for v in dropped.values()), dropped
    finally:
        clear_faults(c, ALL)
    c.wait_converged(timeout=CONVERGE_S)


def test_partition_and_heal(c):
    """node1+node2 against node3..5: each side marks the other down; after
    the heal one view again, without restart or operator action."""
    c.wait_converged(timeout=CONVERGE_S)
    a, b = ALL[:2], ALL[2:]
    gens = {n: c.member_map("node1")[n]["generation"] for n in ALL}
    try:
        for x in a:
            for y in b:
                ctl_ok(c, x, "fault", "block", c.address(y))
                ctl_ok(c, y, "fault", "block", c.address(x))

        def split():
            st = {}
            for o in ALL:
                mm = c.member_map(o)
                other = b if o in a else a
                st[o] = {n: mm[n]["state"] for n in other}
            ok = all(s == "down" for v in st.values() for s in v.values())
            return Observed(ok, st)
        c.wait_until(split, DETECT_S, "each side to mark the other down",
                     interval=0.1)
    finally:
        for n in ALL:
            ctl_ok(c, n, "fault", "unblock", "all")
    c.wait_converged(timeout=CONVERGE_S)
    # healed by gossip alone: the same processes, the same generations
    after = {n: c.member_map("node1")[n]["generation"] for n in ALL}
    assert after == gens, (gens, after)


def test_sigstop_resume_accuses_nobody(c):
    """node2 stopped for 5 s: the others mark it down; resumed, it is alive
    everywhere again and it accused no live member."""
    c.wait_converged(timeout=CONVERGE_S)
    others = [n for n in ALL if n != "node2"]
    before = counters(c, "node2")
    c.kill("node2", signal.SIGSTOP, wait=False)
    stopped_at = time.monotonic()
    try:
        def down_everywhere():
            st = state_of(c, others, "node2")
            return Observed(all(s and s[0] == "down" for s in st.values()),
                            st)
        c.wait_until(down_everywhere, DETECT_S,
                     "the others to mark stopped node2 down", interval=0.1)
        left = 5.0 - (time.monotonic() - stopped_at)
        if left > 0:
            hold(lambda: down_everywhere(), left, "node2 staying down")
    finally:
        c.kill("node2", signal.SIGCONT, wait=False)
    c.wait_converged(timeout=CONVERGE_S)
    # it refuted the verdict (a new incarnation), and made none of its own;
    # a quiet node's view shows its counters within a second, so the
    # others may list it alive before its own view says it refuted
    c.wait_until(
        lambda: Observed(counters(c, "node2")["refutations"] >
                         before["refutations"], counters(c, "node2")),
        5.0, "node2's view to count its refutation", interval=0.1)
    after = counters(c, "node2")
    assert after["suspicions"] == before["suspicions"], (before, after)
    assert after["declared_down"] == before["declared_down"], (before, after)
    hold(lambda: nobody_down(c, ALL), 2.0, "nobody down after the resume")


def test_restart_at_new_address(c):
    """node3 killed and restarted at another address: one entry, alive at
    the new address, with a higher generation."""
    c.wait_converged(timeout=CONVERGE_S)
    gen = c.member_map("node1")["node3"]["generation"]
    c.kill("node3", signal.SIGKILL)
    new_ip = c.move("node3", 103)
    c.start("node3")

    def check():
        st = {}
        for o in ALL:
            ms = [m for m in c.members(o)["members"] if m["name"] == "node3"]
            st[o] = [(m["address"], m["state"], m["generation"]) for m in ms]
        ok = all(len(v) == 1 and v[0][0] == f"{new_ip}:7946" and
                 v[0][1] == "alive" and v[0][2] > gen for v in st.values())
        return Observed(ok, st)
    c.wait_until(check, CONVERGE_S, "every node to list node3 once, alive "
                 "at its new address", interval=0.1)


def test_leave_and_crash_together(c):
    """node4 leaves while node5 crashes: left is never down, down is not
    left."""
    c.wait_converged(timeout=CONVERGE_S)
    rest = ["node1", "node2", "node3"]
    seen = {"node4": set(), "node5": set()}
    c.kill("node5", signal.SIGKILL)
    ctl_ok(c, "node4", "leave")

    def check():
        st = {m: state_of(c, rest, m) for m in ("node4", "node5")}
        for m, v in st.items():
            seen[m].update(s[0] for s in v.values() if s)
        ok = (all(s and s[0] == "left" for s in st["node4"].values()) and
              all(s and s[0] == "down" for s in st["node5"].values()))
        return Observed(ok, st)
    c.wait_until(check, DETECT_S, "node4 left and node5 down everywhere",
                 interval=0.1)
    assert "down" not in seen["node4"], seen
    assert "left" not in seen["node5"], seen
