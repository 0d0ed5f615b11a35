# SPDX-License-Identifier: BSD-3-Clause
"""gossipd under systemd (docs/PACKAGING.md), without systemd as PID 1:

- sd_notify: gossipd started with NOTIFY_SOCKET naming a datagram socket
  this test binds sends READY=1 once the node serves (its control socket
  answers then), WATCHDOG=1 every half WATCHDOG_USEC while its gossip
  rounds run (the stalled case: tests/unit/test_config.c), and
  STOPPING=1 when SIGTERM starts its leave;
- logs: DPDK's rte_log lines and gossipd's own share one format; with
  JOURNAL_STREAM naming the node's stderr each line starts with its
  syslog priority "<N>" (journald's), and without it (or with it naming
  another file) lines are plain;
- the unit: `systemd-analyze verify` on the unit `meson install` puts in
  a staging root, ExecStart pointing at the staged gossipd."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import BUILD_DIR, GOSSIPCTL

READY_S = 30.0
STOP_S = 30.0

PLAIN_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z gossipd\[\d+\]: "
                      r"(error|warning|notice|info|debug): (.*)$")
JOURNAL_RE = re.compile(r"^<([0-7])>(error|warning|notice|info|debug): (.*)$")
PRIO = {"error": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}


def recv_until(sock, want, timeout, proc_alive):
    """Datagrams until one has want in it; the list of all received."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(0.2)
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            if not proc_alive():
                break
            continue
        if want in got[-1].split("\n"):
            return got
    raise AssertionError(f"no {want} within {timeout:g}s; got {got!r}")


@pytest.fixture
def notify_sock(tmp_path):
    path = tmp_path / "notify.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    try:
        yield s, path
    finally:
        s.close()


def test_notify_ready_then_stopping(make_cluster, notify_sock, monkeypatch):
    sock, path = notify_sock
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")     # WatchdogSec=1s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    c = make_cluster(1, up=False, wait_ready=False)
    c.up()
    name = c.names()[0]
    got = recv_until(sock, "READY=1", READY_S, lambda: c.is_running(name))
    # READY=1 means serving: the control socket answers at once
    ping = subprocess.run([str(GOSSIPCTL), "--socket", str(c.socket_path(name)),
                           "ping"], capture_output=True, text=True, timeout=10)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert any(l.startswith("STATUS=node ") for l in got[-1].split("\n")), got
    assert not any("STOPPING=1" in g for g in got), got
    # the watchdog: petted every 0.5 s while the node runs (4 in 2 s,
    # give or take what was queued before and the window's edges)
    for _ in range(20):             # what came before: not this window's
        sock.settimeout(0)
        try:
            sock.recv(4096)
        except BlockingIOError:
            break
    window = []
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            window.append(sock.recv(4096).decode())
        except socket.timeout:
            pass
    pets = sum("WATCHDOG=1" in g.split("\n") for g in window)
    assert 3 <= pets <= 5, window
    assert "watchdog: WATCHDOG=1 every 500 ms while gossip rounds run" \
        in c.log(name)
    rc = c.kill(name, signal.SIGTERM, timeout=STOP_S)
    assert rc == 0
    got = recv_until(sock, "STOPPING=1", 1.0, lambda: True)
    assert "STATUS=stopping: leaving the cluster" in got[-1].split("\n"), got
    assert "left" in c.log(name) or "leav" in c.log(name)


def node_lines(c, name, offset):
    # the launcher's banner lines start with "==="
    return [l for l in c.log(name)[offset:].splitlines()
            if l and not l.startswith("=== ")]


def test_logs_one_format_journal_priorities(make_cluster, monkeypatch):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    c = make_cluster(1)
    name = c.names()[0]
    c.stop(name)
    plain = node_lines(c, name, 0)
    assert plain, "no log lines"
    bad = [l for l in plain if not PLAIN_RE.match(l)]
    assert not bad, f"lines not in gsp_log's format: {bad[:5]}"
    msgs = [PLAIN_RE.match(l).group(2) for l in plain]
    assert any(m.startswith("EAL: ") for m in msgs), \
        f"no DPDK (EAL) line in the node's log: {plain[:10]}"
    assert any(m.startswith("node ") for m in msgs), plain[:10]

    # JOURNAL_STREAM naming the node's stderr (its log file): "<N>" lines
    st = os.stat(c.log_path(name))
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
    off = len(c.log(name))
    c.start(name)
    c.stop(name)
    jl = node_lines(c, name, off)
    bad = [l for l in jl if not JOURNAL_RE.match(l)]
    assert jl and not bad, f"lines without a journal priority: {bad[:5]}"
    ms = [JOURNAL_RE.match(l) for l in jl]
    assert all(int(m.group(1)) == PRIO[m.group(2)] for m in ms), jl[:10]
    assert any(m.group(3).startswith("EAL: ") for m in ms), jl[:10]
    assert any(m.group(1) == "5" and m.group(3).startswith("node ")
               for m in ms), jl[:10]

    # a JOURNAL_STREAM inherited but naming another file: plain again
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino + 1}")
    off = len(c.log(name))
    c.start(name)
    c.stop(name)
    pl = node_lines(c, name, off)
    assert pl and all(PLAIN_RE.match(l) for l in pl), pl[:5]


def staged_install(tmp_path):
    dest = tmp_path / "dest"
    r = subprocess.run(["meson", "install", "-C", str(BUILD_DIR),
                        "--no-rebuild", "--destdir", str(dest)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return dest


def test_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing (apt-get install systemd: "
                    "make deps)", pytrace=False)
    if shutil.which("man") is None:
        pytest.fail("man is missing (apt-get install man-db: make deps); "
                    "systemd-analyze verify runs it on Documentation=",
                    pytrace=False)
    dest = staged_install(tmp_path)
    units = list(dest.rglob("gossipd@.service"))
    assert len(units) == 1, units
    text = units[0].read_text()
    m = re.search(r"^ExecStart=(\S+)", text, re.M)
    prefix_gossipd = m.group(1)
    staged = dest / prefix_gossipd.lstrip("/")
    assert os.access(staged, os.X_OK), f"{staged} not installed"
    # verify wants ExecStart's binary to exist: point it at the staged one
    unit = tmp_path / "gossipd@verify.service"
    unit.write_text(text.replace(f"ExecStart={prefix_gossipd}",
                                 f"ExecStart={staged}"))
    # Documentation= man pages: the staged ones (verify runs man on them)
    mans = list(dest.rglob("man8/gossipd.8"))
    assert len(mans) == 1, mans
    env = dict(os.environ, MANPATH=str(mans[0].parent.parent))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], env=env,
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert out.strip() == "", out
    # verify must fail on a real mistake, or the check above proves nothing
    unit.write_text(text.replace("Type=notify", "Type=notifyy")
                    .replace(f"ExecStart={prefix_gossipd}",
                             f"ExecStart={staged}"))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                       capture_output=True, text=True, timeout=60)
    assert "notifyy" in r.stdout + r.stderr
    for k in ("Type=notify", "TimeoutStopSec=", "After=dev-hugepages.mount",
              "ProtectSystem=strict", "NoNewPrivileges=yes",
              "RestrictAddressFamilies=", "CapabilityBoundingSet="):
        assert k in text, k
