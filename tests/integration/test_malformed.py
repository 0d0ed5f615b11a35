# SPDX-License-Identifier: BSD-3-Clause
"""Malformed, forged, replayed and unauthenticated frames sent to node1 of
an authenticated cluster are dropped and counted by reason; the node keeps
gossiping and its membership and app state do not change.

The test holds the cluster key, so it can seal (gsp_scapy.seal, AES-GCM
from python3-cryptography) payloads that are well authenticated but
malformed inside: those reach the decoder and hit its reasons. Outer
header defects are refused before any decryption.

Frames are written with scapy onto gv<R>k1, the host end of node1's own
veth, so they reach node1's af_packet port as sent.  Through the bridge
they would not: with bridge-nf-call-iptables=1 (br_netfilter loaded, as on
this kind of machine) the bridge validates IPv4 headers and silently drops
bad IHL, bad checksum and bad total length before any node sees them.

Each class of bad frame is sent on its own and we wait until the counter
that class must hit (a gossip rx_drop reason, or the lcores' rx_parse_errors
or rx_not_gossip) rose by at least the number sent; at the end the sum of
all of them must have risen by at least the total sent.  The verdicts follow
the checks' order in dataplane/node/pkt.c and dataplane/core/gsp_wire.c (magic,
version, length, cluster, sender, type, then the body).
"""

import base64
import random
import struct

import pytest

from conftest import CONVERGE_S, Observed, state_of, wait_heartbeats_advance
import gsp_scapy as g

from scapy.all import ARP, IP, UDP, Ether, Raw, conf, sendp, srp  # noqa: E402

conf.verb = 0

NODES = ["node1", "node2", "node3"]
INJ_MAC = "02:00:00:77:00:fa"
INJ_IP = "10.77.0.250"
COPIES = 3              # frames per class
DROP = "drop"           # rx_drop reasons are named "drop.<reason>"


@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(3)
    c.wait_converged(timeout=CONVERGE_S)
    # app state to watch: it must survive every class unchanged
    c.ctl("node2", "set", "role", "db", check=True)
    c.wait_until(lambda: Observed(
        app_state(c).get("node2", {}).get("role") == "db", app_state(c)),
        CONVERGE_S, "node1 to see node2's role")
    return c


@pytest.fixture(scope="module")
def target(c):
    """(iface to send on, node1's MAC, node1's id, cluster name)."""
    iface, mac = c.port("node1")
    self_id = int(c.members("node1")["self_id"], 16)
    return iface, mac, self_id, c.cluster


def counters(c):
    """Flat {counter: value}: drop.<reason>, rx_parse_errors, rx_not_gossip
    (summed over lcores), rx_sum, rx_nack, rx_ping_req (taken)."""
    s = c.stats("node1")
    out = {f"{DROP}.{k}": v for k, v in s["counters"]["rx_drop"].items()}
    for key in ("rx_sum", "rx_nack", "rx_ping_req"):
        out[key] = s["counters"][key]
    for key in ("rx_parse_errors", "rx_not_gossip"):
        out[key] = sum(lc.get(key, 0) for lc in s["lcores"])
    return out


def delta(before, after):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after
            if after.get(k, 0) != before.get(k, 0)}


def app_state(c):
    """node1's view of every member's app state: {name: {key: value}},
    without gossipd's own gsp.* keys (the keyring each node publishes)."""
    return {n: {k: v for k, v in m["app"].items()
                if not k.startswith("gsp.")}
            for n, m in c.member_map("node1").items()}


def snapshot(c):
    """node1's members: {name: (generation, state)}."""
    return {n: (m["generation"], m["state"])
            for n, m in c.member_map("node1").items()}


def frames(iface, mac, self_id, cluster, key):
    """[(class name, [frames], counters that must rise[, prelude])]: the
    prelude frames go first and are not counted (a replay needs an
    original)."""
    eth = Ether(dst=mac, src=INJ_MAC)
    ip = IP(src=INJ_IP, dst="10.77.0.1", ttl=64)
    udp = UDP(sport=g.GSP_PORT, dport=g.GSP_PORT)
    sender = 0x5EED0000000000F1
    seq = iter(range(1000, 100000))

    def raw(payload):
        return eth / ip / udp / Raw(bytes(payload))

    def gossip(payload, generation=7):
        """Sealed with the cluster key: authentic, whatever is inside."""
        return raw(g.seal(key, payload, next(seq), generation))

    def copies(payload, generation=7):
        """COPIES frames, each sealed anew: identical ones are replays."""
        return [gossip(payload, generation) for _ in range(COPIES)]

    def flip(b, off):
        """b with one byte changed (its bits inverted)."""
        b = bytearray(b)
        b[off] ^= 0xFF
        return bytes(b)

    def edit(b, off, fmt, value):
        b = bytearray(b)
        struct.pack_into(fmt, b, off, value)
        return bytes(b)

    good_syn = bytes(g.syn(cluster, sender))                # 40 bytes
    one_digest = bytes(g.syn(cluster, sender, [(0x1234, 1, 1)]))  # 64 bytes
    replayed = g.seal(key, good_syn, 999, generation=7)
    rng = random.Random(0x65D)
    garbage = []
    for _ in range(COPIES):
        b = bytes(rng.getrandbits(8) for _ in range(rng.randint(24, 400)))
        if b[:4] == b"GSP1":
            b = b"XXXX" + b[4:]
        garbage.append(Raw(b))

    def raw_ipv4(mutate, payload=b""):
        """An IPv4/UDP frame to node1 whose bytes `mutate` edits."""
        b = bytearray(bytes(eth / ip / udp / Raw(payload)))
        mutate(b)
        return Ether(bytes(b))

    # checksums that are certainly wrong (not just probably)
    built = Ether(bytes(eth / ip / udp / Raw(good_syn)))
    bad_ip_sum = (built[IP].chksum ^ 0x5555) or 1
    bad_udp_sum = (built[UDP].chksum ^ 0x5555) or 1

    def bad_ihl(b):
        b[14] = 0x43            # version 4, IHL 3 (< 5)

    def bad_version(b):
        b[14] = 0x65            # version 6 in an IPv4 frame

    return [
        # ---- gossip payloads (valid Ethernet/IPv4/UDP) ----
        ("empty payload", [raw(b"")] * COPIES, {f"{DROP}.truncated"}),
        ("shorter than the header",
         [raw(bytes(good_syn)[:g.GSP_HEADER_LEN - 1])] * COPIES,
         {f"{DROP}.truncated"}),
        ("sealed header, block cut short",
         [raw(g.seal(key, good_syn, 1)[:g.GSP_HEADER_LEN + 20])] * COPIES,
         {f"{DROP}.truncated"}),
        ("random garbage", [raw(bytes(f[Raw].load)) for f in garbage],
         {f"{DROP}.bad_magic"}),
        ("bad magic", copies(g.syn(cluster, sender, magic=0x31505348)),
         {f"{DROP}.bad_magic"}),
        ("bad version: newer than ours",
         copies(g.syn(cluster, sender, version=g.GSP_VERSION + 1)),
         {f"{DROP}.bad_version"}),
        ("bad version: older than the oldest we speak",
         copies(g.syn(cluster, sender, version=g.GSP_VERSION_MIN - 1)),
         {f"{DROP}.bad_version"}),
        ("bad type", copies(g.syn(cluster, sender, type=99)),
         {f"{DROP}.bad_type"}),
        ("sealed length field > datagram",
         [raw(edit(g.seal(key, good_syn, next(seq)), 8, "<H",
                   len(good_syn) + 48))] * COPIES, {f"{DROP}.bad_length"}),
        ("sealed length field < datagram",
         [raw(edit(g.seal(key, one_digest, next(seq)), 8, "<H",
                   len(one_digest) + 40 - 8))] * COPIES,
         {f"{DROP}.bad_length"}),
        ("wrong cluster hash",
         copies(g.syn(cluster, sender, cluster=g.fnv1a32(cluster) ^ 1)),
         {f"{DROP}.wrong_cluster"}),
        ("count too large for the length",
         copies(g.syn(cluster, sender, count=50)),
         {f"{DROP}.bad_count"}),
        ("sender id is node1's own", copies(g.syn(cluster, self_id)),
         {f"{DROP}.self"}),
        # ---- authentication ----
        ("unsealed (plaintext) SYN", [raw(good_syn)] * COPIES,
         {f"{DROP}.unsealed"}),
        ("unknown key id",
         [raw(g.seal(bytes(32), good_syn, next(seq)))] * COPIES,
         {f"{DROP}.unknown_key"}),
        ("forged: ciphertext byte flipped",
         [raw(flip(g.seal(key, one_digest, next(seq)), 60))] * COPIES,
         {f"{DROP}.forged"}),
        ("forged: sender id changed after sealing",
         [raw(edit(g.seal(key, good_syn, next(seq)), 16, "<Q", 0x77))]
         * COPIES, {f"{DROP}.forged"}),
        ("forged: sealed with another key under our key id",
         [raw(g.seal(bytes(range(32)), good_syn, next(seq),
                     kid=g.key_id(key)))] * COPIES, {f"{DROP}.forged"}),
        ("replay of an accepted datagram",
         [raw(replayed)] * COPIES, {f"{DROP}.replay"}, [raw(replayed)]),
        ("replay from an older generation of the sender",
         copies(good_syn, generation=6), {f"{DROP}.replay"}),
        # ---- SWIM probes ----
        ("probe: claim count disagrees with the length",
         copies(g.probe(cluster, sender, target_id=self_id,
                         claims=[(0x77, 1, sender, 0, g.CLAIM_SUSPECT)],
                         count=2, n_claims=2)),
         {f"{DROP}.bad_count"}),
        ("probe: an alive claim not from the member itself",
         copies(g.probe(cluster, sender, target_id=self_id,
                         claims=[(0x77, 1, sender, 5, g.CLAIM_ALIVE)])), {f"{DROP}.bad_entry"}),
        ("probe: unknown claim status",
         copies(g.probe(cluster, sender, target_id=self_id,
                         claims=[(0x77, 1, sender, 0, 7)])),
         {f"{DROP}.bad_entry"}),
        ("probe: LEFT flag on a suspect claim (only the dead move to left)",
         copies(g.probe(cluster, sender, target_id=self_id,
                         claims=[(0x77, 1, sender, 0, g.CLAIM_SUSPECT,
                                  g.CLAIM_FLAG_LEFT)])),
         {f"{DROP}.bad_entry"}),
        ("probe v4: LEFT flag on an alive claim",
         copies(g.probe(cluster, sender, target_id=self_id, version=4,
                         claims=[(0x77, 1, 0x77, 3, g.CLAIM_ALIVE,
                                  g.CLAIM_FLAG_LEFT | 0x80)])),
         {f"{DROP}.bad_entry"}),
        ("probe v3: view block cut short",
         copies(g.probe(cluster, sender, target_id=self_id,
                         version=3)[:-8]),
         {f"{DROP}.truncated"}),
        ("probe v4: claim count disagrees with the length",
         copies(g.probe(cluster, sender, target_id=self_id, version=4,
                         claims=[(0x77, 1, sender, 0, g.CLAIM_SUSPECT)],
                         count=2)),
         {f"{DROP}.bad_count"}),
        ("probe v4: prefix cut short",
         copies(g.probe(cluster, sender, target_id=self_id,
                         version=4)[:-1]),
         {f"{DROP}.truncated"}),
        ("probe v4: PING_REQ cut before its target address",
         copies(g.probe(cluster, sender, msg_type=g.PING_REQ,
                         target_id=0x77, target_ip=0x0a4d0002,
                         target_port=g.GSP_PORT, version=4)[:-8]),
         {f"{DROP}.truncated"}),
        ("probe v4: PING_REQ without a target address",
         copies(g.probe(cluster, sender, msg_type=g.PING_REQ,
                         target_id=0x77, version=4)),
         {f"{DROP}.bad_entry"}),
        ("probe v4: target id 0",
         copies(g.probe(cluster, sender, target_id=0, version=4)),
         {f"{DROP}.bad_entry"}),
        ("probe v4: a v3 probe's length in a v4 header",
         copies(g.probe(cluster, sender, target_id=self_id, version=3)[:4] +
                b"\x04" + g.probe(cluster, sender, target_id=self_id,
                                  version=3)[5:]),
         {f"{DROP}.bad_count"}),
        # taken: messages a quiet cluster does not send itself
        ("probe v4: NACK with every field at its largest: taken",
         copies(g.probe(cluster, sender, msg_type=g.NACK, version=4,
                         target_id=2**64 - 1, seq=2**32 - 1,
                         view=(2**64 - 1, 2**64 - 1, 2**64 - 1))),
         {"rx_nack"}),
        ("probe v4: PING_REQ for node1 itself at the largest port: taken",
         copies(g.probe(cluster, sender, msg_type=g.PING_REQ, version=4,
                         target_id=self_id, target_ip=0x0a4d0001,
                         target_port=0xffff, seq=2**32 - 1)),
         {"rx_ping_req"}),
        # ---- range hashes (v3) ----
        ("SUM in a version-2 header",
         copies(g.sum_msg(cluster, sender, version=2)), {f"{DROP}.bad_type"}),
        ("SUM with no hash", copies(g.sum_msg(cluster, sender, hashes=())),
         {f"{DROP}.bad_count"}),
        ("SUM with 65 hashes",
         copies(g.sum_msg(cluster, sender, level=8, hashes=(0,) * 65)),
         {f"{DROP}.bad_count"}),
        ("SUM count disagrees with the length",
         copies(g.sum_msg(cluster, sender, count=15)), {f"{DROP}.bad_count"}),
        ("SUM level past the deepest (31)",
         copies(g.sum_msg(cluster, sender, level=31)), {f"{DROP}.bad_entry"}),
        ("SUM buckets past the end of the level",
         copies(g.sum_msg(cluster, sender, level=4, first=1)),
         {f"{DROP}.bad_entry"}),
        ("SUM at the last bucket of level 30 with 2^32-1 members: taken",
         copies(g.sum_msg(cluster, sender, level=30, first=(1 << 30) - 1,
                          hashes=(2**64 - 1,), members=2**32 - 1)),
         {"rx_sum"}),
        ("PING_REQ without a target address",
         copies(g.probe(cluster, sender, msg_type=g.PING_REQ,
                         target_id=0x77)),
         {f"{DROP}.bad_entry"}),
        # ---- malformed IPv4 / UDP ----
        ("IPv4 IHL < 5", [raw_ipv4(bad_ihl)] * COPIES, {"rx_parse_errors"}),
        ("IP version 6 in an IPv4 frame", [raw_ipv4(bad_version)] * COPIES,
         {"rx_parse_errors"}),
        ("IPv4 total length > frame",
         [eth / IP(src=INJ_IP, dst="10.77.0.1", len=600) / udp / Raw(b"x" * 8)]
         * COPIES, {"rx_parse_errors"}),
        ("truncated UDP header",
         [eth / IP(src=INJ_IP, dst="10.77.0.1", proto=17, len=24) /
          Raw(b"\x1e\xd2\x1e\xd2")] * COPIES, {"rx_parse_errors"}),
        ("UDP length > IPv4 payload",
         [eth / ip / UDP(sport=g.GSP_PORT, dport=g.GSP_PORT, len=200) /
          Raw(b"y" * 8)] * COPIES, {"rx_parse_errors"}),
        ("bad IPv4 header checksum",
         [eth / IP(src=INJ_IP, dst="10.77.0.1", chksum=bad_ip_sum) / udp]
         * COPIES, {"rx_parse_errors"}),
        ("bad UDP checksum",
         [eth / ip / UDP(sport=g.GSP_PORT, dport=g.GSP_PORT, chksum=bad_udp_sum)
          / Raw(bytes(good_syn))] * COPIES, {"rx_parse_errors"}),
        # ---- not gossip at all ----
        ("non-IPv4 ethertype",
         [Ether(dst=mac, src=INJ_MAC, type=0x88B5) / Raw(b"\0" * 46)] * COPIES,
         {"rx_not_gossip"}),
        ("UDP to another port",
         [eth / ip / UDP(sport=g.GSP_PORT, dport=7947) / Raw(bytes(good_syn))]
         * COPIES, {"rx_not_gossip"}),
        ("IPv4, not UDP",
         [eth / IP(src=INJ_IP, dst="10.77.0.1", proto=253) / Raw(b"z" * 20)]
         * COPIES, {"rx_not_gossip"}),
    ]


def test_arp_reply(c, target):
    """node1 answers ARP for its address (its MAC is the veth's)."""
    iface, mac, _, _ = target
    req = Ether(dst="ff:ff:ff:ff:ff:ff", src=INJ_MAC) / ARP(
        op=1, hwsrc=INJ_MAC, psrc=INJ_IP, pdst="10.77.0.1")
    ans = None
    for _ in range(3):
        ans, _ = srp(req, iface=iface, timeout=1.0)
        if ans:
            break
    assert ans, "node1 did not answer an ARP request for 10.77.0.1"
    reply = ans[0][1]
    assert reply[ARP].op == 2 and reply[ARP].psrc == "10.77.0.1"
    assert reply[ARP].hwsrc.lower() == mac.lower(), (reply[ARP].hwsrc, mac)


def test_malformed_frames_are_dropped(c, target):
    iface, mac, self_id, cluster = target
    key = base64.b64decode(c.cluster_key())
    members_before = snapshot(c)
    app_before = app_state(c)
    assert app_before["node2"] == {"role": "db"}, app_before
    assert sorted(members_before) == NODES
    first = counters(c)
    total = 0
    verdicts = {}
    for what, pkts, expect, *prelude in frames(iface, mac, self_id, cluster,
                                              key):
        if prelude:
            sendp(prelude[0], iface=iface)
        before = counters(c)
        sendp(pkts, iface=iface)
        total += len(pkts)
        keys = expect

        def moved():
            d = delta(before, counters(c))
            got = sum(v for k, v in d.items() if k in keys)
            return Observed(got >= len(pkts), d)
        d = c.wait_until(moved, 10, f"node1 to count {len(pkts)} x '{what}' in "
                         f"{sorted(expect)} (observed: counter deltas)", interval=0.05)
        verdicts[what] = d
        assert c.is_running("node1"), f"node1 died after '{what}'"

    grand = delta(first, counters(c))
    assert sum(grand.values()) >= total, (total, grand, verdicts)

    # node1 is still alive and gossiping: its heartbeat advances on itself
    # and on the others, and nobody suspects it
    wait_heartbeats_advance(c, NODES, members=["node1"])
    st = state_of(c, NODES, "node1")
    assert all(s and s[0] == "alive" for s in st.values()), st
    # membership unchanged: same names, same generations, all alive
    after = snapshot(c)
    assert after == members_before, (members_before, after)
    assert app_state(c) == app_before
    for o in ("node2", "node3"):
        assert sorted(c.member_map(o)) == NODES


def test_floods_from_one_source_are_rate_limited(c, target):
    """Authentic PINGs and first contacts from one address, far over
    [limits] probe_rate/join_rate (defaults 200/s burst 400, 20/s burst
    40): the excess is dropped as rate_limited and logged once; nothing
    else changes."""
    iface, mac, self_id, cluster = target
    key = base64.b64decode(c.cluster_key())
    eth = Ether(dst=mac, src=INJ_MAC)
    ip = IP(src=INJ_IP, dst="10.77.0.1", ttl=64)
    udp = UDP(sport=g.GSP_PORT, dport=g.GSP_PORT)
    members_before = snapshot(c)
    before = counters(c)
    pings = [eth / ip / udp / Raw(g.seal(key, g.probe(
        cluster, 0x5EED0000000000A1, seq=i, target_id=self_id), 10 + i,
        generation=3)) for i in range(1200)]
    joins = [eth / ip / udp / Raw(g.seal(key, bytes(g.syn(
        cluster, 0x5EED000000100000 + i)), 1, generation=3))
        for i in range(300)]
    sendp(pings, iface=iface)
    sendp(joins, iface=iface)

    def limited():
        d = delta(before, counters(c))
        return Observed(d.get(f"{DROP}.rate_limited", 0) >= 600, d)
    c.wait_until(limited, 20, "node1 to rate-limit the floods",
                 interval=0.1)
    assert c.is_running("node1")

    def limit_lines():
        log = c.log("node1").splitlines()
        return {kind: [ln for ln in log if kind in ln and INJ_IP in ln]
                for kind in ("probe_rate", "join_rate")}
    # the joins may still be in flight when the pings alone reach 600,
    # and the control thread writes the lines: poll for them
    c.wait_until(lambda: Observed(all(limit_lines().values()),
                                  limit_lines()), 10,
                 "node1 to log each limit", interval=0.1)
    for kind, lines in limit_lines().items():
        assert len(lines) == 1, (kind, lines)
    wait_heartbeats_advance(c, NODES, members=["node1"])
    assert snapshot(c) == members_before
