# SPDX-License-Identifier: BSD-3-Clause
"""Cluster-wide keys (docs/SECURITY.md, "The cluster's keys"): each node
publishes its keyring in the reserved app key gsp.keys; `gossipctl keys`
shows which members seal with (primary) and have each key, and `keys
remove` refuses a key a live member still seals with, naming it, unless
--force; `keys use` refuses a key a live member lacks. The README's old
rotation loop (node1..node3 of five) is the case they catch."""

import base64
import os

from conftest import CONVERGE_S, Observed
import gsp_scapy as g
from test_security import all_alive, keys_of, write_key_file

NODES = [f"node{i}" for i in range(1, 6)]


def cluster_view(c, name):
    """{key id: {primary_on, installed_on, missing_on}} as `name` sees it."""
    k = keys_of(c, name)
    return {e["id"]: {f: sorted(e.get(f, [])) for f in
                      ("primary_on", "installed_on", "missing_on")}
            for e in k["cluster"]}


def ctl_ok(c, node, *args):
    """Observed: `gossipctl args` on node succeeded (else its stderr)."""
    p = c.ctl(node, *args)
    return Observed(p.returncode == 0, (node, p.stderr.strip()))


def test_remove_refused_while_members_send_under_the_key(make_cluster,
                                                         tmp_path):
    c = make_cluster(5)
    c.wait_converged(timeout=CONVERGE_S)
    old = base64.b64decode(c.cluster_key())
    new = os.urandom(32)
    old_id, new_id = f"{g.key_id(old):08x}", f"{g.key_id(new):08x}"
    newfile = write_key_file(tmp_path / "new.key", [new])
    oldfile = write_key_file(tmp_path / "old.key", [old])

    # every node publishes its keyring; all five seal with the old key
    c.wait_until(lambda: Observed(
        cluster_view(c, "node1").get(old_id, {}).get("primary_on") == NODES,
        cluster_view(c, "node1")), 20, "node1 to see all five on the old key")
    # the reserved prefix is gossipd's
    p = c.ctl("node2", "set", "gsp.keys", "00000000")
    assert p.returncode != 0 and "reserved" in p.stderr, p.stderr

    # the README's old loop installed on node1..node3 only: using the key
    # then would cut node4 and node5 off (they could not open it); refused
    for n in NODES[:3]:
        c.ctl(n, "keys", "install", newfile, check=True)
    c.wait_until(lambda: Observed(
        cluster_view(c, "node1").get(new_id, {}).get("missing_on") ==
        ["node4", "node5"], cluster_view(c, "node1")), 20,
        "node1 to see that node4 and node5 lack the new key")
    p = c.ctl("node1", "keys", "use", new_id)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert (f"keys use {new_id}: 2 live members lack it: node4, node5. "
            "They would be cut off") in p.stderr, p.stderr
    assert keys_of(c, "node1")["primary"] == old_id

    # installed everywhere, used on node1..node3: node4 and node5 still
    # seal with the old key
    for n in NODES[3:]:
        c.ctl(n, "keys", "install", newfile, check=True)
    c.wait_until(lambda: Observed(
        cluster_view(c, "node1").get(new_id, {}).get("missing_on") == [],
        cluster_view(c, "node1")), 20, "node1 to see the new key on all")
    for n in NODES[:3]:
        c.wait_until(lambda: ctl_ok(c, n, "keys", "use", new_id), 20,
                     f"{n} to see the new key on all and use it")
    want = {old_id: {"primary_on": ["node4", "node5"],
                     "installed_on": NODES[:3], "missing_on": []},
            new_id: {"primary_on": NODES[:3],
                     "installed_on": ["node4", "node5"], "missing_on": []}}
    c.wait_until(lambda: Observed(cluster_view(c, "node1") == want,
                                  cluster_view(c, "node1")), 20,
                 "node1 to see node4 and node5 still on the old key")
    text = c.ctl("node1", "keys", check=True).stdout
    assert f"  {old_id}\n    primary on:   node4, node5\n" in text, text

    # the removal that would cut them off is refused, naming them
    p = c.ctl("node1", "keys", "remove", old_id)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert (f"keys remove {old_id}: 2 live members may still send under "
            "it: node4, node5") in p.stderr, p.stderr
    assert old_id in [k["id"] for k in keys_of(c, "node1")["keys"]]
    p = c.ctl("node1", "members", "--force")
    assert p.returncode == 2 and "--force applies to keys" in \
        p.stderr, p.stderr

    # --force removes it (and the operator puts it back at once)
    c.ctl("node1", "keys", "remove", old_id, "--force", check=True)
    assert [k["id"] for k in keys_of(c, "node1")["keys"]] == [new_id]
    c.ctl("node1", "keys", "install", oldfile, check=True)

    # the whole rotation: then the removal is accepted everywhere
    for n in NODES[3:]:
        c.wait_until(lambda: ctl_ok(c, n, "keys", "use", new_id), 20,
                     f"{n} to see the new key on all and use it")
    # each node refuses the removal until its own view has node4 and
    # node5 off the old key: wait for that view on every node, not only
    # on node1 (node2 lagging node1 made this step fail once in CI)
    for n in NODES:
        c.wait_until(lambda: Observed(
            cluster_view(c, n).get(old_id, {}).get("primary_on") == [],
            cluster_view(c, n)), 20, f"{n} to see nobody on the old key")
        c.ctl(n, "keys", "remove", old_id, check=True)
    c.wait_until(lambda: Observed(
        cluster_view(c, "node3") == {new_id: {"primary_on": NODES,
                                              "installed_on": [],
                                              "missing_on": []}},
        cluster_view(c, "node3")), 20, "node3 to see only the new key")
    # the cluster stayed one: nobody down anywhere
    c.wait_until(lambda: all_alive(c, NODES, NODES), 20,
                 "every node to list all five alive")
