# SPDX-License-Identifier: BSD-3-Clause
"""[node] snapshot: app state written at run time and known live peers
survive a restart, so a node restarted without seeds rejoins and its app
state is back in the others' views; a bad snapshot is a warning, never a
failed start."""

import json

import pytest

from conftest import CONVERGE_S, hold
from gossipd_tools.cluster import ini_get, ini_set

EVERYONE = ["node1", "node2", "node3"]


def snap_ini(tmp_path, app=None):
    ini = {"node": {"snapshot": str(tmp_path / "node3.snap")}}
    if app:
        ini["app"] = app
    return ini


def read_snap(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def test_restart_without_seeds(make_cluster, tmp_path):
    snap = tmp_path / "node3.snap"
    c = make_cluster(3, node_extra_ini={
        3: snap_ini(tmp_path, {"zone": "a", "tier": "1"})})
    c.wait_converged(timeout=CONVERGE_S)
    c.ctl("node3", "set", "role", "cache", check=True)
    c.ctl("node3", "set", "tier", "2", check=True)

    def written():
        s = read_snap(snap)
        return s is not None and s["app"].get("role") == "cache" and \
            s["app"].get("tier") == "2" and \
            sorted(s["peers"]) == ["10.77.0.1:7946", "10.77.0.2:7946"]
    c.wait_until(written, 10, f"{snap} with role=cache and both peers")
    s = read_snap(snap)
    assert s["format"] == "gossipd-snapshot" and s["version"] == 1, s
    assert s["config_app"] == {"zone": "a", "tier": "1"}, s
    assert (snap.stat().st_mode & 0o777) == 0o600

    c.stop("node3")
    # no seed any more, and the operator edits zone in the config: the
    # edit wins, the run-time writes (role, tier) are kept
    cfg = c.config_path("node3")
    text = ini_set(cfg.read_text(), "seeds", "seed", None)
    cfg.write_text(ini_set(text, "app", "zone", "b"))
    assert ini_get(cfg.read_text(), "seeds", "seed") is None
    c.start("node3")
    c.wait_converged(observers=EVERYONE, expected=EVERYONE,
                     timeout=CONVERGE_S)
    want = {"zone": "b", "tier": "2", "role": "cache"}
    c.wait_until(lambda: c.member_map("node1")["node3"]["app"] == want, 10,
                 f"node3's app state {want} at node1")
    assert c.member_map("node3")["node3"]["app"] == want
    log = c.log("node3")
    assert "snapshot: " + str(snap) + ": 3 app keys, 2 peers" in log, log
    assert "no seed configured" not in log


@pytest.mark.parametrize("content,msg", [
    ("{\"format\": \"gossipd-snapshot\", \"vers", "not JSON"),
    ("", "not JSON"),
    ("{\"format\": \"gossipd-snapshot\", \"version\": 2}",
     "version 2, this gossipd reads version 1"),
    ("[1, 2]", "not a gossipd snapshot"),
    ("{\"format\": \"gossipd-snapshot\", \"version\": 1, \"cluster\": \"x\","
     " \"node\": \"node3\"}", "not this node"),
], ids=["truncated", "empty", "version", "not-snapshot", "foreign"])
def test_bad_snapshot_warns_and_starts(make_cluster, tmp_path, content, msg):
    snap = tmp_path / "node3.snap"
    snap.write_text(content)
    c = make_cluster(3, node_extra_ini={3: snap_ini(tmp_path)})
    c.wait_converged(timeout=CONVERGE_S)
    assert c.is_running("node3")
    log = c.log("node3")
    line = next((ln for ln in log.splitlines()
                 if f"warning: snapshot: {snap}: " in ln), "")
    assert msg in line and "starting without it" in line, log
    assert f"moved to {snap}.corrupt" in log, log
    assert (tmp_path / "node3.snap.corrupt").read_text() == content
    # and a good one replaces it once the node runs
    c.wait_until(lambda: (read_snap(snap) or {}).get("version") == 1, 10,
                 "a fresh snapshot")


def test_unwritable_snapshot_warns_once(make_cluster, tmp_path):
    snap = tmp_path / "no-such-dir" / "node1.snap"
    c = make_cluster(1, node_extra_ini={1: {"node": {"snapshot": str(snap)}}})
    what = f"snapshot: cannot write it: {snap}.tmp: No such file or directory"
    c.wait_until(lambda: what in c.log("node1"), 10, "the write warning")
    c.ctl("node1", "set", "k", "v", check=True)   # a change: tried again
    hold(lambda: c.log("node1").count(what) == 1 and c.is_running("node1"),
         2.5, "one warning, the node running")
