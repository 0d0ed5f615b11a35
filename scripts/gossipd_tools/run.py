# SPDX-License-Identifier: BSD-3-Clause
"""Running commands and watching processes.

Processes are recognised by pid *and* start time (/proc/PID/stat), so a
recycled pid is never taken for ours.
"""

import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from .errors import ClusterError


def sayer(prefix, file=None):
    """A print function for one script: say("x") prints "prefix: x"
    (to stderr unless file is given), flushed."""
    def say(msg):
        print(f"{prefix}: {msg}", file=file or sys.stderr, flush=True)
    return say


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


def output(cmd, timeout):
    """(exit status, stdout and stderr as one text) of a program; the
    status is "timeout" or "error" (the text then says why) when it
    did not finish."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        return "timeout", (e.stdout if isinstance(e.stdout, str) else
                           (e.stdout or b"").decode(errors="replace"))
    except OSError as e:
        return "error", str(e)


def proc_stat(pid):
    """(start time in clock ticks, state letter, threads) of a pid, or
    None."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data.rsplit(")", 1)[1].split()
    return int(fields[19]), fields[0], int(fields[17])


def proc_cpu_s(pid):
    """User + system CPU seconds of a process, all its threads, or None
    when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1]
        f = fields.split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid, start):
    """True when pid runs and is the very process recorded (same start)."""
    if not pid:
        return False
    st = proc_stat(pid)
    if st is None:
        return False
    if start is not None and st[0] != start:
        return False            # pid recycled: not ours
    # a leader that has exited shows Z while its other threads (DPDK's
    # lcores, the control thread) still wind down: not gone until the
    # last one is, when its parent can reap it
    return st[1] not in ("Z", "X") or st[2] > 1


def signum(sig):
    """'KILL', 'SIGTERM', '9' or 9 -> signal.Signals."""
    if isinstance(sig, str):
        s = sig.upper()
        if s.isdigit():
            return signal.Signals(int(s))
        return signal.Signals[s if s.startswith("SIG") else "SIG" + s]
    return signal.Signals(int(sig))


def tail(path, n=30):
    """The last n lines of a file (a note when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    lines = data.decode("utf-8", "replace").splitlines()
    return "\n".join(lines[-n:])


def tail_text(text, n=6):
    """The last n non-blank lines of a program's output, on one line."""
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)


def unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        rmtree(path)
    except OSError as e:
        log_info(f"cannot remove {path}: {e}")
