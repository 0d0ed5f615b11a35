# SPDX-License-Identifier: BSD-3-Clause
"""The chaos soak's short version: `scripts/soak --minutes 1` (docs/
RELIABILITY.md): 8 nodes under 10% loss, a partition, a SIGSTOP, a SIGKILL
and restart, a key rotation and a junk flood, all while every node writes
app state; then no crash, every live node alive everywhere, every
acknowledged write everywhere.  Not run on the sanitizer build
(scripts/run-tests, ASAN_INTEGRATION_SKIP): it takes over a minute."""

import json
import subprocess
import sys

from gossipd_tools import cluster as gsp_cluster
from conftest import BUILD_DIR, REPO

SOAK_MINUTES = "1"
RUN_TIMEOUT_S = 600


def test_soak(env_ready, tmp_path):
    state = tmp_path / "state"
    out = tmp_path / "soak.json"
    argv = [sys.executable, str(REPO / "scripts" / "soak"), "--minutes",
            SOAK_MINUTES, "--build", str(BUILD_DIR), "--state", str(state),
            "--json", str(out)]
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)
    finally:
        # the soak tears its cluster down itself; this is for a killed one
        gsp_cluster.teardown_state_dir(state)
    report = f"exit {p.returncode}\n{p.stdout[-6000:]}\n{p.stderr[-3000:]}"
    rec = json.loads(out.read_text())
    failed = {k: v for k, v in rec["checks"].items() if v}
    assert not failed and p.returncode == 0, report
    # and it did what it says it did
    assert rec["live_nodes"] == 8, report
    assert rec["writes"]["checked"] >= 2 * 8, report
    assert [k["rc"] for k in rec["kills"]] == [-9], report
    [flood] = rec["floods"]
    assert flood["total"] > 0 and flood["exit"] == 0, report
    assert flood["drops"].get("rx_drop.forged", 0) > 0, report
    [rot] = rec["rotations"]
    assert rot["new"] not in rot["old"], report
    assert rec["verdicts"]["expected_down"] > 0, report     # the partition
