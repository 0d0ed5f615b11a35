# SPDX-License-Identifier: BSD-3-Clause
"""Crafted gossip datagrams and frames for the soak's junk flood and edge
values: the header, sealing as docs/SECURITY.md lays it out, IPv4/UDP
frames with or without damage."""

import hashlib
import socket
import struct
import time

# --------------------------------------------------------------------------
# sealing, as docs/SECURITY.md lays it out (for the flood's sealed junk)

SEALED = 0x8000
HDR = struct.Struct("<IBBHHHIQ")        # magic version type flags length
GSP_MAGIC = 0x31505347                  # count cluster sender
GSP_VERSION = 2
SEC_BLOCK = struct.Struct("<IIQQ")      # key id, salt, seq, generation
TAG_LEN = 16


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def key_id(key, cipher=1):
    """BLAKE2b-128 of context, cipher (1 = aes-256-gcm), key; LE u32."""
    h = hashlib.blake2b(b"gossipd key id v1\0" + bytes([cipher]) + key,
                        digest_size=16).digest()
    return struct.unpack_from("<I", h)[0] or 1


def seal(key, hdr, body, seq, generation, kid=None, salt=0x50A4):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    hdr = bytearray(hdr)
    flags, = struct.unpack_from("<H", hdr, 6)
    struct.pack_into("<HH", hdr, 6, flags | SEALED,
                     len(hdr) + SEC_BLOCK.size + len(body) + TAG_LEN)
    block = SEC_BLOCK.pack(key_id(key) if kid is None else kid, salt, seq,
                           generation)
    return bytes(hdr) + block + AESGCM(key).encrypt(block[4:16], body,
                                                    bytes(hdr) + block)


# --------------------------------------------------------------------------
# the flood (runs as `soak --flood-worker JSON` inside the flood netns)

def ip_csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(dst_mac, src_mac, src_ip, dst_ip, sport, dport, payload):
    """An Ethernet/IPv4/UDP frame with correct checksums (the kernel would
    leave the UDP checksum to an offload that a veth never does)."""
    sip, dip = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    ucs = ip_csum(sip + dip + struct.pack("!BBH", 0, 17, len(udp) +
                                          len(payload)) + udp + payload)
    udp = udp[:6] + struct.pack("!H", ucs or 0xFFFF)
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(payload),
                      0, 0x4000, 64, 17, 0, sip, dip)
    iph = iph[:10] + struct.pack("!H", ip_csum(iph)) + iph[12:]
    return dst_mac + src_mac + b"\x08\x00" + iph + udp + payload


def l2_frames(rnd, dst_mac, src_mac, src_ip, dst_ip, port, n):
    """Broken Ethernet/IPv4/UDP frames to the target's MAC, by class."""
    sip, dip = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    out = []
    for i in range(n):
        cls = ("bad_ip_csum", "bad_udp_csum", "bad_ihl", "ip_len_long",
               "udp_len_long", "ip_options", "fragment", "not_udp",
               "random_ethertype", "bcast_random")[i % 10]
        payload = rnd.randbytes(rnd.randrange(0, 200))
        udp_len = 8 + len(payload)
        opts = b"\x01\x01\x01\x00" if cls == "ip_options" else b""
        ihl = 5 + len(opts) // 4
        if cls == "bad_ihl":
            ihl = rnd.choice((0, 1, 4, 15))
        total = 4 * (5 + len(opts) // 4) + udp_len
        if cls == "ip_len_long":
            total += rnd.randrange(1, 1000)
        frag = 0x2000 if cls == "fragment" else 0x4000
        proto = 6 if cls == "not_udp" else 17
        iph = struct.pack("!BBHHHBBH4s4s", 0x40 | (ihl & 0xF), 0, total,
                          rnd.randrange(65536), frag, 64, proto, 0, sip,
                          dip) + opts
        csum = ip_csum(iph)
        if cls == "bad_ip_csum":
            csum ^= 0x5A5A
        iph = iph[:10] + struct.pack("!H", csum) + iph[12:]
        ulen = udp_len + (rnd.randrange(1, 500) if cls == "udp_len_long"
                          else 0)
        pseudo = sip + dip + struct.pack("!BBH", 0, 17, udp_len)
        udp = struct.pack("!HHHH", rnd.randrange(1024, 65535), port, ulen, 0)
        ucs = ip_csum(pseudo + udp + payload) or 0xFFFF
        if cls == "bad_udp_csum":
            ucs ^= 0x1234
        udp = udp[:6] + struct.pack("!H", ucs)
        etype = struct.pack("!H", rnd.randrange(0x0600, 0xFFFF)
                            if cls == "random_ethertype" else 0x0800)
        dst = b"\xff" * 6 if cls == "bcast_random" else dst_mac
        out.append((cls, dst + src_mac + etype + iph + udp + payload))
    return out


def udp_payloads(rnd, cluster, keys, n):
    """Junk gossip datagrams by class; keys: the cluster's keys (bytes)."""
    ch = fnv1a32(cluster)
    now_us = int(time.time() * 1e6)
    out = []
    seq = 1
    for i in range(n):
        cls = ("random", "bad_magic", "bad_version", "wrong_cluster",
               "bad_length", "unsealed", "unknown_key", "forged",
               "auth_bad_type", "auth_bad_count")[i % 10]
        sender = rnd.getrandbits(64) | 1
        body = rnd.randbytes(rnd.randrange(0, 600))
        mtype = rnd.randrange(1, 10)
        if cls == "random":
            out.append((cls, rnd.randbytes(rnd.randrange(0, 1472))))
            continue
        length = HDR.size + len(body)
        hdr = [GSP_MAGIC, GSP_VERSION, mtype, 0, length,
               rnd.randrange(0, 64), ch, sender]
        if cls == "bad_magic":
            hdr[0] ^= 1 << rnd.randrange(32)
        elif cls == "bad_version":
            hdr[1] = rnd.choice((0, 1, 3, 255))
        elif cls == "wrong_cluster":
            hdr[6] ^= 0x10001
        elif cls == "bad_length":
            hdr[4] = (length + rnd.randrange(1, 300)) & 0xFFFF
        if cls in ("unknown_key", "forged"):
            hdr[3] = SEALED
            hdr[4] = (HDR.size + SEC_BLOCK.size + len(body) + TAG_LEN)
            kid = rnd.getrandbits(32) if cls == "unknown_key" or not keys \
                else key_id(rnd.choice(keys))
            blk = SEC_BLOCK.pack(kid, 7, seq, now_us)
            seq += 1
            out.append((cls, HDR.pack(*hdr) + blk + body +
                        rnd.randbytes(TAG_LEN)))
            continue
        if cls.startswith("auth_"):
            if not keys:
                continue
            if cls == "auth_bad_type":
                hdr[2] = rnd.choice((0, 10, 77, 255))
                hdr[5] = 0
            else:               # a SYN claiming more digests than it holds
                hdr[2] = 1
                body = rnd.randbytes(16)
                hdr[5] = rnd.randrange(2, 200)
            hdr[4] = HDR.size + len(body)
            out.append((cls, seal(rnd.choice(keys), HDR.pack(*hdr), body,
                                  seq, now_us)))
            seq += 1
            continue
        out.append((cls, HDR.pack(*hdr) + body))
    return out
