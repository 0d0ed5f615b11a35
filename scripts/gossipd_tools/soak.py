# SPDX-License-Identifier: BSD-3-Clause
"""The chaos soak (scripts/soak, docs/RELIABILITY.md): its schedule, the
writers and the run that drives faults, floods and checks."""

import base64
import datetime
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import REPO
from . import cluster as launcher
from .config import PREFIX_LEN
from .cluster import (NET, ClusterError, Observed, node_name, tail,
                      wait_until)
from .frames import key_id
from .run import sayer
from .soak_report import counter_delta, drops_of, host_cpu, proc_cpu

say = sayer("soak", sys.stdout)
SOAK = REPO / "scripts" / "soak"        # runs the workers: --flood-worker
CYCLE_S = 150.0
LOSS = 0.1
STOP_S = 5.0
WRITE_KEYS = ("w0", "w1")
CTL_TIMEOUT = 8.0               # gossipctl gives up after 3 s itself
FLOOD_ADDR = f"{NET}.255.250"  # on the nodes' /16, far from any node
SANITIZER_RE = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|"
                          r"UndefinedBehaviorSanitizer")


def clamp(x, lo, hi):
    return max(lo, min(hi, x))


# --------------------------------------------------------------------------
# the schedule

def build_schedule(duration_s, nodes, cycles=None):
    """[(t, kind, params)] sorted by t (seconds from the start)."""
    if cycles is None:
        cycles = max(1, round(duration_s / CYCLE_S))
    c_len = duration_s / cycles
    names = [node_name(k) for k in range(1, nodes + 1)]
    half = nodes // 2
    ev = [(2.0, "loss", {"on": True})]
    for i in range(cycles):
        c0 = i * c_len
        part = clamp(c_len / 5, 10.0, 40.0)
        kill_down = clamp(c_len / 20, 3.0, 10.0)
        flood_s = clamp(c_len / 16, 5.0, 15.0)
        # three different nodes per cycle, another three the next one
        stopped = names[(2 + 3 * i) % nodes]
        killed = names[(5 + 3 * i) % nodes]
        flooded = names[(1 + 3 * i) % nodes]
        ev += [
            (c0 + 0.10 * c_len, "partition",
             {"a": names[:half], "b": names[half:]}),
            (c0 + 0.10 * c_len + part, "heal", {}),
            (c0 + 0.10 * c_len + 0.4 * part, "sigstop", {"node": stopped}),
            (c0 + 0.10 * c_len + 0.4 * part + STOP_S, "sigcont",
             {"node": stopped}),
            (c0 + 0.40 * c_len, "kill", {"node": killed}),
            (c0 + 0.40 * c_len + kill_down, "restart", {"node": killed}),
            (c0 + 0.42 * c_len, "rotate", {"cycle": i}),
            (c0 + 0.50 * c_len, "flood", {"node": flooded,
                                          "seconds": flood_s}),
            (c0 + 0.70 * c_len, "edges", {
                "claim": names[(4 + 3 * i) % nodes],
                "replay": names[(6 + 3 * i) % nodes],
                "future": names[(7 + 3 * i) % nodes], "seconds": 3.0}),
        ]
    ev.append((duration_s, "end", {}))
    return sorted(ev, key=lambda e: e[0])


# --------------------------------------------------------------------------
# the writers

class Writer(threading.Thread):
    """`gossipctl set` in a loop on one node; remembers what was
    acknowledged (exit 0) for the node's current process."""

    def __init__(self, c, name, interval, stop):
        super().__init__(name=f"writer-{name}", daemon=True)
        self.node = name
        self.argv = c.ctl_argv(name)
        self.interval = interval
        self.stop_ev = stop
        self.lock = threading.Lock()    # held for each request
        self.value = 0
        self.acked = {}                 # key -> last acknowledged value
        self.sent_max = {}              # key -> largest value sent
        self.n_sent = self.n_acked = self.n_failed = 0
        self.superseded = 0
        self.last_error = ""

    def run(self):
        while not self.stop_ev.is_set():
            with self.lock:
                self.value += 1
                key = WRITE_KEYS[self.value % len(WRITE_KEYS)]
                self.sent_max[key] = self.value
                self.n_sent += 1
                try:
                    p = subprocess.run(self.argv + ["set", key,
                                                    str(self.value)],
                                       capture_output=True, text=True,
                                       timeout=CTL_TIMEOUT,
                                       stdin=subprocess.DEVNULL)
                    ok = p.returncode == 0
                    if not ok:
                        self.last_error = p.stderr.strip()[:200]
                except subprocess.TimeoutExpired:
                    ok = False
                    self.last_error = "gossipctl timed out"
                if ok:
                    self.acked[key] = self.value
                    self.n_acked += 1
                else:
                    self.n_failed += 1
            self.stop_ev.wait(self.interval)

    def new_process(self):
        """The node was killed (call with self.lock held): what its old
        process acknowledged went with it."""
        self.superseded += len(self.acked)
        self.acked = {}


# --------------------------------------------------------------------------
# the soak

class Soak:
    def __init__(self, c, a, rec):
        self.c = c
        self.a = a
        self.rec = rec
        self.names = c.names()
        self.lock = threading.Lock()
        self.t0 = None                  # wall clock of the start
        self.m0 = None                  # monotonic of the start
        self.stop_all = threading.Event()
        self.loss = False
        self.partition = None           # (half a, half b) while active
        self.fault_ver = {n: 0 for n in self.names}
        self.fault_done = {n: -1 for n in self.names}
        self.killed = set()             # not running on purpose
        self.stopped = set()            # SIGSTOPped
        self.kills = []                 # {"node", "t", "rc", "restart_t"}
        self.unexpected = {}            # node -> what happened
        self.windows = []               # (t0, t1|None, kind, obs, members)
        self.recoveries = []            # {"after", "t", "converged_s"}
        self.pending = []
        self.cpu = {n: 0.0 for n in self.names}     # of ended processes
        self.wall = {n: 0.0 for n in self.names}
        self.stats_gone = {n: [] for n in self.names}  # before each kill
        self.rotations = []
        self.floods = []
        self.edges = []
        self.timeline = []              # (t, pairs not alive)
        self.errors = []                # soak-side problems (not checks)
        self.threads = []
        self.writers = {n: Writer(c, n, a.write_interval, self.stop_all)
                        for n in self.names}

    # ---- helpers ---------------------------------------------------------

    def now(self):
        return time.monotonic() - self.m0

    def log(self, msg):
        say(f"[{self.now():7.1f}s] {msg}")

    def thread(self, fn, *args):
        t = threading.Thread(target=self._guard, args=(fn, *args),
                             daemon=True)
        t.start()
        self.threads.append(t)

    def _guard(self, fn, *args):
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - recorded, reported
            self.errors.append(f"{fn.__name__}: {type(e).__name__}: {e}")
            self.log(f"error in {fn.__name__}: {e}")

    def live(self):
        """Nodes that should be up and answering."""
        return [n for n in self.names
                if n not in self.killed and n not in self.unexpected]

    def ctl_retry(self, name, args, until_s=60.0, stoppable=True):
        """gossipctl on a node until it exits 0 (a stopped or restarting
        node makes it fail for a while); the CompletedProcess."""
        deadline = time.monotonic() + until_s
        last = None
        while time.monotonic() < deadline and not (
                stoppable and self.stop_all.is_set()):
            if name in self.killed or not self.c.is_running(name):
                time.sleep(0.2)
                continue
            try:
                last = self.c.ctl(name, *args, timeout=CTL_TIMEOUT)
            except ClusterError as e:
                last = e
            else:
                if last.returncode == 0:
                    return last
            time.sleep(0.3)
        raise ClusterError(f"gossipctl {' '.join(args)} on {name} did not "
                           f"succeed within {until_s:g}s: "
                           f"{getattr(last, 'stderr', last)}")

    # ---- faults: each node converges to the spec it should have ---------

    def fault_spec(self, name):
        tokens = ["clear"]
        if self.loss:
            tokens.append(f"drop={LOSS}")
        if self.partition:
            a, b = self.partition
            other = b if name in a else a if name in b else []
            tokens += [f"block={self.c.address(o)}" for o in other]
        return tokens

    def faults_changed(self):
        with self.lock:
            for n in self.names:
                self.fault_ver[n] += 1

    def fault_reconciler(self):
        """Sets each running node's faults to fault_spec() whenever they
        changed or the node restarted; retries a node that does not
        answer (stopped)."""
        while not self.stop_all.is_set():
            for n in self.names:
                with self.lock:
                    ver = self.fault_ver[n]
                    todo = ver != self.fault_done[n]
                    spec = self.fault_spec(n)
                if not todo or n in self.killed or not self.c.is_running(n):
                    continue
                try:
                    p = self.c.fault(n, "set", *spec)
                except ClusterError:
                    continue
                if p.returncode == 0:
                    with self.lock:
                        self.fault_done[n] = ver
            time.sleep(0.2)

    def faults_settled(self):
        with self.lock:
            return all(self.fault_done[n] == self.fault_ver[n]
                       for n in self.live())

    # ---- events ------------------------------------------------------------

    def ev_loss(self, p):
        self.loss = p["on"]
        self.faults_changed()
        self.log(f"{LOSS:.0%} loss on every node" if self.loss
                 else "loss off")

    def ev_partition(self, p):
        self.partition = (p["a"], p["b"])
        self.faults_changed()
        self.open_window("partition", p["a"], p["b"])
        self.open_window("partition", p["b"], p["a"])
        self.log(f"partition {','.join(p['a'])} | {','.join(p['b'])}")

    def ev_heal(self, p):
        self.partition = None
        self.faults_changed()
        self.close_windows("partition")
        self.log("partition healed")
        self.expect_recovery("heal")

    def ev_sigstop(self, p):
        n = p["node"]
        if n in self.killed or not self.c.is_running(n):
            return
        self.stopped.add(n)
        self.c.kill(n, signal.SIGSTOP, wait=False)
        self.open_window("stop", None, [n])
        self.log(f"SIGSTOP {n}")

    def ev_sigcont(self, p):
        n = p["node"]
        if n not in self.stopped:
            return
        self.c.kill(n, signal.SIGCONT, wait=False)
        self.stopped.discard(n)
        self.close_windows("stop", n)
        self.log(f"SIGCONT {n}")
        self.expect_recovery(f"resume {n}")

    def ev_kill(self, p):
        n = p["node"]
        if n in self.stopped or not self.c.is_running(n):
            self.log(f"kill {n} skipped: not running or stopped")
            return
        w = self.writers[n]
        with w.lock:            # no request of the writer in flight
            cpu, wall = proc_cpu(self.c, n)
            try:
                self.stats_gone[n].append(self.c.stats(n))
            except ClusterError as e:
                self.errors.append(f"stats of {n} before its kill: {e}")
            self.killed.add(n)
            self.open_window("kill", None, [n])
            t = time.time()
            rc = self.c.kill(n, signal.SIGKILL, timeout=20)
            self.cpu[n] += cpu
            self.wall[n] += wall
            w.new_process()
        self.kills.append({"node": n, "t": round(t - self.t0, 2), "rc": rc})
        self.log(f"SIGKILL {n}: exit status {rc}")

    def ev_restart(self, p):
        self.thread(self._restart, p["node"])

    def _restart(self, n):
        self.c.start(n)
        with self.lock:
            self.fault_done[n] = -1     # its faults again, from scratch
            self.killed.discard(n)
        self.close_windows("kill", n)
        self.kills[-1]["restart_t"] = round(time.time() - self.t0, 2)
        self.log(f"{n} restarted (pid {self.c.pid(n)})")
        self.expect_recovery(f"restart {n}", restarted=n)

    def ev_rotate(self, p):
        self.thread(self._rotate, p["cycle"])

    def _rotate(self, cycle):
        t = self.now()
        path = self.c.state_dir / f"soak-key-{self.c.run_id}-{cycle}.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        new = f"{key_id(base64.b64decode(path.read_text().strip())):08x}"
        r = {"cycle": cycle, "new": new, "start_s": round(t, 1)}
        self.log(f"key rotation {cycle}: installing {new}")
        old = {n: json.loads(self.ctl_retry(n, ["keys", "--json"]).stdout)
               ["primary"] for n in self.names}
        r["old"] = sorted(set(old.values()))
        for n in self.names:
            self.ctl_retry(n, ["keys", "install", str(path)])
        r["installed_s"] = round(self.now() - t, 1)
        for n in self.names:
            self.ctl_retry(n, ["keys", "use", new])
        r["used_s"] = round(self.now() - t, 1)
        # nobody seals with the old key any more (docs/SECURITY.md)
        r["rx_key_other_quiet"] = self.wait_key_other_quiet(30.0)
        for n in self.names:
            for kid in r["old"]:
                if kid != new:
                    self.ctl_retry(n, ["keys", "remove", kid])
        r["removed_s"] = round(self.now() - t, 1)
        self.rotations.append(r)
        self.log(f"key rotation {cycle} done in {r['removed_s']} s: "
                 f"{','.join(r['old'])} -> {new}")

    def wait_key_other_quiet(self, bound):
        deadline = time.monotonic() + bound
        prev = None
        while time.monotonic() < deadline:
            cur = {}
            for n in self.live():
                try:
                    cur[n] = self.c.stats(n)["security"]["rx_key_other"]
                except (ClusterError, KeyError):
                    cur[n] = None
            if prev is not None and cur == prev and None not in cur.values():
                return True
            prev = cur
            time.sleep(max(1.0, 3 * self.a.interval_ms / 1000))
        return False

    def ev_flood(self, p):
        self.thread(self._flood, p["node"], p["seconds"])

    def _flood(self, n, seconds):
        keys = [str(self.c.state_dir / "cluster.key")] + sorted(
            str(x) for x in self.c.state_dir.glob(
                f"soak-key-{self.c.run_id}-*.key"))
        before = self.c.stats(n)
        cpu0 = proc_cpu(self.c, n)
        params = {"targets": [self.c.address(n)],
                  "port": launcher.GOSSIP_PORT,
                  "seconds": seconds, "pps": self.a.flood_pps,
                  "cluster": self.c.cluster, "key_files": keys,
                  "ifname": self.flood_if, "source": FLOOD_ADDR,
                  "seed": self.a.seed * 1000 + len(self.floods)}
        self.log(f"junk flood at {n} for {seconds:g} s, at most "
                 f"{self.a.flood_pps} pps")
        proc = self.c.spawn_in_netns(self.flood_ns, [
            sys.executable, str(SOAK), "--flood-worker",
            json.dumps(params)], label="flood")
        log = self.c.state_dir / "flood.log"
        try:
            proc.wait(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        res = {}
        lines = [ln for ln in log.read_text(errors="replace").splitlines()
                 if ln.startswith("{")]
        if lines:
            res = json.loads(lines[-1])
        after = self.c.stats(n)
        cpu1 = proc_cpu(self.c, n)
        res["target_cpu_pct"] = round(100 * (cpu1[0] - cpu0[0]) / max(
            cpu1[1] - cpu0[1], 1e-9), 1)
        res.update(node=n, exit=proc.returncode,
                   drops=counter_delta(drops_of(before), drops_of(after)))
        self.floods.append(res)
        self.log(f"flood at {n} done: {res.get('total', 0)} datagrams/frames"
                 f" ({res.get('pps', 0)} pps), exit {proc.returncode}")

    # ---- windows of expected verdicts and recoveries ----------------------

    def ev_edges(self, p):
        self.thread(self._edges, p)

    def _edges(self, p):
        c = self.c
        primary = json.loads(self.ctl_retry("node1", ["keys", "--json"])
                             .stdout)["primary"]
        key = [str(x) for x in [c.state_dir / "cluster.key"] + sorted(
            c.state_dir.glob(f"soak-key-{c.run_id}-*.key"))
               if f"{key_id(base64.b64decode(x.read_text().strip())):08x}"
               == primary]
        nodes = []
        for n in self.live():
            j = c.members(n)
            nodes.append({"name": n, "ip": c.address(n),
                          "id": int(j["self_id"], 16),
                          "generation": j["generation"]})
        before = {n["name"]: c.stats(n["name"]) for n in nodes}
        members = [p["claim"], p["replay"], p["future"]]
        self.open_window("edges", None, members)
        self.log(f"edge values from a key holder for {p['seconds']:g} s: "
                 f"claims about {p['claim']} at incarnation 2^32-1, its "
                 f"version 2^64-1, {p['future']} a day ahead, "
                 f"{p['replay']}'s id at seq 2^64-2")
        params = {"targets": [n["ip"] for n in nodes], "nodes": nodes,
                  "port": launcher.GOSSIP_PORT, "key_files": key,
                  "cluster": c.cluster, "ifname": self.flood_if,
                  "source": FLOOD_ADDR, "seconds": p["seconds"],
                  "seed": self.a.seed * 1000 + 500 + len(self.edges),
                  **{k: p[k] for k in ("claim", "replay", "future")}}
        proc = c.spawn_in_netns(self.flood_ns, [
            sys.executable, str(SOAK), "--edges-worker",
            json.dumps(params)], label="edges")
        try:
            proc.wait(timeout=p["seconds"] + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self.close_windows("edges")
        lines = [ln for ln in (c.state_dir / "edges.log").read_text(
            errors="replace").splitlines() if ln.startswith("{")]
        res = json.loads(lines[-1]) if lines else {}
        res.update(exit=proc.returncode, at_s=round(self.now(), 1),
                   key=primary,
                   **{k: p[k] for k in ("claim", "replay", "future")})
        deltas = {}
        for n in nodes:
            try:
                after = c.stats(n["name"])
            except ClusterError:
                continue
            b, a2 = before[n["name"]], after
            for k in ("renewals", "implausible"):
                d = a2["security"].get(k, 0) - b["security"].get(k, 0)
                if d:
                    deltas.setdefault(k, {})[n["name"]] = d
            for k, v in counter_delta(drops_of(b), drops_of(a2)).items():
                if k.startswith("rx_drop."):
                    deltas[k] = deltas.get(k, 0) + v
        res["effects"] = deltas
        self.edges.append(res)
        self.log(f"edge values done: {res.get('sent')}, effects {deltas}")
        self.expect_recovery("edge values")

    def open_window(self, kind, observers, members):
        with self.lock:
            self.windows.append([time.time(), None, kind,
                                 None if observers is None else
                                 list(observers), list(members)])

    def close_windows(self, kind, member=None):
        with self.lock:
            for w in self.windows:
                if w[2] == kind and w[1] is None and \
                        (member is None or member in w[4]):
                    w[1] = time.time()

    def expect_recovery(self, what, restarted=None):
        gen = None
        if restarted:
            try:
                gen = self.c.members(restarted)["generation"]
            except ClusterError:
                pass
        with self.lock:
            self.pending.append({"after": what, "t": time.monotonic(),
                                 "at_s": round(self.now(), 1),
                                 "node": restarted, "generation": gen})

    def converged(self, views, live):
        """Every live node lists every live node it can reach alive (during
        a partition, those of its own half)."""
        part = self.partition
        for o in live:
            mm = views.get(o)
            if mm is None:
                return False
            reach = live if not part else [
                n for n in live if (n in part[0]) == (o in part[0])]
            if any(mm.get(n, {}).get("state") != "alive" for n in reach):
                return False
        return True

    def monitor(self):
        """Crashes, recoveries and a timeline of unhealthy pairs."""
        last_tl = -1e9
        while not self.stop_all.is_set():
            for n in self.names:
                if n in self.killed or n in self.unexpected:
                    continue
                if not self.c.is_running(n):
                    rc = self.c.returncode(n)
                    self.unexpected[n] = {
                        "t": round(self.now(), 1), "exit": rc,
                        "log": tail(self.c.log_path(n), 40)}
                    self.log(f"{n} EXITED unexpectedly, status {rc}")
            live = [n for n in self.live() if n not in self.stopped]
            views = {}
            for o in live:
                try:
                    views[o] = self.c.member_map(o)
                except ClusterError:
                    pass
            bad = sum(1 for o in live for n in live
                      if views.get(o, {}).get(n, {}).get("state") != "alive")
            if time.monotonic() - last_tl >= 5.0:
                self.timeline.append((round(self.now(), 1), bad))
                last_tl = time.monotonic()
            ok = self.converged(views, live)
            with self.lock:
                for r in list(self.pending):
                    gen_ok = r["node"] is None or r["generation"] is None or \
                        all(views.get(o, {}).get(r["node"], {}).get(
                            "generation") == r["generation"] for o in live)
                    if ok and gen_ok:
                        r["converged_s"] = round(time.monotonic() - r["t"], 2)
                        del r["t"]
                        self.recoveries.append(r)
                        self.pending.remove(r)
                        self.log(f"converged {r['converged_s']} s after "
                                 f"{r['after']}")
            time.sleep(0.5)

    # ---- the run -------------------------------------------------------------

    def setup_flood_netns(self):
        self.flood_ns = self.c.add_netns("f")
        self.flood_if = self.c.add_tap("f", netns=self.flood_ns)
        launcher.run(["ip", "-n", self.flood_ns, "addr", "add",
                         f"{FLOOD_ADDR}/{PREFIX_LEN}", "dev", self.flood_if])

    def run(self):
        a = self.a
        duration = a.minutes * 60
        sched = build_schedule(duration, len(self.names), a.cycles)
        self.rec["schedule"] = [{"t": round(t, 1), "kind": k, **p}
                                for t, k, p in sched]
        for t, k, p in sched:
            say(f"  schedule {t:7.1f}s {k} "
                f"{' '.join(f'{x}={y}' for x, y in p.items())}")
        self.t0 = time.time()
        self.m0 = time.monotonic()
        self.host0 = host_cpu()
        self.rec["started"] = datetime.datetime.now().isoformat(
            timespec="seconds")
        for w in self.writers.values():
            w.start()
        for fn in (self.fault_reconciler, self.monitor):
            self.thread(fn)
        self.background = self.threads
        self.threads = []
        for t, kind, p in sched:
            while self.now() < t:
                time.sleep(min(0.2, t - self.now()))
            if kind == "end":
                break
            getattr(self, f"ev_{kind}")(p)
        self.log("faults over: stopping the writers, clearing every fault")
        return self.finish()

    def finish(self):
        a, c = self.a, self.c
        for n in list(self.stopped):
            self.ev_sigcont({"node": n})
        # the writers' last acknowledgements are final from here on
        stop_writers = threading.Event()
        for w in self.writers.values():
            w.stop_ev = stop_writers
        stop_writers.set()
        for w in self.writers.values():
            w.join(timeout=CTL_TIMEOUT + 5)
        for t in self.threads:          # restarts, rotations, floods
            t.join(timeout=120)
        self.loss = False
        self.partition = None
        self.faults_changed()
        self.close_windows("partition")
        t_clear = time.monotonic()
        try:
            wait_until(self.faults_settled, 60, "every node's faults "
                       "cleared", interval=0.2)
        except AssertionError as e:
            self.errors.append(str(e))
        self.stop_all.set()
        for t in self.background:
            t.join(timeout=30)
        live = self.live()
        settle = {}
        try:
            wait_until(lambda: self.converged(
                {o: c.member_map(o) for o in live}, live), a.settle_s,
                "every live node to list every live node alive",
                interval=0.5)
            settle["converged_s"] = round(time.monotonic() - t_clear, 2)
        except AssertionError as e:
            settle["converged_s"] = None
            settle["error"] = str(e)[:500]
        self.log(f"settled: {settle}")
        t_w = time.monotonic()
        try:
            wait_until(lambda: Observed(*self.writes_ok(live)), a.settle_s,
                       "every acknowledged write on every live node",
                       interval=0.5)
            settle["writes_s"] = round(time.monotonic() - t_w, 2)
        except AssertionError:
            settle["writes_s"] = None
        self.rec["settle"] = settle
        return self.checks(live)

    # ---- checks --------------------------------------------------------------

    def writes_ok(self, live):
        """(all there, [problems])."""
        problems = []
        for o in live:
            mm = self.c.member_map(o)
            for wname, w in self.writers.items():
                if wname not in live:
                    continue
                app = mm.get(wname, {}).get("app", {})
                for key, want in w.acked.items():
                    held = app.get(key)
                    try:
                        v = int(held)
                    except (TypeError, ValueError):
                        v = None
                    if v is None or v < want or v > w.sent_max[key]:
                        problems.append({"observer": o, "writer": wname,
                                         "key": key, "held": held,
                                         "acked": want,
                                         "sent_max": w.sent_max[key]})
        return not problems, problems

    def checks(self, live):
        c = self.c
        checks = {}
        # no_crash (the teardown part is added by main)
        crash = []
        for n, u in self.unexpected.items():
            crash.append(f"{n} exited during the run with status "
                         f"{u['exit']} at {u['t']} s")
        for n in self.names:
            if n not in self.unexpected and not c.is_running(n):
                crash.append(f"{n} is not running at the end")
        for k in self.kills:
            if k["rc"] not in (-signal.SIGKILL, None):
                crash.append(f"{k['node']} killed at {k['t']} s exited "
                             f"{k['rc']}, not by SIGKILL")
        checks["no_crash"] = crash
        # all_alive
        names = set(self.names)
        alive_bad = []
        views = {}
        gens = {}
        for o in live:
            try:
                j = c.members(o)
            except ClusterError as e:
                alive_bad.append(f"{o}: {e}")
                continue
            gens[o] = j["generation"]
            views[o] = {m["name"]: m for m in j["members"]}
        for o, mm in views.items():
            for n in live:
                m = mm.get(n)
                if m is None or m["state"] != "alive":
                    alive_bad.append(f"{o} lists {n} "
                                     f"{m['state'] if m else 'not at all'}")
                elif n in gens and m["generation"] != gens[n]:
                    alive_bad.append(f"{o} lists {n} at generation "
                                     f"{m['generation']}, it runs "
                                     f"{gens[n]}")
            strangers = sorted(set(mm) - names)
            if strangers:
                alive_bad.append(f"{o} lists members no node runs: "
                                 f"{strangers[:5]}")
        checks["all_alive"] = alive_bad
        # keys: every rotation finished everywhere, restarts included
        keys_bad = []
        want = self.rotations[-1]["new"] if self.rotations else None
        for o in live:
            try:
                k = json.loads(self.ctl_retry(o, ["keys", "--json"],
                                              until_s=20,
                                              stoppable=False).stdout)
            except (ClusterError, ValueError) as e:
                keys_bad.append(f"{o}: keys: {e}")
                continue
            ids = [x["id"] for x in k["keys"]]
            if want is not None and (k["primary"] != want or ids != [want]):
                keys_bad.append(f"{o} has keys {ids}, primary "
                                f"{k['primary']}; the last rotation left "
                                f"only {want}")
            path = Path(k["keyring"])
            in_file = [f"{key_id(base64.b64decode(ln.strip())):08x}"
                       for ln in path.read_text().splitlines()
                       if ln.strip() and not ln.lstrip().startswith("#")]
            mode = path.stat().st_mode & 0o777
            if in_file != ids or mode != 0o600:
                keys_bad.append(f"{o}: keyring file {path} holds "
                                f"{in_file}, mode {mode:o}; the node has "
                                f"{ids}")
        checks["keys"] = keys_bad
        # writes
        ok, problems = self.writes_ok(live)
        checks["writes"] = [
            f"{p['observer']} holds {p['writer']}'s {p['key']} = "
            f"{p['held']!r}, acknowledged {p['acked']} (sent at most "
            f"{p['sent_max']})" for p in problems]
        self.views_end = views
        return checks
