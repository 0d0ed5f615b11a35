# SPDX-License-Identifier: BSD-3-Clause
"""The JSON-lines records gossip-sim and gossipd --emulate write, as the
benchmarks read them."""

import json
import os
import subprocess

from .run import tail_text

SIM_EXIT_MEM = 3        # gossip-sim: would not fit in RAM


def read_records(path, say=None):
    """Every record of a JSON-lines file (none when it does not exist);
    unparsable lines are skipped (and said, given say)."""
    recs = []
    if not path.exists():
        return recs
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            recs.append(json.loads(line))
        except ValueError:
            if say:
                say(f"{path}: unparsable line ignored: {line[:80]}")
    return recs


def failed(mode, scenario, n, status, reason, **extra):
    """The record of a run that produced none."""
    rec = {"mode": mode, "scenario": scenario, "nodes": n,
           "status": status, "reason": reason}
    rec.update(extra)
    return rec


def sim_status(r):
    if r.get("ok"):
        return "ok"
    if r.get("memory_limited"):
        return "memory-limited"
    return "wall-limited" if r.get("wall_limited") else "not-reached"


def sim_errors(err):
    """The end of the simulator's stderr without its progress lines."""
    return tail_text("\n".join(ln for ln in err.splitlines()
                               if ": ... wall" not in ln), 3)


def emu_supported(gossipd):
    """(True, "") when gossipd has --emulate, else (False, why)."""
    if not os.access(gossipd, os.X_OK):
        return False, f"{gossipd} is missing"
    try:
        p = subprocess.run([str(gossipd), "--", "--help"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"gossipd -- --help failed: {e}"
    if "--emulate" not in p.stdout:
        return False, "gossipd has no --emulate option (gossipd -- --help)"
    return True, ""
