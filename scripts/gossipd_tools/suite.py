# SPDX-License-Identifier: BSD-3-Clause
"""The suite's runners (scripts/run-tests): meson's unit tests, pytest and
the fuzz targets, each counted as (passed, failed)."""

import json
import os
import re
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from . import REPO, fuzzing
from .cluster import teardown_state_dir
from .run import sayer

say = sayer("run-tests", sys.stdout)
PYTHON = "/usr/bin/python3"
PYTEST_TIMEOUT = 40 * 60        # the suite takes minutes; CI allows 90
MESON_TIMEOUT = 20 * 60


def run_unit(build, env=None):
    """(passed, failed) of the meson (cmocka) tests."""
    log = build / "meson-logs" / "testlog.json"
    try:
        log.unlink()
    except FileNotFoundError:
        pass
    say(f"unit tests: meson test -C {build} --print-errorlogs")
    try:
        p = subprocess.run(["meson", "test", "-C", str(build),
                            "--print-errorlogs"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           timeout=MESON_TIMEOUT,
                           env=dict(os.environ, **(env or {})))
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        rc = -1
        say(f"meson test timed out after {MESON_TIMEOUT}s")
    sys.stdout.write(out)
    sys.stdout.flush()
    passed = failed = 0
    counted = False
    if log.exists():
        for line in log.read_text(errors="replace").splitlines():
            try:
                r = json.loads(line).get("result", "")
            except ValueError:
                continue
            counted = True
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r != "SKIP":
                failed += 1     # FAIL, TIMEOUT, UNEXPECTEDPASS, ERROR
    if not counted:
        def num(label):
            m = re.search(rf"^{label}:\s+(\d+)", out, re.M)
            return int(m.group(1)) if m else 0
        passed = num("Ok") + num("Expected Fail")
        failed = num("Fail") + num("Unexpected Pass") + num("Timeout")
    if rc != 0 and failed == 0:
        say(f"meson test exited {rc} with no failed test counted: counting "
            f"it as one failure")
        failed = 1
    if passed + failed == 0:
        say("warning: meson ran no unit tests")
    say(f"unit tests: {passed} passed, {failed} failed")
    return passed, failed


def run_integration(build, junit, basetemp, paths, extra=(), env=None):
    """(passed, failed) of pytest on paths (files, dirs or node ids,
    relative to the repository) against BUILD's gossipd; exit 5 (nothing
    collected) counts as a failure."""
    try:
        junit.unlink()
    except FileNotFoundError:
        pass
    cmd = [PYTHON, "-m", "pytest", "-v", "-p", "no:cacheprovider",
           f"--junitxml={junit}", f"--basetemp={basetemp}",
           # one rootdir for both dirs, so node ids name tests/sim as such
           "-c", str(REPO / "tests" / "integration" / "pytest.ini"),
           f"--rootdir={REPO}",
           *paths, *extra]
    env = dict(os.environ, GSP_BUILD_DIR=str(build),
               PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    say("integration tests: " + " ".join(cmd))
    proc = subprocess.Popen(cmd, cwd=str(REPO), env=env,
                            start_new_session=True)
    try:
        rc = proc.wait(timeout=PYTEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        say(f"pytest still running after {PYTEST_TIMEOUT}s: stopping it")
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait()
        raise
    finally:
        sweep(basetemp)
    passed = failed = 0
    if junit.exists():
        try:
            root = ET.parse(junit).getroot()
            suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
            for s in suites:
                tests = int(s.get("tests", 0))
                bad = int(s.get("failures", 0)) + int(s.get("errors", 0))
                skipped = int(s.get("skipped", 0))
                passed += tests - bad - skipped
                failed += bad
                if skipped:
                    say(f"warning: {skipped} integration test(s) skipped")
        except (ET.ParseError, ValueError) as e:
            say(f"cannot read {junit}: {e}")
    if rc == 5:
        say("pytest collected no tests: counting it as one failure")
        failed += 1
    elif rc != 0 and failed == 0:
        say(f"pytest exited {rc} with no failed test counted: counting it "
            f"as one failure")
        failed += 1
    say(f"integration tests: {passed} passed, {failed} failed")
    return passed, failed


def run_fuzz(bdir, seconds, jobs):
    """(passed, failed): one per fuzz target, built in bdir."""
    say(f"fuzz targets: {', '.join(fuzzing.TARGETS)}, {seconds} s each, "
        f"{jobs} at a time, in {bdir}")
    results = fuzzing.run_all(bdir, list(fuzzing.TARGETS), seconds, jobs)
    passed = sum(1 for r in results if r.get("ok"))
    failed = len(results) - passed
    say(f"fuzz targets: {passed} passed, {failed} failed")
    return passed, failed


def sweep(basetemp):
    """Tear down clusters left in pytest's temp dirs (normally none)."""
    for state in Path(basetemp).glob("**/state.json"):
        try:
            if teardown_state_dir(state.parent):
                say(f"tore down a cluster left behind in {state.parent}")
        except Exception as e:  # noqa: BLE001
            say(f"could not tear down {state.parent}: {e}")
