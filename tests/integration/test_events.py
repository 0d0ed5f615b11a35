# SPDX-License-Identifier: BSD-3-Clause
"""Events and pub/sub (docs/EVENTS.md): `gossipctl monitor` streams what
the node sees as JSON lines pushed by gossipd; an [events] handler runs
once per event with its GOSSIPD_* environment; `gossipctl event` reaches
every live node's monitors and handlers once."""

import json
import os
import subprocess
import threading

from conftest import CONVERGE_S, DETECT_S

HANDLER = """#!/bin/sh
# one line per event: the environment, then the event from stdin
line=$(cat)
printf '%s|%s|%s|%s|%s\\n' "$GOSSIPD_EVENT" "$GOSSIPD_NODE" \
    "$GOSSIPD_MEMBER_NAME" "$GOSSIPD_USER_EVENT" "$line" >> {out}
"""


class Monitor:
    """A `gossipctl monitor` process whose lines a thread collects."""

    def __init__(self, c, node, *args):
        self.proc = subprocess.Popen(
            c.ctl_argv(node, "monitor", *args), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.events = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.err_reader = threading.Thread(target=self._read_err,
                                           daemon=True)
        self.err_reader.start()

    def _read(self):
        for line in self.proc.stdout:
            ev = json.loads(line)
            with self.lock:
                self.events.append(ev)

    def _read_err(self):
        # gossipctl says on stderr when the node has taken the request
        for line in self.proc.stderr:
            if line.startswith("gossipctl: monitoring "):
                self.subscribed.set()

    def of(self, kind, **match):
        with self.lock:
            return [e for e in self.events if e["event"] == kind and
                    all(e.get(k) == v for k, v in match.items())]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        self.reader.join(timeout=5)
        self.err_reader.join(timeout=5)


def handler_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [ln.rstrip("\n").split("|", 4) for ln in f]


def test_monitor_handler_and_user_events(make_cluster, tmp_path):
    out = tmp_path / "handled"
    script = tmp_path / "handler.sh"
    script.write_text(HANDLER.format(out=out))
    script.chmod(0o755)
    c = make_cluster(3, node_extra_ini={
        2: {"events": {"handler": str(script), "handler_timeout": "5s"}}})
    c.wait_converged(timeout=CONVERGE_S)

    mons = {n: Monitor(c, n) for n in ("node1", "node2", "node3")}
    only_user = Monitor(c, "node1", "--type", "user")
    try:
        # an event before a monitor subscribed is not its: wait for all
        c.wait_until(lambda: all(m.subscribed.is_set() for m in
                                 list(mons.values()) + [only_user]),
                     CONVERGE_S, "every monitor subscribed")
        c.ctl("node3", "event", "deploy", "v1.2 rollout", check=True)
        c.wait_until(lambda: all(m.of("user", name="deploy")
                                 for m in mons.values()), CONVERGE_S,
                     "the user event at every monitor")
        for n, m in mons.items():
            evs = m.of("user", name="deploy")
            assert len(evs) == 1, (n, evs)
            assert evs[0]["payload"] == "v1.2 rollout"
            assert evs[0]["from"] == "node3" and evs[0]["missed"] == 0
        assert len(only_user.of("user")) == 1

        # app state: member-update at the other nodes, not for the event
        c.ctl("node1", "set", "role", "db", check=True)
        c.wait_until(lambda: mons["node3"].of("member-update",
                                              name="node1"),
                     CONVERGE_S, "member-update of node1 at node3")
        upd = mons["node3"].of("member-update", name="node1")[-1]
        assert upd["app"]["role"] == "db", upd
        assert not mons["node3"].of("member-update", name="node3")

        # deleting it: gone from every view, and an update without it
        c.ctl("node1", "set", "zone", "a", check=True)
        c.ctl("node1", "delete", "role", check=True)
        c.wait_until(lambda: all(
            c.member_map(n)["node1"]["app"] == {"zone": "a"}
            for n in ("node2", "node3")), CONVERGE_S,
            "node1's app state {zone: a} at node2 and node3")
        c.wait_until(lambda: mons["node3"].of("member-update", name="node1")
                     [-1]["app"] == {"zone": "a"}, CONVERGE_S,
                     "member-update without role at node3")
        p = c.ctl("node1", "delete", "role")
        assert p.returncode == 1 and "no such key" in p.stderr, p.stderr
        p = c.ctl("node1", "delete", "gsp.keys")
        assert p.returncode == 1 and "reserved" in p.stderr, p.stderr

        # a crash: suspect then down at the survivors, with the member
        c.kill("node3")
        c.wait_until(lambda: mons["node1"].of("member-down", name="node3")
                     and mons["node2"].of("member-down", name="node3"),
                     DETECT_S, "member-down of node3 at node1 and node2")
        down = mons["node1"].of("member-down", name="node3")[0]
        assert down["state"] == "down" and down["previous"] in (
            "suspect", "alive"), down
        assert down["address"].startswith("10."), down
        # the restart: join (new generation) or alive again
        c.start("node3")
        c.wait_until(lambda: mons["node1"].of("member-restart",
                                              name="node3"),
                     CONVERGE_S, "member-restart of node3 at node1")
        assert not only_user.of("member-down"), "--type user leaked"

        # the handler ran for the user event and the crash, with its env
        c.wait_until(lambda: any(h[0] == "member-down" and h[2] == "node3"
                                 for h in handler_lines(out)), DETECT_S,
                     "the handler's member-down line")
        lines = handler_lines(out)
        users = [h for h in lines if h[0] == "user"]
        assert len(users) == 1 and users[0][1] == "node2" and \
            users[0][3] == "deploy", lines
        assert json.loads(users[0][4])["payload"] == "v1.2 rollout"

        # a second and third event from one node: each delivered once
        c.ctl("node1", "event", "a", check=True)
        c.ctl("node1", "event", "b", "x", check=True)
        c.wait_until(lambda: mons["node2"].of("user", name="b"),
                     CONVERGE_S, "event b at node2")
        got = mons["node2"].of("user", name="a") + \
            mons["node2"].of("user", name="b")
        # "a" may be overwritten by "b" before it spread: then it is
        # counted as missed, never delivered twice
        assert len(mons["node2"].of("user", name="b")) == 1
        assert len(mons["node2"].of("user", name="a")) <= 1
        b = mons["node2"].of("user", name="b")[0]
        assert b["missed"] == (0 if len(got) == 2 else 1), got
    finally:
        for m in list(mons.values()) + [only_user]:
            m.stop()


def test_event_and_monitor_errors(make_cluster):
    c = make_cluster(1)
    p = c.ctl("node1", "event", "bad name!")
    assert p.returncode == 1 and "name must be" in p.stderr, p.stderr
    p = c.ctl("node1", "event", "big", "x" * 300)
    assert p.returncode == 1 and "at most" in p.stderr, p.stderr
    p = c.ctl("node1", "event", "ctl", "caf\u00e9")
    assert p.returncode == 1 and "printable ASCII" in p.stderr, p.stderr
    p = c.ctl("node1", "monitor", "--type", "member-exploded")
    assert p.returncode == 1 and "unknown event type" in p.stderr, p.stderr
    p = c.ctl("node1", "set", "gsp.event", "1 1 x")
    assert p.returncode != 0, p.stdout
    p = c.ctl("node1", "members", "--type", "user")
    assert p.returncode == 2 and "monitor only" in p.stderr, p.stderr
    # a monitor survives the 5 s idle close of request connections, and
    # --count ends it after that many events
    m = subprocess.Popen(c.ctl_argv("node1", "monitor", "--count", "1"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        line = m.stderr.readline()
        assert line.startswith("gossipctl: monitoring "), line
        # quiet for longer than the idle close (5 s): it must stay open
        try:
            m.wait(timeout=6.5)
        except subprocess.TimeoutExpired:
            pass
        assert m.poll() is None, m.stderr.read()
        c.ctl("node1", "event", "late", check=True)
        out, err = m.communicate(timeout=10)
        assert m.returncode == 0, err
        ev = json.loads(out)
        assert ev["event"] == "user" and ev["name"] == "late", out
    finally:
        if m.poll() is None:
            m.kill()
            m.wait()


def test_leave_then_reap(make_cluster):
    """A member that left is forgotten after forget_after: member-leave,
    then member-reap with its last state, and it is gone from the table."""
    c = make_cluster(2, extra_ini={
        "gossip": {"interval": "100ms", "forget_after": "1s"}})
    c.wait_converged(timeout=CONVERGE_S)
    m = Monitor(c, "node1", "--type", "member-leave,member-reap")
    try:
        c.wait_until(m.subscribed.is_set, CONVERGE_S, "the monitor")
        c.stop("node2")         # SIGTERM: LEAVE
        c.wait_until(lambda: m.of("member-reap", name="node2"), CONVERGE_S,
                     "member-reap of node2 at node1")
        leave = m.of("member-leave", name="node2")
        reap = m.of("member-reap", name="node2")
        assert len(leave) == 1 and len(reap) == 1, m.events
        assert reap[0]["state"] == "left", reap
        assert reap[0]["id"] == leave[0]["id"], (leave, reap)
        assert m.events.index(leave[0]) < m.events.index(reap[0])
        assert "node2" not in c.member_map("node1")
    finally:
        m.stop()
