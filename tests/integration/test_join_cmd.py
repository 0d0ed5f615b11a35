# SPDX-License-Identifier: BSD-3-Clause
"""gossipctl join ADDR at runtime, and the warning a node logs while it is
alone (no seed configured, or no seed answering)."""

import shutil
import subprocess
from pathlib import Path

from conftest import (CONVERGE_S, dnsmasq_or_fail, hold, stop_helper,
                      wait_until)

ALONE_INI = {"seeds": {"dns_refresh": "1s"}}


def test_join_at_runtime(make_cluster):
    c = make_cluster(2)
    c.wait_converged(timeout=CONVERGE_S)
    # node3 knows no seed: alone, and says so once per dns_refresh
    c.add_node(3, seeds=[], extra_ini=ALONE_INI)
    c.wait_until(lambda: c.log("node3").count("no seed configured") >= 2,
                 10, "two alone warnings in node3's log")
    assert [m["name"] for m in c.members("node3")["members"]] == ["node3"]

    # one address that answers (port implied), one where nobody listens
    r = c.ctl("node3", "join", "--wait", "3000", c.address("node1"),
              "10.77.0.99:7946")
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert lines[0] == "joined 1 of 2 addresses", r.stdout
    assert any(ln.split()[:2] == [f"{c.address('node1')}:7946", "node1"]
               for ln in lines), r.stdout
    assert any(ln.split()[0] == "10.77.0.99:7946" and "no member" in ln
               for ln in lines), r.stdout
    everyone = ["node1", "node2", "node3"]
    c.wait_converged(observers=everyone, expected=everyone, timeout=CONVERGE_S)
    assert "control: join 10.77.0.1:7946" in c.log("node3")

    # joined: no more warnings (one may have been logged while joining)
    n = c.log("node3").count("no seed configured")
    c.wait_until(lambda: "seeds: 2 addresses" in c.log("node3"), 5,
                 "the join list handed to the dataplane")
    hold(lambda: c.log("node3").count("no seed configured") <= n + 1, 2.5,
         "no alone warning once joined")


def test_join_nobody_answers_and_bad_input(make_cluster):
    c = make_cluster(1, seeds=["10.77.0.98"], extra_ini=ALONE_INI)
    c.wait_until(lambda: "none of the 1 seed address answered"
                 in c.log("node1"), 10, "the no-answer warning")
    r = c.ctl("node1", "join", "--wait", "300", "10.77.0.97")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout.startswith("joined 0 of 1 address"), r.stdout
    for addr, msg in (("10.77.0.1:99999", "is not IPv4[:port]"),
                      ("224.0.0.1", "not a unicast address"),
                      (c.address("node1"), "this node's own address")):
        r = c.ctl("node1", "join", addr)
        assert r.returncode == 1, (addr, r.stdout, r.stderr)
        assert msg in r.stderr, (addr, r.stderr)
    r = c.ctl("node1", "join")
    assert r.returncode == 2 and "join needs one or more" in r.stderr, r.stderr
    r = c.ctl("node1", "join", "--wait", "x", "10.77.0.2")
    assert r.returncode == 2 and "--wait" in r.stderr, r.stderr
    # --wait 0: sent, no wait
    r = c.ctl("node1", "join", "--wait", "0", "10.77.0.96")
    assert r.returncode == 0 and r.stdout == "sent to 1 address\n", r.stdout
    assert c.is_running("node1")
    # the join list became seeds: the next warning counts them all
    c.wait_until(lambda: "none of the 3 seed addresses answered"
                 in c.log("node1"), 10, "the warning over 4 seeds")


def test_join_by_hostname(make_cluster):
    """gossipctl resolves HOST[:PORT] itself (gossipd's control thread never
    waits on a resolver), through the system resolver: here a real dnsmasq
    in a spare netns whose /etc/netns resolv.conf points at it."""
    dnsmasq = dnsmasq_or_fail()
    c = make_cluster(2)
    c.wait_converged(timeout=CONVERGE_S)
    c.add_node(3, seeds=[])
    ns = c.add_netns("r")
    etc = Path("/etc/netns") / ns
    etc.mkdir(parents=True, exist_ok=True)
    dns = None
    try:
        (etc / "resolv.conf").write_text("nameserver 127.0.0.1\n"
                                         "options timeout:1 attempts:1\n")
        dns = c.spawn_in_netns(ns, [
            dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
            "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces",
            "--user=root", f"--pid-file={c.state_dir}/dnsmasq-join.pid",
            "--local=/gsp.test/",
            f"--host-record=node1.gsp.test,{c.address('node1')}",
            f"--host-record=node2.gsp.test,{c.address('node2')}"],
            label="dnsmasq")

        def ctl_in_ns(*args):
            return subprocess.run(["ip", "netns", "exec", ns,
                                   *c.ctl_argv("node3", *args)],
                                  capture_output=True, text=True, timeout=30)
        wait_until(lambda: dns.poll() is None and ctl_in_ns(
            "join", "--wait", "0", "node1.gsp.test").returncode == 0, 10,
            "dnsmasq to answer gossipctl's lookup")
        r = ctl_in_ns("join", "--wait", "5000", "node1.gsp.test",
                      "node2.gsp.test:7946")
        assert r.returncode == 0, (r.stdout, r.stderr)
        lines = r.stdout.splitlines()
        assert lines[0] == "joined 2 of 2 addresses", r.stdout
        for k in (1, 2):
            assert any(ln.split()[:2] == [f"{c.address(f'node{k}')}:7946",
                                          f"node{k}"] for ln in lines), \
                r.stdout
        # a name the server says does not exist, a bad port: exit 1,
        # nothing sent
        r = ctl_in_ns("join", "nope.gsp.test")
        assert r.returncode == 1 and \
            'cannot resolve "nope.gsp.test"' in r.stderr, r.stderr
        r = ctl_in_ns("join", "node1.gsp.test:0")
        assert r.returncode == 1 and "port must be 1..65535" in r.stderr, \
            r.stderr
    finally:
        stop_helper(dns)
        shutil.rmtree(etc, ignore_errors=True)
