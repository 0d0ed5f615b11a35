# SPDX-License-Identifier: BSD-3-Clause
"""A node that knows a single seed joins a running cluster."""

from conftest import CONVERGE_S
from gossipd_tools.cluster import ini_get


def test_join_with_one_seed(make_cluster):
    c = make_cluster(3)
    c.wait_converged(timeout=CONVERGE_S)
    c.add_node(9, seeds=[1])
    text = c.config_path("node9").read_text()
    seeds = [ln.split("=", 1)[1].strip() for ln in text.splitlines()
             if ln.strip().startswith("seed") and "=" in ln
             and ln.split("=", 1)[0].strip() == "seed"]
    assert seeds == ["10.77.0.1:7946"], text
    assert ini_get(text, "seeds", "dns") is None
    everyone = ["node1", "node2", "node3", "node9"]
    c.wait_converged(observers=everyone, expected=everyone, timeout=CONVERGE_S)
