# SPDX-License-Identifier: BSD-3-Clause
"""gossipd-exporter (docs/METRICS.md): a real Debian `prometheus` scrapes
it over a 3-node netns cluster and its HTTP query API returns the member
counts, then a killed node shows up there as down; the exporter answers bad
requests with 400/404/405/431 and keeps serving.

Everything started here is stopped by pid in a finally."""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import urllib.parse
import urllib.request

import pytest

from conftest import BUILD_DIR, DETECT_S, wait_until

EXPORTER = BUILD_DIR / "control" / "gossipd-exporter"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(p):
    if p is not None and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def http_get(port, path, accept=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def raw(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        if data:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                return out.decode(errors="replace")
            out += b


def start_exporter(c, port, by_node=False):
    argv = [str(EXPORTER), "--listen", f"127.0.0.1:{port}"]
    for n in c.names():
        argv += (["--node", n] if by_node else
                 ["--view", str(c.view_path(n))])
    if by_node:
        argv += ["--cluster", c.cluster,
                 "--dir", os.path.dirname(c.view_path(n))]
    p = subprocess.Popen(argv, stderr=subprocess.PIPE)
    wait_until(lambda: p.poll() is not None or _listening(port), 10,
               "exporter listening")
    assert p.poll() is None, p.stderr.read().decode()
    return p


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(3)
    c.wait_converged(timeout=30)
    return c


def test_exporter_bad_requests_and_formats(c):
    port = free_port()
    p = start_exporter(c, port, by_node=True)
    try:
        # the view's counts follow the table within a publish interval
        wait_until(lambda: all(
            f'gossipd_members{{cluster="{c.cluster}",node="{n}",'
            f'state="alive"}} 3' in http_get(port, "/metrics")[2]
            for n in c.names()), 10, "alive 3 on every node")
        code, ctype, body = http_get(port, "/metrics")
        # a fixed number of series per node, none per member
        per_node = [ln for ln in body.splitlines()
                    if f'node="{c.names()[0]}"' in ln]
        print(f"{len(body.splitlines())} lines, {len(per_node)} series "
              "per node")
        assert 50 < len(per_node) < 150
        assert code == 200 and ctype.startswith("text/plain; version=0.0.4")
        assert "# TYPE gossipd_rx_packets_total counter" in body
        for n in c.names():
            assert (f'gossipd_members{{cluster="{c.cluster}",node="{n}",'
                    f'state="alive"}} 3') in body
            assert f'gossipd_up{{cluster="{c.cluster}",node="{n}"}} 1' in body
        assert 'reason="' in body
        # ARP: every node heard its peers' requests or replies
        for n in c.names():
            arp = re.search(rf'^gossipd_arp_rx_total{{cluster="{c.cluster}",'
                            rf'node="{n}"}} (\d+)$', body, re.M)
            assert arp and int(arp.group(1)) > 0, n
        for name in ("arp_tx", "arp_overheard", "arp_ignored"):
            assert f"# TYPE gossipd_{name}_total counter" in body, name
        code, ctype, body = http_get(port, "/metrics",
                                     "application/openmetrics-text")
        assert ctype.startswith("application/openmetrics-text")
        assert "# TYPE gossipd_rx_packets counter" in body
        assert body.endswith("# EOF\n")
        assert "# TYPE gossipd_view_digest info" in body
        assert http_get(port, "/nope")[0] == 404
        assert raw(port, b"POST /metrics HTTP/1.1\r\n\r\n").startswith(
            "HTTP/1.1 405 ")
        assert raw(port, b"garbage\r\n\r\n").startswith("HTTP/1.1 400 ")
        assert raw(port, b"GET /metrics HTTP/9\r\n\r\n").startswith(
            "HTTP/1.1 400 ")
        assert raw(port, b"GET /x\0 HTTP/1.1\r\n\r\n").startswith(
            "HTTP/1.1 400 ")
        # exactly the bound, no end of headers: nothing left unread, so
        # the close is clean and the answer arrives
        big = b"GET /metrics HTTP/1.1\r\nX: "
        assert raw(port, big + b"a" * (8192 - len(big))).startswith(
            "HTTP/1.1 431 ")
        # random bytes ending a request: an answer each, no crash
        rng = random.Random(13)
        for _ in range(50):
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(
                1, 300)))
            assert raw(port, junk + b"\r\n\r\n").startswith("HTTP/1.1 4")
        # a request not finished within 5 s is answered 408 and closed
        with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
            s.sendall(b"GET /metr")
            assert s.recv(4096).startswith(b"HTTP/1.1 408 ")
        # connections beyond 16 are refused, others go on
        idle = [socket.create_connection(("127.0.0.1", port))
                for _ in range(20)]
        try:
            for s in idle:
                s.sendall(b"GET /met")
            # nothing sent: a refused request unread would be an RST
            assert raw(port, None).startswith("HTTP/1.1 503 ")
        finally:
            for s in idle:
                s.close()
        wait_until(lambda: http_get(port, "/")[0] == 200, 10,
                   "exporter serving after the flood")
        assert p.poll() is None
    finally:
        stop(p)
    assert p.returncode == 0


def test_exporter_rejects_bad_options(tmp_path):
    for argv, want in ((["--view", "/x", "--listen", "nope"], "expected IPV4:PORT"),
                       (["--view", "/x", "--listen", "1.2.3.4:0"],
                        "port in 1..65535"),
                       ([], "no view"),
                       (["--node", "nosuch", "--dir", str(tmp_path)],
                        "no status view")):
        r = subprocess.run([str(EXPORTER)] + argv, capture_output=True,
                           text=True, timeout=10)
        assert r.returncode in (1, 2) and want in r.stderr, (argv, r.stderr)
    r = subprocess.run([str(EXPORTER), "--version"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0 and r.stdout.startswith("gossipd-exporter ")


def prom_query(port, q):
    url = (f"http://127.0.0.1:{port}/api/v1/query?"
           + urllib.parse.urlencode({"query": q}))
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            d = json.load(r)
    except OSError:
        return None
    if d.get("status") != "success":
        return None
    return {s["metric"].get("node"): float(s["value"][1])
            for s in d["data"]["result"]}


def test_prometheus_scrapes_member_counts(c, tmp_path):
    eport, pport = free_port(), free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: gossipd
    static_configs:
      - targets: ['127.0.0.1:{eport}']
""")
    exporter = prom = None
    try:
        exporter = start_exporter(c, eport)
        prom = subprocess.Popen(
            [PROMETHEUS, f"--config.file={cfg}",
             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{pport}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        q = 'gossipd_members{state="alive"}'
        want = {n: 3.0 for n in c.names()}
        wait_until(lambda: prom_query(pport, q) == want, 60,
                   f"prometheus: {q} == 3 on every node")
        print(f"{q} -> {prom_query(pport, q)}")
        victim, rest = c.names()[-1], c.names()[:-1]
        c.kill(victim)
        qd = 'gossipd_members{state="down"}'
        wait_until(lambda: (lambda r: r is not None and
                            all(r.get(n) == 1.0 for n in rest))(
                                prom_query(pport, qd)),
                   DETECT_S + 10, f"prometheus: {qd} == 1 after a kill")
        print(f"{qd} -> {prom_query(pport, qd)}")
        r = prom_query(pport, q)
        assert all(r.get(n) == 2.0 for n in rest), r
        wait_until(lambda: prom_query(pport, f'gossipd_up{{node="{victim}"}}')
                   == {victim: 0.0}, 20, "prometheus: the killed node up 0")
    finally:
        stop(prom)
        stop(exporter)


DPDK_TELEMETRY = shutil.which("dpdk-telemetry.py") or "/usr/bin/dpdk-telemetry.py"


def telemetry(prefix, *cmds):
    """dpdk-telemetry.py's JSON answers to cmds, one per line of stdin."""
    r = subprocess.run([DPDK_TELEMETRY, "-f", prefix],
                       input="".join(c + "\n" for c in cmds),
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()
            if line.startswith("{")]


def test_rte_telemetry_commands(c):
    """node1 restarted with telemetry on: dpdk-telemetry.py lists and
    answers /gossipd/info, /gossipd/stats and /gossipd/members."""
    name = c.names()[0]
    node = c._node(name)
    if c.is_running(name):
        c.stop(name)
    node["telemetry"] = True
    try:
        c.start(name)
        c.wait_converged(timeout=30)
        prefix = node["file_prefix"]
        sock = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
        wait_until(lambda: os.path.exists(sock), 10, "telemetry socket")
        alive = [n for n in c.names() if c.is_running(n)]

        def answers():
            return telemetry(prefix, "/", "/gossipd/info", "/gossipd/stats",
                             "/gossipd/members", "/gossipd/members,1",
                             "/gossipd/members,x")
        # a restarted node learns a killed one from states (alive), then
        # suspects it and only later holds it down: wait for both
        def settled():
            st = answers()[2]["/gossipd/stats"]
            return st["alive"] == len(alive) and \
                st["down"] == len(c.names()) - len(alive)
        wait_until(settled, 30, "telemetry: every running node alive, "
                   "the killed one down")
        cmds, info, stats, members, paged, bad = answers()
        print(info, stats, members, sep="\n")
        assert {"/gossipd/info", "/gossipd/stats",
                "/gossipd/members"} <= set(cmds["/"])
        assert info["/gossipd/info"]["node"] == name
        assert info["/gossipd/info"]["cluster"] == c.cluster
        s = stats["/gossipd/stats"]
        assert s["rounds"] > 0 and s["rx_packets"] > 0
        assert s["drop_forged"] == 0 and "drop_ok" not in s
        m = members["/gossipd/members"]
        # a node killed by an earlier test is still listed, down
        assert m["count"] == 3 and m["shown"] == 3
        assert set(m["members"]) == set(c.names())
        assert all(m["members"][n] == "alive" for n in alive)
        assert all(m["members"][n] == "down" for n in c.names()
                   if n not in alive)
        # DPDK names the answer by the command without its parameters
        p = paged["/gossipd/members"]
        assert p["offset"] == 1 and p["shown"] == 2
        assert bad["/gossipd/members"] is None      # a bad offset
    finally:
        node["telemetry"] = False
