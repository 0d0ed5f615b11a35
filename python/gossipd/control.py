# SPDX-License-Identifier: BSD-3-Clause
"""Client of the gossipd control socket (docs/CONTROL.md), pure stdlib.

One JSON object per line each way over an AF_UNIX stream socket. Every
request has a deadline; gossipd's own refusals come back as
ControlError with its message. A new command is one small method that
calls request(cmd, **fields).
"""

import json
import os
import socket
import time

from . import statusview

__all__ = ["Control", "ControlError", "ControlTimeout",
           "ControlUnavailable", "LINE_MAX", "REPLY_MAX"]

LINE_MAX = 4096          # request bytes gossipd takes, newline excluded
REPLY_MAX = 65536        # reply bytes we read before giving up
TIMEOUT_S = 3.0          # gossipctl's deadline for one reply
TRIES = 4                # connections evicted unread, sent again



class ControlError(Exception):
    """gossipd answered {"ok": false, "error": ...}; .reply is the whole
    reply, .error its message."""

    def __init__(self, cmd, reply):
        self.reply = reply
        self.error = reply.get("error") if isinstance(reply, dict) else None
        msg = self.error or "request failed (no error given)"
        super().__init__(f"{cmd}: {msg}")


class ControlUnavailable(Exception):
    """No gossipd at the socket (missing, refused, permission denied),
    the connection dropped, or the reply was not a JSON object line."""


class ControlTimeout(ControlUnavailable):
    """No complete reply within the timeout."""


def _dumps(req):
    return json.dumps(req, separators=(",", ":"), ensure_ascii=True)


def _request_line(cmd, fields):
    """The request as one line of JSON; fields that are None left out."""
    req = {"cmd": cmd}
    req.update({k: v for k, v in fields.items() if v is not None})
    line = _dumps(req).encode()
    if len(line) > LINE_MAX:
        raise ValueError(f"{cmd}: request of {len(line)} bytes is over the "
                         f"control socket's {LINE_MAX}-byte line limit")
    return line


class Control:
    """A gossipd control socket.

    Control(path) names the socket; Control.for_node(node, cluster)
    finds it through the node's status view (its header's
    control_socket), as gossipctl does.
    """

    def __init__(self, path, timeout=TIMEOUT_S, tries=TRIES):
        self.path = os.fspath(path)
        if len(os.fsencode(self.path)) > 107:
            raise ValueError(f"{self.path}: socket path longer than 107 "
                             f"bytes")
        self.timeout = timeout
        self.tries = max(1, int(tries))

    @classmethod
    def for_node(cls, node=None, cluster=None, directory=None, view=None,
                 **kw):
        path = view or statusview.find_view(node, cluster, directory)
        snap = statusview.read(path)
        if not snap.control_socket:
            raise ControlUnavailable(f"{path} names no control socket")
        return cls(snap.control_socket, **kw)

    # -- transport ----------------------------------------------------

    def request(self, cmd, **fields):
        """Sends {"cmd": cmd, **fields} and returns the reply (a dict with
        "ok": true). Raises ControlError when gossipd refuses it,
        ControlUnavailable / ControlTimeout when it cannot be asked.
        Fields whose value is None are left out."""
        line = _request_line(cmd, fields)
        for i in range(self.tries):
            reply = self._exchange(line)
            # evicted before gossipd read our line: safe to send again
            if not reply.get("retry") or i + 1 == self.tries:
                break
        if reply.get("ok") is not True:
            raise ControlError(cmd, reply)
        return reply

    def _connect(self):
        """A connected socket, or the reason there is none."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM |
                          socket.SOCK_CLOEXEC)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
        except OSError as e:
            s.close()
            raise self._connect_error(e) from None
        return s

    def _connect_error(self, e):
        if isinstance(e, FileNotFoundError):
            return ControlUnavailable(f"{self.path}: no control socket "
                                      f"(is gossipd running?)")
        if isinstance(e, ConnectionRefusedError):
            return ControlUnavailable(f"{self.path}: connection refused "
                                      f"(gossipd is not running; a stale "
                                      f"socket)")
        if isinstance(e, PermissionError):
            return ControlUnavailable(f"{self.path}: permission denied (the "
                                      f"socket is 0600: run as root or "
                                      f"gossipd's user)")
        if isinstance(e, socket.timeout):
            return ControlTimeout(f"{self.path}: connect timed out")
        return ControlUnavailable(f"{self.path}: {e.strerror or e}")

    def _exchange(self, line):
        deadline = time.monotonic() + self.timeout
        s = self._connect()
        try:
            send_err = None
            try:
                s.sendall(line + b"\n")
            except (BrokenPipeError, ConnectionResetError) as e:
                # refused with a reply, then closed: read it below
                send_err = e
            except socket.timeout:
                raise ControlTimeout(f"{self.path}: send timed out") \
                    from None
            buf = b""
            while b"\n" not in buf:
                if len(buf) >= REPLY_MAX:
                    raise ControlUnavailable(f"{self.path}: reply longer "
                                             f"than {REPLY_MAX} bytes")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ControlTimeout(f"{self.path}: no reply from "
                                         f"gossipd within {self.timeout:g} s")
                s.settimeout(left)
                try:
                    chunk = s.recv(REPLY_MAX - len(buf))
                except socket.timeout:
                    continue        # the deadline check reports it
                except OSError as e:
                    raise ControlUnavailable(
                        f"{self.path}: "
                        f"{(send_err or e).strerror}") from None
                if not chunk:
                    raise ControlUnavailable(
                        f"{self.path}: " + (
                            f"send: {send_err.strerror}" if send_err else
                            "gossipd closed the connection without a "
                            "reply"))
                buf += chunk
        finally:
            s.close()
        try:
            reply = json.loads(buf.split(b"\n", 1)[0])
        except ValueError as e:
            raise ControlUnavailable(f"{self.path}: unreadable reply from "
                                     f"gossipd: {e}") from None
        if not isinstance(reply, dict):
            raise ControlUnavailable(f"{self.path}: unreadable reply from "
                                     f"gossipd: not a JSON object")
        return reply

    def stream(self, cmd, idle_timeout=None, max_line=REPLY_MAX, **fields):
        """For a command that keeps pushing lines (a subscription such as
        an event monitor): sends the request on one connection and yields
        each reply line as a dict until gossipd closes it. A first reply
        with "ok": false raises ControlError. idle_timeout (seconds, None:
        forever) bounds the wait for each line: ControlTimeout. The
        generator's close() closes the connection."""
        line = _request_line(cmd, fields)
        s = self._connect()
        try:
            try:
                s.sendall(line + b"\n")
            except OSError as e:
                raise ControlUnavailable(f"{self.path}: {e.strerror or e}") \
                    from None
            s.settimeout(idle_timeout)
            buf, first = b"", True
            while True:
                while b"\n" not in buf:
                    if len(buf) > max_line:
                        raise ControlUnavailable(f"{self.path}: line longer "
                                                 f"than {max_line} bytes")
                    try:
                        chunk = s.recv(65536)
                    except socket.timeout:
                        raise ControlTimeout(f"{self.path}: nothing from "
                                             f"gossipd for {idle_timeout:g} "
                                             f"s") from None
                    except OSError as e:
                        raise ControlUnavailable(f"{self.path}: "
                                                 f"{e.strerror}") from None
                    if not chunk:
                        return
                    buf += chunk
                raw, buf = buf.split(b"\n", 1)
                if not raw.strip():
                    continue
                try:
                    msg = json.loads(raw)
                except ValueError as e:
                    raise ControlUnavailable(f"{self.path}: unreadable line "
                                             f"from gossipd: {e}") from None
                if first and isinstance(msg, dict) and msg.get("ok") is False:
                    raise ControlError(cmd, msg)
                first = False
                yield msg
        finally:
            s.close()

    # -- commands: one small method each -------------------------------

    def ping(self):
        """{"node", "cluster", "control": {"clients", "deadline_closed",
        "evicted"}}."""
        return self.request("ping")

    def set(self, key, value):
        """Publishes app state key=value from this node."""
        self.request("set", key=key, value=value)

    def delete(self, key):
        """Removes one of this node's app keys from the cluster."""
        self.request("delete", key=key)

    def event(self, name, payload=None):
        """Sends a user event to every live node (docs/EVENTS.md); this
        node's sequence number of it."""
        return self.request("event", name=name, payload=payload)["seq"]

    def monitor(self, types=None, idle_timeout=None):
        """Yields the node's events as dicts (docs/EVENTS.md), the
        first being the subscription's reply."""
        yield from self.stream("monitor", types=types,
                               idle_timeout=idle_timeout)

    def leave(self):
        """Announces a graceful leave to the cluster: the node gossips
        its LEAVE for [gossip] leave_rounds rounds, then exits (status 0,
        within 5 s)."""
        self.request("leave")

    def fault(self, op="show", spec=None, peer=None):
        """Fault injection (docs/FAULTS.md): op show, set (spec), clear,
        block / unblock (peer: IPv4 or member name, optional :in/:out/
        :both). Returns {"spec", "active", "counters"}."""
        return self.request("fault", op=op, spec=spec, peer=peer)

    def fault_set(self, spec):
        return self.fault("set", spec=spec)

    def fault_clear(self):
        return self.fault("clear")

    def block(self, peer):
        return self.fault("block", peer=peer)

    def unblock(self, peer):
        return self.fault("unblock", peer=peer)

    def keys(self, op="list", id=None, file=None):
        """The keyring (docs/SECURITY.md): op list, install (file: an
        absolute path gossipd reads), use (id), remove (id)."""
        return self.request("keys", op=op, id=id, file=file)

    def keys_install(self, file):
        return self.keys("install", file=os.fspath(file))

    def keys_use(self, key_id):
        return self.keys("use", id=key_id)

    def keys_remove(self, key_id):
        return self.keys("remove", id=key_id)
