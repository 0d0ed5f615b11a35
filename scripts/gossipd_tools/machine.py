# SPDX-License-Identifier: BSD-3-Clause
"""What produced a benchmark's figures: machine, OS and commit."""

import os
import platform
import subprocess
from pathlib import Path

from . import REPO


def machine_info():
    """Host, kernel, CPU (model, count, AES/PCLMUL/AVX2), memory, OS, the
    commit and whether the protocol core or simulator was modified."""
    info = {"hostname": platform.node(), "kernel": platform.release(),
            "cpus": os.cpu_count(), "python": platform.python_version()}
    try:
        flags = set()
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and "cpu" not in info:
                info["cpu"] = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
        info["aes_ni"] = "aes" in flags
        info["pclmulqdq"] = "pclmulqdq" in flags
        info["avx2"] = "avx2" in flags
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(("MemTotal", "MemAvailable")):
                k, v = line.split(":", 1)
                info[k] = int(v.split()[0]) * 1024
        rel = Path("/etc/os-release").read_text()
        for line in rel.splitlines():
            if line.startswith("PRETTY_NAME="):
                info["os"] = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    # which protocol core produced the numbers
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse",
                               "--short", "HEAD"], capture_output=True,
                              text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status",
                                "--porcelain", "dataplane/core",
                                "sim"], capture_output=True,
                               text=True, timeout=30).stdout.strip()
        info["git_head"] = head
        info["core_or_sim_modified"] = bool(dirty)
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


def mem_available():
    """MemAvailable in bytes (0 when unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
