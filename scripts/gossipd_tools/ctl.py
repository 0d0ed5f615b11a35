# SPDX-License-Identifier: BSD-3-Clause
"""Reading a node: gossipctl against its status view or control socket,
and the state changes its log records."""

import glob
import json
import os
import re
import shlex
import subprocess

from .errors import ClusterError
from .run import run, unlink
from .timing import Observed, parse_log_time

CTL_TIMEOUT = 10.0
SV_DIR = "/dev/shm"             # status views: /dev/shm/gossipd.<cluster>.<node>
SOCK_DIR = "/run/gossipd"       # control sockets: /run/gossipd/<cluster>.<node>.sock

# every state change a node sees is logged (control/ctrl.c, ctrl_log_event)
TRANSITION_RE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z \S+ \w+: member (\S+) "
    r"\(0x[0-9a-f]+\) (\w+) -> (\w+)")


def view_path(cluster, name):
    return f"{SV_DIR}/gossipd.{cluster}.{name}"


def socket_path(cluster, name):
    return f"{SOCK_DIR}/{cluster}.{name}.sock"


def clean_run(cluster):
    """Every status view and control socket of a cluster's nodes."""
    for p in glob.glob(f"{SV_DIR}/gossipd.{glob.escape(cluster)}.*"):
        unlink(p)
    for p in glob.glob(f"{SOCK_DIR}/{glob.escape(cluster)}.*"):
        unlink(p)


def argv(gossipctl, cluster, node, *args):
    """gossipctl's command line for a node: by --view when its config
    names its own status view, else by node and cluster name."""
    if node.get("custom_view"):
        return [gossipctl, "--view", node["view"], *map(str, args)]
    return [gossipctl, "--node", node["name"], "--cluster", cluster,
            *map(str, args)]


def call(cmd, timeout=CTL_TIMEOUT, check=False):
    """Run a gossipctl command line; the CompletedProcess (text)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise ClusterError(f"gossipctl timed out after {timeout}s: "
                           f"{shlex.join(cmd)}") from e
    if check and p.returncode != 0:
        raise ClusterError(f"{shlex.join(cmd)} failed (exit "
                           f"{p.returncode}): {p.stderr.strip()}")
    return p


def parse_json(p, what):
    """The JSON of a `gossipctl ... --json` run; ClusterError when it
    failed.  Exit 3 means the view is stale (writer_alive false): the
    JSON is there."""
    if p.returncode not in (0, 3) or not p.stdout.strip():
        raise ClusterError(f"gossipctl {what} failed (exit {p.returncode}): "
                           f"{p.stderr.strip()}")
    try:
        return json.loads(p.stdout)
    except ValueError as e:
        raise ClusterError(f"gossipctl {what}: bad JSON ({e}): "
                           f"{p.stdout[:300]!r}") from e


def view_ready(gossipctl, view):
    """Observed(ok, members JSON or why not): whether the status view
    exists and its writer is alive (`gossipctl --view`)."""
    if not os.path.exists(view):
        return Observed(False, "status view not created yet")
    p = run([gossipctl, "--view", view, "members", "--json"], check=False,
            timeout=CTL_TIMEOUT)
    if p.returncode != 0:
        return Observed(False, f"gossipctl exit {p.returncode}: "
                        f"{p.stderr.strip()[:300]}")
    try:
        j = json.loads(p.stdout)
    except ValueError as e:
        return Observed(False, f"bad JSON from gossipctl: {e}: "
                        f"{p.stdout[:200]!r}")
    if j.get("writer_alive") is True:
        return Observed(True, j)
    return Observed(False, f"writer_alive={j.get('writer_alive')!r}")


def log_transitions(text, observer):
    """[(t, observer, member, old, new)] of the state changes in a log."""
    out = []
    for line in text.splitlines():
        m = TRANSITION_RE.match(line)
        if m:
            out.append((parse_log_time(m.group(1)), observer, m.group(2),
                        m.group(3), m.group(4)))
    return out
