# SPDX-License-Identifier: BSD-3-Clause
"""The control socket: private to root, and robust against bad clients."""

import errno
import json
import os
import socket
import stat

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
