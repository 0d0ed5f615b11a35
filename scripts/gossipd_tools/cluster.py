# SPDX-License-Identifier: BSD-3-Clause
"""The Cluster facade: start and stop a local cluster of gossipd nodes.

Every node runs in its own network namespace, attached through a veth pair to
one Linux bridge per run; gossipd drives the namespace side of the veth with
DPDK's af_packet PMD and owns the node's IPv4 address itself (the kernel side
has no address).  Used by scripts/cluster (humans), scripts/demo, the soak, the benches and
the integration tests (tests/integration).  The work is done by network
(plumbing), config (INI), procs (processes) and ctl (gossipctl, logs);
this module records the run in state.json and names things.

Per run, with a random 6-hex-digit run id R:
  bridge        gb<R>                      (up, no address)
  node k        netns gsp<R>n<k>, veth gv<R>k<k> (host, on the bridge)
                                      <-> gp<R>k<k> (inside the netns)
  address       10.77.<k / 256>.<k % 256>:7946 (one /16: up to 65,534 nodes)
  cluster name  gsp<R>
The state directory holds state.json (everything needed to tear the run down
again from another process), node<k>.ini and node<k>.log.

Nothing is ever killed or removed unless this run recorded it: processes are
signalled by recorded pid *and* recorded start time (so a recycled pid is
never hit), and only names containing the run id are deleted.
"""
import datetime
import json
import os
import re
import secrets
import signal
import time
from pathlib import Path

from . import REPO, config, ctl, network, procs
from .config import (DEFAULT_INTERVAL_MS, DEFAULT_SEEDS, GOSSIP_PORT,
                     NET, TEMPLATE, fault_ini, ini_apply, ini_get, ini_set,
                     node_address, node_index, node_name, parse_seed,
                     parse_seed_list, render_config, with_keyring)
from .ctl import CTL_TIMEOUT, log_transitions
from .errors import ClusterError, NodeDied
from .procs import (DEFAULT_LCORES, HUGE_MEM_MB, HUGE_PAGES_PER_NODE,
                    NO_HUGE_MEM_MB, STOP_TIMEOUT, hugepages_usable)
from .run import log_info, run, signum, tail, unlink
from .timing import POLL, Observed, wait_until

# what scripts and tests use from here: the facade and the names they
# need with it
__all__ = ["Cluster", "ClusterError", "NodeDied", "Observed", "wait_until",
           "teardown_state_dir", "run", "tail", "ini_get", "ini_set",
           "ini_apply", "render_config", "fault_ini", "parse_seed_list",
           "node_name", "node_index", "hugepages_usable", "NET", "node_address",
           "GOSSIP_PORT", "STATE_FILE", "HUGE_PAGES_PER_NODE", "HUGE_MEM_MB",
           "NO_HUGE_MEM_MB", "DEFAULT_INTERVAL_MS", "DEFAULT_LCORES",
           "DEFAULT_STATE_DIR", "DEFAULT_BUILD_DIR", "READY_TIMEOUT",
           "STOP_TIMEOUT", "log_transitions"]

DEFAULT_STATE_DIR = REPO / "run" / "cluster"
DEFAULT_BUILD_DIR = REPO / "build"
READY_TIMEOUT = 20.0            # per node
STATE_FILE = "state.json"
PMDS = ("af_packet", "tap")     # a node's port (procs.node_vdev)


class Cluster:
    """A local gossipd cluster.  See the module docstring.

    Cluster(n, interval_ms=200, build_dir=None, state_dir=None,
            extra_ini=None, seeds=(1, 2), no_huge=False, ...)

    extra_ini applies to every node: {section: {key: value}} (value None
    deletes a key, a list gives repeated keys), or raw text appended.
    seeds: node numbers and/or "ip[:port]" strings; a node never lists its
    own address.  pmd: "af_packet" (the veth end, the default) or "tap"
    (net_tap, which has rx interrupts; its TAP is bridged to the veth
    inside the netns).  Per node, add_node()/node_extra_ini/node_seeds override.
    """

    def __init__(self, n=3, interval_ms=DEFAULT_INTERVAL_MS, build_dir=None,
                 state_dir=None, extra_ini=None, seeds=DEFAULT_SEEDS,
                 no_huge=False, lcores=DEFAULT_LCORES, mem_mb=None,
                 gossipd=None, gossipctl=None, node_seeds=None,
                 node_extra_ini=None, ready_timeout=READY_TIMEOUT,
                 placeholder=False, wait_ready=True, template=TEMPLATE,
                 pmd="af_packet", start_batch=0):
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
        if pmd not in PMDS:
            raise ClusterError(f"pmd {pmd!r}: want one of {', '.join(PMDS)}")
        self.pmd = pmd
        # 0: launch every node, then wait for each; K: launch K, wait
        # until they are ready, then the next K (EAL inits are CPU-bound:
        # hundreds at once starve the nodes already running)
        self.start_batch = int(start_batch)
        if self.start_batch < 0:
            raise ClusterError(f"start batch {start_batch}: want 0 or more")
        self.run_id = None
        self.state = None
        self.procs = procs.Processes()

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
                template=st.get("template", str(TEMPLATE)),
                pmd=st.get("pmd", "af_packet"))
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
        return node["veth_host"], network.link_mac(node["netns"],
                                                 node["veth_peer"])

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
        return self.procs.popen(node_name(node_index(name)))

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
            "pmd": self.pmd,
            "nodes": {},
            "extra_netns": [],
            "extra_links": [],
            "extra_pids": [],
        }
        self.save()
        try:
            self.state["bridge_created"] = True
            self.save()
            network.create_bridge(self.bridge)
            huge = (not self.no_huge) and hugepages_usable(self.n)
            for k in range(1, self.n + 1):
                self._create_node(k, self.node_seeds.get(k),
                                  self.node_extra_ini.get(k), huge=huge)
            batch = self.start_batch or self.n
            for first in range(1, self.n + 1, batch):
                ks = range(first, min(first + batch, self.n + 1))
                for k in ks:
                    self._launch(node_name(k))
                if self.wait_ready_on_start or self.start_batch:
                    for k in ks:
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
            if not network.link_exists(f"gb{rid}") and \
               not network.netns_exists(f"gsp{rid}n1"):
                return rid
        raise ClusterError("cannot find an unused run id")

    def _node_seeds(self, k, seeds):
        own = f"{node_address(k)}:{GOSSIP_PORT}"
        seeds = self.seeds if seeds is None else seeds
        return [s for s in (parse_seed(x) for x in seeds) if s != own]

    def _create_node(self, k, seeds=None, extra_ini=None, huge=None):
        """Record node k, create its netns/veth and write its config."""
        k = int(k)
        address = node_address(k)      # checks the range
        name = node_name(k)
        if name in self.state["nodes"]:
            raise ClusterError(f"{name} already exists")
        r = self.run_id
        vh, vp = f"gv{r}k{k}", f"gp{r}k{k}"
        network.check_ifname(vh, vp)
        if huge is None:
            huge = (not self.no_huge) and hugepages_usable(1)
        node = {
            "k": k,
            "name": name,
            "netns": f"gsp{r}n{k}",
            "veth_host": vh,
            "veth_peer": vp,
            "pmd": self.pmd,
            "tap": f"gt{r}k{k}",
            "address": address,
            "port": GOSSIP_PORT,
            "file_prefix": f"gsp{r}n{k}",
            "seeds": self._node_seeds(k, seeds),
            "extra_ini": extra_ini,
            "huge": bool(huge),
            "config": str(self.state_dir / f"{name}.ini"),
            "log": str(self.state_dir / f"{name}.log"),
            "view": ctl.view_path(self.cluster, name),
            "socket": ctl.socket_path(self.cluster, name),
            "status": "created",
            "pid": None,
            "pid_start": None,
            "starts": 0,
            "returncode": None,
        }
        self.state["nodes"][name] = node
        self.save()
        network.create_netns(node["netns"])
        network.create_veth(vh, vp, self.bridge, node["netns"])
        if self.pmd == "tap":
            network.netns_bridge(node["netns"], vp)
        self._write_config(node)
        self.save()
        return node

    def cluster_key(self):
        """The cluster's shared key (base64), made once per cluster."""
        return config.cluster_key(self.state_dir)

    def _write_config(self, node):
        text = render_config(self.cluster, node["name"], node["address"],
                             node["seeds"], self.interval_ms,
                             [self.extra_ini, node.get("extra_ini")],
                             template=self.template)
        text = with_keyring(text, self.state_dir, node["name"])
        Path(node["config"]).write_text(text)
        view = ini_get(text, "control", "status_view")
        sock = ini_get(text, "control", "socket")
        if view:
            node["view"] = view
        if sock:
            node["socket"] = sock
        node["custom_view"] = bool(view)

    def _launch(self, name):
        node = self._node(name)
        if self.is_running(name):
            raise ClusterError(f"{name} is already running (pid {node['pid']})")
        procs.clean_runtime(node)
        cmd = procs.node_cmd(node, self.gossipd, self.lcores, self.mem_mb,
                             self.placeholder)
        node["starts"] += 1
        node["cmd"] = cmd
        p, start = self.procs.spawn(cmd, node["log"], self.state_dir, key=name,
                                    banner=f"start #{node['starts']}")
        node.update(pid=p.pid, pid_start=start, status="running",
                    returncode=None, started=time.time())
        self.save()
        if node.get("pmd") == "tap":
            # a node that dies first says why in wait_ready
            node["tap_mac"] = network.attach_tap(
                node["netns"], node["tap"], lambda: self.is_running(name))
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
        while True:
            if not self.is_running(name):
                raise NodeDied(self._died_msg(name, "before becoming ready"))
            seen = ctl.view_ready(self.gossipctl, node["view"])
            if seen.ok:
                if node.get("pmd") == "tap":
                    self._tap_settled(name)
                return seen.value
            if time.monotonic() >= deadline:
                raise ClusterError(
                    f"{name} not ready after {timeout:g}s ({seen.value}); "
                    f"last 30 lines of {node['log']}:\n{tail(node['log'])}")
            time.sleep(POLL)

    def _tap_settled(self, name):
        """Once the node is ready its port has started: put a tap that
        _launch could not attach (its port took longer than attach_tap's
        wait, as on a host starting hundreds of nodes) on the bridge now,
        and give back the kernel side's MAC if the PMD set its own late.
        Either left alone, the node hears nothing, or broadcasts only."""
        node = self._node(name)
        if node.get("tap_mac"):
            network.keep_tap_mac(node["netns"], node["tap"], node["tap_mac"])
            return
        node["tap_mac"] = network.attach_tap(
            node["netns"], node["tap"], lambda: self.is_running(name))
        self.save()
        if not node["tap_mac"]:
            raise ClusterError(f"{name}: its tap {node['tap']} never came "
                               f"up in {node['netns']}")

    def _died_msg(self, name, when):
        node = self._node(name)
        rc = self.returncode(name)
        return (f"{name} (pid {node.get('pid')}) exited {when}"
                f"{'' if rc is None else f' with status {rc}'}; last 30 lines "
                f"of {node['log']}:\n{tail(node['log'])}")

    # ---- process control -------------------------------------------------

    def is_running(self, name):
        return self.procs.node_running(self._node(name))

    def returncode(self, name):
        return self.procs.node_returncode(self._node(name))

    def _signal_node(self, name, sig):
        return self.procs.signal_node(self._node(name), sig)

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
        sig = signum(sig)
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
        node["address"] = node_address(int(host))
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
        p, start = self.procs.spawn(["ip", "netns", "exec", netns, *argv],
                                    log, self.state_dir)
        self.state["extra_pids"].append({
            "pid": p.pid, "start": start,
            "label": label or argv[0], "log": str(log)})
        self.save()
        return p

    def add_netns(self, suffix):
        """A spare netns gsp<R><suffix>, deleted by down()."""
        ns = f"gsp{self.run_id}{suffix}"
        self.state["extra_netns"].append(ns)
        self.save()
        network.create_netns(ns)
        return ns

    def add_tap(self, suffix="i", netns=None):
        """A spare veth pair: gv<R><suffix> on the bridge, gp<R><suffix> in
        netns (or the host namespace), both up without addresses;
        returns the name of the free end.  down() removes it."""
        vh, vp = f"gv{self.run_id}{suffix}", f"gp{self.run_id}{suffix}"
        network.check_ifname(vh, vp)
        self.state["extra_links"].append(vh)
        self.save()
        network.create_veth(vh, vp, self.bridge, netns)
        return vp

    # ---- teardown --------------------------------------------------------

    def _stop_many(self, names, timeout=STOP_TIMEOUT):
        stuck = self.procs.stop_nodes([self._node(n) for n in names], timeout)
        self.save()
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
        problems += self.procs.stop_helpers(self.state.get("extra_pids", []))
        r = self.run_id
        for name in self.names():
            node = self._node(name)
            network.delete_netns(node["netns"], problems)
            network.delete_link(node["veth_host"], problems)
        for ns in self.state.get("extra_netns", []):
            network.delete_netns(ns, problems)
        for link in self.state.get("extra_links", []):
            network.delete_link(link, problems)
        network.delete_link(self.bridge, problems)
        if r and re.fullmatch(r"[0-9a-f]{6}", r):
            for name in self.names():
                node = self._node(name)
                unlink(node["view"])
                unlink(node["socket"])
            ctl.clean_run(f"gsp{r}")
            procs.clean_run(r)
        self.state["status"] = "down"
        self.state["stopped"] = datetime.datetime.now().isoformat(timespec="seconds")
        self.save()
        if problems:
            raise ClusterError("teardown incomplete: " + "; ".join(problems))

    # ---- gossipctl -------------------------------------------------------

    def ctl_argv(self, name, *args):
        return ctl.argv(self.gossipctl, self.cluster, self._node(name), *args)

    def ctl(self, name, *args, timeout=CTL_TIMEOUT, check=False):
        """Run gossipctl against a node; the CompletedProcess (text)."""
        return ctl.call(self.ctl_argv(name, *args), timeout, check)

    def _ctl_json(self, name, *args):
        p = self.ctl(name, *args, "--json")
        if p.returncode != 0 and not self.is_running(name):
            raise NodeDied(self._died_msg(name, "unexpectedly"))
        return ctl.parse_json(p, f"{' '.join(args)} --json on {name}")

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


def teardown_state_dir(state_dir):
    """down() for whatever run is recorded in state_dir (no-op if none)."""
    if not (Path(state_dir) / STATE_FILE).exists():
        return False
    c = Cluster.load(state_dir)
    if c.state.get("status") == "down":
        return False
    c.down()
    return True


