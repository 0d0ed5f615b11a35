# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures for the gossipd integration tests.

Every cluster lives in its own state dir (from tmp_path_factory) and is
always torn down (by recorded pid) in a finalizer, pass or fail.  Nothing is
skipped: without root or without a build the tests fail and say why.

GSP_BUILD_DIR overrides the meson build dir (default <repo>/build).
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from gossipd_tools import cluster as gsp_cluster  # noqa: E402
from gossipd_tools.cluster import Cluster, Observed, wait_until  # noqa: E402,F401

BUILD_DIR = Path(os.environ.get("GSP_BUILD_DIR", REPO / "build")).resolve()
GOSSIPD = BUILD_DIR / "dataplane" / "gossipd"
GOSSIPCTL = BUILD_DIR / "cli" / "gossipctl"

INTERVAL_MS = 100       # gossip rounds in tests
CONVERGE_S = 30.0       # bounds of the waits (all are polls, not sleeps)
DETECT_S = 30.0

_active = []            # clusters up right now, for failure reports


def environment_problems(need=("gossipd", "gossipctl", "ip", "net")):
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (network namespaces, veth, "
                        "bridge, DPDK af_packet)")
    if "gossipd" in need and not os.access(GOSSIPD, os.X_OK):
        problems.append(f"{GOSSIPD} is missing: build first (make build)")
    if "gossipctl" in need and not os.access(GOSSIPCTL, os.X_OK):
        problems.append(f"{GOSSIPCTL} is missing: build first (make build)")
    if "ip" in need and not shutil.which("ip"):
        problems.append("`ip` (iproute2) is not installed")
    return problems


def require(*need):
    problems = environment_problems(need)
    if problems:
        pytest.fail("integration tests cannot run:\n  " +
                    "\n  ".join(problems), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def dpdk_run_dirs_removed():
    """The EAL runtime dirs this run's emulation, uplink and stop tests
    named with this process's pid (/var/run/dpdk/gsp-*-PID-*): EAL leaves
    them behind when the process exits; removed at the session's end."""
    yield
    run = Path("/var/run/dpdk")
    for d in run.glob(f"gsp-*-{os.getpid()}-*") if run.is_dir() else ():
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def env_ready():
    require("gossipd", "gossipctl", "ip", "net")


def _cluster_maker(tmp_path_factory, label):
    made = []

    def make(n, up=True, **kw):
        kw.setdefault("interval_ms", INTERVAL_MS)
        kw.setdefault("build_dir", BUILD_DIR)
        state = tmp_path_factory.mktemp(label)
        c = Cluster(n, state_dir=state, **kw)
        made.append(c)
        _active.append(c)
        if up:
            c.up()
        return c

    def cleanup():
        errors = []
        for c in reversed(made):
            try:
                c.down()
            except Exception as e:  # noqa: BLE001
                errors.append(f"{c.state_dir}: {e}")
            finally:
                if c in _active:
                    _active.remove(c)
        if errors:
            raise RuntimeError("cluster teardown failed: " + "; ".join(errors))
    return make, cleanup


@pytest.fixture(scope="module")
def make_module_cluster(request, tmp_path_factory, env_ready):
    """make(n, **Cluster kwargs) -> a Cluster that is up; shared by the
    module and torn down after its last test."""
    make, cleanup = _cluster_maker(tmp_path_factory,
                                   request.module.__name__.rsplit(".", 1)[-1])
    try:
        yield make
    finally:
        cleanup()


@pytest.fixture
def make_cluster(request, tmp_path_factory, env_ready):
    """make(n, **Cluster kwargs) -> a Cluster that is up; torn down after
    the test."""
    make, cleanup = _cluster_maker(tmp_path_factory, request.node.name[:40])
    try:
        yield make
    finally:
        cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tail of every node's log."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("call", "setup"):
        for c in list(_active):
            if c.state is None:
                continue
            for name in c.names():
                path = c.log_path(name)
                rep.sections.append(
                    (f"{c.cluster} {name} log ({path}, last 30 lines)",
                     gsp_cluster.tail(path, 30)))


# ---- helpers shared by the tests --------------------------------------------

def dnsmasq_or_fail():
    """The path of Debian's dnsmasq; the test fails, saying how to get it,
    when it is missing."""
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.access(dnsmasq, os.X_OK):
        pytest.fail("dnsmasq is not installed (apt-get install dnsmasq-base)",
                    pytrace=False)
    return dnsmasq


def stop_helper(p, timeout=5):
    """Stops a helper process the test started (SIGTERM, then SIGKILL)."""
    if p is None or p.poll() is not None:
        return
    p.terminate()
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout)


def hold(predicate, duration, what, interval=0.1):
    """Assert that predicate() keeps holding for `duration` seconds (for
    "stays so" checks, where only the passing of time can tell)."""
    end = time.monotonic() + duration
    while True:
        r = predicate()
        ok, val = (r.ok, r.value) if isinstance(r, Observed) else (bool(r), r)
        if not ok:
            raise AssertionError(f"{what} stopped holding: {val!r}")
        if time.monotonic() >= end:
            return
        time.sleep(interval)


def heartbeats(c, observers):
    return {o: {n: m["heartbeat"] for n, m in c.member_map(o).items()}
            for o in observers}


def wait_heartbeats_advance(c, observers, members=None, timeout=15.0):
    """Until every observer saw the heartbeat of each member (default:
    every member it lists alive) grow past the value read first."""
    before = {}
    for o in observers:
        mm = c.member_map(o)
        names = members if members is not None else [
            n for n, m in mm.items() if m["state"] == "alive"]
        before[o] = {n: mm[n]["heartbeat"] for n in names}

    def check():
        now = heartbeats(c, observers)
        lag = {o: {n: (hb, now[o].get(n)) for n, hb in before[o].items()
                   if now[o].get(n, -1) <= hb} for o in observers}
        lag = {o: v for o, v in lag.items() if v}
        return Observed(not lag, lag or now)
    return wait_until(check, timeout,
                      "heartbeats to advance (observer: {member: (before, now)})",
                      interval=0.1)


def state_of(c, observers, member):
    """{observer: (state, generation)} of `member`; None where unlisted."""
    out = {}
    for o in observers:
        m = c.member_map(o).get(member)
        out[o] = None if m is None else (m["state"], m["generation"])
    return out
