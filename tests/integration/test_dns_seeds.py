# SPDX-License-Identifier: BSD-3-Clause
"""A node without static seeds finds the cluster through a DNS SRV record
served by dnsmasq inside its own network namespace."""

import subprocess

from conftest import (CONVERGE_S, Observed, dnsmasq_or_fail, stop_helper,
                      wait_until)

SRV_NAME = "_gossip._udp.gsp.test"
DNS_PORT = 5353

# Runs inside the node's netns: one SRV query to 127.0.0.1:5353, prints
# "rcode ancount arcount has_10.77.0.1".
QUERY = r"""
import socket, struct, sys
name = sys.argv[1]
q = struct.pack(">HHHHHH", 0x4753, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
q += struct.pack(">HH", 33, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
s.sendto(q, ("127.0.0.1", int(sys.argv[2])))
r = s.recv(4096)
_, flags, _, an, _, ar = struct.unpack(">HHHHHH", r[:12])
print(flags & 0xF, an, ar, int(bytes([10, 77, 0, 1]) in r[12:]))
"""


def srv_answer(netns):
    p = subprocess.run(["ip", "netns", "exec", netns, "/usr/bin/python3",
                        "-c", QUERY, SRV_NAME, str(DNS_PORT)],
                       capture_output=True, text=True, timeout=10)
    if p.returncode != 0:
        return Observed(False, p.stderr.strip()[-300:])
    rcode, an, ar, has_a = map(int, p.stdout.split())
    return Observed(rcode == 0 and an >= 1 and has_a == 1,
                    {"rcode": rcode, "answers": an, "additional": ar,
                     "A 10.77.0.1 in reply": bool(has_a)})


def test_dns_seeded_join(make_cluster):
    dnsmasq = dnsmasq_or_fail()
    c = make_cluster(2)
    c.wait_converged(timeout=CONVERGE_S)
    procs = []

    def start_dns(netns):
        p = c.spawn_in_netns(netns, [
            dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
            "--no-hosts", f"--port={DNS_PORT}", "--listen-address=127.0.0.1",
            "--bind-interfaces", "--user=root",
            f"--pid-file={c.state_dir}/dnsmasq.pid",
            f"--srv-host={SRV_NAME},node1.gsp.test,7946",
            "--host-record=node1.gsp.test,10.77.0.1"], label="dnsmasq")
        procs.append(p)
        # the DNS side works before gossipd depends on it
        wait_until(lambda: p.poll() is None and srv_answer(netns), 10,
                   "dnsmasq in the node's netns to answer the SRV query")

    try:
        c.add_node(3, seeds=[], before_start=start_dns, extra_ini={
            "seeds": {"dns": SRV_NAME, "dns_server": f"127.0.0.1:{DNS_PORT}"}})
        text = c.config_path("node3").read_text()
        assert not any(ln.split("=", 1)[0].strip() == "seed"
                       for ln in text.splitlines() if "=" in ln), text
        everyone = ["node1", "node2", "node3"]
        c.wait_converged(observers=everyone, expected=everyone,
                         timeout=CONVERGE_S)
    finally:
        for p in procs:
            stop_helper(p)
