# SPDX-License-Identifier: BSD-3-Clause
"""A rolling upgrade from wire version 2 to 3 (docs/PROTOCOL.md "Versions
and rolling upgrades"): a 4-node cluster of nodes that speak 2 only, as
the previous release does ([gossip] wire_version = 2), is upgraded one
node at a time, each stopped (LEAVE) and started again speaking 3.

At every step the running nodes converge, app state spreads both ways
between old and new nodes, and a SIGKILLed old node is marked down by a
new one; no node is ever marked down except the one killed, and the old
nodes never drop a datagram as bad_version: new nodes speak 2 to them.
Once all speak 3 they sync by range hashes, and each one's status view
says that every peer holds the same view."""

import signal

from conftest import CONVERGE_S, DETECT_S, Observed, state_of

ALL = ["node1", "node2", "node3", "node4"]
OLD = {"gossip": {"wire_version": 2}}


def _drops(c, name, reason):
    return c.stats(name)["counters"]["rx_drop"].get(reason, 0)


def _app_reaches(c, writer, key, value, observers):
    r = c.ctl(writer, "set", key, value)
    assert r.returncode == 0, r.stderr

    def check():
        seen = {o: c.member_map(o)[writer].get("app", {}).get(key)
                for o in observers}
        return Observed(all(v == value for v in seen.values()), seen)
    c.wait_until(check, CONVERGE_S,
                 f"{writer}'s {key}={value} to reach {observers}",
                 interval=0.1)


def test_rolling_upgrade_2_to_3(make_cluster):
    c = make_cluster(4, extra_ini=OLD)
    c.wait_converged(timeout=CONVERGE_S)
    for o in ALL:
        assert c.stats(o)["counters"]["tx_sum"] == 0

    new = []
    for step, name in enumerate(ALL, start=1):
        c.stop(name)
        c.reconfigure(name, {"gossip": {"wire_version": None}})
        c.start(name)
        new.append(name)
        old = [n for n in ALL if n not in new]
        c.wait_converged(timeout=CONVERGE_S)
        # news crosses the versions both ways
        _app_reaches(c, name, "step", str(step), ALL)
        if old:
            _app_reaches(c, old[0], "seen", str(step), ALL)
        # new nodes spoke 2 to the old ones: not one datagram refused
        for o in old:
            assert _drops(c, o, "bad_version") == 0, (o, c.stats(o))

    # a mixed cluster once more, to watch a failure across versions:
    # node4 back to 2, killed, and detected by the new nodes
    c.stop("node4")
    c.reconfigure("node4", OLD)
    c.start("node4")
    c.wait_converged(timeout=CONVERGE_S)
    c.kill("node4", signal.SIGKILL)
    survivors = ["node1", "node2", "node3"]

    def down():
        st = state_of(c, survivors, "node4")
        return Observed(all(s and s[0] == "down" for s in st.values()), st)
    c.wait_until(down, DETECT_S, "node4 (version 2) down on version 3 nodes",
                 interval=0.1)

    # only node4 was ever marked down, and only after its kill
    downs = [t for t in c.transitions() if t[4] == "down"]
    assert downs and all(t[2] == "node4" for t in downs), downs

    # all three speak 3: their views agree, by digest, as each one shows
    def agree():
        v = {o: c.members(o).get("view", {}) for o in survivors}
        ok = all(x.get("peers") == 2 and x.get("agree") == 2 and
                 x.get("digest") == v["node1"].get("digest")
                 for x in v.values())
        return Observed(ok, v)
    c.wait_until(agree, CONVERGE_S, "the three to report the same view",
                 interval=0.1)
    for o in survivors:
        assert c.stats(o)["counters"]["rx_sum"] > 0 or \
            c.stats(o)["counters"]["tx_sum"] > 0, c.stats(o)["counters"]
