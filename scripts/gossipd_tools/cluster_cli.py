# SPDX-License-Identifier: BSD-3-Clause
"""scripts/cluster's command line: up, down, status, stop, kill, start,
add, ctl, fault and log on a cluster recorded in a state dir."""

import argparse
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from .cluster import (DEFAULT_BUILD_DIR, DEFAULT_INTERVAL_MS,
                      DEFAULT_LCORES, DEFAULT_STATE_DIR, HUGE_MEM_MB,
                      NO_HUGE_MEM_MB, READY_TIMEOUT, STATE_FILE,
                      STOP_TIMEOUT, Cluster, ClusterError, fault_ini,
                      node_index, node_name, parse_seed_list)
from .run import signum, tail


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
                ready_timeout=a.ready_timeout, pmd=a.pmd,
                start_batch=a.start_batch)
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
    print(f"{node_name(node_index(a.node))}: sent SIG{signum(a.signal).name[3:]}"
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
    up.add_argument("--pmd", choices=("af_packet", "tap"), default="af_packet",
                    help="each node's port: af_packet on its veth, or "
                    "net_tap bridged to it (rx interrupts; default "
                    "%(default)s)")
    up.add_argument("--start-batch", type=int, default=0, metavar="K",
                    help="launch K nodes, wait until they are ready, then "
                    "the next K (default 0: all at once; on a small host "
                    "hundreds of EAL inits at once starve the nodes "
                    "already running)")
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
