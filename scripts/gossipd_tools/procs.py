# SPDX-License-Identifier: BSD-3-Clause
"""Node processes: gossipd's command line, start, signal, stop.

A node is the dict the cluster records in state.json; its process is
known by pid and start time, and by its Popen when this process started
it (then its exit status is known too).
"""

import datetime
import glob
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

from .errors import ClusterError
from .run import log_info, pid_alive, proc_stat, rmtree, unlink

DEFAULT_LCORES = "0@(0-1)"
HUGE_PAGES_PER_NODE = 64        # 2 MB pages free per node to use hugepages
HUGE_MEM_MB = 64
NO_HUGE_MEM_MB = 128
DPDK_RUN_DIR = "/var/run/dpdk"  # EAL runtime dirs: /var/run/dpdk/<file-prefix>
HUGE_DIR = "/dev/hugepages"
# SIGTERM -> SIGKILL: a stopped gossipd leaves (LEAVE, a few rounds) and
# exits within 5 s ([node] on_stop, docs/CONFIG.md); the rest is margin
STOP_TIMEOUT = 10.0
KILL_WAIT = 5.0
STEP = 0.02


def hugepages_usable(nodes):
    """hugetlbfs mounted on /dev/hugepages and enough free 2 MB pages."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    if not any(len(f) >= 3 and f[1] == HUGE_DIR and f[2] == "hugetlbfs"
               for f in (m.split() for m in mounts)):
        return False
    free = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("HugePages_Free:"):
                free = int(line.split()[1])
    except (OSError, ValueError):
        return False
    return free >= HUGE_PAGES_PER_NODE * max(1, nodes)


def node_vdev(node):
    """The node's port: af_packet on its veth end, or (pmd "tap") a TAP
    device net_tap creates in its netns, which the cluster then bridges
    to the veth (network.attach_tap): net_tap has rx interrupts."""
    if node.get("pmd") == "tap":
        return f"net_tap0,iface={node['tap']}"
    return f"net_af_packet0,iface={node['veth_peer']},qpairs=1"


def node_cmd(node, gossipd, lcores, mem_mb=None, placeholder=False):
    """gossipd's command line for a node (in its netns, on its port:
    node_vdev); placeholder: `sleep infinity` instead."""
    ns = node["netns"]
    if placeholder:
        return ["ip", "netns", "exec", ns, "sleep", "infinity"]
    if node.get("huge"):
        mem = ["-m", str(mem_mb or HUGE_MEM_MB), "--huge-unlink"]
    else:
        mem = ["--no-huge", "-m", str(mem_mb or NO_HUGE_MEM_MB)]
    return ["ip", "netns", "exec", ns, gossipd,
            "--lcores", lcores,
            "--file-prefix", node["file_prefix"],
            "--no-pci",
            # telemetry only where a test asks (node["telemetry"]): a
            # socket and a thread per node otherwise unused
            *([] if node.get("telemetry") else ["--no-telemetry"]),
            "--vdev", node_vdev(node),
            *mem, "--", "--config", node["config"]]


def clean_runtime(node):
    """Leftovers of a node that is not running (a SIGKILLed one)."""
    for p in (node["view"], node["socket"]):
        unlink(p)
    rmtree(f"{DPDK_RUN_DIR}/{node['file_prefix']}")
    for p in glob.glob(f"{HUGE_DIR}/{glob.escape(node['file_prefix'])}map_*"):
        unlink(p)


def clean_run(run_id):
    """Every runtime file of a run: EAL dirs and hugepage files."""
    for p in glob.glob(f"{DPDK_RUN_DIR}/gsp{run_id}*"):
        rmtree(p)
    for p in glob.glob(f"{HUGE_DIR}/gsp{run_id}*"):
        unlink(p)


class Processes:
    """The processes of one cluster this Python process knows: Popen
    objects for those it started, recorded pids for the others."""

    def __init__(self):
        self._popen = {}        # key -> Popen, for processes we started

    def spawn(self, cmd, log, cwd, key=None, banner=None):
        """Start cmd in its own session, output appended to log (after a
        banner line, given one); the (Popen, start time) to record.  key
        names it for alive(): a node's name, else "extra:PID"."""
        with open(log, "ab") as lf:
            if banner:
                stamp = datetime.datetime.now().isoformat(
                    timespec="milliseconds")
                lf.write(f"=== {stamp} {banner}: {shlex.join(cmd)}\n"
                         .encode())
                lf.flush()
            try:
                p = subprocess.Popen(cmd, cwd=str(cwd),
                                     stdin=subprocess.DEVNULL, stdout=lf,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
            except OSError as e:
                raise ClusterError(f"cannot start {key or cmd[0]}: {e}") from e
        self._popen[key or f"extra:{p.pid}"] = p
        st = proc_stat(p.pid)
        return p, st[0] if st else None

    def popen(self, key):
        return self._popen.get(key)

    def alive(self, key, pid, start):
        """Whether the recorded process runs (Popen first when ours)."""
        p = self._popen.get(key)
        if p is not None and p.pid == pid:
            return p.poll() is None
        return pid_alive(pid, start)

    def node_running(self, node):
        alive = self.alive(node["name"], node.get("pid"),
                           node.get("pid_start"))
        if not alive:
            self.node_returncode(node)
        return alive

    def node_returncode(self, node):
        """The node's exit status when we started it (recorded in node)."""
        p = self._popen.get(node["name"])
        if p is not None and p.pid == node.get("pid"):
            p.poll()
            node["returncode"] = p.returncode
        return node.get("returncode")

    def signal_node(self, node, sig):
        """Send sig; False when the node is not running."""
        if not self.node_running(node):
            return False
        try:
            os.kill(node["pid"], sig)
        except ProcessLookupError:
            return False
        return True

    def _wait(self, nodes, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and \
                any(self.node_running(n) for n in nodes):
            time.sleep(STEP)

    def stop_nodes(self, nodes, timeout=STOP_TIMEOUT):
        """SIGTERM (gossipd leaves, then exits), SIGKILL after timeout;
        marks each node stopped and returns those still running."""
        nodes = [n for n in nodes if self.node_running(n)]
        for n in nodes:
            self.signal_node(n, signal.SIGTERM)
        self._wait(nodes, timeout)
        for n in nodes:
            n["stopped_by"] = "SIGTERM"
            if self.node_running(n):
                log_info(f"{n['name']} (pid {n['pid']}) ignored SIGTERM for "
                         f"{timeout:g}s; sending SIGKILL")
                self.signal_node(n, signal.SIGKILL)
                n["stopped_by"] = "SIGKILL"
        self._wait(nodes, KILL_WAIT)
        stuck = []
        for n in nodes:
            if self.node_running(n):
                stuck.append(f"{n['name']} (pid {n['pid']})")
            else:
                n["status"] = "stopped"
                self.node_returncode(n)
        return stuck

    def stop_helpers(self, entries):
        """SIGTERM, then SIGKILL, each recorded helper ({pid, start,
        label}); the labels of those still running."""
        stuck = []
        for e in entries:
            pid, start = e["pid"], e.get("start")

            def alive():
                return self.alive(f"extra:{pid}", pid, start)
            for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT),
                              (signal.SIGKILL, KILL_WAIT)):
                if not alive():
                    break
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + wait
                while time.monotonic() < deadline and alive():
                    time.sleep(STEP)
            if alive():
                stuck.append(f"{e.get('label')} (pid {pid})")
        return stuck
