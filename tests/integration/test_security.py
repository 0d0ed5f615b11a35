# SPDX-License-Identifier: BSD-3-Clause
"""Authentication end to end (docs/SECURITY.md): a node with the wrong key
or none cannot join; keys rotate online with gossipctl across a running
cluster without one false suspicion; the keyring file is kept private and
rewritten; no key ever reaches a log.

Membership is read through gossipctl, as an operator would."""

import base64
import os
import stat

from conftest import CONVERGE_S, Observed, wait_heartbeats_advance
import gsp_scapy as g

NODES = ["node1", "node2", "node3"]


def write_key_file(path, keys, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write("".join(base64.b64encode(k).decode() + "\n" for k in keys))
    os.chmod(path, mode)
    return path


def keys_of(c, name):
    """Parsed `gossipctl keys --json`."""
    return c._ctl_json(name, "keys")


def drops(c, name):
    return c.stats(name)["counters"]["rx_drop"]


def detector(c, name):
    cnt = c.stats(name)["counters"]
    return {k: cnt.get(k, 0) for k in ("suspicions", "declared_down")}


def all_alive(c, observers, expected):
    views = c.views(observers)
    bad = {o: {n: m["state"] for n, m in v.items() if m["state"] != "alive"}
           for o, v in views.items()}
    ok = all(sorted(v) == sorted(expected) for v in views.values()) and \
        not any(bad.values())
    return Observed(ok, {"views": {o: sorted(v) for o, v in views.items()},
                         "not alive": bad})


def test_wrong_key_and_plaintext_cannot_join(make_cluster, tmp_path):
    c = make_cluster(2)
    c.wait_converged(timeout=CONVERGE_S)
    other = write_key_file(tmp_path / "other.keyring", [os.urandom(32)])
    c.add_node(3, extra_ini={"security": {"keyring": str(other)}})
    c.add_node(4, extra_ini={"security": {"mode": "plaintext"}})

    # the seed drops their packets, each for the reason that fits (it
    # never learns them, so it never sends them anything)
    def refused():
        d1 = drops(c, "node1")
        ok = d1.get("unknown_key", 0) >= 3 and d1.get("unsealed", 0) >= 3
        return Observed(ok, d1)
    c.wait_until(refused, 20, "node1 to drop node3's and node4's packets")

    # the operator hears of each kind once, not per datagram
    other_id = f"{g.key_id(base64.b64decode(other.read_text().strip())):08x}"
    log = c.log("node1")
    want = [f"dropping datagrams from {c.address('node3')}: sealed with key "
            f"id {other_id}", f"dropping datagrams from {c.address('node4')}: "
            "they are plaintext"]
    for w in want:
        assert log.count(w) == 1, (w, log[-3000:])

    # and nobody learned anybody across the key boundary
    for o in ("node1", "node2"):
        assert sorted(c.member_map(o)) == ["node1", "node2"], o
    assert sorted(c.member_map("node3")) == ["node3"]
    assert sorted(c.member_map("node4")) == ["node4"]
    wait_heartbeats_advance(c, ["node1", "node2"])


def test_online_rotation_without_false_positives(make_cluster, tmp_path):
    c = make_cluster(3)
    c.wait_converged(timeout=CONVERGE_S)
    old = base64.b64decode(c.cluster_key())
    new = os.urandom(32)
    old_id, new_id = f"{g.key_id(old):08x}", f"{g.key_id(new):08x}"
    before = {n: detector(c, n) for n in NODES}
    for n in NODES:
        k = keys_of(c, n)
        assert k["mode"] == "authenticated" and k["primary"] == old_id, k

    # a key file others can read is refused, and changes nothing
    loose = write_key_file(tmp_path / "loose.key", [new], mode=0o644)
    p = c.ctl("node1", "keys", "install", loose)
    assert p.returncode != 0 and "chmod 600" in p.stderr, p.stderr
    assert len(keys_of(c, "node1")["keys"]) == 1

    # 1. install everywhere: every node accepts both, still seals with old
    newfile = write_key_file(tmp_path / "new.key", [new])
    for n in NODES:
        c.ctl(n, "keys", "install", newfile, check=True)
        k = keys_of(c, n)
        assert sorted(x["id"] for x in k["keys"]) == sorted([old_id, new_id])
        assert k["primary"] == old_id
    p = c.ctl("node1", "keys", "install", newfile)
    assert p.returncode != 0 and "installed already" in p.stderr, p.stderr
    # 2. use the new key everywhere, one node at a time: the others open
    #    its packets with their second key (each node refuses a key a live
    #    member lacks, so first every node must hear that all have it)
    def have_new(n):
        k = {e["id"]: e for e in keys_of(c, n)["cluster"]}.get(new_id, {})
        return Observed(sorted(k.get("installed_on", []) +
                               k.get("primary_on", [])) == NODES, k)
    for n in NODES:
        c.wait_until(lambda: have_new(n), 20, f"{n} to see the key on all")
    for n in NODES:
        c.ctl(n, "keys", "use", new_id, check=True)
        assert keys_of(c, n)["primary"] == new_id
        assert all_alive(c, NODES, NODES).ok
    c.wait_until(lambda: Observed(all(
        keys_of(c, n)["rx_key_primary"] > 50 for n in NODES),
        {n: keys_of(c, n) for n in NODES}), 20,
        "every node to open packets with the new primary")
    # 3. remove the old key; the primary cannot be removed
    p = c.ctl("node2", "keys", "remove", new_id)
    assert p.returncode != 0 and "primary" in p.stderr, p.stderr
    for n in NODES:
        c.ctl(n, "keys", "remove", old_id, check=True)
        assert [x["id"] for x in keys_of(c, n)["keys"]] == [new_id]
    wait_heartbeats_advance(c, NODES)
    assert all_alive(c, NODES, NODES).ok, all_alive(c, NODES, NODES)

    # not one suspicion, not one packet refused for its key
    for n in NODES:
        assert detector(c, n) == before[n], (n, before[n], detector(c, n))
        d = drops(c, n)
        assert d.get("unknown_key", 0) == 0 and d.get("forged", 0) == 0, d

    # each keyring file now holds only the new key, still private
    for n in NODES:
        path = c.state_dir / f"{n}.keyring"
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        lines = [ln for ln in path.read_text().splitlines()
                 if ln and not ln.startswith("#")]
        assert [base64.b64decode(x) for x in lines] == [new], n

    # a restart reads the rewritten file and rejoins
    c.stop("node3")
    c.start("node3")
    c.wait_converged(timeout=CONVERGE_S)
    assert keys_of(c, "node3")["primary"] == new_id

    # no key in any log, old or new, in any encoding we write
    for n in NODES:
        log = c.log(n)
        for k in (old, new):
            assert base64.b64encode(k).decode() not in log, n
            assert k.hex() not in log, n
