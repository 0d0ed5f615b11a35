# SPDX-License-Identifier: BSD-3-Clause
"""The status view's file changed behind gossipd's back (docs/STATUS_VIEW.md,
"When the file is changed behind gossipd's back"): truncated, replaced by
another file, or removed. The node lives on (no SIGBUS), logs the incident
once, re-creates the view at the same path with its full header so
gossipctl works again, and keeps gossiping. A reader running meanwhile
(`gossipctl watch`) survives too."""

import json
import os
import signal
import subprocess

import pytest

from conftest import CONVERGE_S, Observed, wait_heartbeats_advance

FAST_S = 15
NODES = ["node1", "node2", "node3"]


@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(3)
    c.wait_converged(timeout=CONVERGE_S)
    return c


@pytest.fixture(scope="module")
def watcher(c, tmp_path_factory):
    """`gossipctl watch` on node1 at 20 ms for the whole module, once it
    has shown its first table; stopped (SIGINT) by the last test, killed
    here if it is still running."""
    out = tmp_path_factory.mktemp("watch") / "watch.out"
    with open(out, "wb") as f:
        p = subprocess.Popen(c.ctl_argv("node1", "watch", "--interval", "20"),
                             stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.PIPE)
    try:
        c.wait_until(lambda: Observed(p.poll() is None and
                                      b"node1" in out.read_bytes(),
                                      p.poll()),
                     FAST_S, "gossipctl watch to show its first table")
        yield p
    finally:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)
        p.stderr.close()


def truncate(path):
    os.truncate(path, 0)


def replace(path):
    junk = path.with_name(path.name + ".junk")
    junk.write_bytes(b"not a status view\n" * 100)
    os.rename(junk, path)


def remove(path):
    os.unlink(path)


def view_lines(c, name, since):
    """Log lines of node `name` after byte offset `since` that are about
    its status view file."""
    path = str(c.view_path(name))
    return [ln for ln in c.log(name)[since:].splitlines()
            if "status view" in ln and path in ln]


def own_rounds(c, name):
    """rounds in node's own view, or None while gossipctl cannot read it."""
    p = c.ctl(name, "stats", "--json")
    if p.returncode != 0:
        return None
    return json.loads(p.stdout)["counters"]["rounds"]


@pytest.mark.parametrize("what,change", [
    ("truncated", truncate), ("replaced", replace), ("removed", remove)])
def test_view_file_changed_behind_gossipds_back(c, watcher, what, change):
    view = c.view_path("node1")
    since = len(c.log("node1"))
    ino = os.stat(view).st_ino
    change(view)

    # gossipctl reads node1's view again, with every member alive
    def members_ok():
        p = c.ctl("node1", "members", "--json")
        if p.returncode != 0:
            return Observed(False, (p.returncode, p.stderr.strip()))
        mm = {m["name"]: m["state"] for m in json.loads(p.stdout)["members"]}
        return Observed(mm == {n: "alive" for n in NODES}, mm)
    c.wait_until(members_ok, FAST_S, f"node1's view to work again ({what})")
    assert c.is_running("node1"), f"node1 died after its view was {what}"
    assert os.stat(view).st_ino != ino, "the view was not re-created"

    # one line names the path and what happened
    lines = view_lines(c, "node1", since)
    assert len(lines) == 1, lines
    assert what in lines[0], lines

    # the view is published again (rounds advance), gossip goes on: the
    # others see node1 alive with its heartbeat advancing
    r0 = own_rounds(c, "node1")
    c.wait_until(lambda: Observed((own_rounds(c, "node1") or 0) >= r0 + 10,
                                  own_rounds(c, "node1")), FAST_S,
                 "node1's rounds in its re-created view to advance")
    wait_heartbeats_advance(c, ["node2", "node3"], members=["node1"])
    assert {o: c.member_map(o)["node1"]["state"]
            for o in ("node2", "node3")} == {"node2": "alive",
                                             "node3": "alive"}
    # still one line: logged once, not once per publish
    assert len(view_lines(c, "node1", since)) == 1, \
        view_lines(c, "node1", since)
    assert c.is_running("node1")


def test_watch_survived_every_change(c, watcher):
    """Runs after the changes: the reader that watched node1's view all
    along (20 ms refreshes through each truncation) is alive and ends
    normally on SIGINT."""
    assert watcher.poll() is None, (
        f"gossipctl watch died (exit {watcher.returncode}): "
        f"{watcher.stderr.read().decode(errors='replace')[-500:]}")
    watcher.send_signal(signal.SIGINT)
    assert watcher.wait(timeout=10) == 0
