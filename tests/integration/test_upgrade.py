# SPDX-License-Identifier: BSD-3-Clause
"""A rolling upgrade from wire version 2, and from 3, to 5 (docs/PROTOCOL.md
"Versions and rolling upgrades"): a 4-node cluster of nodes that speak
the old version only, as the earlier releases do ([gossip] wire_version
= 2 or 3), is upgraded one node at a time, each stopped (LEAVE) and
started again speaking 5 (from 4 to 5: test_app_wide.py).

At every step the running nodes converge, app state spreads both ways
between old and new nodes, and a SIGKILLed old node is marked down by a
new one; no node is ever marked down except the one killed, and the old
nodes never drop a datagram as bad_version: new nodes speak the old
version to them. Once all are new they sync by range hashes, and each
one's status view says that every peer holds the same view."""

import signal

import pytest

from conftest import CONVERGE_S, DETECT_S, Observed, state_of

ALL = ["node1", "node2", "node3", "node4"]


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


@pytest.mark.parametrize("old_version", [2, 3])
def test_rolling_upgrade(make_cluster, old_version):
    old_ini = {"gossip": {"wire_version": old_version}}
    c = make_cluster(4, extra_ini=old_ini)
    c.wait_converged(timeout=CONVERGE_S)
    if old_version == 2:    # no range hashes before 3
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
        # new nodes spoke the old version to the old ones: not one
        # datagram refused
        for o in old:
            assert _drops(c, o, "bad_version") == 0, (o, c.stats(o))

    # a mixed cluster once more, to watch a failure across versions:
    # node4 back to the old version, killed, and detected by the new ones
    c.stop("node4")
    c.reconfigure("node4", old_ini)
    c.start("node4")
    c.wait_converged(timeout=CONVERGE_S)
    c.kill("node4", signal.SIGKILL)
    survivors = ["node1", "node2", "node3"]

    def down():
        st = state_of(c, survivors, "node4")
        return Observed(all(s and s[0] == "down" for s in st.values()), st)
    c.wait_until(down, DETECT_S,
                 f"node4 (version {old_version}) down on version 5 nodes",
                 interval=0.1)

    # only node4 was ever marked down, and only after its kill
    downs = [t for t in c.transitions() if t[4] == "down"]
    assert downs and all(t[2] == "node4" for t in downs), downs

    # all three speak 5: their views agree, by digest, as each one shows
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
