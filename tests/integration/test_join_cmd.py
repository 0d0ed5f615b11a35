# SPDX-License-Identifier: BSD-3-Clause
"""gossipctl join ADDR at runtime, and the warning a node logs while it is
alone (no seed configured, or no seed answering)."""

from conftest import CONVERGE_S, hold

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
    for addr, msg in (("seed.example", "is not IPv4[:port]"),
                      ("10.77.0.1:99999", "is not IPv4[:port]"),
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
