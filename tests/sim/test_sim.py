# SPDX-License-Identifier: BSD-3-Clause
"""The deterministic simulator (build/sim/gossip-sim): a few
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
SIM = BUILD_DIR / "sim" / "gossip-sim"
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
    for rec in recs:
        # ordinary gossip, probes and joins never reach a [limits] bound
        assert rec["limit_hits"] == 0, rec["limit_hits"]
        assert rec["drop_rate_limited"] == 0 and rec["drop_over_limit"] == 0
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
    assert 0 < rec["join_s"] <= 10.0
    assert rec["rounds"] == rec["join_rounds"] <= 100
    assert rec["time_s"] == rec["join_s"]
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
    assert both[1]["join_s"] == alone["join_s"]


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
    assert abs(rec["window_s"] - 2.0) < 1e-9
    for k in ("tx_pps", "tx_Bps", "rx_pps", "rx_Bps"):
        assert 0 < rec[f"{k}_mean"] <= rec[f"{k}_max"]
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


# ---------------------------------------------------------------------------
# Faults (the shared gsp_fault module), detector options, and the failure
# detection scenarios: fp, stall, cpuload. Small N and short runs: they
# check what is counted and reported, not how fast (scripts/bench-detect).

def strip_machine(rec):
    return {k: v for k, v in rec.items() if k not in MACHINE_FIELDS}


def test_loss_is_fault_drop(tmp_path):
    """--loss P and --fault drop=P are one thing: the same run."""
    args = ["--scenario", "join", "--nodes", "150", "--seed", "21"]
    a = run_sim(tmp_path, *args, "--loss", "0.1")
    b = run_sim(tmp_path, *args, "--fault", "drop=0.1")
    assert a["fault"] == b["fault"] == "drop=0.1"
    assert strip_machine(a) == strip_machine(b)
    assert a["packets_lost"] == a["fault_dropped"] > 0


def test_fault_spec_applies_to_every_send(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "join,steady", "--nodes", "100",
                  "--seed", "22", "--measure-rounds", "20", "--fault",
                  "drop=0.05 dup=0.1 delay=3ms jitter=2ms reorder=0.05",
                  records=2)[1]
    check_common(rec, "steady", 100)
    assert rec["fault"] == "drop=0.05 dup=0.1 reorder=0.05 delay=3ms " \
        "jitter=2ms"
    sent = rec["packets_sent"]
    assert 0.03 < rec["fault_dropped"] / sent < 0.07
    assert 0.07 < rec["fault_duplicated"] / sent < 0.13
    # every copy that went out was delayed (delay=3ms applies to all)
    copies = sent - rec["fault_dropped"] + rec["fault_duplicated"]
    assert rec["fault_delayed"] == copies
    assert 0 < rec["fault_reordered"] < rec["fault_delayed"]
    # every copy arrives, duplicates too, but those still in flight
    missing = copies - rec["packets_delivered"]
    assert 0 <= missing <= rec["inflight_peak"], (missing, rec)


def test_fault_block_isolates_a_node(tmp_path):
    """block=IP on every node: 10.0.0.1 (node 0) hears nobody and nobody
    hears it, so the join cannot complete."""
    join, fp, det = run_sim(tmp_path, "--scenario", "join,fp,detect",
                            "--nodes", "30", "--seed", "23",
                            "--max-rounds", "40", "--duration-s", "2",
                            "--fault", "block=10.0.0.1", records=3)
    assert not join["converged"]
    assert join["fault_blocked_out"] > 0 and join["fault_blocked_in"] > 0
    assert join["fault"] == "block=10.0.0.1"
    # fp counts accusations whatever the join did; detect needs a view
    assert not fp["converged"] and fp["ok"] and fp["time_s"] == 2
    assert not det["converged"] and not det["ok"]


def test_detector_options_recorded(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "join", "--nodes", "50",
                  "--seed", "24", "--detector", "swim,indirect,lifeguard",
                  "--probe-interval-ms", "10", "--probe-timeout-ms", "2.5",
                  "--indirect-probes", "2", "--suspicion-mult", "5")
    assert rec["detector"] == "swim,indirect,lifeguard"
    assert rec["detector_bits"] == 0x2 | 0x4 | 0x8
    assert rec["probe_interval_ms"] == 10
    assert rec["probe_timeout_ms"] == 2.5
    assert rec["indirect_probes"] == 2 and rec["suspicion_mult"] == 5
    # the set in force, named the same by the emulation: "default" is
    # the core's set, named by its members
    for det, bits in (("phi", 1), ("all", 15), ("default", 15),
                      ("swim", 2)):
        rec = run_sim(tmp_path, "--scenario", "join", "--nodes", "20",
                      "--detector", det)
        assert rec["detector_bits"] == bits, det
        assert rec["detector"] == ("phi,swim,indirect,lifeguard"
                                   if bits == 15 else det)


def test_detector_usage_errors(tmp_path):
    for det in ("indirect", "phi,lifeguard", "nope", "default,phi", ""):
        run_sim(tmp_path, "--scenario", "join", "--detector", det,
                expect_rc=2)
    run_sim(tmp_path, "--scenario", "join", "--fault", "drop=2",
            expect_rc=2)


def test_detect_reports_first_and_all(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "detect", "--nodes", "100",
                  "--seed", "25", "--detector", "phi")
    check_common(rec, "detect", 100)
    assert rec["detector"] == "phi" and rec["ok"]
    assert 0 < rec["first_suspect_s"] <= rec["first_detect_s"] \
        <= rec["all_detect_s"] == rec["time_s"]


def test_fp_swim_without_loss_has_no_false_positives(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "fp", "--nodes", "60",
                  "--seed", "26", "--duration-s", "30", "--detector",
                  "swim", "--probe-interval-ms", "10")
    check_common(rec, "fp", 60)
    assert rec["ok"] and rec["duration_s"] == 30
    assert abs(rec["time_s"] - 30) < 1e-9
    assert rec["false_positives"] == 0, rec
    assert rec["fp"]["suspect_transitions"] == 0
    assert rec["fp"]["down_transitions"] == 0
    assert rec["fp"]["pair_s"] == 0


def test_stall_marked_down_then_alive(tmp_path):
    for det in ("phi", "default"):
        rec = run_sim(tmp_path, "--scenario", "stall", "--nodes", "60",
                      "--seed", "27", "--stall-s", "5", "--after-s", "5",
                      "--detector", det, "--probe-interval-ms", "10")
        check_common(rec, "stall", 60)
        assert rec["stalled"] >= 3, "a seed was stalled"
        # others noticed, as they should: suspect, then down at every node
        assert 0 < rec["stall_suspect_s"] <= rec["stall_down_s"] \
            <= rec["stall_down_all_s"] <= 5, rec
        assert rec["stall_down_at_resume"] == 59
        # the event bookkeeping agrees with the tables at the end
        assert rec["stall_bad_end"] == rec["stall_views_bad_end"] == 0
        assert 0 < rec["stall_held"] <= rec["stall_queue"]
        assert rec["stall_dropped"] == 0
        # ... and it came back everywhere, without accusing anyone itself
        assert rec["alive_again"] and rec["ok"]
        assert 0 <= rec["alive_again_s"] <= 5
        assert rec["resumed_suspect"] == rec["resumed_down"] == 0, \
            (det, rec)
        assert rec["false_positives"] == 0, (det, rec)


def test_stall_under_loss_counts_agree_with_tables(tmp_path):
    """At 10% loss suspicions come and go: the count of nodes accusing the
    stalled one, kept from events, must still match their tables."""
    rec = run_sim(tmp_path, "--scenario", "stall", "--nodes", "40",
                  "--seed", "34", "--loss", "0.1", "--stall-s", "3",
                  "--after-s", "3", "--probe-interval-ms", "10")
    assert rec["stall_down_at_resume"] == 39, rec
    assert rec["stall_bad_end"] == rec["stall_views_bad_end"]
    assert rec["alive_again"]


def test_stall_queue_is_bounded(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "stall", "--nodes", "50",
                  "--seed", "28", "--stall-queue", "16")
    assert rec["stall_queue"] == 16 and rec["stall_held"] == 16
    assert rec["stall_dropped"] > 0
    assert rec["alive_again"], "held packets or none, it must come back"


def test_cpuload_accusations_are_about_slow_nodes(tmp_path):
    """Events of 20% of the nodes run up to 2 s late: the accounting of
    accusations (counts, pairs, time accused) adds up, and with a clean
    network only slow nodes are accused."""
    rec = run_sim(tmp_path, "--scenario", "cpuload", "--nodes", "50",
                  "--seed", "29", "--duration-s", "20", "--slow-frac",
                  "0.2", "--slow-ms", "2000", "--detector", "phi")
    check_common(rec, "cpuload", 50)
    assert rec["ok"] and rec["slow_nodes"] == 10
    assert 0 < rec["slow_delay_mean_ms"] <= 2000
    assert rec["slow_events"] > 0
    fp = rec["fp"]
    ev = fp["suspect_transitions"] + fp["down_transitions"]
    assert ev > 0
    assert rec["fp_about_slow"] == ev
    assert 0 < rec["false_positives"] <= min(ev, 10 * 49)
    assert rec["false_positives"] == fp["pairs"]
    assert fp["suspect_pairs"] + fp["down_pairs"] == fp["pairs"]
    assert fp["pair_s"] > 0
    assert 1 <= fp["open_peak"] <= rec["false_positives"]
    # the window's traffic, and the slow nodes well again: every node
    # lists every member once more
    assert rec["tx_Bps_mean"] > 0 and rec["window_s"] == 20
    assert rec["recovered_s"] is not None


def test_cpuload_default_delay_is_within_bounds(tmp_path):
    rec = run_sim(tmp_path, "--scenario", "cpuload", "--nodes", "40",
                  "--seed", "30", "--duration-s", "5")
    assert rec["slow_nodes"] == 4 and rec["slow_ms"] == 50
    assert 0 < rec["slow_delay_mean_ms"] <= 50


def test_detection_scenarios_same_seed_same_run(tmp_path):
    args = ["--scenario", "fp,stall,cpuload", "--nodes", "40",
            "--duration-s", "10", "--stall-s", "3", "--after-s", "3",
            "--fault", "drop=0.05 dup=0.02 reorder=0.05 jitter=1ms",
            "--probe-interval-ms", "10"]
    a = run_sim(tmp_path, *args, "--seed", "31", records=3)
    b = run_sim(tmp_path, *args, "--seed", "31", records=3)
    c = run_sim(tmp_path, *args, "--seed", "32", records=3)
    assert [r["scenario"] for r in a] == ["fp", "stall", "cpuload"]
    for ra, rb, rc in zip(a, b, c):
        assert strip_machine(ra) == strip_machine(rb)
        assert rc["digest"] != ra["digest"]


def test_rx_deadlines_move_ticks_forward(tmp_path):
    """With SWIM a packet can set an earlier deadline (a helper's NACK
    timer, a suspicion): gsp_node_rx returns it and the simulator moves the
    node's tick forward. phi alone sets none."""
    args = ["--scenario", "fp", "--nodes", "40", "--seed", "33",
            "--duration-s", "5", "--loss", "0.1",
            "--probe-interval-ms", "10"]
    a = run_sim(tmp_path, *args, "--detector", "phi")
    b = run_sim(tmp_path, *args, "--detector", "swim,indirect,lifeguard")
    assert a["early_ticks"] == 0
    assert b["early_ticks"] > 0
    assert b["tx_ping_req"] > 0 and b["tx_nack"] > 0


def test_capacity_below_cluster_size_refuses_and_counts(tmp_path):
    """--capacity below N: every node still starts (the thread's id
    catalog holds all N ids), and the members refused are counted as
    table_full. The join cannot converge."""
    cap = 20
    rec = run_sim(tmp_path, "--scenario", "join", "--nodes", "40",
                  "--capacity", str(cap), "--seed", "1", "--max-rounds",
                  "30")
    assert rec["converged"] is False
    assert rec["core"]["table_full"] > 0
    assert rec["view_hashes_ok"] is True

