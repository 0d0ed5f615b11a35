# SPDX-License-Identifier: BSD-3-Clause
"""A 5-node cluster: convergence, application state, failure detection,
restart with a new generation, graceful leave.  The tests share one cluster
and run in file order; each one first waits for the state it starts from."""

import re
import signal

import pytest

from conftest import (CONVERGE_S, DETECT_S, Observed, hold, state_of,
                      wait_heartbeats_advance)

ALL = ["node1", "node2", "node3", "node4", "node5"]


@pytest.fixture(scope="module")
def c(make_module_cluster):
    return make_module_cluster(5)


@pytest.fixture(scope="module")
def shared():
    return {}


def test_converges(c):
    views = c.wait_converged(timeout=CONVERGE_S)
    assert sorted(views) == ALL
    ids = {}
    for o in ALL:
        j = c.members(o)
        assert j["cluster"] == c.cluster
        assert j["node"] == o
        assert j["writer_alive"] is True
        assert re.fullmatch(r"0x[0-9a-fA-F]+", j["self_id"]), j["self_id"]
        selves = [m for m in j["members"] if m.get("self")]
        assert [m["name"] for m in selves] == [o], j["members"]
        assert selves[0]["id"] == j["self_id"]
        assert selves[0]["generation"] == j["generation"]
        for m in j["members"]:
            k = int(m["name"][4:])
            assert m["address"] == f"10.77.0.{k}:7946", m
            ids.setdefault(m["name"], set()).add(m["id"])
    # every node knows every other one under the same id
    assert all(len(v) == 1 for v in ids.values()), ids
    assert len({next(iter(v)) for v in ids.values()}) == len(ALL), ids
    # and the heartbeats keep moving
    wait_heartbeats_advance(c, ALL)


def test_app_state_spreads(c):
    c.wait_converged(timeout=CONVERGE_S)
    r = c.ctl("node2", "set", "load", "0.75")
    assert r.returncode == 0, f"gossipctl set failed: {r.stderr}"

    def check():
        seen = {o: c.member_map(o)["node2"].get("app", {}).get("load")
                for o in ALL}
        return Observed(all(v == "0.75" for v in seen.values()), seen)
    c.wait_until(check, CONVERGE_S, "every node to see node2's load=0.75",
                 interval=0.1)


def _kill_node4(c, shared):
    c.wait_converged(timeout=CONVERGE_S)
    shared["gen4"] = c.member_map("node1")["node4"]["generation"]
    c.kill("node4", signal.SIGKILL)
    survivors = [n for n in ALL if n != "node4" and c.is_running(n)]
    seen = set()

    def check():
        st = {o: s for o, s in state_of(c, survivors, "node4").items()}
        seen.update(s[0] for s in st.values() if s)
        return Observed(all(s and s[0] == "down" for s in st.values()), st)
    c.wait_until(check, DETECT_S, "every survivor to mark node4 down",
                 interval=0.1)
    return survivors, seen


def test_sigkill_detected(c, shared):
    survivors, seen = _kill_node4(c, shared)
    assert seen <= {"alive", "suspect", "down"}, \
        f"node4 went through unexpected states: {seen}"
    # the survivors still see each other alive
    c.wait_converged(observers=survivors, expected=survivors,
                     timeout=CONVERGE_S)


def test_restart_new_generation(c, shared):
    if c.is_running("node4"):      # run on its own (-k): make node4 die first
        _kill_node4(c, shared)
    gen_before = shared["gen4"]
    c.start("node4")

    def check():
        st = state_of(c, ALL, "node4")
        ok = all(s and s[0] == "alive" and s[1] > gen_before
                 for s in st.values())
        return Observed(ok, {"generation before": gen_before, **st})
    c.wait_until(check, CONVERGE_S, "every node to list node4 alive with a "
                 "higher generation", interval=0.1)
    c.wait_converged(timeout=CONVERGE_S)


def test_leave(c):
    c.wait_converged(timeout=CONVERGE_S)
    rest = [n for n in ALL if n != "node5"]
    r = c.ctl("node5", "leave")
    assert r.returncode == 0, f"gossipctl leave failed: {r.stderr}"
    rc = c.wait_exit("node5", timeout=20)
    assert rc == 0, f"node5 exited with status {rc} after leave"
    seen = set()

    def left_everywhere():
        st = state_of(c, rest, "node5")
        seen.update(s[0] for s in st.values() if s)
        return Observed(all(s and s[0] == "left" for s in st.values()), st)
    c.wait_until(left_everywhere, DETECT_S,
                 "every remaining node to mark node5 left", interval=0.1)
    assert "down" not in seen, f"node5 was marked down on the way: {seen}"
    # the failure detector must not turn a member that left into a dead one
    hold(left_everywhere, 3.0, "node5 staying left (not down) everywhere")
    c.wait_converged(observers=rest, expected=rest, timeout=CONVERGE_S)


def test_node_past_one_slash_24(make_cluster):
    """The launcher puts a cluster on one /16: node 300 (10.77.1.44) joins
    nodes 1 and 2 (10.77.0.x) and every view lists it there."""
    c = make_cluster(2)
    c.add_node(300)
    names = ["node1", "node2", "node300"]
    views = c.wait_converged(timeout=CONVERGE_S)
    assert sorted(views) == names
    for o in names:
        assert c.member_map(o)["node300"]["address"] == "10.77.1.44:7946"
