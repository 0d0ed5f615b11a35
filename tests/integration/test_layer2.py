# SPDX-License-Identifier: BSD-3-Clause
"""Layer-2 trust (docs/SECURITY.md "Layer 2", docs/PROTOCOL.md "Frames"):
a node learns a peer's MAC address only from gossip that authenticated,
ARP cannot move a MAC that authenticated gossip confirmed, frames for
another host's MAC are dropped, and the UDP checksum is always verified.

The attacker is a host on the cluster's bridge (a spare veth, so the
bridge learns its MAC there, as a switch would) or writes onto the host
end of node1's veth. Where node1 sends its frames is seen on the wire: a
sniffer on the host end of node1's veth sees every frame node1 sends.
"""

import base64
import itertools
import subprocess
import threading
import time

import pytest

from conftest import CONVERGE_S, Observed, wait_heartbeats_advance
import gsp_scapy as g

from scapy.all import (ARP, IP, UDP, AsyncSniffer, Ether, IPOption_NOP,  # noqa: E402
                       Raw, conf, sendp)

conf.verb = 0

NODES = ["node1", "node2", "node3"]
INJ_IP = "10.77.0.249"
INJ_MAC = "02:00:00:77:00:f9"
OTHER_MAC = "02:00:00:77:00:c1"        # a host that is not node1
BROADCAST = "ff:ff:ff:ff:ff:ff"
PONG = 7

_seq = itertools.count(5000)


@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(3)
    c.wait_converged(timeout=CONVERGE_S)
    return c


@pytest.fixture(scope="module")
def tap(c):
    """An attacker's port on the bridge (host end gp<R>a)."""
    return c.add_tap("a")




def ip_of(c, name):
    return c.address(name).split(":")[0]


def lcore_sum(c, name, key):
    """A per-lcore counter summed over lcores (0 where not reported)."""
    return sum(lc.get(key, 0) for lc in c.stats(name)["lcores"])


def drops(c, name):
    return c.stats(name)["counters"]["rx_drop"]


def self_id(c, name):
    return int(c.members(name)["self_id"], 16)


class Sniffer:
    """Frames seen on iface that match lfilter, from start to stop; the
    capture is known to run before start() returns."""

    def __init__(self, iface, lfilter):
        self.frames = []
        ready = threading.Event()
        self._s = AsyncSniffer(iface=iface, store=False, lfilter=lfilter,
                               prn=self.frames.append,
                               started_callback=ready.set)
        self._s.start()
        if not ready.wait(10):
            self._s.stop()
            raise RuntimeError(f"sniffer on {iface} did not start")

    def stop(self):
        if self._s.running:
            self._s.stop()
        return list(self.frames)


def sent_by(mac, dst_ip):
    """lfilter: IPv4 frames from mac to dst_ip."""
    def f(p):
        return (Ether in p and p[Ether].src.lower() == mac.lower() and
                IP in p and p[IP].dst == dst_ip)
    return f


def pongs_to(mac, dst_ip):
    """lfilter: gossip PONGs from mac to dst_ip (the type is in the clear
    header, byte 5)."""
    def f(p):
        if not sent_by(mac, dst_ip)(p) or UDP not in p:
            return False
        load = bytes(p[UDP].payload)
        return len(load) > 5 and load[5] == PONG
    return f


def sealed_ping(c, key, to, sender, **ip_kw):
    """IP/UDP/sealed PING from INJ_IP to node `to` (no Ether)."""
    payload = g.seal(key, g.probe(c.cluster, sender, seq=next(_seq),
                                  target_id=self_id(c, to)),
                     next(_seq), generation=9)
    return (IP(src=INJ_IP, dst=ip_of(c, to), ttl=64, **ip_kw) /
            UDP(sport=g.GSP_PORT, dport=g.GSP_PORT) / Raw(payload))


def by_dst(frames):
    """{destination MAC: frames}."""
    out = {}
    for f in frames:
        d = f[Ether].dst.lower()
        out[d] = out.get(d, 0) + 1
    return out


def node1_sent(sniffer, mac, n):
    """Observed: at least n of the sniffed frames went to mac."""
    to = by_dst(list(sniffer.frames))
    return Observed(to.get(mac, 0) >= n, to)


def attack(tap, frames, until, what, timeout=30.0):
    """Sends `frames` onto the attacker's port again and again, paced,
    until until() holds (node1 had every chance to use what they say)."""
    deadline = time.monotonic() + timeout
    rounds = 0
    while True:
        sendp(frames, iface=tap, inter=0.002)
        rounds += 1
        r = until()
        if r.ok:
            return rounds
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {r.value!r}")


def test_forged_datagrams_teach_no_mac(c, tap):
    """Datagrams with node2's source IP from a new MAC that node1 drops
    (plaintext, sealed with another key, replays of node2's own captured
    datagrams) do not change where node1 sends node2's traffic. Before,
    node1 learned the MAC of every frame before the core dropped it, so it
    sent to the attacker until node2's next datagram."""
    forged_mac = "02:00:00:77:00:a1"
    veth1, mac1 = c.port("node1")
    _, mac2 = c.port("node2")
    ip1, ip2 = ip_of(c, "node1"), ip_of(c, "node2")
    key = base64.b64decode(c.cluster_key())
    node2_id = self_id(c, "node2")

    # node2's own datagrams to node1, to replay
    cap = Sniffer(veth1, lambda p: sent_by(mac2, ip1)(p) and UDP in p)
    c.wait_until(lambda: Observed(len(cap.frames) >= 20, len(cap.frames)),
                 CONVERGE_S, "20 datagrams from node2 to node1")
    captured = cap.stop()[:20]

    eth = Ether(dst=mac1, src=forged_mac)
    ip = IP(src=ip2, dst=ip1, ttl=64)
    udp = UDP(sport=g.GSP_PORT, dport=g.GSP_PORT)
    syn = bytes(g.syn(c.cluster, node2_id))
    bad = [eth / ip / udp / Raw(syn)] * 5                          # unsealed
    bad += [eth / ip / udp / Raw(g.seal(bytes(range(32)), syn, next(_seq),
                                        kid=g.key_id(key)))
            for _ in range(5)]                                       # forged
    bad += [Ether(dst=mac1, src=forged_mac) / f[IP] for f in captured]  # replays
    before = drops(c, "node1")

    out = Sniffer(veth1, sent_by(mac1, ip2))
    try:
        attack(tap, bad, lambda: node1_sent(out, mac2, 30),
               "node1 to send 30 frames to node2's MAC during the attack "
               "(observed: frames by destination MAC)")
    finally:
        out.stop()
    to = by_dst(out.frames)
    assert to.get(forged_mac, 0) == 0, (
        f"node1 sent node2's traffic to the forger's MAC: {to}")

    after = drops(c, "node1")
    for reason in ("unsealed", "forged", "replay"):
        assert after.get(reason, 0) - before.get(reason, 0) >= 5, (
            reason, before, after)
    wait_heartbeats_advance(c, ["node2"], members=["node1"])
    for o in NODES:
        assert {n: m["state"] for n, m in c.member_map(o).items()} == \
            {n: "alive" for n in NODES}, o


def test_arp_cannot_move_a_confirmed_mac(c, tap):
    """Unsolicited ARP replies and gratuitous ARP claiming node2's address
    at another MAC are ignored while authenticated gossip confirms node2's
    MAC: counted in arp_ignored, logged once (not per packet), node1 keeps
    sending to node2. Before, each one moved node2 until its next
    datagram."""
    spoof_mac = "02:00:00:77:00:b2"
    veth1, mac1 = c.port("node1")
    _, mac2 = c.port("node2")
    ip1, ip2 = ip_of(c, "node1"), ip_of(c, "node2")
    lies = [
        # a reply nobody asked for, to node1
        Ether(dst=mac1, src=spoof_mac) / ARP(
            op=2, hwsrc=spoof_mac, psrc=ip2, hwdst=mac1, pdst=ip1),
        # gratuitous, to everyone
        Ether(dst=BROADCAST, src=spoof_mac) / ARP(
            op=1, hwsrc=spoof_mac, psrc=ip2, hwdst="00:00:00:00:00:00",
            pdst=ip2),
    ] * 5
    before = lcore_sum(c, "node1", "arp_ignored")
    out = Sniffer(veth1, sent_by(mac1, ip2))
    try:
        rounds = attack(tap, lies, lambda: node1_sent(out, mac2, 30),
                        "node1 to send 30 frames to node2's MAC during the "
                        "attack (observed: frames by destination MAC)")
    finally:
        out.stop()
    to = by_dst(out.frames)
    assert to.get(spoof_mac, 0) == 0, (
        f"node1 sent node2's traffic to the spoofed MAC: {to}")
    sent = rounds * len(lies)
    c.wait_until(lambda: Observed(
        lcore_sum(c, "node1", "arp_ignored") - before >= sent,
        lcore_sum(c, "node1", "arp_ignored") - before), 10,
        f"node1 to count {sent} ignored ARP")
    lines = [ln for ln in c.log("node1").splitlines()
             if "ignoring ARP" in ln and spoof_mac in ln]
    assert len(lines) == 1, lines
    assert ip2 in lines[0] and mac2 in lines[0], lines[0]
    wait_heartbeats_advance(c, ["node2"], members=["node1"])
    assert c.member_map("node1")["node2"]["state"] == "alive"


def test_frames_for_another_mac_are_dropped(c):
    """Authentic gossip to node1's IP but another host's MAC (unicast or
    broadcast), and ARP unicast to another MAC, are dropped and counted in
    rx_wrong_mac; the same PING to node1's own MAC is answered. Before,
    any destination MAC was taken."""
    veth1, mac1 = c.port("node1")
    key = base64.b64decode(c.cluster_key())
    sender = 0x5EED0000000000C1
    wrong = [Ether(dst=OTHER_MAC, src=INJ_MAC) / sealed_ping(c, key, "node1",
                                                             sender)
             for _ in range(3)]
    wrong += [Ether(dst=BROADCAST, src=INJ_MAC) / sealed_ping(c, key, "node1",
                                                              sender)
              for _ in range(3)]
    wrong += [Ether(dst=OTHER_MAC, src=INJ_MAC) / ARP(
        op=1, hwsrc=INJ_MAC, psrc=INJ_IP, pdst=ip_of(c, "node1"))] * 3
    pongs = Sniffer(veth1, pongs_to(mac1, INJ_IP))
    arps = Sniffer(veth1, lambda p: ARP in p and p[ARP].op == 2 and
                   p[ARP].pdst == INJ_IP)
    try:
        before = lcore_sum(c, "node1", "rx_wrong_mac")
        sendp(wrong, iface=veth1)
        c.wait_until(lambda: Observed(
            lcore_sum(c, "node1", "rx_wrong_mac") - before >= len(wrong),
            lcore_sum(c, "node1", "rx_wrong_mac") - before), 10,
            f"node1 to count {len(wrong)} frames for other MACs")
        assert pongs.frames == [] and arps.frames == [], (
            "node1 answered frames for another MAC")
        # the same, to node1's MAC: answered (the frames were good)
        sendp(Ether(dst=mac1, src=INJ_MAC) / sealed_ping(c, key, "node1",
                                                         sender),
              iface=veth1)
        c.wait_until(lambda: Observed(len(pongs.frames) >= 1,
                                      len(pongs.frames)), 10,
                     "node1 to answer a PING to its own MAC")
    finally:
        pongs.stop()
        arps.stop()


def test_udp_checksum_always_verified(c):
    """A bad UDP checksum behind IPv4 options (IHL > 5), and a zero
    checksum with or without options, are parse errors; a good checksum
    behind options is taken. Before, only IHL 5 was checked, and zero
    skipped the check."""
    veth1, mac1 = c.port("node1")
    key = base64.b64decode(c.cluster_key())
    sender = 0x5EED0000000000D1
    eth = Ether(dst=mac1, src=INJ_MAC)
    opts = [IPOption_NOP()] * 4          # IHL 6

    def frame(options, chksum=None):
        p = eth / sealed_ping(c, key, "node1", sender, options=options)
        good = Ether(bytes(p))[UDP].chksum
        if chksum == "bad":
            p[UDP].chksum = (good ^ 0x5555) or 1
        elif chksum is not None:
            p[UDP].chksum = chksum
        b = Ether(bytes(p))
        assert (b[IP].ihl > 5) == bool(options), b[IP].ihl
        return b

    bad = [frame(opts, "bad") for _ in range(3)]
    bad += [frame(opts, 0) for _ in range(3)]
    bad += [frame([], 0) for _ in range(3)]
    pongs = Sniffer(veth1, pongs_to(mac1, INJ_IP))
    try:
        before = lcore_sum(c, "node1", "rx_parse_errors")
        sendp(bad, iface=veth1)
        c.wait_until(lambda: Observed(
            lcore_sum(c, "node1", "rx_parse_errors") - before >= len(bad),
            lcore_sum(c, "node1", "rx_parse_errors") - before), 10,
            f"node1 to count {len(bad)} bad UDP checksums as parse errors")
        assert pongs.frames == [], "node1 answered a PING with a bad checksum"
        # options with a good checksum are fine
        sendp(frame(opts), iface=veth1)
        c.wait_until(lambda: Observed(len(pongs.frames) >= 1,
                                      len(pongs.frames)), 10,
                     "node1 to answer a PING behind IPv4 options")
    finally:
        pongs.stop()


def test_a_peer_that_moves_is_followed(c):
    """node2 comes back with a new MAC on the same address: its ARP
    (gratuitous, and its request for node1) cannot move node1's confirmed
    entry and is counted, but its first authenticated datagram does: node1
    sends to the new MAC and both list each other alive."""
    new_mac = "02:00:00:77:00:d2"
    node2 = c._node("node2")
    veth2, old_mac = c.port("node2")
    _, mac1 = c.port("node1")
    gen = c.member_map("node1")["node2"]["generation"]
    before = lcore_sum(c, "node1", "arp_ignored")
    c.stop("node2")
    subprocess.run(["ip", "-n", node2["netns"], "link", "set",
                    node2["veth_peer"], "address", new_mac], check=True,
                   timeout=10)
    assert c.port("node2")[1] == new_mac != old_mac
    out = Sniffer(veth2, lambda p: sent_by(mac1, ip_of(c, "node2"))(p) and
                  p[Ether].dst.lower() == new_mac)
    try:
        c.start("node2")
        c.wait_until(lambda: Observed(len(out.frames) >= 5, len(out.frames)),
                     CONVERGE_S, "node1 to send to node2's new MAC")
    finally:
        out.stop()
    # the view is published every 100 ms: poll the counter
    c.wait_until(lambda: Observed(
        lcore_sum(c, "node1", "arp_ignored") > before,
        lcore_sum(c, "node1", "arp_ignored") - before), 10,
        "node1 to count node2's ARP for its new MAC as ignored")
    c.wait_converged(timeout=CONVERGE_S)
    assert c.member_map("node1")["node2"]["generation"] > gen
    wait_heartbeats_advance(c, ["node2"], members=["node1"])


def garp(mac, ip):
    """A gratuitous ARP (a request for its own address), broadcast."""
    return Ether(dst=BROADCAST, src=mac) / ARP(
        op=1, hwsrc=mac, psrc=ip, hwdst="00:00:00:00:00:00", pdst=ip)


def overhear(c, frames):
    """frames onto node1's port; until node1 counted them all as ARP."""
    veth1, _ = c.port("node1")
    before = lcore_sum(c, "node1", "arp_rx")
    sendp(frames, iface=veth1, inter=0.002)
    c.wait_until(lambda: Observed(
        lcore_sum(c, "node1", "arp_rx") - before >= len(frames),
        lcore_sum(c, "node1", "arp_rx") - before), 10,
        f"node1 to take in {len(frames)} ARP")


def name_members(c, members):
    """Sealed gossip to node1 (from another member) naming members
    [(id, ip, name)]: node1 then sends to them (probes, gossip)."""
    veth1, mac1 = c.port("node1")
    key = base64.b64decode(c.cluster_key())
    gen = int(time.time() * 1e6)
    states = [g.state(mid, gen, 1, ip, name) for mid, ip, name in members]
    push = g.seal(key, g.states_msg(c.cluster, 0x5EED0000000000F9, states),
                  next(_seq), generation=9)
    sendp(Ether(dst=mac1, src=INJ_MAC) /
          IP(src=INJ_IP, dst=ip_of(c, "node1"), ttl=64) /
          UDP(sport=g.GSP_PORT, dport=g.GSP_PORT) / Raw(push), iface=veth1)


def node1_to(mac1, ips):
    """lfilter: node1's IPv4 frames to ips and its ARP asking for them."""
    def f(p):
        return (Ether in p and p[Ether].src.lower() == mac1 and
                ((IP in p and p[IP].dst in ips) or
                 (ARP in p and p[ARP].pdst in ips)))
    return f


def node1_frames_while(c, ips, send, until, what):
    """node1's frames to ips and its ARP for them, from just before send()
    until until(frames) holds (within 10 s)."""
    veth1, mac1 = c.port("node1")
    out = Sniffer(veth1, node1_to(mac1, ips))
    try:
        send()
        c.wait_until(lambda: Observed(
            until(out.frames), [f.summary() for f in out.frames]), 10, what)
    finally:
        frames = out.stop()
    return frames


def test_overheard_arp_resolves_a_newcomer(make_cluster):
    """A newcomer's gratuitous ARP, heard before node1 knows its address,
    lets node1 send to it, once gossip names it a member, without a
    broadcast request (counted in arp_overheard): otherwise every member
    that learns of a newcomer broadcasts a request, and each wakes every
    node on the segment. Two MACs heard for one address: node1 trusts
    neither and asks. A cluster of its own: the two members it learns are
    never heard from again, and a second run must find no entry for
    them."""
    c = make_cluster(2)
    c.wait_converged(timeout=CONVERGE_S)
    new_ip, new_mac = "10.77.0.250", "02:00:00:77:00:fa"
    two_ip, mac_a, mac_b = "10.77.0.251", "02:00:00:77:00:a5", \
        "02:00:00:77:00:b5"
    overheard = lcore_sum(c, "node1", "arp_overheard")
    overhear(c, [garp(new_mac, new_ip), garp(mac_a, two_ip),
                 garp(mac_b, two_ip)])
    frames = node1_frames_while(
        c, (new_ip, two_ip),
        lambda: name_members(c, [(0x5EED0000000000FA, new_ip, "newcomer"),
                                 (0x5EED0000000000FB, two_ip, "two-macs")]),
        lambda fs: any(IP in f and f[IP].dst == new_ip for f in fs) and
        any(ARP in f and f[ARP].pdst == two_ip for f in fs),
        "node1 to send to the newcomer and to ask for the other")
    to_new = [f[Ether].dst.lower() for f in frames
              if IP in f and f[IP].dst == new_ip]
    assert to_new and set(to_new) == {new_mac}, to_new
    asked = [f[ARP].pdst for f in frames if ARP in f and f[ARP].op == 1]
    assert new_ip not in asked, asked
    assert not [f for f in frames if IP in f and f[IP].dst == two_ip and
                f[Ether].dst.lower() in (mac_a, mac_b)], \
        [f.summary() for f in frames]
    c.wait_until(lambda: Observed(
        lcore_sum(c, "node1", "arp_overheard") > overheard,
        lcore_sum(c, "node1", "arp_overheard") - overheard), 10,
        "node1 to count the address resolved from overheard ARP")


def test_overheard_rival_mac_is_used_once_it_stood_a_window(make_cluster):
    """A MAC that replaced another within the ring's window is not taken
    until it has stood a whole window, min(60 s, arp_timeout); then it is,
    without a broadcast request. With arp_timeout = 5s the window is 5 s
    (the ring counts whole seconds: two ARP sent together fall within it
    whichever second they straddle, and the refresh sent with the gossip
    that names the member is at most a second old when node1 resolves
    it); before that window followed arp_timeout, the rival waited 60 s
    whatever the timeout, and node1 asked here."""
    c = make_cluster(2, extra_ini={"dataplane": {"arp_timeout": "5s"}})
    c.wait_converged(timeout=CONVERGE_S)
    veth1, _ = c.port("node1")
    ip, mac_a, mac_b = "10.77.0.248", "02:00:00:77:00:a8", \
        "02:00:00:77:00:b8"
    overhear(c, [garp(mac_a, ip), garp(mac_b, ip)])
    # what is waited for is time itself: mac_b must have stood 5 whole
    # seconds of node1's clock, then be heard again within the window
    time.sleep(6.1)
    overheard = lcore_sum(c, "node1", "arp_overheard")

    def refresh_and_name():
        # in this order on one port: node1 takes the ARP first
        sendp(garp(mac_b, ip), iface=veth1)
        name_members(c, [(0x5EED0000000000F8, ip, "rival-stood")])

    frames = node1_frames_while(
        c, (ip,), refresh_and_name,
        lambda fs: any(IP in f and f[IP].dst == ip for f in fs),
        "node1 to send to the address whose MAC stood a window")
    to_it = [f[Ether].dst.lower() for f in frames if IP in f and
             f[IP].dst == ip]
    assert to_it and set(to_it) == {mac_b}, to_it
    asked = [f for f in frames if ARP in f and f[ARP].op == 1 and
             f[ARP].pdst == ip]
    assert not asked, [f.summary() for f in asked]
    c.wait_until(lambda: Observed(
        lcore_sum(c, "node1", "arp_overheard") > overheard,
        lcore_sum(c, "node1", "arp_overheard") - overheard), 10,
        "node1 to count the address resolved from overheard ARP")


def test_overheard_arp_ages_out(make_cluster):
    """ARP overheard longer ago than arp_timeout is not used: node1 asks,
    and sends nothing to the MAC it heard. (arp_timeout = 1s, the least
    allowed, so that the test need not wait out the ring's own 60 s.)"""
    c = make_cluster(2, extra_ini={"dataplane": {"arp_timeout": "1s"}})
    c.wait_converged(timeout=CONVERGE_S)
    old_ip, old_mac = "10.77.0.252", "02:00:00:77:00:fc"
    overheard = lcore_sum(c, "node1", "arp_overheard")
    overhear(c, [garp(old_mac, old_ip)])
    # what is waited for is time itself: node1 counts it in whole
    # seconds, so 2 s put the gratuitous ARP at least 1 s behind
    time.sleep(2.1)
    frames = node1_frames_while(
        c, (old_ip,),
        lambda: name_members(c, [(0x5EED0000000000FC, old_ip,
                                  "heard-long-ago")]),
        lambda fs: any(ARP in f and f[ARP].pdst == old_ip for f in fs),
        "node1 to ask for the address heard too long ago")
    assert not [f for f in frames if IP in f and
                f[Ether].dst.lower() == old_mac], [f.summary() for f in frames]
    assert lcore_sum(c, "node1", "arp_overheard") == overheard
