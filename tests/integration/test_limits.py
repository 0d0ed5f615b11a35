# SPDX-License-Identifier: BSD-3-Clause
"""[limits] app-state bounds through gossipctl (docs/CONFIG.md "Limits"):
a set over app_value_max or app_bytes_max is refused with a message that
names the limit, changes nothing, and a set within them still works.
The rate limits and the receive side are covered by tests/unit/test_limit.c.
"""

import pytest

from conftest import CONVERGE_S, Observed

# app_bytes_max counts gossipd's own keys too: the test cluster seals, so
# each node holds room for gsp.keys, its keyring: 8 + 63 bytes
RESERVED = len("gsp.keys") + 63
LIMITS_INI = {"limits": {"app_value_max": "8",
                         "app_bytes_max": str(30 + RESERVED)}}


@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(2, extra_ini=LIMITS_INI)
    c.wait_converged(timeout=CONVERGE_S)
    return c


def refused(c, key, value, limit):
    r = c.ctl("node1", "set", key, value)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert limit in r.stderr, r.stderr
    return r


def test_set_over_app_value_max(c):
    r = refused(c, "k", "123456789", "app_value_max 8")
    assert "9 bytes" in r.stderr, r.stderr


def set_and_wait(c, key, value):
    """A set is applied by the dataplane after gossipctl's reply; the
    control thread checks the limits against the record as it is then."""
    r = c.ctl("node1", "set", key, value)
    assert r.returncode == 0, r.stderr

    def check():
        app = c.member_map("node1")["node1"].get("app", {})
        return Observed(app.get(key) == value, app)
    c.wait_until(check, 10, f"node1's own {key}={value}", interval=0.05)


def test_set_over_app_bytes_max(c):
    for key in ("k1", "k2"):                     # 2 x (2 + 8) = 20 bytes
        set_and_wait(c, key, "12345678")
    r = refused(c, "k33", "12345678", f"app_bytes_max {30 + RESERVED}")
    assert f"would be {31 + RESERVED} bytes" in r.stderr, r.stderr  # 20 + 11
    assert f"{RESERVED} of them held for gossipd's own" in r.stderr, r.stderr
    set_and_wait(c, "k33", "1234567")                        # exactly 30
    # and the peer took the state: within its limits too
    c.wait_until(lambda: Observed(
        c.member_map("node2")["node1"].get("app", {}).get("k33") == "1234567",
        c.member_map("node2")["node1"].get("app")), CONVERGE_S,
        "node2 to see node1's k33", interval=0.1)


def test_peer_with_tighter_limit_drops_and_logs_once(make_cluster):
    """node2 allows 4-byte values: node1's 8-byte value makes node2 drop
    every datagram that carries node1's state, count each, log it once."""
    c2 = make_cluster(2, node_extra_ini={2: {"limits": {"app_value_max": "4"}}})
    c2.wait_converged(timeout=CONVERGE_S)
    r = c2.ctl("node1", "set", "k", "12345678")
    assert r.returncode == 0, r.stderr

    def dropped():
        s = c2.stats("node2")
        return Observed(s["counters"]["rx_drop"].get("over_limit", 0) >= 5, s)
    c2.wait_until(dropped, CONVERGE_S, "node2 to drop over-limit datagrams",
                  interval=0.1)
    assert "k" not in c2.member_map("node2")["node1"].get("app", {})
    log = c2.log_path("node2").read_text()
    lines = [ln for ln in log.splitlines() if "limit app_value_max" in ln]
    assert len(lines) == 1, lines
    assert "app_value_max 4 bytes" in lines[0] and \
        "rx_drop.over_limit" in lines[0], lines[0]
