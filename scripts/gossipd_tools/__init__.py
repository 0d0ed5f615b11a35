# SPDX-License-Identifier: BSD-3-Clause
"""gossipd_tools: the Python side of gossipd (launcher, benchmarks, suite).

The executables in scripts/ are thin: each parses its command line and
calls into this package.  Modules, lowest first (each imports only the
ones above it):

  errors      ClusterError, NodeDied
  run         commands with a timeout, processes checked by start time,
              file tails, a "prefix: message" printer
  timing      Observed + wait_until (bounded polls), log timestamps, CPU
              seconds of the machine and of our children
  table       number formatting, Markdown tables, CSV files
  plot        matplotlib (Agg) when installed
  machine     what machine and commit produced a benchmark's figures
  records     the JSON-lines records of gossip-sim and gossipd --emulate
  network     bridge, veth and netns plumbing of a local cluster
  config      INI rendering of a node's config (template, extra_ini, faults)
  procs       starting, signalling and stopping node processes
  ctl         reading a node: gossipctl (status view, control socket) and
              its log's state changes
  cluster     the Cluster facade over the four above (tests import this)
  cluster_cli scripts/cluster's command line
  frames      crafted gossip datagrams and IPv4/UDP frames (sealed too)
  soak_workers the soak's junk flood and edge-value senders
  soak_report the soak's figures: CPU, drops, verdicts over time
  soak        the chaos soak: schedule, writers, the run and its checks
  sanitizer   the one ASan+UBSan build (tests and fuzzers)
  fuzzing     running the libFuzzer targets
  suite       scripts/run-tests' runners: meson, pytest, fuzz targets
"""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
