# SPDX-License-Identifier: BSD-3-Clause
"""The libFuzzer targets (tests/fuzz, docs/FUZZING.md): run each for a
bounded time from the committed seeds plus what earlier runs found, keep
what crashed, and record the results."""

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

from . import REPO
from .sanitizer import ENV_FUZZ

FUZZ_DIR = REPO / "tests" / "fuzz"
# target: libFuzzer options that differ from the defaults in run_target()
TARGETS = {
    "fuzz_packet": ["-max_len=4096"],
    "fuzz_config": ["-max_len=8192"],
    "fuzz_status_view": ["-max_len=16384"],
    "fuzz_control": ["-max_len=8192"],
}


def say(msg):
    print(f"fuzz: {msg}", flush=True)


def run_target(bdir, name, seconds):
    exe = bdir / "tests" / "fuzz" / name
    if not exe.exists():
        say(f"{name}: FAILED: {exe} was not built")
        return {"target": name, "ok": False, "rc": None, "runs": 0,
                "seconds": 0, "error": f"{exe} was not built"}
    work = bdir / "corpus" / name
    short = name[len("fuzz_"):]
    seeds = FUZZ_DIR / "corpus" / short
    arts = bdir / "artifacts"
    log = bdir / "logs" / f"{name}.log"
    for d in (work, arts, log.parent):
        d.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), f"-max_total_time={seconds}", "-timeout=10",
           "-rss_limit_mb=2048", "-print_final_stats=1",
           f"-artifact_prefix={arts}/{name}-", *TARGETS[name]]
    dic = FUZZ_DIR / "dict" / f"{short}.dict"
    if dic.exists():
        cmd.append(f"-dict={dic}")
    # new inputs go to the first dir: never into the committed seeds
    cmd += [str(work), str(seeds)]
    env = dict(os.environ, **ENV_FUZZ)
    t0 = time.monotonic()
    with open(log, "w") as f:
        try:
            # the time limit is libFuzzer's; this one only catches a hang
            rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                                env=env, timeout=seconds + 120).returncode
        except subprocess.TimeoutExpired:
            rc = -1
    wall = time.monotonic() - t0
    text = log.read_text(errors="replace")
    m = re.search(r"Done (\d+) runs in (\d+) second\(s\)", text)
    runs = int(m.group(1)) if m else 0
    secs = int(m.group(2)) if m else 0
    cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", text)
    res = {"target": name, "ok": rc == 0 and m is not None, "rc": rc,
           "runs": runs, "seconds": secs, "wall": round(wall, 1),
           "execs_per_s": runs // secs if secs else runs,
           "cov": int(cov[-1][0]) if cov else 0,
           "corpus": int(cov[-1][2]) if cov else 0,
           "artifacts": sorted(str(p) for p in arts.glob(f"{name}-*")),
           "log": str(log)}
    if m:
        say(f"{name}: {m.group(0)}")
    if res["ok"]:
        say(f"{name}: ok: {runs} runs in {secs} s ({res['execs_per_s']}/s), "
            f"cov {res['cov']}, corpus {res['corpus']}")
    else:
        # the report: from the sanitizer's or libFuzzer's first line
        start = max(text.find("==ERROR"), 0) if "==ERROR" in text else \
            max(len(text) - 4000, 0)
        sys.stdout.write(text[start:start + 6000])
        say(f"{name}: FAILED (exit {rc}); log {log}; artifacts: "
            + (", ".join(res["artifacts"]) or "none"))
    return res


def run_all(bdir, targets, seconds, jobs=1):
    """Run targets (jobs at a time, each for `seconds`); their results,
    also written to bdir/fuzz-results.json."""
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        results = list(pool.map(lambda t: run_target(bdir, t, seconds),
                                targets))
    write_results(bdir, results)
    return results


def write_results(bdir, results):
    bdir.mkdir(parents=True, exist_ok=True)
    (bdir / "fuzz-results.json").write_text(json.dumps(results, indent=1))


def not_built(targets):
    return [{"target": t, "ok": False, "rc": None, "runs": 0,
             "seconds": 0, "error": "build failed"} for t in targets]
