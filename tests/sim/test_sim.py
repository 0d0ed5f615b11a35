# SPDX-License-Identifier: BSD-3-Clause
"""The deterministic simulator (build/dataplane/sim/gossip-sim): a few
hundred protocol cores on a virtual clock, each run seeded and bounded.

Each test runs gossip-sim as a subprocess and asserts on the JSON record it
appends to --json FILE. GSP_BUILD_DIR overrides the meson build dir.
"""

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
BUILD_DIR = Path(os.environ.get("GSP_BUILD_DIR", REPO / "build")).resolve()
SIM = BUILD_DIR / "dataplane" / "sim" / "gossip-sim"
TIMEOUT_S = 120          # each run takes seconds; this only stops a hang
# fields that measure the machine, not the simulated cluster
MACHINE_FIELDS = {"wall_s", "peak_rss_bytes", "cpu_us_per_node_s",
                  "core_wall_us_per_node_s"}


def run_sim(tmp_path, *args, expect_rc=0, records=1):
    if not os.access(SIM, os.X_OK):
        pytest.fail(f"{SIM} is missing: build first (make build)",
                    pytrace=False)
    out = tmp_path / f"sim-{len(list(tmp_path.iterdir()))}.json"
    p = subprocess.run([str(SIM), "--json", str(out), "--quiet", *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=TIMEOUT_S)
    assert p.returncode == expect_rc, \
        f"gossip-sim {' '.join(args)} exited {p.returncode}:\n{p.stderr}"
    if expect_rc != 0:
        return p
    lines = out.read_text().splitlines()
    assert len(lines) == records, lines
    recs = [json.loads(line) for line in lines]
    assert recs == [json.loads(line) for line in p.stdout.splitlines()], \
        "stdout and --json disagree"
    return recs[0] if records == 1 else recs


def check_common(rec, scenario, nodes):
    assert rec["mode"] == "sim"
    assert rec["scenario"] == scenario
    assert rec["nodes"] == nodes
    assert rec["interval_ms"] == 100
    assert rec["bytes_per_member"] > 0
    assert rec["peak_rss_bytes"] > 0
    assert rec["wall_s"] > 0
    assert len(rec["digest"]) == 16 and int(rec["digest"], 16) >= 0
    assert rec["wall_limited"] is False
    assert rec["pool_drops"] == 0


def check_curve(curve):
    assert curve, "empty curve"
    ts = [t for t, _ in curve]
    assert ts == sorted(ts)
    assert all(0.0 <= f <= 1.0 for _, f in curve)
    assert curve[-1][1] == 1.0


def test_join_converges(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "join", "--nodes", "300",
                  "--seed", "1")
    check_common(rec, "join", 300)
    assert rec["converged"] and rec["ok"]
    assert 0 < rec["join_time_s"] <= 10.0
    assert rec["rounds"] == rec["join_rounds"] <= 100
    assert rec["time_s"] == rec["join_time_s"]
    assert 1 <= rec["distinct_sizes"] <= 300
    check_curve(rec["informed_curve"])
    assert rec["packets_lost"] == 0


def test_join_converges_at_10pct_loss(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "join", "--nodes", "300",
                  "--seed", "2", "--loss", "0.1")
    check_common(rec, "join", 300)
    assert rec["converged"], rec
    assert rec["join_rounds"] <= 150
    lost = rec["packets_lost"] / rec["packets_sent"]
    assert 0.07 < lost < 0.13, lost


def test_partition_heals(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "partition", "--nodes", "200",
                  "--seed", "3", "--partition-s", "20")
    check_common(rec, "partition", 200)
    assert rec["converged"]
    assert rec["partition_drops"] > 0
    assert rec["split_detected"], "each side must mark the other down"
    assert rec["split_detect_s"] <= 20
    assert rec["ok"], "the partition did not heal into one view"
    assert rec["heal_time_s"] is not None and rec["heal_time_s"] <= 30
    check_curve(rec["informed_curve"])


def test_same_seed_same_run(tmp_path):
    args = ["--scenario", "join", "--nodes", "250", "--loss", "0.05",
            "--jitter-us", "500"]
    a = run_sim(tmp_path, *args, "--seed", "11")
    b = run_sim(tmp_path, *args, "--seed", "11")
    c = run_sim(tmp_path, *args, "--seed", "12")
    for rec in (a, b, c):
        assert rec["converged"]
    strip = lambda r: {k: v for k, v in r.items() if k not in MACHINE_FIELDS}
    assert strip(a) == strip(b), "same seed, different run"
    assert a["digest"] == b["digest"]
    assert c["digest"] != a["digest"], "a different seed gave the same run"
    assert strip(c) != strip(a)


def test_scenario_list_shares_one_join(tmp_path):
    """join,disseminate = the join record of a join-only run, then the
    dissemination on the same cluster."""
    args = ["--nodes", "200", "--seed", "9"]
    alone = run_sim(tmp_path, "--scenario", "join", *args)
    both = run_sim(tmp_path, "--scenario", "join,disseminate", *args,
                   records=2)
    strip = lambda r: {k: v for k, v in r.items() if k not in MACHINE_FIELDS}
    assert strip(both[0]) == strip(alone)
    assert both[1]["scenario"] == "disseminate" and both[1]["ok"]
    assert both[1]["join_time_s"] == alone["join_time_s"]


def test_dissemination_within_bound(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "disseminate", "--nodes", "300",
                  "--seed", "4")
    check_common(rec, "disseminate", 300)
    assert rec["converged"] and rec["ok"], rec
    bound = math.log(300, 3) + math.log(math.log(300))
    assert abs(rec["bound_rounds"] - bound) < 1e-6
    # generous: the push-pull bound is ~7 rounds at N=300
    assert rec["rounds"] <= 3 * bound, (rec["rounds"], bound)
    check_curve(rec["informed_curve"])
    fracs = [f for _, f in rec["informed_curve"]]
    assert fracs == sorted(fracs), "a node lost the value"


def test_detect_crash_without_false_positives(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "detect", "--nodes", "200",
                  "--seed", "5")
    check_common(rec, "detect", 200)
    assert rec["converged"] and rec["ok"], rec
    assert rec["crashed"] >= 3, "a seed was crashed"
    assert 0 < rec["first_detect_s"] <= rec["all_detect_s"] <= 30
    assert rec["false_positives"] == 0
    assert rec["rejoin_s"] is not None, "the restarted node did not rejoin"


def test_steady_cost_reported(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "steady", "--nodes", "200",
                  "--seed", "6", "--measure-rounds", "20")
    check_common(rec, "steady", 200)
    assert rec["ok"]
    assert abs(rec["sim_s"] - 2.0) < 1e-9
    for k in ("tx_pkts", "tx_bytes", "rx_pkts", "rx_bytes"):
        assert 0 < rec[f"{k}_per_s_mean"] <= rec[f"{k}_per_s_max"]
    assert rec["cpu_us_per_node_s"] > 0


def test_refuses_what_does_not_fit(tmp_path):
    p = run_sim(tmp_path, "--scenario", "join", "--nodes", "4000000",
                expect_rc=3)
    assert "refusing N=4000000" in p.stderr
    assert not list(tmp_path.glob("*.json")) or \
        all(f.read_text() == "" for f in tmp_path.glob("*.json"))


def test_usage_errors(tmp_path):
    for args in (["--nodes", "10"], ["--scenario", "nope"],
                 ["--scenario", "join", "--loss", "2"]):
        run_sim(tmp_path, *args, expect_rc=2)
