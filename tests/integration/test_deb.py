# SPDX-License-Identifier: BSD-3-Clause
"""`make deb` (scripts/make-deb) builds a package that installs and runs on
a clean Debian 12: apt installs it, with the Depends make-deb computed,
into a minbase root it has never seen (an overlay on a debootstrapped root
cached in /var/tmp, made here when missing: about 2 minutes once), then
gossipd --version, gossipctl --version, and a real node (no hugepages, an
af_packet port on the loopback of its own network namespace) that comes up,
lists itself alive and leaves on SIGTERM, all from the packaged files."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO

BASE = Path("/var/tmp/gossipd-deb-root-bookworm")
APT_CACHE = Path("/var/tmp/gossipd-deb-apt-cache")
UP_S = 60.0


def run(cmd, timeout, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       **kw)
    return r


def mirror():
    for f in Path("/etc/apt/sources.list.d").glob("*.sources"):
        for line in f.read_text().splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    return "http://deb.debian.org/debian"


def base_root():
    """The cached minbase root, apt lists included."""
    if (BASE / "usr/bin/apt-get").exists() and (BASE / ".gsp-ready").exists():
        return BASE
    if shutil.which("debootstrap") is None:
        pytest.fail("debootstrap is missing (make deps installs it)",
                    pytrace=False)
    tmp = BASE.with_name(BASE.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    r = run(["debootstrap", "--variant=minbase", "bookworm", str(tmp),
             mirror()], timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    shutil.copy("/etc/resolv.conf", tmp / "etc/resolv.conf")
    r = run(["chroot", str(tmp), "apt-get", "update", "-qq"], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    (tmp / ".gsp-ready").write_text("minbase + apt lists\n")
    shutil.rmtree(BASE, ignore_errors=True)
    tmp.rename(BASE)
    return BASE


@pytest.fixture
def clean_root(tmp_path):
    """An overlay on the base root: what the test writes is thrown away."""
    base = base_root()
    APT_CACHE.mkdir(parents=True, exist_ok=True)
    upper, work, root = (tmp_path / d for d in ("upper", "work", "root"))
    for d in (upper, work, root):
        d.mkdir()
    mounts = []

    def mount(*args, target):
        r = run(["mount", *args, str(target)], timeout=30)
        assert r.returncode == 0, r.stderr
        mounts.append(target)
    try:
        mount("-t", "overlay", "overlay", "-o",
              f"lowerdir={base},upperdir={upper},workdir={work}", target=root)
        mount("-t", "proc", "proc", target=root / "proc")
        mount("--bind", "/sys", target=root / "sys")   # EAL: cpus, NUMA
        mount("--bind", "/dev", target=root / "dev")
        mount("-t", "tmpfs", "tmpfs", target=root / "run")
        mount("--bind", str(APT_CACHE), target=root / "var/cache/apt/archives")
        yield root
    finally:
        for m in reversed(mounts):
            if run(["umount", str(m)], timeout=30).returncode != 0:
                run(["umount", "-l", str(m)], timeout=30)


def chroot(root, *cmd, timeout=60, net=False):
    """cmd in the root; net=False: in a new network namespace with lo up
    (the host's ip brings it up: the root has no iproute2)."""
    if net:
        return run(["chroot", str(root), *cmd], timeout=timeout)
    return run(["unshare", "--net", "--", "sh", "-c",
                'ip link set lo up && exec chroot "$0" "$@"', str(root),
                *cmd], timeout=timeout)


def test_deb_installs_and_runs_in_a_clean_root(clean_root, tmp_path):
    root = clean_root
    t0 = time.monotonic()
    r = run([str(REPO / "scripts/make-deb"), "--out", str(tmp_path / "dist")],
            timeout=600, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    debs = list((tmp_path / "dist").glob("gossipd_*.deb"))
    assert len(debs) == 1, r.stdout
    shutil.copy(debs[0], root / "tmp/gossipd.deb")
    t_build = time.monotonic() - t0

    # a root that never saw gossipd: nothing of it, none of DPDK
    assert not (root / "usr/bin/gossipd").exists()
    assert not list((root / "usr/lib/x86_64-linux-gnu").glob("librte_eal*"))
    env_apt = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install",
               "-y", "-q", "--no-install-recommends", "/tmp/gossipd.deb"]
    r = chroot(root, *env_apt, timeout=600, net=True)
    if r.returncode != 0:   # cached lists older than the mirror: refresh
        chroot(root, "apt-get", "update", "-qq", timeout=300, net=True)
        r = chroot(root, *env_apt, timeout=600, net=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    t_install = time.monotonic() - t0 - t_build

    for f in ("usr/bin/gossipd", "usr/bin/gossipctl",
              "usr/lib/x86_64-linux-gnu/libgsp_sv.so.2",
              "usr/lib/x86_64-linux-gnu/pkgconfig/gsp_sv.pc",
              "usr/include/gossipd/status_view.h",
              "usr/share/man/man8/gossipd.8.gz",
              "usr/share/man/man1/gossipctl.1.gz",
              "usr/share/doc/gossipd/examples/example.ini",
              "lib/systemd/system/gossipd@.service"):
        assert (root / f).exists(), f"{f} not installed by the package"
    r = chroot(root, "gossipd", "--version")
    assert r.returncode == 0 and r.stdout.startswith("gossipd 0."), \
        r.stdout + r.stderr
    assert "DPDK 22.11" in r.stdout, r.stdout
    r = chroot(root, "gossipctl", "--version")
    assert r.returncode == 0 and r.stdout.startswith("gossipctl 0."), \
        r.stdout + r.stderr

    # a real node from the packaged files: up, alive in its own view,
    # leaves on SIGTERM
    (root / "etc/gossipd/t.ini").write_text(
        "[cluster]\nname = debtest\n[node]\nname = solo\n"
        "address = 10.99.0.1\n[security]\nmode = plaintext\n"
        "[control]\nsocket = /run/gossipd-t.sock\n"
        "status_view = /tmp/gossipd-t.view\n")
    prefix = f"gspdeb{os.getpid()}"
    node = subprocess.Popen(
        ["unshare", "--net", "--", "sh", "-c",
         'ip link set lo up && exec chroot "$0" "$@"', str(root),
         "gossipd", "--no-huge", "-m", "128", "--no-pci", "--no-telemetry",
         "-l", "0", "--file-prefix", prefix,
         "--vdev", "net_af_packet0,iface=lo", "--",
         "--config", "/etc/gossipd/t.ini"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        deadline = time.monotonic() + UP_S
        members = None
        while time.monotonic() < deadline and node.poll() is None:
            members = run(["chroot", str(root), "gossipctl", "--view",
                           "/tmp/gossipd-t.view", "members"], timeout=10)
            if members.returncode == 0 and " alive " in members.stdout:
                break
            time.sleep(0.2)
        assert node.poll() is None, node.communicate(timeout=10)[0][:3000]
        assert members is not None and members.returncode == 0, \
            members.stdout + members.stderr
        assert "solo*" in members.stdout and " alive " in members.stdout, \
            members.stdout
        node.send_signal(signal.SIGTERM)
        out, _ = node.communicate(timeout=30)
        assert node.returncode == 0, out[-3000:]
        assert "stop: SIGTERM: leaving the cluster" in out, out[-3000:]
    finally:
        if node.poll() is None:
            os.killpg(node.pid, signal.SIGKILL)
            node.wait(timeout=30)
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    print(f"make deb {t_build:.0f}s, apt install {t_install:.0f}s, "
          f"all {time.monotonic() - t0:.0f}s")
