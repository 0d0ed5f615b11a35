# SPDX-License-Identifier: BSD-3-Clause
"""The soak's figures and summary: CPU, drops, verdicts over time."""

import os
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")

# --------------------------------------------------------------------------
# figures

def proc_cpu(c, name):
    """(CPU seconds, wall seconds) of a node's current process so far."""
    pid = c.pid(name)
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        up = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, TypeError, IndexError):
        return 0.0, 0.0
    cpu = (int(f[11]) + int(f[12])) / CLK_TCK
    return cpu, max(0.0, up - int(f[19]) / CLK_TCK)


def host_cpu():
    """(busy, total) jiffies of the whole machine."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0]
         .split()[1:]]
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return sum(f) - idle, sum(f)


def drops_of(stats):
    """{reason: count}: the core's rx_drop, the lcores' parse and tx
    counters, fault injection's, the security counters."""
    out = {}
    for k, v in (stats.get("counters", {}).get("rx_drop") or {}).items():
        out[f"rx_drop.{k}"] = v
    for lc in stats.get("lcores", []):
        for k in ("rx_not_gossip", "rx_parse_errors", "tx_dropped",
                  "tx_no_arp", "rx_handoff_full"):
            out[f"lcore.{k}"] = out.get(f"lcore.{k}", 0) + lc.get(k, 0)
    for k, v in ((stats.get("faults") or {}).get("counters") or {}).items():
        out[f"fault.{k}"] = v
    for k in ("limit_hits", "implausible"):
        if k in (stats.get("security") or {}):
            out[f"security.{k}"] = stats["security"][k]
    return out


def counter_delta(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in sorted(set(a) | set(b))
            if b.get(k, 0) - a.get(k, 0)}


def classify_verdicts(transitions, windows, t0, grace):
    """Each "-> down"/"-> suspect" after t0: expected when a window says the
    member was unreachable from the observer (plus grace after it)."""
    out = {"false_down": [], "false_suspect": [], "expected_down": 0,
           "expected_suspect": 0}
    for t, o, m, old, new in transitions:
        if t < t0 or new not in ("down", "suspect"):
            continue
        expected = False
        for w0, w1, _kind, obs, members in windows:
            end = (w1 if w1 is not None else float("inf")) + grace
            if w0 <= t <= end and m in members and \
                    (obs is None or o in obs):
                expected = True
                break
        if expected:
            out[f"expected_{new}"] += 1
        else:
            out[f"false_{new}"].append((round(t - t0, 1), o, m, old))
    return out


def per_minute(events, minutes):
    buckets = [0] * (int(minutes) + 1)
    for e in events:
        buckets[min(len(buckets) - 1, int(e[0] // 60))] += 1
    return buckets


def summary(rec):
    out = []
    ok = all(not v for v in rec["checks"].values())
    out.append(f"soak: {rec['nodes']} nodes, {rec['minutes']:g} min, "
               f"{rec['cycles']} cycle(s), interval {rec['interval_ms']} ms,"
               f" build {rec['build']}")
    for name, problems in rec["checks"].items():
        out.append(f"  check {name:10s} {'ok' if not problems else 'FAILED'}")
        for p in problems[:10]:
            out.append(f"      {p}")
        if len(problems) > 10:
            out.append(f"      ... {len(problems) - 10} more")
    w = rec["writes"]
    out.append(f"  writes: {w['sent']} sent, {w['acked']} acknowledged, "
               f"{w['failed']} failed (node stopped, killed or busy), "
               f"{w['superseded']} superseded by a SIGKILL; checked "
               f"{w['checked']} (writer, key) pairs on "
               f"{rec['live_nodes']} nodes")
    v = rec["verdicts"]
    out.append(f"  verdicts: {len(v['false_down'])} false down, "
               f"{len(v['false_suspect'])} false suspect; expected: "
               f"{v['expected_down']} down, {v['expected_suspect']} suspect")
    out.append(f"    false down per minute: {v['false_down_per_min']}")
    out.append(f"    false suspect per minute: {v['false_suspect_per_min']}")
    for fd in v["false_down"][:10]:
        out.append(f"    false down at {fd[0]} s: {fd[1]} marked {fd[2]} "
                   f"down (from {fd[3]})")
    rc = rec["recoveries"]
    if rc:
        out.append("  converged after: " + ", ".join(
            f"{r['after']} {r.get('converged_s')} s" for r in rc))
    out.append(f"  max time to converge after a heal, resume or restart: "
               f"{rec['max_converge_s']} s; settle after the faults: "
               f"{rec['settle'].get('converged_s')} s, writes "
               f"{rec['settle'].get('writes_s')} s")
    for r in rec["rotations"]:
        out.append(f"  key rotation {r['cycle']}: {','.join(r['old'])} -> "
                   f"{r['new']}: installed {r['installed_s']} s, used "
                   f"{r['used_s']} s, removed {r['removed_s']} s, "
                   f"rx_key_other quiet: {r['rx_key_other_quiet']}")
    for e in rec["edges"]:
        out.append(f"  edge values at {e['at_s']} s (claims about "
                   f"{e['claim']}, {e['replay']}'s seq, {e['future']} ahead):"
                   f" sent {e.get('sent')}; effects {e['effects']}")
    for f in rec["floods"]:
        out.append(f"  flood at {f['node']}: {f.get('total')} sent in "
                   f"{f.get('seconds')} s ({f.get('pps')} pps), its CPU "
                   f"{f.get('target_cpu_pct')}% of a core meanwhile; its "
                   f"drops: {f['drops']}")
    out.append("  drops by reason (all nodes): " + ", ".join(
        f"{k} {v}" for k, v in rec["drops"].items()))
    out.append("  CPU, % of one core: " + ", ".join(
        f"{n} {p['cpu_pct']}" for n, p in rec["cpu"].items()) +
        f"; the whole machine ({rec['cpus']} CPUs, writers and flood "
        f"included) {rec['host_cpu_pct']}% busy")
    for e in rec["soak_errors"]:
        out.append(f"  soak error: {e}")
    out.append("soak: PASS" if ok else "soak: FAIL (" + ", ".join(
        k for k, v in rec["checks"].items() if v) + ")")
    return "\n".join(out)
