# SPDX-License-Identifier: BSD-3-Clause
"""Files an operator names never block a running node (docs/CONFIG.md,
"Files"; docs/SECURITY.md): a FIFO given to `gossipctl keys install` gets
an error reply while the control thread keeps serving; a FIFO as the
keyring stops start-up with a message; a seed that is the node itself is
a warning with file:line, and the node starts and joins anyway.

Every wait is bounded, so a blocked open fails the test instead of
hanging the suite."""

import os

import pytest

from gossipd_tools import cluster as gsp_cluster
from conftest import CONVERGE_S, Observed

FAST_S = 10


@pytest.fixture(scope="module")
def cluster(make_module_cluster):
    return make_module_cluster(1)


def rounds(c, name):
    return c.stats(name)["counters"]["rounds"]


def test_keys_install_fifo_answers_and_control_keeps_serving(cluster,
                                                             tmp_path):
    c = cluster
    fifo = tmp_path / "keys.fifo"
    os.mkfifo(fifo, 0o600)
    before = c._ctl_json("node1", "keys")
    p = c.ctl("node1", "keys", "install", fifo, timeout=FAST_S)
    assert p.returncode != 0
    assert f"{fifo}: not a regular file (a FIFO)" in p.stderr, p.stderr
    dev = c.ctl("node1", "keys", "install", "/dev/zero", timeout=FAST_S)
    assert "/dev/zero: not a regular file (a character device)" in \
        dev.stderr, dev.stderr

    # the control socket answers, the keyring is unchanged
    assert c._ctl_json("node1", "keys")["keys"] == before["keys"]
    # and the status view (written by the control thread) still advances
    r0 = rounds(c, "node1")
    c.wait_until(lambda: Observed(rounds(c, "node1") >= r0 + 5,
                                  rounds(c, "node1")), FAST_S,
                 "node1's rounds in the status view to advance")


def test_keyring_fifo_refuses_start(cluster, tmp_path):
    c = cluster
    fifo = tmp_path / "keyring.fifo"
    os.mkfifo(fifo, 0o600)
    name = c.add_node(2, extra_ini={"security": {"keyring": str(fifo)}},
                      wait=False)
    assert c.wait_exit(name, timeout=FAST_S) == 1
    assert f"[security] keyring {fifo}: not a regular file (a FIFO)" in \
        c.log(name), c.log(name)[-2000:]


def test_seed_that_is_this_node_is_a_warning(cluster):
    c = cluster
    own = f"{gsp_cluster.node_address(3)}:{gsp_cluster.GOSSIP_PORT}"
    name = c.add_node(3, extra_ini={"seeds": {"seed": [
        gsp_cluster.node_address(1), own]}})
    c.wait_converged(observers=["node1", name], expected=["node1", name],
                     timeout=CONVERGE_S)
    lines = open(c.config_path(name)).read().splitlines()
    line = lines.index(f"seed = {own}") + 1
    log = c.log(name)
    want = (f"{c.config_path(name)}:{line}: [seeds] seed {own} is this node "
            "itself")
    assert log.count(want) == 1, log[-3000:]
