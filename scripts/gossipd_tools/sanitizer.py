# SPDX-License-Identifier: BSD-3-Clause
"""The one sanitizer build (build-san): clang-14, ASan+UBSan with every
error fatal, and libFuzzer coverage (-Dfuzz=true: -fsanitize=fuzzer-no-link
in every library).  It serves the sanitized unit tests, the integration
tests that run on the sanitized gossipd and the fuzz targets, so the tree
is compiled with sanitizers once (docs/TESTING.md, docs/FUZZING.md)."""

import os
import shutil
import subprocess

from . import REPO

BUILD_DIR = REPO / "build-san"
COMPILERS = {"CC": "clang-14", "CXX": "clang++-14"}
MESON_OPTS = ["-Dfuzz=true", "-Dbench=false",
              "-Db_sanitize=address,undefined", "-Db_lundef=false",
              "-Dc_args=-fno-sanitize-recover=all",
              "-Dcpp_args=-fno-sanitize-recover=all"]
UBSAN = "halt_on_error=1:print_stacktrace=1"
# Leaks are checked in the unit tests and the fuzz targets; the daemon's
# exit path leaves DPDK's allocations to the OS, so not there.
ENV_UNIT = {"ASAN_OPTIONS": "abort_on_error=1:detect_leaks=1",
            "UBSAN_OPTIONS": UBSAN}
ENV_DAEMON = {"ASAN_OPTIONS": "abort_on_error=1:detect_leaks=0",
              "UBSAN_OPTIONS": UBSAN}
ENV_FUZZ = {"ASAN_OPTIONS": "abort_on_error=1:detect_leaks=1:"
            "allocator_may_return_null=1", "UBSAN_OPTIONS": UBSAN}


def build(bdir=BUILD_DIR, targets=(), say=print):
    """Configure bdir once (clang-14, MESON_OPTS) and build targets (all
    when none); True when built."""
    bdir = bdir.resolve()
    if not (bdir / "build.ninja").exists():
        for tool in COMPILERS.values():
            if shutil.which(tool) is None:
                say(f"{tool} not found: apt-get install clang-14 "
                    f"libclang-rt-14-dev (or make deps)")
                return False
        cmd = ["meson", "setup", str(bdir), *MESON_OPTS]
        say("sanitizer build: " + " ".join(
            f"{k}={v}" for k, v in COMPILERS.items()) + " " + " ".join(cmd))
        if subprocess.run(cmd, cwd=str(REPO),
                          env=dict(os.environ, **COMPILERS)).returncode != 0:
            return False
    cmd = ["ninja", "-C", str(bdir), *targets]
    say("sanitizer build: " + " ".join(cmd))
    return subprocess.run(cmd, cwd=str(REPO)).returncode == 0
