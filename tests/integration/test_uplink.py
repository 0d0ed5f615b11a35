# SPDX-License-Identifier: BSD-3-Clause
"""One cluster over several emulating processes (docs/EMULATION.md, "One
cluster, many processes"): two `gossipd --emulate 20` processes, vnodes
node1..node20 and node21..node40, their switches joined through a
net_memif pair (one process the server, the other the client), converge
to one cluster of 40; the options that make no sense are refused.

No namespace, no NIC: memif is shared memory between the two processes.
The memif socket is in the abstract namespace (DPDK's default), named per
run, so runs side by side never meet."""

import json
import os
import subprocess
import time

import pytest

from conftest import GOSSIPCTL, GOSSIPD, require

PER_PROCESS = 20
CLUSTER = 2 * PER_PROCESS
MAX_S = 25               # each process gives up after this (exit 1)
RUN_TIMEOUT_S = 40


@pytest.fixture(scope="module")
def env():
    require("gossipd", "gossipctl")


@pytest.fixture
def setup(env, tmp_path):
    """A shared keyring and, per process, a config with its own control
    paths; the status views are removed afterwards, pass or fail."""
    key = tmp_path / "key"
    q = subprocess.run([str(GOSSIPCTL), "keygen"], capture_output=True,
                       text=True, timeout=10)
    assert q.returncode == 0, q.stderr
    key.write_text(q.stdout)
    key.chmod(0o600)
    tag = f"{os.getpid()}-{tmp_path.name}"
    cfgs, views = [], []
    for side in ("a", "b"):
        view = f"/dev/shm/gossipd-test-uplink-{tag}-{side}"
        cfg = tmp_path / f"{side}.ini"
        cfg.write_text("[cluster]\nname = emu\n"
                       "[node]\nname = node1\naddress = 10.99.0.1\n"
                       f"[security]\nkeyring = {key}\n"
                       "[control]\n"
                       f"socket = {tmp_path / (side + '.sock')}\n"
                       f"status_view = {view}\n")
        cfgs.append(cfg)
        views.append(view)
    try:
        yield tag, cfgs, views
    finally:
        for v in views:
            try:
                os.unlink(v)
            except FileNotFoundError:
                pass


def command(tmp_path, tag, side, cfg, vdev, base, json_path, lcore):
    return [str(GOSSIPD), "--no-huge", "-m", "1024", "--no-pci",
            "--no-telemetry", "--lcores", f"0@{lcore}",
            "--file-prefix", f"gsp-upl-{tag}-{side}", "--vdev", vdev,
            "--", "--config", str(cfg), "--emulate", str(PER_PROCESS),
            "--vnode-base", str(base), "--cluster-size", str(CLUSTER),
            "--uplink", "--scenario", "steady", "--duration-s", "2",
            "--json", str(json_path), "--max-seconds", str(MAX_S)]


def uplink_up(log):
    """The memif server's port started. It listens from EAL's probe on,
    but a client that connects before the port is started is dropped,
    and DPDK's memif client does not retry."""
    with open(log) as f:
        return "uplink: port" in f.read()


def test_two_processes_form_one_cluster(setup, tmp_path):
    tag, cfgs, views = setup
    sock = f"/run/gsp-test-memif-{tag}.sock"
    cpus = os.cpu_count() or 1
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    logs = [open(tmp_path / "a.log", "w"), open(tmp_path / "b.log", "w")]
    procs = []
    try:
        procs.append(subprocess.Popen(
            command(tmp_path, tag, "a", cfgs[0],
                    f"net_memif0,role=server,socket={sock}", 0, outs[0], 0),
            stdout=logs[0], stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=tmp_path))
        deadline = time.monotonic() + 15
        while not uplink_up(tmp_path / "a.log"):
            assert procs[0].poll() is None, "server exited early"
            assert time.monotonic() < deadline, "memif server not listening"
            time.sleep(0.05)
        procs.append(subprocess.Popen(
            command(tmp_path, tag, "b", cfgs[1],
                    f"net_memif0,role=client,socket={sock}", PER_PROCESS,
                    outs[1], 1 if cpus >= 2 else 0),
            stdout=logs[1], stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=tmp_path))
        rcs = [p.wait(timeout=RUN_TIMEOUT_S) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for f in logs:
            f.close()
    text = "\n".join(f"--- {f.name}\n" + open(f.name).read()[-3000:]
                     for f in logs)
    assert rcs == [0, 0], text
    for base, out in zip((0, PER_PROCESS), outs):
        [r] = [json.loads(x) for x in open(out) if x.strip()]
        assert r["timeout"] is False, (r, text)
        assert r["nodes"] == PER_PROCESS and r["vnode_base"] == base, r
        assert r["cluster_size"] == CLUSTER, r
        # every vnode of this process listed all 40, the other's too
        assert 0 < r["join_s"] < MAX_S, r
        sw, up = r["switch"], r["switch"]["uplink"]
        assert up["out"] > 0 and up["in"] > 0, sw
        # cluster MACs derive from addresses: nothing unknown, no ARP
        # crossing, nothing flooded back
        assert up["in_unknown"] == 0 and up["in_flood"] == 0, sw
        assert sw["unknown_dropped"] == 0 and sw["arp_unknown"] == 0, sw
        # reported: frames sent before the memif link came up
        assert up["out_dropped"] >= 0 and up["tx_refused"] >= 0, sw
    # the first vnode of each process, by its status view (kept after the
    # exit): all 40 members, 20 of them hosted by the other process
    for view in views:
        q = subprocess.run([str(GOSSIPCTL), "--view", view, "members",
                            "--json"], capture_output=True, text=True,
                           timeout=10)
        # 3: the process has exited, this is its last published state
        assert q.returncode == 3 and "has exited" in q.stderr, q.stderr
        names = {m["name"] for m in json.loads(q.stdout)["members"]}
        assert names == {f"node{i}" for i in range(1, CLUSTER + 1)}, names


@pytest.mark.parametrize("args, says", [
    (["--emulate", "20", "--cluster-size", "40"], "through --uplink"),
    (["--emulate", "20", "--vnode-base", "30", "--cluster-size", "40",
      "--uplink"], "more than --cluster-size 40"),
    (["--emulate", "20", "--cluster-size", "40", "--uplink=1"],
     "takes no value"),
    (["--emulate", "2", "--seeds", "5", "--vnode-base", "2", "--uplink"],
     "--seeds 5 is more than the 4"),
    (["--vnode-base", "20"], "needs --emulate"),
    (["--emulate", "20", "--cluster-size", "40", "--uplink"],
     "must share a key"),
])
def test_bad_uplink_options(env, args, says):
    q = subprocess.run([str(GOSSIPD), "--", *args], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert q.returncode == 2 and says in q.stderr, q.stderr


def test_uplink_without_a_port(setup, tmp_path):
    """--uplink with no ethdev: a clear error, not a silent cluster of
    one process."""
    tag, cfgs, _ = setup
    q = subprocess.run([str(GOSSIPD), "--no-huge", "-m", "512", "--no-pci",
                        "--no-telemetry", "--lcores", "0@0",
                        "--file-prefix", f"gsp-upl-{tag}-none", "--",
                        "--config", str(cfgs[0]), "--emulate", "4",
                        "--cluster-size", "8", "--uplink",
                        "--max-seconds", "5"],
                       capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert q.returncode == 1, q.stdout + q.stderr
    assert "--uplink: port 0 does not exist" in q.stdout + q.stderr, \
        q.stdout + q.stderr
