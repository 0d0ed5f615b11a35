# SPDX-License-Identifier: BSD-3-Clause
"""gossipctl force-leave NAME (docs/PROTOCOL.md, "Force-leave"): a failed
member is moved to left on every node, by a SWIM dead claim flagged LEFT
that one node sends; a live member is refused; one that comes back (a
restart, or its own refutation after a partition) is alive again."""

from conftest import CONVERGE_S, DETECT_S, Observed, state_of

NODES = ["node1", "node2", "node3", "node4"]


def states(c, observers, member):
    return {o: s and s[0] for o, s in state_of(c, observers, member).items()}


def wait_state(c, observers, member, want, what):
    c.wait_until(lambda: Observed(
        all(s == want for s in states(c, observers, member).values()),
        states(c, observers, member)), DETECT_S, what)


def test_force_leave_spreads_and_a_returning_member_is_alive(make_cluster):
    c = make_cluster(4)
    c.wait_converged(timeout=CONVERGE_S)

    # a live member speaks for itself; unknown names and this node too
    p = c.ctl("node1", "force-leave", "node2")
    assert p.returncode == 1 and "force-leave: node2 is alive, not down" \
        in p.stderr, p.stderr
    p = c.ctl("node1", "force-leave", "node9")
    assert p.returncode == 1 and 'no member named "node9"' in p.stderr
    p = c.ctl("node1", "force-leave", "node1")
    assert p.returncode == 1 and "node1 is this node" in p.stderr
    assert states(c, NODES, "node2") == {n: "alive" for n in NODES}

    # a crash: down everywhere, then left everywhere from one command
    gen4 = c.member_map("node1")["node4"]["generation"]
    c.kill("node4")
    wait_state(c, NODES[:3], "node4", "down", "node4 down on the others")
    p = c.ctl("node2", "force-leave", "node4", check=True)
    assert "node4: down -> left" in p.stdout, p.stdout
    wait_state(c, NODES[:3], "node4", "left", "node4 left on every node")
    p = c.ctl("node3", "force-leave", "node4", check=True)
    assert "node4: left already" in p.stdout, p.stdout
    assert "force-leave node4" in c.log("node2")

    # it restarts: a new generation, alive everywhere
    c.start("node4")
    c.wait_converged(timeout=CONVERGE_S)
    assert c.member_map("node1")["node4"]["generation"] > gen4

    # a partition: node3 is down for the others, moved to left, and when
    # the partition heals it refutes (same generation) and is alive again
    gen3 = c.member_map("node1")["node3"]["generation"]
    for peer in ("node1", "node2", "node4"):
        assert c.fault("node3", "block", peer).returncode == 0
    others = ["node1", "node2", "node4"]
    wait_state(c, others, "node3", "down", "node3 down behind its partition")
    c.ctl("node1", "force-leave", "node3", check=True)
    wait_state(c, others, "node3", "left", "node3 left on the others")
    assert c.fault("node3", "unblock", "all").returncode == 0
    c.wait_converged(timeout=CONVERGE_S)
    assert c.member_map("node2")["node3"]["generation"] == gen3
