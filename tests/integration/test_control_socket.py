# SPDX-License-Identifier: BSD-3-Clause
"""The control socket: private to root, and robust against bad clients."""

import errno
import json
import os
import socket
import stat
import threading
import time

import pytest

from conftest import CONVERGE_S, wait_heartbeats_advance, wait_until

NODES = ["node1", "node2"]


@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(2)
    c.wait_converged(timeout=CONVERGE_S)
    return c


def connect(path):
    for kind in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET):
        s = socket.socket(socket.AF_UNIX, kind)
        s.settimeout(5.0)
        try:
            s.connect(str(path))
            return s
        except OSError as e:
            s.close()
            if e.errno != errno.EPROTOTYPE:
                raise
    raise AssertionError(f"cannot connect to {path}")


def exchange(path, data):
    """Send data on a fresh connection; the first reply line, parsed."""
    s = connect(path)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass                # the server may answer and hang up early
        buf = b""
        while b"\n" not in buf:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    line = buf.split(b"\n", 1)[0]
    assert line, f"no reply to {data[:60]!r}..."
    try:
        return json.loads(line)
    except ValueError:
        raise AssertionError(f"reply is not JSON: {line[:200]!r}") from None


def test_socket_is_private(c):
    path = c.socket_path("node1")
    wait_until(lambda: path.exists(), 10, f"{path} to exist")
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode), f"{path} is not a socket"
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(stat.S_IMODE(st.st_mode))
    assert st.st_uid == 0, st.st_uid


def test_set_bad_key_fails(c):
    for key in ("bad key!", "k" * 40):
        r = c.ctl("node1", "set", key, "1")
        assert r.returncode == 1, (key, r.returncode, r.stdout, r.stderr)
        assert r.stderr.strip(), f"no message for bad key {key!r}"
    r = c.ctl("node1", "set", "good_key", "1")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("payload", [
    b"this is not json\n",
    b"{\"cmd\": \n",
    b"[1, 2, 3]\n",
    b"{\"cmd\": \"no-such-command\"}\n",
    b"\x00\xff\xfe garbage \x01\n",
    b"x" * 70000 + b"\n",
], ids=["text", "truncated-json", "json-array", "unknown-command", "binary",
        "over-long-line"])
def test_garbage_gets_error(c, payload):
    reply = exchange(c.socket_path("node1"), payload)
    assert isinstance(reply, dict) and reply.get("ok") is False, reply
    assert c.is_running("node1")


def test_node_survives_bad_clients(c):
    # a client that connects and leaves without a word, and one that sends
    # half a line and hangs up
    connect(c.socket_path("node1")).close()
    s = connect(c.socket_path("node1"))
    s.sendall(b"{\"cmd\":")
    s.close()
    assert c.is_running("node1")
    assert c.members("node1")["writer_alive"] is True
    wait_heartbeats_advance(c, NODES, members=["node1"])
    c.wait_converged(timeout=CONVERGE_S)


NOBODY = 65534


def connect_as(uid, path):
    """In a child that dropped to uid: connect and read one line. Returns
    ("refused-by-fs", errno) or ("reply", line)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            try:
                s = connect(path)
            except PermissionError as e:
                os.write(w, f"fs {e.errno}".encode())
                os._exit(0)
            try:
                s.sendall(b'{"cmd":"ping"}\n')
            except BrokenPipeError:
                pass            # refused at once: the reason is queued
            data = b""
            while b"\n" not in data and len(data) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            os.write(w, b"reply " + data.split(b"\n")[0])
        except BaseException as e:     # noqa: B036: report, never raise
            os.write(w, f"error {e!r}".encode())
        os._exit(0)
    os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        out += chunk
    os.close(r)
    os.waitpid(pid, 0)
    kind, _, rest = out.decode(errors="replace").partition(" ")
    return kind, rest


def test_other_users_are_refused(c):
    """Another user cannot use the socket: the file mode stops them, and
    were it loosened, gossipd itself refuses them (SO_PEERCRED)."""
    path = c.socket_path("node1")
    kind, rest = connect_as(NOBODY, path)
    assert kind == "fs" and int(rest) == errno.EACCES, (kind, rest)
    # loosen the socket and its directory, as a careless admin might
    d = os.path.dirname(path)
    dmode = stat.S_IMODE(os.stat(d).st_mode)
    os.chmod(d, dmode | 0o011)
    os.chmod(path, 0o666)
    try:
        kind, rest = connect_as(NOBODY, path)
    finally:
        os.chmod(path, 0o600)
        os.chmod(d, dmode)
    assert kind == "reply", (kind, rest)
    reply = json.loads(rest)
    assert reply["ok"] is False and "permission denied" in reply["error"], reply
    assert "uid 65534" in reply["error"], reply
    # root still gets in
    assert exchange(path, b'{"cmd":"ping"}\n')["ok"] is True


class SlowClients:
    """n threads, each connected to a control socket and sending one byte
    a second of a request line it never finishes; a closed connection is
    reconnected at once. Counts connections and closes seen."""

    def __init__(self, path, n):
        self.path = str(path)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.connects = 0
        self.closed_by_server = 0
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(n)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)
        alive = [t for t in self.threads if t.is_alive()]
        assert not alive, f"{len(alive)} slow-client threads did not stop"

    def _count(self, attr):
        with self.lock:
            setattr(self, attr, getattr(self, attr) + 1)

    def _run(self):
        while not self.stop.is_set():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(5.0)
                s.connect(self.path)
                self._count("connects")
                s.setblocking(False)
                while not self.stop.is_set():
                    s.send(b'{')           # never a newline
                    if self.stop.wait(1.0):
                        break
                    try:
                        if s.recv(4096) is not None:
                            self._count("closed_by_server")
                            break       # an error line or EOF: closed
                    except BlockingIOError:
                        pass
            except OSError:
                self.stop.wait(0.05)    # refused or reset: try again
            finally:
                s.close()


def test_slow_clients_cannot_lock_out_gossipctl(c):
    """32 clients that each send a byte a second of a line they never end
    (twice the 16 slots) and reconnect when closed: every gossipctl
    request still gets its answer (docs/SECURITY.md, "Control socket")."""
    path = c.socket_path("node1")
    since = len(c.log("node1"))
    t0 = time.monotonic()
    with SlowClients(path, 32) as slow:
        # the slots are taken and the clients churn
        wait_until(lambda: slow.connects >= 48, 30,
                   "the slow clients to connect and reconnect")
        for _ in range(8):
            p = c.ctl("node1", "ping")
            assert p.returncode == 0 and p.stdout.strip() == "ok", \
                (p.returncode, p.stdout, p.stderr)
            f = c.ctl("node1", "fault", "--json")
            assert f.returncode == 0, (f.returncode, f.stderr)
            assert "dropped" in json.loads(f.stdout)["counters"], f.stdout
    assert c.is_running("node1")
    # counted, and the closes were the server's doing
    r = exchange(path, b'{"cmd":"ping"}\n')
    assert r["control"]["deadline_closed"] + r["control"]["evicted"] > 0, r
    assert slow.closed_by_server > 0
    # logged once a minute at most, not once per connection
    lines = [ln for ln in c.log("node1")[since:].splitlines()
             if "control:" in ln and "evicted to make room" in ln]
    assert 1 <= len(lines) <= 1 + (time.monotonic() - t0) // 60, lines
