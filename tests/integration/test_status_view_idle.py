# SPDX-License-Identifier: BSD-3-Clause
"""The status view of a quiet node (docs/STATUS_VIEW.md, "Freshness"): it
is rewritten about once a second, not every status_interval, yet it
stays alive for gossipctl, and a change of membership still reaches it
(the dataplane rings the control thread)."""

import struct
import time

import pytest

from conftest import CONVERGE_S, Observed, wait_until

QUIET_S = 3.0
PERIODS = QUIET_S / 0.100       # rewrites a period-by-period writer makes


@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(2)
    c.wait_converged(timeout=CONVERGE_S)
    return c


def header(c, name):
    """(seq, heartbeat_unix_ns) of the node's view header."""
    with open(c.view_path(name), "rb") as f:
        b = f.read(56)
    return struct.unpack_from("<Q", b, 24)[0], struct.unpack_from("<Q", b, 48)[0]


def test_quiet_view_is_rewritten_seldom_but_stays_alive(c):
    # settle: the join's news is over
    time.sleep(2.0)
    s0, h0 = header(c, "node1")
    time.sleep(QUIET_S)
    s1, h1 = header(c, "node1")
    publishes = (s1 - s0) // 2       # seq moves by 2 per publish
    assert publishes >= 1 and h1 > h0, (s0, s1, h0, h1)
    assert publishes < PERIODS / 2, (publishes, PERIODS)
    r = c.ctl("node1", "members")
    assert r.returncode == 0, r.stderr   # 3: the writer looks dead


def test_change_reaches_a_quiet_view(c):
    r = c.ctl("node2", "set", "quiet", "no")
    assert r.returncode == 0, r.stderr

    def shown():
        app = c.member_map("node1").get("node2", {}).get("app", {})
        return Observed(app.get("quiet") == "no", app)
    wait_until(shown, timeout=CONVERGE_S, what="node2's app state in "
               "node1's view")
