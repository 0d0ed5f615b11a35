# SPDX-License-Identifier: BSD-3-Clause
"""Rx interrupts (docs/CONFIG.md, "Idle lcores"): on a port whose PMD has
them (net_tap), `[dataplane] rx_interrupts = on` makes an idle node wait
in the kernel for a frame or its next timer, and the nodes still join,
answer probes, take commands and leave on SIGTERM; on a port without them
(net_af_packet) `on` refuses to start, naming the file and line, `auto`
waits on a doorbell packet socket instead, and `off` sleeps in bounded
steps.

Real gossipd processes in their own netns (tap: net_tap's TAP bridged to
the node's veth inside its netns, scripts/gossipd_tools/network.py);
clusters are torn down by recorded pid in the fixtures' finalizers."""

import re
import time

import pytest

from conftest import CONVERGE_S, Observed, wait_until
from gossipd_tools.errors import ClusterError, NodeDied

ON = {"dataplane": {"rx_interrupts": "on"}}
QUIET_S = 3.0           # an idle stretch the counters are read over


def lcore0(c, name):
    return c.stats(name)["lcores"][0]


@pytest.fixture(scope="module")
def tap(make_module_cluster):
    c = make_module_cluster(2, pmd="tap", extra_ini=ON)
    c.wait_converged(timeout=CONVERGE_S)
    return c


def assert_frames_end_waits(c):
    """Over a quiet window (a measurement, not a wait for a condition):
    every node's lcore waited in the kernel, frames (not only timers)
    ended waits, SWIM probes went out and came back answered, and few
    waits were spun for first."""
    before = {n: (lcore0(c, n), c.stats(n)["counters"]) for n in c.names()}
    time.sleep(QUIET_S)
    for n in c.names():
        l0, c0 = before[n]
        l1 = lcore0(c, n)
        c1 = c.stats(n)["counters"]
        waits = l1["rx_intr_waits"] - l0["rx_intr_waits"]
        woken = l1["rx_intr_wakeups"] - l0["rx_intr_wakeups"]
        assert waits > 0 and woken > 0, (n, l0, l1)
        assert woken <= waits + 1, (n, l0, l1)
        assert c1["rx_ping"] > c0["rx_ping"], (n, c0, c1)
        assert c1["tx_pong"] > c0["tx_pong"], (n, c0, c1)
        assert c1["rx_pong"] > c0["rx_pong"], (n, c0, c1)
        # its frames come milliseconds apart: the spin before a wait
        # caught nothing and stopped (idle_spin.h), where it spun
        # before nearly every wait when it did not adapt
        spins = l1["idle_spins"] - l0["idle_spins"]
        assert spins * 4 < waits, (n, spins, waits, l0, l1)


def assert_set_spreads(c, key):
    """gossipctl set on node1 (taken by an lcore that may be waiting in
    the kernel) reaches node2."""
    r = c.ctl("node1", "set", key, "yes")
    assert r.returncode == 0, f"gossipctl set failed: {r.stderr}"

    def spread():
        app = c.member_map("node2").get("node1", {}).get("app", {})
        return Observed(app.get(key) == "yes", app)
    wait_until(spread, timeout=CONVERGE_S, what=f"node1's {key} at node2")


def test_tap_nodes_use_interrupts_converge_and_answer_probes(tap):
    for n in tap.names():
        assert "rx interrupts on lcore 0" in tap.log(n), tap.log(n)[-2000:]
    assert_frames_end_waits(tap)
    tap.wait_converged(timeout=CONVERGE_S)


def test_tap_command_is_taken_while_waiting(tap):
    """gossipctl set reaches an lcore asleep in epoll (its wake eventfd)
    and spreads."""
    assert_set_spreads(tap, "rxintr")


def test_tap_sigterm_leaves_promptly(tap):
    t0 = time.monotonic()
    rc = tap.stop("node2")
    took = time.monotonic() - t0
    assert rc == 0, tap.log("node2")[-2000:]
    assert "stopped after leaving" in tap.log("node2")
    assert took < 4.0, f"SIGTERM to exit took {took:.2f} s"


def test_on_without_pmd_support_refuses_to_start(make_cluster):
    c = make_cluster(1, up=False, extra_ini=ON, seeds=[])
    with pytest.raises((NodeDied, ClusterError)):
        c.up()
    log = c.log("node1")
    m = re.search(r"error: (\S+):(\d+): \[dataplane\] rx_interrupts = on, "
                  r"but port 0 \(net_af_packet\) cannot give rx queue "
                  r"interrupts", log)
    assert m, log[-2000:]
    path, line = m.group(1), int(m.group(2))
    assert path == str(c.config_path("node1"))
    text = open(path).read().splitlines()
    assert text[line - 1].replace(" ", "") == "rx_interrupts=on", text
    assert c.returncode("node1") not in (0, None)


def test_auto_on_af_packet_waits_on_a_doorbell(make_cluster):
    """net_af_packet has no queue interrupts: under auto an idle lcore
    waits on a doorbell packet socket instead, and frames end its waits;
    the nodes still answer probes and take commands."""
    c = make_cluster(2, extra_ini={"dataplane": {"rx_interrupts": "auto"}})
    c.wait_converged(timeout=CONVERGE_S)
    for n in c.names():
        log = c.log(n)
        assert "doorbell packet socket" in log, log[-2000:]
        # under auto, a port without queue interrupts is no error
        assert "error" not in log.lower() and "Rx Intr" not in log, \
            log[-2000:]
    assert_frames_end_waits(c)
    assert_set_spreads(c, "bell")


def test_off_sleeps_in_steps(make_cluster):
    c = make_cluster(1, extra_ini={"dataplane": {"rx_interrupts": "off"}},
                     seeds=[])
    log = c.log("node1")
    assert "doorbell" not in log and "rx interrupts on" not in log, \
        log[-2000:]
    l0 = lcore0(c, "node1")
    time.sleep(QUIET_S)
    l1 = lcore0(c, "node1")
    assert l1["idle_sleeps"] > l0["idle_sleeps"]
    assert l1["rx_intr_waits"] == 0
