# SPDX-License-Identifier: BSD-3-Clause
"""App state of wire version 5 (docs/PROTOCOL.md "Versions"): 16 keys,
values of 255 bytes, 1,024 bytes of keys and values per node, seen whole
on every node, in gossipctl and the status view.

In a cluster where a node still speaks 4, a state beyond 4's bounds
(more than 8 keys, or a value over 63 bytes) is not sent to it: its
decoder would drop the whole datagram carrying it. That node keeps the
writer's last state it could read, never drops a datagram as bad_entry,
and still hears everything else; once the writer is back within 4's
bounds, or the node upgrades, it has the writer's state again."""

from conftest import CONVERGE_S, Observed

V4 = {"gossip": {"wire_version": 4}}


def _drops(c, name, reason):
    return c.stats(name)["counters"]["rx_drop"].get(reason, 0)


def _app_of(c, observer, writer):
    return c.member_map(observer)[writer].get("app", {})


def _wait_app(c, writer, want, observers, what):
    def check():
        seen = {o: _app_of(c, o, writer) for o in observers}
        return Observed(all(v == want for v in seen.values()), seen)
    c.wait_until(check, CONVERGE_S, what, interval=0.1)


def test_wide_app_state_in_a_mixed_cluster(make_cluster):
    c = make_cluster(3)
    c.stop("node3")
    c.reconfigure("node3", V4)
    c.start("node3")
    c.wait_converged(timeout=CONVERGE_S)

    # within 4's bounds: every node has it
    narrow = {"zone": "eu-west-1", "rack": "r7"}
    for k, v in narrow.items():
        c.ctl("node1", "set", k, v, check=True)
    _wait_app(c, "node1", narrow, ["node2", "node3"],
              "node1's first keys on every node")

    # 12 keys, one of them 255 bytes: the new node has it all
    wide = dict(narrow)
    for i in range(9):
        wide[f"k{i:02d}"] = f"{i}-" + "v" * 40
    wide["long"] = "L" * 255
    for k, v in wide.items():
        if k not in narrow:
            c.ctl("node1", "set", k, v, check=True)
    _wait_app(c, "node1", wide, ["node2"], "12 keys, one of 255 bytes")
    # a 256-byte value and a state over 1,024 bytes are refused, saying
    # which bound
    r = c.ctl("node1", "set", "huge", "x" * 256)
    assert r.returncode != 0 and "255" in r.stderr, r.stderr
    # 12 keys take 683 bytes, and 71 are held for gsp.keys: one more
    # 255-byte value fits (1,013), a second does not
    c.ctl("node1", "set", "more", "m" * 255, check=True)
    r = c.ctl("node1", "set", "more2", "m" * 255)
    assert r.returncode != 0 and "app_bytes_max 1024" in r.stderr, r.stderr
    c.ctl("node1", "delete", "more", check=True)

    # the node on 4 keeps what it could read, and hears the rest
    c.ctl("node2", "set", "plain", "yes", check=True)
    _wait_app(c, "node2", {"plain": "yes"}, ["node1", "node3"],
              "node2's key on the node on version 4")
    # (the last state of node1 within 4's bounds that it heard: the keys
    # were set one at a time)
    seen = _app_of(c, "node3", "node1")
    assert narrow.items() <= seen.items() and len(seen) <= 8, seen
    assert all(wide[k] == v and len(v) <= 63 for k, v in seen.items()), seen
    assert c.member_map("node3")["node1"]["state"] == "alive"
    assert _drops(c, "node3", "bad_entry") == 0, c.stats("node3")

    # back within 4's bounds, node1's state reaches it again
    for k in wide:
        if k not in narrow and k != "k00":
            c.ctl("node1", "delete", k, check=True)
    back = dict(narrow, k00=wide["k00"])
    _wait_app(c, "node1", back, ["node2", "node3"],
              "node1 within 4's bounds on every node")

    # the node upgrades: a wide state reaches it too
    c.ctl("node1", "set", "long", "L" * 255, check=True)
    c.stop("node3")
    c.reconfigure("node3", {"gossip": {"wire_version": None}})
    c.start("node3")
    _wait_app(c, "node1", dict(back, long="L" * 255), ["node2", "node3"],
              "node1's 255-byte value on the upgraded node")

    # a user event with a 200-byte payload rides in gsp.event
    c.ctl("node1", "event", "deploy", "p" * 200, check=True)

    def event_seen():
        seen = {o: c.member_map(o)["node1"].get("reserved", {})
                .get("gsp.event", "") for o in ("node2", "node3")}
        return Observed(all(v.endswith(" deploy " + "p" * 200)
                            for v in seen.values()), seen)
    c.wait_until(event_seen, CONVERGE_S, "the 200-byte event everywhere",
                 interval=0.1)
