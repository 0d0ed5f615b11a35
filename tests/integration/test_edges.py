# SPDX-License-Identifier: BSD-3-Clause
"""Numbers at their edges (docs/PROTOCOL.md "Numbers at their edges",
docs/SECURITY.md "Replays"): one well-formed, authentic datagram carrying
an extreme value must do no lasting harm.

The test holds the cluster key, as a buggy peer would, and seals its
datagrams with python3-cryptography (gsp_scapy.seal). Frames are written
onto the host end of node1's veth, so they reach node1's port as sent.
Each test checks the harm that the value did before the rule it proves:
a live member held down, a member's entry frozen, a sender's traffic
refused, a forgotten sender's captured datagrams taken again.
"""

import base64
import itertools
import time

import pytest

from conftest import CONVERGE_S, DETECT_S, Observed
import gsp_scapy as g

from scapy.all import IP, UDP, AsyncSniffer, Ether, Raw, conf, sendp  # noqa: E402

conf.verb = 0

INJ_MAC = "02:00:00:77:00:fb"
INJ_IP = "10.77.0.251"
FAKE_SENDER = 0x5EED0000000000E1
U32_MAX = 0xFFFFFFFF
U64_MAX = 0xFFFFFFFFFFFFFFFF
YEAR_US = 365 * 24 * 3600 * 1000000

_seq = itertools.count(1000)


@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(3)
    c.wait_converged(timeout=CONVERGE_S)
    return c




def member(c, observer, name):
    return c.member_map(observer).get(name)


def member_id(c, name):
    return int(member(c, name, name)["id"], 16)


def security(c, name):
    return c.stats(name)["security"]


def drops(c, name):
    return c.stats(name)["counters"]["rx_drop"]


def send_sealed(c, to, payload, sender_gen=7, seq=None, src_ip=INJ_IP):
    """One datagram sealed with the cluster key onto node `to`'s port."""
    iface, mac = c.port(to)
    key = base64.b64decode(c.cluster_key())
    frame = (Ether(dst=mac, src=INJ_MAC) /
             IP(src=src_ip, dst=c.address(to).split(":")[0], ttl=64) /
             UDP(sport=g.GSP_PORT, dport=g.GSP_PORT) /
             Raw(g.seal(key, payload, next(_seq) if seq is None else seq,
                        sender_gen)))
    sendp(frame, iface=iface)


def test_verdict_at_highest_incarnation_is_refuted(c):
    """A "down" claim at incarnation 2^32-1 about a live node: there is no
    incarnation above it to refute with, so the node starts a new
    generation, and every node holds it alive again. (It used to refute
    with incarnation 0, which nobody took: down cluster-wide until a
    restart.)"""
    node1_id = member_id(c, "node1")
    target = member(c, "node2", "node2")
    gen = target["generation"]
    ping = g.probe(c.cluster, FAKE_SENDER, seq=1, target_id=node1_id,
                   claims=[(int(target["id"], 16), gen, FAKE_SENDER,
                            U32_MAX, g.CLAIM_DEAD)])
    send_sealed(c, "node1", ping)

    def all_alive():
        view = {o: member(c, o, "node2") for o in ("node1", "node2", "node3")}
        ok = all(m and m["state"] == "alive" and m["generation"] > gen
                 for m in view.values())
        return Observed(ok, {o: m and (m["state"], m["generation"])
                             for o, m in view.items()})
    c.wait_until(all_alive, DETECT_S,
                 "every node to hold node2 alive in a generation above the "
                 "verdict's")
    assert security(c, "node2")["renewals"] == 1
    assert "starting generation" in c.log("node2")


def test_generation_beyond_clock_skew_is_skipped(c):
    """node2's state a year in the future: node1 skips it (implausible,
    counted, logged) instead of freezing node2's entry for a year."""
    target = member(c, "node1", "node2")
    gen = target["generation"]
    before = security(c, "node1").get("implausible", 0)
    forged = g.state(int(target["id"], 16), gen + YEAR_US, 5, "10.77.0.2",
                     "node2")
    send_sealed(c, "node1", g.states_msg(c.cluster, FAKE_SENDER, [forged]))
    # node2's entry still follows node2: news from it arrives
    c.ctl("node2", "set", "edge", "after-future", check=True)
    c.wait_until(lambda: Observed(
        member(c, "node1", "node2")["app"].get("edge") == "after-future",
        member(c, "node1", "node2")), CONVERGE_S,
        "node1 to see node2's app state written after the forged state")
    assert member(c, "node1", "node2")["generation"] == gen
    c.wait_until(lambda: Observed(
        security(c, "node1").get("implausible", 0) > before,
        security(c, "node1")), 10, "node1 to count the implausible state")
    assert "its generation is one no member can have" in c.log("node1")


def test_state_of_ours_we_did_not_make_is_outranked(c):
    """node3's state at a plausible future generation (10 s ahead), with
    another address: node1 takes it, but node3 answers with a generation
    above it, so every node ends with what node3 itself says."""
    target = member(c, "node1", "node3")
    forged_gen = int(time.time() * 1e6) + 10 * 1000000
    forged = g.state(int(target["id"], 16), forged_gen, 3, "10.77.0.99",
                     "node3", app=[(2, "edge", "forged")])
    send_sealed(c, "node1", g.states_msg(c.cluster, FAKE_SENDER, [forged]))
    c.ctl("node3", "set", "edge", "real", check=True)

    def real_everywhere():
        view = {o: member(c, o, "node3") for o in ("node1", "node2")}
        ok = all(m and m["generation"] > forged_gen and
                 m["address"].startswith("10.77.0.3:") and
                 m["app"].get("edge") == "real" and m["state"] == "alive"
                 for m in view.values())
        return Observed(ok, view)
    c.wait_until(real_everywhere, CONVERGE_S,
                 "node1 and node2 to hold node3's own state above the forgery")
    assert security(c, "node3").get("renewals", 0) >= 1
    assert "starting generation" in c.log("node3")


def test_one_datagram_cannot_push_a_replay_window(c):
    """Sealed as node2, at sequence 2^64-1 and at node2's generation + 1:
    node1 takes each once, but node2's own traffic goes on being taken
    (it used to be refused from then on, as replays)."""
    node1_id = member_id(c, "node1")
    n2 = member(c, "node1", "node2")
    n2_id, n2_gen = int(n2["id"], 16), n2["generation"]
    ping = g.probe(c.cluster, n2_id, seq=7, target_id=node1_id)
    before = drops(c, "node1").get("replay", 0)
    send_sealed(c, "node1", ping, sender_gen=n2_gen, seq=U64_MAX)
    send_sealed(c, "node1", ping, sender_gen=n2_gen, seq=U64_MAX)  # replay
    send_sealed(c, "node1", ping, sender_gen=n2_gen + 1, seq=5)
    rounds0 = c.stats("node1")["counters"]["rounds"]
    # 30 more rounds of node1 (node2 talks to it every round or two)
    c.wait_until(lambda: Observed(
        c.stats("node1")["counters"]["rounds"] >= rounds0 + 30, None),
        CONVERGE_S, "node1 to run 30 more rounds")
    refused = drops(c, "node1").get("replay", 0) - before
    assert refused == 1, f"node1 refused {refused} datagrams as replays"
    assert member(c, "node1", "node2")["state"] == "alive"


def test_forgotten_senders_datagrams_stay_refused(make_cluster):
    """Datagrams captured from node2 to node1 and replayed after node1
    forgot node2 are refused: node2's window outlives its table slot.
    (They used to be taken again, in order, as a new sender's.)"""
    c = make_cluster(3, extra_ini={"gossip": {"forget_after": "3s"}})
    c.wait_converged(timeout=CONVERGE_S)
    iface, _ = c.port("node1")
    captured = []
    sniff = AsyncSniffer(iface=iface, store=False, prn=captured.append,
                         filter="udp and src host 10.77.0.2 and "
                         "dst host 10.77.0.1 and dst port 7946")
    sniff.start()
    try:
        c.wait_until(lambda: Observed(len(captured) >= 40, len(captured)),
                     CONVERGE_S, "40 datagrams from node2 to node1")
    finally:
        sniff.stop()
    captured = list(captured)
    c.kill("node2")
    c.wait_until(lambda: Observed("node2" not in c.member_map("node1"),
                                  member(c, "node1", "node2")),
                 DETECT_S + 10, "node1 to forget node2")
    before = drops(c, "node1").get("replay", 0)
    sendp(captured, iface=iface)
    c.wait_until(lambda: Observed(
        drops(c, "node1").get("replay", 0) - before >= len(captured),
        drops(c, "node1").get("replay", 0) - before), 10,
        f"node1 to refuse all {len(captured)} replayed datagrams")
    assert "node2" not in c.member_map("node1")
