# SPDX-License-Identifier: BSD-3-Clause
"""Ring sizes (docs/CONFIG.md, [dataplane] rx_descriptors and
tx_descriptors): the port's queue takes the configured counts, and a pool
of mbufs too small to fill the rx ring stops the node at start with an
error that names the keys to change.

Real gossipd processes in their own netns on net_tap, whose rx queue
set-up takes its mbufs from the pool; torn down by recorded pid in the
fixtures' finalizers."""

import pytest

from gossipd_tools.errors import ClusterError, NodeDied


def test_port_takes_the_configured_ring_sizes(make_cluster):
    c = make_cluster(1, pmd="tap", seeds=[], extra_ini={
        "dataplane": {"rx_descriptors": "256", "tx_descriptors": "512"}})
    log = c.log("node1")
    assert "1 queue pair(s), 256 rx / 512 tx descriptors" in log, \
        log[-2000:]


def test_pool_too_small_for_the_rx_ring_names_the_keys(make_cluster):
    c = make_cluster(1, pmd="tap", up=False, seeds=[], extra_ini={
        "dataplane": {"mbufs": "511", "rx_descriptors": "1024"}})
    with pytest.raises((NodeDied, ClusterError)):
        c.up()
    log = c.log("node1")
    assert "port 0 queue 0 setup (1024 rx / 1024 tx descriptors): " \
        "Cannot allocate memory" in log, log[-2000:]
    assert "raise mbufs, or lower rx_descriptors / tx_descriptors" in log, \
        log[-2000:]
    assert c.returncode("node1") not in (0, None)
