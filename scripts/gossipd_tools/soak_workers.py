# SPDX-License-Identifier: BSD-3-Clause
"""The soak's two workers, run inside a netns of their own on the
cluster's bridge (scripts/soak --flood-worker / --edges-worker JSON): a
junk flood at one node, and edge values from a buggy key holder."""

import base64
import json
import random
import socket
import struct
import time
from pathlib import Path

from .frames import (GSP_MAGIC, GSP_VERSION, HDR, fnv1a32, l2_frames, seal,
                     udp_frame, udp_payloads)

def neighbour_mac(ip):
    try:
        for line in Path("/proc/net/arp").read_text().splitlines()[1:]:
            f = line.split()
            if f[0] == ip and f[3] != "00:00:00:00:00:00":
                return bytes.fromhex(f[3].replace(":", ""))
    except (OSError, IndexError):
        pass
    return None


def resolve_macs(ips):
    """{ip: MAC} through the kernel's ARP (gossipd answers it)."""
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.setblocking(False)
    macs = {}
    for _ in range(50):
        for ip in ips:
            if ip in macs:
                continue
            try:
                us.sendto(b"", (ip, 9))
            except OSError:
                pass
            mac = neighbour_mac(ip)
            if mac:
                macs[ip] = mac
        if len(macs) == len(ips):
            break
        time.sleep(0.1)
    us.close()
    return macs


def worker_setup(p):
    """(keys, raw socket, our MAC, {ip: MAC}) for a worker; every frame
    goes out whole through the raw socket."""
    keys = []
    for path in p["key_files"]:
        try:
            keys.append(base64.b64decode(Path(path).read_text().strip()))
        except (OSError, ValueError):
            pass
    macs = resolve_macs(p["targets"])
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((p["ifname"], 0))
    raw.setblocking(False)
    src_mac = bytes.fromhex(Path(f"/sys/class/net/{p['ifname']}/address")
                            .read_text().strip().replace(":", ""))
    return keys, raw, src_mac, macs


def flood_worker(p):
    """Sends junk at p["targets"][0] for p["seconds"]; prints one JSON line
    with what it sent."""
    rnd = random.Random(p["seed"])
    keys, raw, src_mac, macs = worker_setup(p)
    target = p["targets"][0]
    if target not in macs:
        print(json.dumps({"error": f"no ARP reply from {target}"}))
        return 1
    mac = macs[target]
    pool = [(cls, udp_frame(mac, src_mac, p["source"], target,
                            rnd.randrange(1024, 65535), p["port"], data))
            for cls, data in udp_payloads(rnd, p["cluster"], keys, 4000)]
    pool += l2_frames(rnd, mac, src_mac, p["source"], target, p["port"],
                      1000)
    rnd.shuffle(pool)
    sent, errors = {}, 0
    t0 = time.monotonic()
    end = t0 + p["seconds"]
    n = 0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        # paced in steps of 64: at most pps on average
        due = int((now - t0) * p["pps"])
        if n >= due:
            time.sleep(min(0.002, end - now))
            continue
        for _ in range(64):
            cls, data = pool[n % len(pool)]
            n += 1
            try:
                raw.send(data)
                sent[cls] = sent.get(cls, 0) + 1
            except OSError:
                errors += 1
    wall = time.monotonic() - t0
    print(json.dumps({"sent": sent, "total": sum(sent.values()),
                      "errors": errors, "seconds": round(wall, 2),
                      "pps": round(sum(sent.values()) / wall),
                      "keys": len(keys)}), flush=True)
    return 0


U64 = (1 << 64) - 1
U32 = (1 << 32) - 1
CLAIM = struct.Struct("<QQQIB3x")       # id generation from incarnation
PROBE = struct.Struct("<IHHQIHH")       # status; seq n target ip port
STATE = struct.Struct("<QQQQIHBBB3xI")  # docs/PROTOCOL.md "Member state"


def ip_value(ip):
    return struct.unpack("!I", socket.inet_aton(ip))[0]


def edges_worker(p):
    """Authentic datagrams from a buggy key holder, each number at its
    edge (docs/PROTOCOL.md, "Numbers at their edges"), to every node:
    suspect and down claims about p["claim"] at incarnation 2^32-1, its
    state at version 2^64-1, a state of p["future"] a day ahead, and a
    valid SYN under p["replay"]'s id at seq 2^64-2.  Prints one JSON
    line."""
    rnd = random.Random(p["seed"])
    keys, raw, src_mac, macs = worker_setup(p)
    if not keys:
        print(json.dumps({"error": "no key"}))
        return 1
    key = keys[0]
    ch = fnv1a32(p["cluster"])
    nodes = {n["name"]: n for n in p["nodes"]}
    x, y, z = nodes[p["claim"]], nodes[p["replay"]], nodes[p["future"]]
    fake = rnd.getrandbits(63) | 1
    gen_fake = int(time.time() * 1e6)
    seq = [0]

    def sealed(mtype, count, body, sender=fake, gen=gen_fake, sq=None):
        hdr = HDR.pack(GSP_MAGIC, GSP_VERSION, mtype, 0, HDR.size + len(body),
                       count, ch, sender)
        if sq is None:
            seq[0] += 1
            sq = seq[0]
        return seal(key, hdr, body, sq, gen, salt=rnd.getrandbits(32))

    def state(n, generation, version, incarnation):
        name = n["name"].encode()
        return STATE.pack(n["id"], generation, version, version,
                          ip_value(n["ip"]), p["port"], 0, len(name), 0,
                          incarnation) + name

    sent = {}
    errors = 0
    t0 = time.monotonic()
    end = t0 + p["seconds"]
    while time.monotonic() < end:
        for d in p["nodes"]:
            if d["ip"] not in macs:
                continue
            out = []
            claims = CLAIM.pack(x["id"], x["generation"], fake, U32, 2) + \
                CLAIM.pack(x["id"], x["generation"], fake, U32, 1)
            out.append(("claims_max_incarnation", sealed(
                6, 2, PROBE.pack(rnd.getrandbits(32), 2, 0, d["id"], 0, 0,
                                 0) + claims)))
            out.append(("state_max_version", sealed(
                5, 1, state(x, x["generation"], U64, U32))))
            out.append(("state_future_generation", sealed(
                5, 1, state(z, int(time.time() * 1e6) + 86400 * 10**6, 1,
                            0))))
            if d["name"] != y["name"]:
                out.append(("sender_seq_max", sealed(
                    1, 0, struct.pack("<QQ", 0, U64), sender=y["id"],
                    gen=y["generation"], sq=U64 - 1)))
            for cls, data in out:
                try:
                    raw.send(udp_frame(macs[d["ip"]], src_mac, p["source"],
                                       d["ip"], p["port"], p["port"], data))
                    sent[cls] = sent.get(cls, 0) + 1
                except OSError:
                    errors += 1
        time.sleep(0.05)
    print(json.dumps({"sent": sent, "total": sum(sent.values()),
                      "errors": errors, "unresolved": sorted(
                          set(n["ip"] for n in p["nodes"]) - set(macs))}),
          flush=True)
    return 0
