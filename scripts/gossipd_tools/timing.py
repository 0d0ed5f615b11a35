# SPDX-License-Identifier: BSD-3-Clause
"""Bounded polls, log timestamps and CPU time."""

import datetime
import os
import resource
import time
from pathlib import Path
from typing import NamedTuple

from .errors import NodeDied

POLL = 0.05


class Observed(NamedTuple):
    """What a wait_until() predicate may return: whether the condition holds
    and the value to report when it never does."""
    ok: bool
    value: object


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


def parse_log_time(text):
    """A log line's UTC timestamp (without the Z) -> seconds since the
    epoch."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def cpu_busy_s():
    """Busy CPU seconds of the whole machine so far (/proc/stat), or None."""
    try:
        f = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    v = [int(x) for x in f[1:]]
    # user nice system idle iowait irq softirq steal
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    return busy / os.sysconf("SC_CLK_TCK")


def children_cpu_s():
    """CPU seconds of the children waited for so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime
