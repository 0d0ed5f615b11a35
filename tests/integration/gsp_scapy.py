# SPDX-License-Identifier: BSD-3-Clause
"""Scapy layers for the gossipd wire format (tests only).

Every gossip datagram starts with a 24-byte little-endian header:

    magic     u32  0x31505347 ("GSP1" on the wire)
    version   u8   2
    type      u8   1=SYN 2=ACK 3=ACK2 4=LEAVE 5=PUSH 6=PING 7=PONG
                   8=PING_REQ 9=NACK
    flags     u16
    length    u16  whole gossip payload, header included
    count     u16  entries that follow
    cluster   u32  FNV-1a 32-bit of the cluster name
    sender_id u64

A SYN's body is range_lo u64, range_hi u64, then `count` 24-byte digests
(id u64, generation u64, version u64).

`length` and `count` are filled in when left as None; set them explicitly
to build malformed packets.
"""

import hashlib
import struct

from scapy.fields import (ByteEnumField, ByteField, LELongField,
                          LEShortField, PacketListField, XLEIntField,
                          XLELongField, XLEShortField)
from scapy.layers.inet import UDP
from scapy.packet import Packet, bind_layers

GSP_PORT = 7946
GSP_MAGIC = 0x31505347
GSP_VERSION = 5          # the newest wire version
GSP_VERSION_MIN = 2      # the oldest accepted (and spoken to old peers)
GSP_HEADER_LEN = 24
GSP_DIGEST_LEN = 24
GSP_SYN_FIXED = 16
GSP_TYPES = {1: "SYN", 2: "ACK", 3: "ACK2", 4: "LEAVE", 5: "PUSH",
             6: "PING", 7: "PONG", 8: "PING_REQ", 9: "NACK", 10: "SUM"}
SYN, ACK, ACK2, LEAVE = 1, 2, 3, 4


def fnv1a32(text):
    """FNV-1a 32-bit of a cluster name (its bytes, no NUL)."""
    h = 0x811C9DC5
    for b in text.encode():
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


class GspDigest(Packet):
    name = "GSP digest"
    fields_desc = [
        XLELongField("id", 0),
        LELongField("generation", 0),
        LELongField("version", 0),
    ]

    def extract_padding(self, s):
        return b"", s


class GspSyn(Packet):
    name = "GSP SYN"
    fields_desc = [
        XLELongField("range_lo", 0),
        XLELongField("range_hi", 0xFFFFFFFFFFFFFFFF),
        PacketListField("digests", [], GspDigest),
    ]


class Gsp(Packet):
    name = "GSP"
    fields_desc = [
        XLEIntField("magic", GSP_MAGIC),
        ByteField("version", GSP_VERSION),
        ByteEnumField("type", SYN, GSP_TYPES),
        XLEShortField("flags", 0),
        LEShortField("length", None),
        LEShortField("count", None),
        XLEIntField("cluster", 0),
        XLELongField("sender_id", 0),
    ]

    def post_build(self, p, pay):
        p += pay
        if self.length is None:
            p = p[:8] + struct.pack("<H", len(p) & 0xFFFF) + p[10:]
        if self.count is None:
            n = len(self.payload.digests) if isinstance(self.payload, GspSyn) else 0
            p = p[:10] + struct.pack("<H", n) + p[12:]
        return p


bind_layers(UDP, Gsp, dport=GSP_PORT)
bind_layers(UDP, Gsp, sport=GSP_PORT)
bind_layers(Gsp, GspSyn, type=SYN)


def syn(cluster_name, sender_id, digests=(), **hdr):
    """A SYN for cluster_name from sender_id with the given
    (id, generation, version) digests; any header field (cluster, length,
    count, magic, ...) may be overridden by keyword."""
    fields = {"type": SYN, "cluster": fnv1a32(cluster_name),
              "sender_id": sender_id}
    fields.update(hdr)
    return Gsp(**fields) / GspSyn(digests=[
        GspDigest(id=i, generation=g, version=v) for i, g, v in digests])


PING, PONG, PING_REQ, NACK = 6, 7, 8, 9
CLAIM_ALIVE, CLAIM_SUSPECT, CLAIM_DEAD = 0, 1, 2
CLAIM_FLAG_LEFT = 0x01      # on a DEAD claim: force-left


def probe(cluster_name, sender_id, msg_type=PING, seq=1, target_id=1,
          target_ip=0, target_port=0, claims=(), count=None,
          n_claims=None, version=GSP_VERSION_MIN, view=None):
    """The bytes of a SWIM probe message (docs/PROTOCOL.md): a header, a
    24-byte prefix, in version 3 a 24-byte view block (sync_root, view,
    heartbeat: `view`, zeros if None), then 32-byte claims (id,
    generation, from, incarnation, status[, flags]). Version 4: target id,
    sync_root, heartbeat, seq, the view's top 32 bits, then (PING_REQ
    only) the target's address. count/n_claims override the entry
    counts (v4 has no n_claims)."""
    if version >= 4:
        root, view_d, hb = view or (0, 0, 0)
        body = struct.pack("<QQQII", target_id, root, hb, seq, view_d >> 32)
        if msg_type == PING_REQ:
            body += struct.pack("<IHH", target_ip, target_port, 0)
    else:
        body = struct.pack("<IHHQIHH", seq,
                           len(claims) if n_claims is None else n_claims, 0,
                           target_id, target_ip, target_port, 0)
    if 3 <= version < 4:
        body += struct.pack("<QQQ", *(view or (0, 0, 0)))
    for cid, gen, frm, inc, status, *flags in claims:
        body += struct.pack("<QQQIBB2x", cid, gen, frm, inc, status,
                            flags[0] if flags else 0)
    length = GSP_HEADER_LEN + len(body)
    hdr = struct.pack("<IBBHHHIQ", GSP_MAGIC, version, msg_type, 0,
                      length, len(claims) if count is None else count,
                      fnv1a32(cluster_name), sender_id)
    return hdr + body


SUM = 10


def sum_msg(cluster_name, sender_id, level=4, first=0, hashes=(0,) * 16,
            members=1, count=None, version=3):
    """The bytes of a SUM (version 3, also read in a version-4 header): the sender's range hashes of
    `len(hashes)` buckets from `first` at `level` (docs/PROTOCOL.md)."""
    body = struct.pack("<B3xII", level, first, members)
    body += b"".join(struct.pack("<Q", h) for h in hashes)
    hdr = struct.pack("<IBBHHHIQ", GSP_MAGIC, version, SUM, 0,
                      GSP_HEADER_LEN + len(body),
                      len(hashes) if count is None else count,
                      fnv1a32(cluster_name), sender_id)
    return hdr + body


# ---- authentication (docs/SECURITY.md): the sealed datagram ----
# Built with python3-cryptography's AES-GCM, independently of gossipd's
# libsodium, so a test that gossipd accepts these checks the format too.

SEALED = 0x8000
SEC_BLOCK_LEN = 24
SEC_TAG_LEN = 16
CIPHER_AES256GCM = 1
KEY_ID_CONTEXT = b"gossipd key id v1\0"


def key_id(key, cipher=CIPHER_AES256GCM):
    """The key's public id: BLAKE2b-128 of context, cipher, key; LE u32."""
    h = hashlib.blake2b(KEY_ID_CONTEXT + bytes([cipher]) + key,
                        digest_size=16).digest()
    kid = struct.unpack_from("<I", h)[0]
    return kid or 1


def seal(key, plain, seq, generation=1, salt=0x5A17, kid=None):
    """plain: a whole plaintext gossip datagram (header + body). Returns
    the sealed datagram: header (sealed flag, whole length), block, the
    body encrypted, tag."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    plain = bytes(plain)
    hdr = bytearray(plain[:GSP_HEADER_LEN])
    flags = struct.unpack_from("<H", hdr, 6)[0] | SEALED
    total = len(plain) + SEC_BLOCK_LEN + SEC_TAG_LEN
    struct.pack_into("<HH", hdr, 6, flags, total)
    block = struct.pack("<IIQQ", key_id(key) if kid is None else kid, salt,
                        seq, generation)
    nonce = block[4:16]
    ct = AESGCM(key).encrypt(nonce, plain[GSP_HEADER_LEN:],
                             bytes(hdr) + block)
    return bytes(hdr) + block + ct


# ---- member states (docs/PROTOCOL.md "Member state") ----

PUSH = 5


def state(member_id, generation, version, ip, name, heartbeat=None,
          port=GSP_PORT, status=0, incarnation=0, app=()):
    """The bytes of one member state: 48 fixed bytes (id, generation,
    heartbeat, version, ip, port, status, name length, app count, 3
    reserved, incarnation), the name, then per app entry version u64, key
    length u8, value length u8, key, value. ip: "a.b.c.d"."""
    a, b, c, d = (int(x) for x in ip.split("."))
    ip_value = (a << 24) | (b << 16) | (c << 8) | d
    out = struct.pack("<QQQQIHBBB3xI", member_id, generation,
                      version if heartbeat is None else heartbeat, version,
                      ip_value, port, status, len(name), len(app),
                      incarnation) + name.encode()
    for ver, key, value in app:
        out += struct.pack("<QBB", ver, len(key), len(value))
        out += key.encode() + value.encode()
    return out


def states_msg(cluster_name, sender_id, states, msg_type=PUSH):
    """A PUSH (or ACK2) carrying the given member states (bytes)."""
    body = b"".join(states)
    hdr = struct.pack("<IBBHHHIQ", GSP_MAGIC, GSP_VERSION_MIN, msg_type, 0,
                      GSP_HEADER_LEN + len(body), len(states),
                      fnv1a32(cluster_name), sender_id)
    return hdr + body
