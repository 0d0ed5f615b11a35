#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gsp_cluster: start and stop a local cluster of gossipd nodes.

Every node runs in its own network namespace, attached through a veth pair to
one Linux bridge per run; gossipd drives the namespace side of the veth with
DPDK's af_packet PMD and owns the node's IPv4 address itself (the kernel side
has no address).  Used by scripts/cluster (humans), scripts/demo and the
integration tests (tests/integration).

Per run, with a random 6-hex-digit run id R:
  bridge        gb<R>                      (up, no address)
  node k        netns gsp<R>n<k>, veth gv<R>k<k> (host, on the bridge)
                                      <-> gp<R>k<k> (inside the netns)
  address       10.77.0.<k>:7946
  cluster name  gsp<R>
The state directory holds state.json (everything needed to tear the run down
again from another process), node<k>.ini and node<k>.log.

Nothing is ever killed or removed unless this run recorded it: processes are
signalled by recorded pid *and* recorded start time (so a recycled pid is
never hit), and only names containing the run id are deleted.
"""

import argparse
import base64
import datetime
import glob
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
DEFAULT_STATE_DIR = REPO / "run" / "cluster"
DEFAULT_BUILD_DIR = REPO / "build"
TEMPLATE = REPO / "configs" / "demo.ini.in"

SUBNET = "10.77.0."
GOSSIP_PORT = 7946
DEFAULT_INTERVAL_MS = 200
DEFAULT_SEEDS = (1, 2)
DEFAULT_LCORES = "0@(0-1)"
HUGE_PAGES_PER_NODE = 64        # 2 MB pages free per node to use hugepages
HUGE_MEM_MB = 64
NO_HUGE_MEM_MB = 128
READY_TIMEOUT = 20.0            # per node
# SIGTERM -> SIGKILL: a stopped gossipd leaves (LEAVE, a few rounds) and
# exits within 5 s ([node] on_stop, docs/CONFIG.md); the rest is margin
STOP_TIMEOUT = 10.0
CTL_TIMEOUT = 10.0
POLL = 0.05

SV_DIR = "/dev/shm"             # status views: /dev/shm/gossipd.<cluster>.<node>
SOCK_DIR = "/run/gossipd"       # control sockets: /run/gossipd/<cluster>.<node>.sock
DPDK_RUN_DIR = "/var/run/dpdk"  # EAL runtime dirs: /var/run/dpdk/<file-prefix>
HUGE_DIR = "/dev/hugepages"
STATE_FILE = "state.json"
IFNAMSIZ = 15

_SECTION_RE = re.compile(r"^\s*\[([^\]]*)\]\s*(?:[;#].*)?$")
_KEY_RE = re.compile(r"^\s*([^=:;#\s\[][^=:]*?)\s*[=:]")


class ClusterError(RuntimeError):
    """Something in the cluster's setup, control or teardown failed."""


class NodeDied(ClusterError):
    """A node that should be running is not.  wait_until() does not retry
    on it: waiting longer cannot help."""


class Observed(NamedTuple):
    """What a wait_until() predicate may return: whether the condition holds
    and the value to report when it never does."""
    ok: bool
    value: object


# --------------------------------------------------------------------------
# small helpers

def log_info(msg):
    print(f"[cluster] {msg}", file=sys.stderr, flush=True)


def run(cmd, check=True, timeout=30.0, input=None):
    """Run a command (list), capture text output; ClusterError on failure."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise ClusterError(f"timed out after {timeout}s: {shlex.join(cmd)}") from e
    except OSError as e:
        raise ClusterError(f"cannot run {shlex.join(cmd)}: {e}") from e
    if check and p.returncode != 0:
        raise ClusterError(f"command failed (exit {p.returncode}): "
                           f"{shlex.join(cmd)}: {(p.stderr or p.stdout).strip()}")
    return p


def wait_until(predicate, timeout=30.0, what="condition", interval=POLL):
    """Poll predicate() until it holds; return its value.

    predicate returns either an Observed(ok, value) or any value, whose
    truthiness decides.  Exceptions it raises (a gossipctl hiccup, a member
    not listed yet) count as "not yet" and are remembered as the last
    observation, except NodeDied, which is raised at once.  On timeout an
    AssertionError names `what` and the last observed value.
    """
    __tracebackhide__ = True    # pytest: report the caller's line
    deadline = time.monotonic() + timeout
    last = "<never evaluated>"
    while True:
        try:
            r = predicate()
        except NodeDied:
            raise
        except Exception as e:  # noqa: BLE001 - reported below
            last = f"{type(e).__name__}: {e}"
        else:
            if isinstance(r, Observed):
                if r.ok:
                    return r.value
                last = r.value
            else:
                if r:
                    return r
                last = r
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for "
                                 f"{what}; last observed: {last!r}")
        time.sleep(interval)


def proc_stat(pid):
    """(start time in clock ticks, state letter) of a pid, or None."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data.rsplit(")", 1)[1].split()
    return int(fields[19]), fields[0]


def pid_alive(pid, start):
    """True when pid runs and is the very process recorded (same start)."""
    if not pid:
        return False
    st = proc_stat(pid)
    if st is None:
        return False
    if start is not None and st[0] != start:
        return False            # pid recycled: not ours
    return st[1] not in ("Z", "X")


def tail(path, n=30):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    lines = data.decode("utf-8", "replace").splitlines()
    return "\n".join(lines[-n:])


# every state change a node sees is logged (control/ctrl.c, ctrl_log_event)
TRANSITION_RE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z \S+ \w+: member (\S+) "
    r"\(0x[0-9a-f]+\) (\w+) -> (\w+)")


def parse_log_time(text):
    """A log line's UTC timestamp (without the Z) -> seconds since the
    epoch."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def log_transitions(text, observer):
    """[(t, observer, member, old, new)] of the state changes in a log."""
    out = []
    for line in text.splitlines():
        m = TRANSITION_RE.match(line)
        if m:
            out.append((parse_log_time(m.group(1)), observer, m.group(2),
                        m.group(3), m.group(4)))
    return out


def parse_seed(item):
    """1 -> '10.77.0.1:7946'; '10.0.0.5' -> '10.0.0.5:7946'."""
    if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
        k = int(item)
        if not 1 <= k <= 254:
            raise ClusterError(f"seed node number out of range: {k}")
        return f"{SUBNET}{k}:{GOSSIP_PORT}"
    s = str(item).strip()
    return s if ":" in s else f"{s}:{GOSSIP_PORT}"


def parse_seed_list(text):
    """'1,2' or '10.77.0.1:7946,3' or 'none' -> list."""
    if text is None:
        return list(DEFAULT_SEEDS)
    text = text.strip()
    if text.lower() in ("", "none"):
        return []
    return [int(x) if x.strip().isdigit() else x.strip()
            for x in text.split(",") if x.strip()]


def node_name(k):
    return f"node{int(k)}"


def node_index(name):
    """'node3' or '3' -> 3."""
    m = re.fullmatch(r"(?:node)?(\d+)", str(name))
    if not m:
        raise ClusterError(f"bad node name {name!r} (want nodeK or K)")
    return int(m.group(1))


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


# --------------------------------------------------------------------------
# INI generation

def ini_set(text, section, key, value):
    """Set (value: scalar), replace by several lines (value: list) or
    delete (value: None) `key` in `[section]`; the section is appended
    when missing."""
    lines = text.splitlines()
    if value is None:
        new = []
    elif isinstance(value, (list, tuple)):
        new = [f"{key} = {_ini_value(v)}" for v in value]
    else:
        new = [f"{key} = {_ini_value(value)}"]
    start = None
    for i, line in enumerate(lines):
        m = _SECTION_RE.match(line)
        if m and m.group(1).strip() == section:
            start = i
            break
    if start is None:
        if not new:
            return text
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["", f"[{section}]"] + new
        return "\n".join(lines) + "\n"
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if _SECTION_RE.match(lines[i]):
            end = i
            break
    hits = [i for i in range(start + 1, end)
            if (m := _KEY_RE.match(lines[i])) and m.group(1).strip() == key]
    if hits:
        out = lines[:hits[0]] + new
        out += [ln for i, ln in enumerate(lines[hits[0] + 1:], hits[0] + 1)
                if i not in hits]
    else:
        at = end
        while at > start + 1 and not lines[at - 1].strip():
            at -= 1
        out = lines[:at] + new + lines[at:]
    return "\n".join(out) + "\n"


def _ini_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def ini_get(text, section, key):
    """Last value of key in [section], or None."""
    cur = None
    val = None
    for line in text.splitlines():
        m = _SECTION_RE.match(line)
        if m:
            cur = m.group(1).strip()
            continue
        if cur == section:
            m = _KEY_RE.match(line)
            if m and m.group(1).strip() == key:
                val = re.split(r"\s;", line[m.end():], maxsplit=1)[0].strip()
    return val


def ini_apply(text, extra):
    """extra: None, a dict {section: {key: value|list|None}}, a string
    (appended verbatim), or a list of those (applied in order)."""
    if extra is None:
        return text
    if isinstance(extra, (list, tuple)):
        for e in extra:
            text = ini_apply(text, e)
        return text
    if isinstance(extra, str):
        return text.rstrip("\n") + "\n\n" + extra.strip("\n") + "\n"
    for section, kv in extra.items():
        for key, value in kv.items():
            text = ini_set(text, section, key, value)
    return text


FAULT_KEYS = ("drop", "dup", "reorder", "delay", "jitter", "reorder_by",
              "block")


def fault_ini(spec):
    """A start-up fault spec ("drop=0.1 delay=5ms block=10.77.0.2:in") as
    extra_ini for [fault]: each token becomes its key (block repeats).
    Values are not checked here: gossipd checks them with the one parser
    (gsp_fault_parse) and names the config line."""
    kv, blocks = {}, []
    for tok in re.split(r"[\s,]+", spec.strip()):
        if not tok:
            continue
        key, eq, value = tok.partition("=")
        if not eq or key not in FAULT_KEYS:
            raise ClusterError(f"start-up fault {tok!r}: want one of "
                               f"{', '.join(k + '=...' for k in FAULT_KEYS)}"
                               f" (clear/unblock only make sense at run "
                               f"time: scripts/cluster fault NODE ...)")
        if key == "block":
            blocks.append(value)
        else:
            kv[key] = value
    if blocks:
        kv["block"] = blocks
    return {"fault": kv} if kv else None


FALLBACK_TEMPLATE = """\
; generated by scripts/gsp_cluster.py (configs/demo.ini.in is missing)
[cluster]
name = @CLUSTER@

[node]
name = @NODE@
address = @ADDRESS@
port = @PORT@

[gossip]
interval_ms = @INTERVAL_MS@
fanout = 2
phi_threshold = 8
forget_after_s = 600

[seeds]
@SEEDS@

[control]
status_interval_ms = 100

[dataplane]
idle_sleep_us = 1000
"""


def render_config(cluster, name, address, seeds, interval_ms, extra,
                  template=TEMPLATE):
    """The INI text for one node."""
    if Path(template).is_file():
        text = Path(template).read_text()
    else:
        text = FALLBACK_TEMPLATE
    seed_lines = "\n".join(f"seed = {s}" for s in seeds)
    subst = {"CLUSTER": cluster, "NODE": name, "ADDRESS": address,
             "SEEDS": seed_lines, "PORT": str(GOSSIP_PORT),
             "INTERVAL_MS": str(interval_ms)}
    for k, v in subst.items():
        text = text.replace(f"@{k}@", v)
    left = sorted(set(re.findall(r"@[A-Z_]+@", text)))
    if left:
        raise ClusterError(f"{template}: unknown placeholders {', '.join(left)}")
    # the launcher's own choices win over whatever the template says
    text = ini_set(text, "gossip", "interval_ms", interval_ms)
    return ini_apply(text, extra)


# --------------------------------------------------------------------------
# the cluster

class Cluster:
    """A local gossipd cluster.  See the module docstring.

    Cluster(n, interval_ms=200, build_dir=None, state_dir=None,
            extra_ini=None, seeds=(1, 2), no_huge=False, ...)

    extra_ini applies to every node: {section: {key: value}} (value None
    deletes a key, a list gives repeated keys), or raw text appended.
    seeds: node numbers and/or "ip[:port]" strings; a node never lists its
    own address.  Per node, add_node()/node_extra_ini/node_seeds override.
    """

    def __init__(self, n=3, interval_ms=DEFAULT_INTERVAL_MS, build_dir=None,
                 state_dir=None, extra_ini=None, seeds=DEFAULT_SEEDS,
                 no_huge=False, lcores=DEFAULT_LCORES, mem_mb=None,
                 gossipd=None, gossipctl=None, node_seeds=None,
                 node_extra_ini=None, ready_timeout=READY_TIMEOUT,
                 placeholder=False, wait_ready=True, template=TEMPLATE):
        self.n = int(n)
        self.interval_ms = int(interval_ms)
        self.build_dir = Path(build_dir or DEFAULT_BUILD_DIR).resolve()
        self.state_dir = Path(state_dir or DEFAULT_STATE_DIR).resolve()
        self.extra_ini = extra_ini
        self.seeds = list(seeds) if seeds is not None else []
        self.no_huge = bool(no_huge)
        self.lcores = lcores
        self.mem_mb = mem_mb
        self.gossipd = str(gossipd or self.build_dir / "dataplane" / "gossipd")
        self.gossipctl = str(gossipctl or self.build_dir / "cli" / "gossipctl")
        self.node_seeds = dict(node_seeds or {})
        self.node_extra_ini = dict(node_extra_ini or {})
        self.ready_timeout = float(ready_timeout)
        self.placeholder = bool(placeholder)
        self.wait_ready_on_start = bool(wait_ready)
        self.template = str(template)
        self.run_id = None
        self.state = None
        self._procs = {}        # name -> Popen, for processes we started

    # ---- persistence -----------------------------------------------------

    @property
    def state_path(self):
        return self.state_dir / STATE_FILE

    @classmethod
    def load(cls, state_dir=None):
        """A Cluster for a run recorded in state_dir/state.json."""
        state_dir = Path(state_dir or DEFAULT_STATE_DIR).resolve()
        path = state_dir / STATE_FILE
        try:
            st = json.loads(path.read_text())
        except FileNotFoundError:
            raise ClusterError(f"no cluster recorded in {state_dir} "
                               f"({path} does not exist)") from None
        except (OSError, ValueError) as e:
            raise ClusterError(f"cannot read {path}: {e}") from e
        c = cls(n=len(st.get("nodes", {})), interval_ms=st.get("interval_ms", 200),
                build_dir=st.get("build_dir"), state_dir=state_dir,
                extra_ini=st.get("extra_ini"), seeds=st.get("seeds", []),
                no_huge=st.get("no_huge", False), lcores=st.get("lcores", DEFAULT_LCORES),
                mem_mb=st.get("mem_mb"), gossipd=st.get("gossipd"),
                gossipctl=st.get("gossipctl"), placeholder=st.get("placeholder", False),
                wait_ready=st.get("wait_ready", True),
                template=st.get("template", str(TEMPLATE)))
        c.run_id = st.get("run_id")
        c.state = st
        return c

    def save(self):
        if self.state is None:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.state, indent=2, sort_keys=False) + "\n")
        os.replace(tmp, self.state_path)

    # ---- names -----------------------------------------------------------

    @property
    def cluster(self):
        return f"gsp{self.run_id}"

    @property
    def bridge(self):
        return f"gb{self.run_id}"

    def _node(self, name):
        if self.state is None:
            raise ClusterError("cluster is not up")
        name = node_name(node_index(name))
        try:
            return self.state["nodes"][name]
        except KeyError:
            raise ClusterError(f"no node {name} in this cluster "
                               f"(have: {', '.join(self.names())})") from None

    def names(self):
        if self.state is None:
            return []
        return sorted(self.state["nodes"], key=node_index)

    def running(self):
        return [n for n in self.names() if self.is_running(n)]

    def netns(self, name):
        return self._node(name)["netns"]

    def port(self, name):
        """(host end of the node's veth, the MAC of its port): where a test
        writes frames that reach the node as sent, and their destination."""
        node = self._node(name)
        out = subprocess.run(["ip", "-n", node["netns"], "-j", "link", "show",
                              node["veth_peer"]], capture_output=True,
                             text=True, check=True, timeout=10).stdout
        return node["veth_host"], json.loads(out)[0]["address"]

    def address(self, name):
        return self._node(name)["address"]

    def log_path(self, name):
        return Path(self._node(name)["log"])

    def log(self, name):
        try:
            return self.log_path(name).read_text(errors="replace")
        except OSError:
            return ""

    def transitions(self, names=None):
        """[(t, observer, member, old, new)] from the nodes' logs (all
        their starts), in time order."""
        out = []
        for o in self.names() if names is None else names:
            out += log_transitions(self.log(o), o)
        return sorted(out)

    def config_path(self, name):
        return Path(self._node(name)["config"])

    def view_path(self, name):
        return Path(self._node(name)["view"])

    def socket_path(self, name):
        return Path(self._node(name)["socket"])

    def pid(self, name):
        return self._node(name).get("pid")

    def process(self, name):
        """The Popen of a node started by this process, else None."""
        return self._procs.get(node_name(node_index(name)))

    # ---- bring up --------------------------------------------------------

    def up(self):
        """Create the bridge and start nodes 1..n; tears down on failure."""
        if self.state is not None and self.state.get("status") != "down":
            raise ClusterError("this Cluster is already up")
        if os.geteuid() != 0:
            raise ClusterError("root is needed (netns, veth, bridge, DPDK)")
        if not self.placeholder:
            self._check_binaries()
        self._adopt_stale_state()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.run_id = self._new_run_id()
        self.state = {
            "version": 1,
            "run_id": self.run_id,
            "cluster": self.cluster,
            "bridge": self.bridge,
            "status": "starting",
            "created": datetime.datetime.now().isoformat(timespec="seconds"),
            "state_dir": str(self.state_dir),
            "build_dir": str(self.build_dir),
            "gossipd": self.gossipd,
            "gossipctl": self.gossipctl,
            "template": self.template,
            "interval_ms": self.interval_ms,
            "seeds": self.seeds,
            "extra_ini": self.extra_ini,
            "no_huge": self.no_huge,
            "mem_mb": self.mem_mb,
            "lcores": self.lcores,
            "placeholder": self.placeholder,
            "wait_ready": self.wait_ready_on_start,
            "nodes": {},
            "extra_netns": [],
            "extra_links": [],
            "extra_pids": [],
        }
        self.save()
        try:
            self._create_bridge()
            huge = (not self.no_huge) and hugepages_usable(self.n)
            for k in range(1, self.n + 1):
                self._create_node(k, self.node_seeds.get(k),
                                  self.node_extra_ini.get(k), huge=huge)
            for k in range(1, self.n + 1):
                self._launch(node_name(k))
            if self.wait_ready_on_start:
                for k in range(1, self.n + 1):
                    self.wait_ready(node_name(k))
            self.state["status"] = "up"
            self.save()
        except BaseException:
            try:
                self.down()
            except Exception as e:  # noqa: BLE001
                log_info(f"teardown after failed up also failed: {e}")
            raise
        return self

    def _check_binaries(self):
        missing = [p for p in (self.gossipd, self.gossipctl)
                   if not os.access(p, os.X_OK)]
        if missing:
            raise ClusterError("missing binaries: " + ", ".join(missing) +
                               " (build first: make build)")

    def _adopt_stale_state(self):
        """A previous run recorded in the same state dir is torn down."""
        if not self.state_path.exists():
            return
        try:
            old = Cluster.load(self.state_dir)
        except ClusterError as e:
            log_info(f"ignoring unreadable old state: {e}")
            return
        if old.state.get("status") != "down":
            log_info(f"tearing down previous run {old.run_id} recorded in "
                     f"{self.state_dir}")
            old.down()

    def _new_run_id(self):
        for _ in range(100):
            rid = secrets.token_hex(3)
            if not Path(f"/sys/class/net/gb{rid}").exists() and \
               not Path(f"/run/netns/gsp{rid}n1").exists():
                return rid
        raise ClusterError("cannot find an unused run id")

    def _create_bridge(self):
        br = self.bridge
        self.state["bridge_created"] = True
        self.save()
        run(["ip", "link", "add", br, "type", "bridge", "stp_state", "0",
             "forward_delay", "0", "mcast_snooping", "0"])
        self._sysctl(None, f"net.ipv6.conf.{br}.disable_ipv6", 1)
        run(["ip", "link", "set", br, "up"])

    @staticmethod
    def _sysctl(ns, key, value, check=False):
        cmd = ["sysctl", "-qw", f"{key}={value}"]
        if ns:
            cmd = ["ip", "netns", "exec", ns] + cmd
        return run(cmd, check=check)

    def _node_seeds(self, k, seeds):
        own = f"{SUBNET}{k}:{GOSSIP_PORT}"
        seeds = self.seeds if seeds is None else seeds
        return [s for s in (parse_seed(x) for x in seeds) if s != own]

    def _create_node(self, k, seeds=None, extra_ini=None, huge=None):
        """Record node k, create its netns/veth and write its config."""
        k = int(k)
        if not 1 <= k <= 254:
            raise ClusterError(f"node number out of range 1..254: {k}")
        name = node_name(k)
        if name in self.state["nodes"]:
            raise ClusterError(f"{name} already exists")
        r = self.run_id
        vh, vp = f"gv{r}k{k}", f"gp{r}k{k}"
        if max(len(vh), len(vp)) > IFNAMSIZ:
            raise ClusterError(f"interface name too long: {vh}")
        if huge is None:
            huge = (not self.no_huge) and hugepages_usable(1)
        node = {
            "k": k,
            "name": name,
            "netns": f"gsp{r}n{k}",
            "veth_host": vh,
            "veth_peer": vp,
            "address": f"{SUBNET}{k}",
            "port": GOSSIP_PORT,
            "file_prefix": f"gsp{r}n{k}",
            "seeds": self._node_seeds(k, seeds),
            "extra_ini": extra_ini,
            "huge": bool(huge),
            "config": str(self.state_dir / f"{name}.ini"),
            "log": str(self.state_dir / f"{name}.log"),
            "view": f"{SV_DIR}/gossipd.{self.cluster}.{name}",
            "socket": f"{SOCK_DIR}/{self.cluster}.{name}.sock",
            "status": "created",
            "pid": None,
            "pid_start": None,
            "starts": 0,
            "returncode": None,
        }
        self.state["nodes"][name] = node
        self.save()
        self._create_node_net(node)
        self._write_config(node)
        self.save()
        return node

    def _create_node_net(self, node):
        ns, vh, vp = node["netns"], node["veth_host"], node["veth_peer"]
        run(["ip", "netns", "add", ns])
        # new devices in the netns start with IPv6 off
        self._sysctl(ns, "net.ipv6.conf.all.disable_ipv6", 1)
        self._sysctl(ns, "net.ipv6.conf.default.disable_ipv6", 1)
        run(["ip", "link", "add", vh, "type", "veth", "peer", "name", vp])
        self._sysctl(None, f"net.ipv6.conf.{vh}.disable_ipv6", 1)
        run(["ip", "link", "set", vp, "netns", ns])
        self._sysctl(ns, f"net.ipv6.conf.{vp}.disable_ipv6", 1)
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", ns, "link", "set", vp, "up"])
        run(["ip", "link", "set", vh, "master", self.bridge])
        run(["ip", "link", "set", vh, "up"])

    def cluster_key(self):
        """The cluster's shared key (base64), made once per cluster."""
        path = self.state_dir / "cluster.key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        return path.read_text().strip()

    def _write_keyring(self, node, text):
        """Each node gets its own keyring file (gossipd rewrites it on a
        key rotation) holding the cluster key, unless its config chose
        plaintext or a keyring of its own."""
        if ini_get(text, "security", "mode") == "plaintext" or \
                ini_get(text, "security", "keyring"):
            return text
        path = self.state_dir / f"{node['name']}.keyring"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(self.cluster_key() + "\n")
        return ini_set(text, "security", "keyring", str(path))

    def _write_config(self, node):
        text = render_config(self.cluster, node["name"], node["address"],
                             node["seeds"], self.interval_ms,
                             [self.extra_ini, node.get("extra_ini")],
                             template=self.template)
        text = self._write_keyring(node, text)
        Path(node["config"]).write_text(text)
        view = ini_get(text, "control", "status_view")
        sock = ini_get(text, "control", "socket")
        if view:
            node["view"] = view
        if sock:
            node["socket"] = sock
        node["custom_view"] = bool(view)

    def _node_cmd(self, node):
        ns = node["netns"]
        if self.placeholder:
            return ["ip", "netns", "exec", ns, "sleep", "infinity"]
        if node.get("huge"):
            mem = ["-m", str(self.mem_mb or HUGE_MEM_MB), "--huge-unlink"]
        else:
            mem = ["--no-huge", "-m", str(self.mem_mb or NO_HUGE_MEM_MB)]
        return ["ip", "netns", "exec", ns, self.gossipd,
                "--lcores", self.lcores,
                "--file-prefix", node["file_prefix"],
                "--no-pci", "--no-telemetry",
                "--vdev", f"net_af_packet0,iface={node['veth_peer']},qpairs=1",
                *mem, "--", "--config", node["config"]]

    def _clean_node_runtime(self, node):
        """Leftovers of a node that is not running (a SIGKILLed one)."""
        for p in (node["view"], node["socket"]):
            _unlink(p)
        _rmtree(f"{DPDK_RUN_DIR}/{node['file_prefix']}")
        for p in glob.glob(f"{HUGE_DIR}/{glob.escape(node['file_prefix'])}map_*"):
            _unlink(p)

    def _launch(self, name):
        node = self._node(name)
        if self.is_running(name):
            raise ClusterError(f"{name} is already running (pid {node['pid']})")
        self._clean_node_runtime(node)
        cmd = self._node_cmd(node)
        node["starts"] += 1
        node["cmd"] = cmd
        with open(node["log"], "ab") as lf:
            stamp = datetime.datetime.now().isoformat(timespec="milliseconds")
            lf.write(f"=== {stamp} start #{node['starts']}: "
                     f"{shlex.join(cmd)}\n".encode())
            lf.flush()
            try:
                p = subprocess.Popen(cmd, cwd=str(self.state_dir),
                                     stdin=subprocess.DEVNULL, stdout=lf,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
            except OSError as e:
                raise ClusterError(f"cannot start {name}: {e}") from e
        st = proc_stat(p.pid)
        node.update(pid=p.pid, pid_start=st[0] if st else None,
                    status="running", returncode=None,
                    started=time.time())
        self._procs[name] = p
        self.save()
        return p

    def wait_ready(self, name, timeout=None):
        """Until `gossipctl --view` shows the node's status view with
        writer_alive true; NodeDied (with its log's tail) if it exits."""
        node = self._node(name)
        if self.placeholder:
            if not self.is_running(name):
                raise NodeDied(self._died_msg(name, "before becoming ready"))
            return {}
        timeout = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        last = "status view not created yet"
        while True:
            if not self.is_running(name):
                raise NodeDied(self._died_msg(name, "before becoming ready"))
            if os.path.exists(node["view"]):
                p = run([self.gossipctl, "--view", node["view"], "members",
                         "--json"], check=False, timeout=CTL_TIMEOUT)
                if p.returncode == 0:
                    try:
                        j = json.loads(p.stdout)
                    except ValueError as e:
                        last = f"bad JSON from gossipctl: {e}: {p.stdout[:200]!r}"
                    else:
                        if j.get("writer_alive") is True:
                            return j
                        last = f"writer_alive={j.get('writer_alive')!r}"
                else:
                    last = f"gossipctl exit {p.returncode}: {p.stderr.strip()[:300]}"
            if time.monotonic() >= deadline:
                raise ClusterError(
                    f"{name} not ready after {timeout:g}s ({last}); last 30 "
                    f"lines of {node['log']}:\n{tail(node['log'])}")
            time.sleep(POLL)

    def _died_msg(self, name, when):
        node = self._node(name)
        rc = self.returncode(name)
        return (f"{name} (pid {node.get('pid')}) exited {when}"
                f"{'' if rc is None else f' with status {rc}'}; last 30 lines "
                f"of {node['log']}:\n{tail(node['log'])}")

    # ---- process control -------------------------------------------------

    def is_running(self, name):
        node = self._node(name)
        p = self._procs.get(node["name"])
        if p is not None and p.pid == node.get("pid"):
            alive = p.poll() is None
            if not alive:
                node["returncode"] = p.returncode
            return alive
        return pid_alive(node.get("pid"), node.get("pid_start"))

    def returncode(self, name):
        node = self._node(name)
        p = self._procs.get(node["name"])
        if p is not None and p.pid == node.get("pid"):
            p.poll()
            node["returncode"] = p.returncode
        return node.get("returncode")

    def _signal_node(self, name, sig):
        node = self._node(name)
        if not self.is_running(name):
            return False
        try:
            os.kill(node["pid"], sig)
        except ProcessLookupError:
            return False
        return True

    def wait_exit(self, name, timeout=10.0):
        """Wait for a node's process to exit; its exit status when this
        process started it (else None).  AssertionError on timeout."""
        wait_until(lambda: not self.is_running(name), timeout,
                   f"{name} (pid {self.pid(name)}) to exit", interval=0.02)
        node = self._node(name)
        if node["status"] == "running":
            node["status"] = "exited"
        self.save()
        return self.returncode(name)

    def kill(self, name, sig=signal.SIGKILL, wait=True, timeout=10.0):
        """Send sig to the node; for TERM/INT/KILL wait until it is gone."""
        name = node_name(node_index(name))
        sig = _signum(sig)
        if not self._signal_node(name, sig):
            raise ClusterError(f"{name} is not running")
        if wait and sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            self.wait_exit(name, timeout)
            self._node(name)["status"] = "killed" if sig == signal.SIGKILL else "stopped"
            self.save()
        return self.returncode(name)

    def stop(self, name, timeout=STOP_TIMEOUT):
        """SIGTERM (gossipd leaves, then exits), polled until it exits;
        SIGKILL after `timeout` s.  The exit status when known (a node
        that needed SIGKILL: -9), ClusterError if it is still there."""
        name = node_name(node_index(name))
        if not self.is_running(name):
            raise ClusterError(f"{name} is not running")
        stuck = self._stop_many([name], timeout)
        if stuck:
            raise ClusterError(f"{name} did not exit: {stuck[0]}")
        return self.returncode(name)

    def start(self, name, wait=None):
        """(Re)start a stopped node with its recorded config."""
        name = node_name(node_index(name))
        self._launch(name)
        if self.wait_ready_on_start if wait is None else wait:
            self.wait_ready(name)
        return self

    def move(self, name, host):
        """Give a stopped node another address on the subnet (host part
        `host`) for its next start; returns the new IPv4 address."""
        name = node_name(node_index(name))
        if self.is_running(name):
            raise ClusterError(f"{name} is running: stop it before moving it")
        node = self._node(name)
        node["address"] = f"{SUBNET}{int(host)}"
        self._write_config(node)
        self.save()
        return node["address"]

    def reconfigure(self, name, extra_ini):
        """Give a stopped node other extra config (as node_extra_ini) for
        its next start."""
        name = node_name(node_index(name))
        if self.is_running(name):
            raise ClusterError(f"{name} is running: stop it before "
                               f"reconfiguring it")
        node = self._node(name)
        node["extra_ini"] = extra_ini
        self._write_config(node)
        self.save()

    def add_node(self, k, seeds=None, extra_ini=None, before_start=None,
                 wait=None):
        """Create and start node k later on.  seeds: as for the cluster
        (None = the cluster's); before_start(netns) runs once node k's
        netns exists and before gossipd starts (e.g. to start a DNS
        server inside it)."""
        if self.state is None:
            raise ClusterError("cluster is not up")
        name = node_name(k)
        node = self._create_node(k, seeds, extra_ini)
        if before_start is not None:
            before_start(node["netns"])
        self._launch(name)
        if self.wait_ready_on_start if wait is None else wait:
            self.wait_ready(name)
        return name

    def spawn_in_netns(self, netns, argv, log=None, label=None):
        """Start a helper (e.g. dnsmasq) inside a netns; down() kills it
        (by recorded pid) if the caller did not."""
        if log is None:
            log = self.state_dir / f"{label or Path(argv[0]).name}.log"
        with open(log, "ab") as lf:
            p = subprocess.Popen(["ip", "netns", "exec", netns, *argv],
                                 cwd=str(self.state_dir),
                                 stdin=subprocess.DEVNULL, stdout=lf,
                                 stderr=subprocess.STDOUT,
                                 start_new_session=True)
        st = proc_stat(p.pid)
        self.state["extra_pids"].append({
            "pid": p.pid, "start": st[0] if st else None,
            "label": label or argv[0], "log": str(log)})
        self._procs[f"extra:{p.pid}"] = p
        self.save()
        return p

    def add_netns(self, suffix):
        """A spare netns gsp<R><suffix>, deleted by down()."""
        ns = f"gsp{self.run_id}{suffix}"
        self.state["extra_netns"].append(ns)
        self.save()
        run(["ip", "netns", "add", ns])
        self._sysctl(ns, "net.ipv6.conf.all.disable_ipv6", 1)
        self._sysctl(ns, "net.ipv6.conf.default.disable_ipv6", 1)
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        return ns

    def add_tap(self, suffix="i", netns=None):
        """A spare veth pair: gv<R><suffix> on the bridge, gp<R><suffix> in
        netns (or the host namespace), both up without addresses; returns
        the name of the free end.  down() removes it."""
        vh, vp = f"gv{self.run_id}{suffix}", f"gp{self.run_id}{suffix}"
        if max(len(vh), len(vp)) > IFNAMSIZ:
            raise ClusterError(f"interface name too long: {vh}")
        self.state["extra_links"].append(vh)
        self.save()
        run(["ip", "link", "add", vh, "type", "veth", "peer", "name", vp])
        self._sysctl(None, f"net.ipv6.conf.{vh}.disable_ipv6", 1)
        if netns:
            run(["ip", "link", "set", vp, "netns", netns])
            self._sysctl(netns, f"net.ipv6.conf.{vp}.disable_ipv6", 1)
            run(["ip", "-n", netns, "link", "set", vp, "up"])
        else:
            self._sysctl(None, f"net.ipv6.conf.{vp}.disable_ipv6", 1)
            run(["ip", "link", "set", vp, "up"])
        run(["ip", "link", "set", vh, "master", self.bridge])
        run(["ip", "link", "set", vh, "up"])
        return vp

    # ---- teardown --------------------------------------------------------

    def _stop_many(self, names, timeout=STOP_TIMEOUT):
        names = [n for n in names if self.is_running(n)]
        for n in names:
            self._signal_node(n, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(self.is_running(n) for n in names):
            time.sleep(0.02)
        stuck = []
        for n in names:
            self._node(n)["stopped_by"] = "SIGTERM"
            if self.is_running(n):
                log_info(f"{n} (pid {self.pid(n)}) ignored SIGTERM for "
                         f"{timeout:g}s; sending SIGKILL")
                self._signal_node(n, signal.SIGKILL)
                self._node(n)["stopped_by"] = "SIGKILL"
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(self.is_running(n) for n in names):
            time.sleep(0.02)
        for n in names:
            node = self._node(n)
            if self.is_running(n):
                stuck.append(f"{n} (pid {node['pid']})")
            else:
                node["status"] = "stopped"
                self.returncode(n)
        self.save()
        return stuck

    def _stop_extra_pids(self):
        stuck = []
        for e in self.state.get("extra_pids", []):
            pid, start = e["pid"], e.get("start")
            p = self._procs.get(f"extra:{pid}")

            def alive():
                if p is not None:
                    return p.poll() is None
                return pid_alive(pid, start)
            for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
                if not alive():
                    break
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + wait
                while time.monotonic() < deadline and alive():
                    time.sleep(0.02)
            if alive():
                stuck.append(f"{e.get('label')} (pid {pid})")
        return stuck

    def down(self):
        """Stop everything this run started (gossipd: SIGTERM, so each node
        leaves, then SIGKILL after STOP_TIMEOUT) and remove its network and
        runtime files.  Idempotent; tolerates missing pieces.  Logs and
        configs stay in the state dir."""
        if self.state is None:
            return
        problems = []
        problems += self._stop_many(self.names())
        problems += self._stop_extra_pids()
        r = self.run_id
        for name in self.names():
            node = self._node(name)
            _del_netns(node["netns"], problems)
            _del_link(node["veth_host"], problems)
        for ns in self.state.get("extra_netns", []):
            _del_netns(ns, problems)
        for link in self.state.get("extra_links", []):
            _del_link(link, problems)
        _del_link(self.bridge, problems)
        if r and re.fullmatch(r"[0-9a-f]{6}", r):
            for name in self.names():
                node = self._node(name)
                _unlink(node["view"])
                _unlink(node["socket"])
            for p in glob.glob(f"{SV_DIR}/gossipd.gsp{r}.*"):
                _unlink(p)
            for p in glob.glob(f"{SOCK_DIR}/gsp{r}.*"):
                _unlink(p)
            for p in glob.glob(f"{DPDK_RUN_DIR}/gsp{r}*"):
                _rmtree(p)
            for p in glob.glob(f"{HUGE_DIR}/gsp{r}*"):
                _unlink(p)
        self.state["status"] = "down"
        self.state["stopped"] = datetime.datetime.now().isoformat(timespec="seconds")
        self.save()
        if problems:
            raise ClusterError("teardown incomplete: " + "; ".join(problems))

    # ---- gossipctl -------------------------------------------------------

    def ctl_argv(self, name, *args):
        node = self._node(name)
        if node.get("custom_view"):
            return [self.gossipctl, "--view", node["view"], *map(str, args)]
        return [self.gossipctl, "--node", node["name"], "--cluster",
                self.cluster, *map(str, args)]

    def ctl(self, name, *args, timeout=CTL_TIMEOUT, check=False):
        """Run gossipctl against a node; the CompletedProcess (text)."""
        argv = self.ctl_argv(name, *args)
        try:
            p = subprocess.run(argv, capture_output=True, text=True,
                               timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise ClusterError(f"gossipctl timed out after {timeout}s: "
                               f"{shlex.join(argv)}") from e
        if check and p.returncode != 0:
            raise ClusterError(f"{shlex.join(argv)} failed (exit "
                               f"{p.returncode}): {p.stderr.strip()}")
        return p

    def _ctl_json(self, name, *args):
        p = self.ctl(name, *args, "--json")
        if p.returncode != 0 and not self.is_running(name):
            raise NodeDied(self._died_msg(name, "unexpectedly"))
        # exit 3: the view is stale (writer_alive false), the JSON is there
        if p.returncode not in (0, 3) or not p.stdout.strip():
            raise ClusterError(f"gossipctl {' '.join(args)} --json on {name} "
                               f"failed (exit {p.returncode}): {p.stderr.strip()}")
        try:
            return json.loads(p.stdout)
        except ValueError as e:
            raise ClusterError(f"gossipctl {' '.join(args)} --json on {name}: "
                               f"bad JSON ({e}): {p.stdout[:300]!r}") from e

    def members(self, name):
        """Parsed `gossipctl members --json` of a node."""
        return self._ctl_json(name, "members")

    def fault(self, name, *args, check=False):
        """`gossipctl fault ARGS...` on a node (set/clear/block/unblock);
        the CompletedProcess."""
        return self.ctl(name, "fault", *args, check=check)

    def faults(self, name):
        """Parsed `gossipctl fault --json`: {spec, active, counters}."""
        return self._ctl_json(name, "fault")

    def stats(self, name):
        """Parsed `gossipctl stats --json` of a node."""
        return self._ctl_json(name, "stats")

    def member_map(self, name):
        """{member name: member record} as node `name` sees it."""
        return {m["name"]: m for m in self.members(name)["members"]}

    def views(self, observers=None):
        """{observer: {member name: record}} for running observers."""
        observers = self.running() if observers is None else observers
        return {o: self.member_map(o) for o in observers}

    def wait_until(self, predicate, timeout=30.0, what="condition",
                   interval=POLL):
        return wait_until(predicate, timeout, what, interval)

    def wait_converged(self, observers=None, expected=None, timeout=30.0,
                       interval=0.1):
        """Until every observer lists every expected member alive (and
        nothing else alive).  Defaults: all running nodes."""
        __tracebackhide__ = True
        observers = list(self.running() if observers is None else observers)
        expected = set(self.running() if expected is None else expected)

        def check():
            seen = {}
            ok = True
            for o in observers:
                mm = self.member_map(o)
                alive = {n for n, m in mm.items() if m.get("state") == "alive"}
                seen[o] = {n: m.get("state") for n, m in sorted(mm.items())}
                ok = ok and alive == expected
            return Observed(ok, seen)
        return wait_until(check, timeout,
                          f"{sorted(observers)} to list exactly "
                          f"{sorted(expected)} alive", interval)

    # ---- presentation ----------------------------------------------------

    def status_rows(self):
        rows = []
        for name in self.names():
            node = self._node(name)
            running = self.is_running(name)
            st = "running" if running else (
                node["status"] if node["status"] != "running" else "dead")
            view = node["view"] if os.path.exists(node["view"]) else "-"
            rows.append((name, str(node.get("pid") or "-") if running else "-",
                         st, node["netns"], f"{node['address']}:{node['port']}",
                         view))
        return rows

    def format_status(self):
        st = self.state or {}
        head = (f"run {self.run_id}  cluster {self.cluster}  bridge "
                f"{self.bridge}  status {st.get('status')}\n"
                f"state, configs and logs (nodeK.ini, nodeK.log): "
                f"{self.state_dir}")
        rows = [("NODE", "PID", "STATE", "NETNS", "ADDRESS", "STATUS VIEW")]
        rows += self.status_rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        lines = [head]
        for r in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)) +
                         "  " + r[-1])
        return "\n".join(lines)


def _signum(sig):
    if isinstance(sig, str):
        s = sig.upper()
        if s.isdigit():
            return signal.Signals(int(s))
        return signal.Signals[s if s.startswith("SIG") else "SIG" + s]
    return signal.Signals(int(sig))


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        _rmtree(path)
    except OSError as e:
        log_info(f"cannot remove {path}: {e}")


def _rmtree(path):
    shutil.rmtree(path, ignore_errors=True)


def _del_netns(ns, problems):
    if not os.path.exists(f"/run/netns/{ns}"):
        return
    p = run(["ip", "netns", "del", ns], check=False)
    if p.returncode != 0 and os.path.exists(f"/run/netns/{ns}"):
        problems.append(f"netns {ns}: {p.stderr.strip()}")


def _del_link(link, problems):
    if not os.path.exists(f"/sys/class/net/{link}"):
        return
    p = run(["ip", "link", "del", link], check=False)
    if p.returncode != 0 and os.path.exists(f"/sys/class/net/{link}"):
        problems.append(f"link {link}: {p.stderr.strip()}")


def teardown_state_dir(state_dir):
    """down() for whatever run is recorded in state_dir (no-op if none)."""
    if not (Path(state_dir) / STATE_FILE).exists():
        return False
    c = Cluster.load(state_dir)
    if c.state.get("status") == "down":
        return False
    c.down()
    return True


# --------------------------------------------------------------------------
# command line

def _cmd_up(a):
    seeds = parse_seed_list(a.seeds)
    extra = {}
    for item in a.set or []:
        m = re.fullmatch(r"([^.\s]+)\.([^=\s]+)=(.*)", item)
        if not m:
            raise ClusterError(f"--set wants SECTION.KEY=VALUE, got {item!r}")
        extra.setdefault(m.group(1), {})[m.group(2)] = m.group(3)
    for item in a.detector or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ClusterError(f"--detector wants KEY=VALUE, got {item!r}")
        extra.setdefault("detector", {})[key] = value
    faults = fault_ini(" ".join(a.fault or []))
    if faults:
        extra.setdefault("fault", {}).update(faults["fault"])
    c = Cluster(a.n, interval_ms=a.interval_ms, build_dir=a.build,
                state_dir=a.state, seeds=seeds, no_huge=a.no_huge,
                lcores=a.lcores, mem_mb=a.mem_mb, gossipd=a.gossipd,
                gossipctl=a.gossipctl, extra_ini=extra or None,
                placeholder=a.placeholder, wait_ready=not a.no_wait,
                ready_timeout=a.ready_timeout)
    t0 = time.monotonic()
    c.up()
    mem = "hugepages" if any(c._node(n)["huge"] for n in c.names()) else "no hugepages"
    print(c.format_status())
    print(f"{c.n} nodes up in {time.monotonic() - t0:.2f}s ({mem}); try: "
          f"{_self_cmd(a, 'ctl')} node1 members")
    return 0


def _self_cmd(a, sub):
    s = f"scripts/cluster {sub}"
    if Path(a.state).resolve() != DEFAULT_STATE_DIR:
        return f"{s} --state {shlex.quote(a.state)}"
    return s


def _cmd_down(a):
    if not (Path(a.state) / STATE_FILE).exists():
        print(f"nothing recorded in {a.state}")
        return 0
    c = Cluster.load(a.state)
    c.down()
    print(f"run {c.run_id} down (logs kept in {c.state_dir})")
    return 0


def _cmd_status(a):
    c = Cluster.load(a.state)
    print(c.format_status())
    return 0


def _cmd_kill(a):
    c = Cluster.load(a.state)
    rc = c.kill(a.node, a.signal, wait=not a.no_wait)
    print(f"{node_name(node_index(a.node))}: sent SIG{_signum(a.signal).name[3:]}"
          + ("" if rc is None else f", exit status {rc}"))
    return 0


def _cmd_stop(a):
    c = Cluster.load(a.state)
    name = node_name(node_index(a.node))
    rc = c.stop(name, a.timeout)
    if c._node(name).get("stopped_by") == "SIGKILL":
        print(f"{name}: still running {a.timeout:g}s after SIGTERM: killed")
        return 1
    print(f"{name}: exited after SIGTERM"
          + ("" if rc is None else f", exit status {rc}"))
    return 0


def _cmd_start(a):
    c = Cluster.load(a.state)
    c.start(a.node)
    name = node_name(node_index(a.node))
    print(f"{name} started, pid {c.pid(name)}")
    return 0


def _cmd_add(a):
    c = Cluster.load(a.state)
    seeds = None if a.seeds is None else parse_seed_list(a.seeds)
    name = c.add_node(a.k, seeds=seeds)
    print(f"{name} started, pid {c.pid(name)}")
    return 0


def _cmd_ctl(a):
    c = Cluster.load(a.state)
    args = a.args[1:] if a.args and a.args[0] == "--" else a.args
    return subprocess.run(c.ctl_argv(a.node, *args)).returncode


def _cmd_fault(a):
    c = Cluster.load(a.state)
    args = a.args[1:] if a.args and a.args[0] == "--" else a.args
    # `fault NODE drop=0.1 ...` is short for `fault NODE set drop=0.1 ...`
    if args and "=" in args[0]:
        args = ["set", *args]
    return subprocess.run(c.ctl_argv(a.node, "fault", *args)).returncode


def _cmd_log(a):
    c = Cluster.load(a.state)
    print(tail(c.log_path(a.node), a.lines))
    return 0


def build_parser():
    p = argparse.ArgumentParser(
        prog="cluster", description="Local gossipd cluster: one netns per "
        "node, veths on one bridge, DPDK af_packet.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state", default=str(DEFAULT_STATE_DIR),
                        help="state directory (default: %(default)s)")
    sub = p.add_subparsers(dest="cmd", required=True)

    up = sub.add_parser("up", parents=[common], help="start N nodes")
    up.add_argument("n", type=int)
    up.add_argument("--interval-ms", type=int, default=DEFAULT_INTERVAL_MS)
    up.add_argument("--seeds", default="1,2",
                    help="seed nodes (numbers or ip[:port], comma separated, "
                    "or 'none'; default %(default)s)")
    up.add_argument("--build", default=str(DEFAULT_BUILD_DIR),
                    help="meson build dir (default: %(default)s)")
    up.add_argument("--no-huge", action="store_true",
                    help="never use hugepages")
    up.add_argument("--mem-mb", type=int, default=None,
                    help=f"EAL -m (default {HUGE_MEM_MB} with hugepages, "
                    f"{NO_HUGE_MEM_MB} without)")
    up.add_argument("--lcores", default=DEFAULT_LCORES)
    up.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                    help="extra config for every node (repeatable)")
    up.add_argument("--fault", action="append", metavar="SPEC",
                    help="faults every node starts with, as [fault] "
                    "(e.g. 'drop=0.1 delay=5ms'; repeatable; docs/FAULTS.md)")
    up.add_argument("--detector", action="append", metavar="KEY=VALUE",
                    help="[detector] setting for every node (e.g. "
                    "swim=off, probe_interval=200ms; repeatable)")
    up.add_argument("--gossipd", default=None, help="gossipd binary")
    up.add_argument("--gossipctl", default=None, help="gossipctl binary")
    up.add_argument("--ready-timeout", type=float, default=READY_TIMEOUT)
    up.add_argument("--no-wait", action="store_true", help=argparse.SUPPRESS)
    # runs `sleep infinity` in each netns instead of gossipd: tests the
    # network plumbing and teardown without a gossipd build
    up.add_argument("--placeholder", action="store_true", help=argparse.SUPPRESS)
    up.set_defaults(fn=_cmd_up)

    d = sub.add_parser("down", parents=[common], help="stop everything")
    d.set_defaults(fn=_cmd_down)
    s = sub.add_parser("status", parents=[common], help="list nodes")
    s.set_defaults(fn=_cmd_status)

    sp = sub.add_parser("stop", parents=[common],
                        help="stop a node as `down` does: SIGTERM (it "
                        "leaves the cluster), SIGKILL if still running "
                        "after --timeout")
    sp.add_argument("node")
    sp.add_argument("--timeout", type=float, default=STOP_TIMEOUT,
                    help="seconds before SIGKILL (default %(default)g)")
    sp.set_defaults(fn=_cmd_stop)

    k = sub.add_parser("kill", parents=[common],
                       help="signal a node (default SIGKILL: a crash)")
    k.add_argument("node")
    k.add_argument("--signal", default="KILL",
                   help="signal name or number (default KILL)")
    k.add_argument("--no-wait", action="store_true",
                   help="do not wait for the node to exit")
    k.set_defaults(fn=_cmd_kill)

    st = sub.add_parser("start", parents=[common],
                        help="restart a stopped node with its config")
    st.add_argument("node")
    st.set_defaults(fn=_cmd_start)

    ad = sub.add_parser("add", parents=[common], help="start a new node K")
    ad.add_argument("k", type=int)
    ad.add_argument("--seeds", default=None,
                    help="its seeds (default: the cluster's)")
    ad.set_defaults(fn=_cmd_add)

    c = sub.add_parser("ctl", parents=[common],
                       help="run gossipctl against a node")
    c.add_argument("node")
    c.add_argument("args", nargs=argparse.REMAINDER)
    c.set_defaults(fn=_cmd_ctl)

    f = sub.add_parser("fault", parents=[common],
                       help="gossipctl fault on a node: [set] TOKEN...|clear|"
                       "block PEER|unblock PEER (no args: show)")
    f.add_argument("node")
    f.add_argument("args", nargs=argparse.REMAINDER)
    f.set_defaults(fn=_cmd_fault)

    lg = sub.add_parser("log", parents=[common], help="tail a node's log")
    lg.add_argument("node")
    lg.add_argument("-n", "--lines", type=int, default=30)
    lg.set_defaults(fn=_cmd_log)
    return p


def main(argv=None):
    # `ctl NODE ARGS...` passes options like --json through untouched
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    a = parser.parse_args(argv)
    try:
        return a.fn(a)
    except ClusterError as e:
        print(f"cluster: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cluster: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
