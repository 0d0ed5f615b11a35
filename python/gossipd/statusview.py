# SPDX-License-Identifier: BSD-3-Clause
"""Reader of the gossipd status view (docs/STATUS_VIEW.md), pure stdlib.

The file is read with os.pread(), never through a mapping: a view
truncated behind gossipd's back would raise SIGBUS in a mapping reader
and kill the interpreter, while a short pread() is an error we can
report (docs/STATUS_VIEW.md, "What readers should do").

Every integer is little-endian and fixed-width; u64 values come back as
exact Python ints.
"""

import glob
import os
import stat
import struct
import time

__all__ = [
    "MAGIC", "MAJOR", "StatusViewError", "NotAStatusView",
    "UnsupportedVersion", "CorruptView", "TornRead", "WriterGone",
    "StatusView", "Snapshot", "Member", "Lcore", "read", "find_view",
    "list_views", "DROP_REASONS", "FAULT_COUNTERS", "STATES",
]

MAGIC = 0x5745495653505347          # "GSPSVIEW"
MAJOR = 1
HEADER_MIN = 1024
MEMBER_MIN = 1024                   # minor 0..6
MEMBER_MIN_7 = 2304                 # minor 7: app_ext at 1024
LCORE_MIN = 128
STALE_NS = 2_000_000_000            # gossipctl's "writer is dead" bound
DEFAULT_DIR = "/dev/shm"
FLAG_CLOSED = 1
FLAG_FAULTS = 2
MEMBER_SELF = 1

STATES = ("alive", "suspect", "down", "left")

# drop reasons 0..15 in counters.rx_drop, 16..23 in security.rx_drop_ext
# (gsp_sv_drop_reason_name(); unnamed slots read "reasonN")
DROP_REASONS = (
    "ok", "truncated", "bad_magic", "bad_version", "bad_length", "bad_type",
    "wrong_cluster", "bad_count", "bad_entry", "self", "nomem", "unsealed",
    "sealed", "unknown_key", "forged", "replay", "rate_limited",
    "over_limit", "oversized", "implausible", "reason20", "reason21",
    "reason22", "reason23",
)
# the view minor from which gossipctl always shows a reason; the rest
# (implausible included) only when non-zero
_DROP_MINOR = (0,) * 11 + (3,) * 8 + (99,) * 5
FAULT_COUNTERS = ("dropped", "blocked_out", "blocked_in", "duplicated",
                  "delayed", "reordered", "queue_full", "fault7")
CIPHERS = ("none", "aes-256-gcm", "chacha20-poly1305")   # gsp_cipher_name()

# (name, header offset, the minor that added it), as gossipctl stats'
# "counters": the MAIN rows of dataplane/core/gsp_counters.h
MAIN_COUNTERS = (
    ("rounds", 512, 0), ("tx_syn", 520, 0), ("tx_ack", 528, 0),
    ("tx_ack2", 536, 0), ("tx_leave", 544, 0), ("rx_syn", 552, 0),
    ("rx_ack", 560, 0), ("rx_ack2", 568, 0), ("rx_leave", 576, 0),
    ("merged", 584, 0), ("stale", 592, 0), ("table_full", 600, 0),
    ("seed_contacts", 608, 0), ("members", 616, 0), ("alive", 624, 0),
    ("suspect", 632, 0), ("down", 640, 0), ("left", 648, 0),
    ("tx_push", 656, 1), ("rx_push", 664, 1), ("rumors", 672, 1),
    ("tx_ping", 680, 2), ("rx_ping", 688, 2), ("tx_pong", 696, 2),
    ("rx_pong", 704, 2), ("tx_ping_req", 712, 2), ("rx_ping_req", 720, 2),
    ("tx_nack", 728, 2), ("rx_nack", 736, 2), ("probes_failed", 744, 2),
    ("suspicions", 752, 2), ("refutations", 760, 2),
    ("claims_rx", 896, 2), ("declared_down", 904, 2),
    ("awareness", 912, 2), ("incarnation", 920, 2),
    ("probes_late", 992, 8), ("claim_pushes", 1000, 11),
    ("claim_pushes_rx", 1008, 11), ("probe_rtt_us", 504, 8),
    ("tx_sum", 456, 6), ("rx_sum", 464, 6), ("syncs", 472, 6),
    ("view_digest", 480, 6), ("view_peers", 488, 6),
    ("view_agree", 496, 6),
)
SECURITY_COUNTERS = (
    ("rx_key_primary", 352, 3), ("rx_key_other", 360, 3),
    ("limit_hits", 368, 3), ("implausible", 440, 4), ("renewals", 448, 4),
)
LCORE_FIELDS = (
    "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_not_gossip",
    "rx_parse_errors", "tx_dropped", "tx_no_arp", "arp_rx", "arp_tx",
    "idle_sleeps", "rx_handoff", "rx_handoff_full", "rx_wrong_mac",
    "arp_ignored", "rx_intr_waits", "rx_intr_wakeups",
    "arp_overheard", "idle_spins", "idle_spin_hits",
)

# header bytes 0..128: magic .. phi_convict_milli
_HDR = struct.Struct("<QHHIQQIIQQQQIIIIIIIIIH2xQI")
_SEQ_OFF = 24
_MEMBER = struct.Struct("<QQQQQQIHBBII64s")     # 128 bytes
_APP = struct.Struct("<Q32s64s")                # 104 bytes
_APP_KEYS = 8
# minor 7: app_ext at 1024, u8 count, 3 reserved, u32 bytes, data[1272]
# of entries packed as the wire's: u64 version, u8 klen, u8 vlen, key,
# value
_APP_EXT_OFF = 1024
_APP_EXT = struct.Struct("<B3xI")
_APP_EXT_KEYS = 16
_APP_DATA = 1272
_APP_ENTRY = struct.Struct("<QBB")              # 10 bytes
_LCORE_HEAD = struct.Struct("<IHH")

# seqcount retries: like libgsp_sv, 1000 tries with a short pause
TRIES = 1000
PAUSE_S = 100e-6


class StatusViewError(Exception):
    """Base of every error of this module; .path names the file."""

    def __init__(self, path, msg):
        super().__init__(f"{path}: {msg}")
        self.path = path


class NotAStatusView(StatusViewError):
    """Too short, not a regular file, or a bad magic."""


class UnsupportedVersion(StatusViewError):
    """A major version this reader does not know."""


class CorruptView(StatusViewError):
    """Sizes, offsets or counts that do not fit the file or each other,
    or a file cut short while being read."""


class TornRead(StatusViewError):
    """No consistent copy within the bound: the writer is very busy, or it
    died in the middle of an update (seq stays odd for good)."""


class WriterGone(StatusViewError):
    """The writer closed the view, died, or stopped publishing; raised by
    Snapshot.check_alive(), with the snapshot in .snapshot."""

    def __init__(self, path, msg, snapshot):
        super().__init__(path, msg)
        self.snapshot = snapshot


def _cstr(b):
    """A fixed char[] field as text: up to its first NUL (maybe none),
    undecodable bytes replaced, as gossipctl prints them safe."""
    return b.split(b"\0", 1)[0].decode("utf-8", "replace")


def _ip(v):
    return ".".join(str((v >> s) & 0xFF) for s in (24, 16, 8, 0))


def _u64(buf, off):
    return struct.unpack_from("<Q", buf, off)[0]


def _app_ext(rec):
    """[(version, key, value)] of a minor-7 record's app_ext; None when it
    is malformed (libgsp_sv refuses such a view: -EPROTO)."""
    count, used = _APP_EXT.unpack_from(rec, _APP_EXT_OFF)
    if count > _APP_EXT_KEYS or used > _APP_DATA:
        return None
    data = rec[_APP_EXT_OFF + _APP_EXT.size:
               _APP_EXT_OFF + _APP_EXT.size + used]
    out, off = [], 0
    for _ in range(count):
        if used - off < _APP_ENTRY.size:
            return None
        ver, klen, vlen = _APP_ENTRY.unpack_from(data, off)
        off += _APP_ENTRY.size
        if not 0 < klen < 32 or vlen > 255 or used - off < klen + vlen:
            return None
        k, v = data[off:off + klen], data[off + klen:off + klen + vlen]
        if b"\0" in k or b"\0" in v:
            return None
        out.append((ver, k.decode("utf-8", "replace"),
                    v.decode("utf-8", "replace")))
        off += klen + vlen
    return out if off == used else None


# app keys gossipd writes itself (gossipctl set refuses them)
RESERVED_PREFIX = "gsp."

class Member:
    """One member record. app: {key: value}, app_versions: {key: version};
    keys under the reserved prefix "gsp." (the member's keyring, its last
    user event: docs/EVENTS.md) are in reserved, not app, as gossipctl
    shows them. From a minor-7 writer: the whole state (app_ext, 16 keys,
    255-byte values); from an older one: its 8 slots, 63-byte values."""

    __slots__ = ("id", "generation", "heartbeat", "version",
                 "last_update_unix_ns", "state_since_unix_ns", "ip",
                 "port", "state", "phi", "phi_milli", "flags", "name",
                 "app", "app_versions", "reserved", "incarnation")

    def __init__(self, rec, minor):
        (self.id, self.generation, self.heartbeat, self.version,
         self.last_update_unix_ns, self.state_since_unix_ns, ip,
         self.port, state, app_count, self.phi_milli, self.flags,
         name) = _MEMBER.unpack_from(rec, 0)
        self.ip = _ip(ip)
        self.state = STATES[state] if state < len(STATES) else \
            f"state{state}"
        self.phi = self.phi_milli / 1000.0
        self.name = _cstr(name)
        self.app = {}
        self.app_versions = {}
        self.reserved = {}
        entries = _app_ext(rec) if minor >= 7 else [
            (ver, _cstr(k), _cstr(v)) for ver, k, v in
            (_APP.unpack_from(rec, 128 + i * _APP.size)
             for i in range(min(app_count, _APP_KEYS)))]
        if entries is None:
            raise _BadRecord(self.name)
        for ver, k, v in entries:
            if k.startswith(RESERVED_PREFIX):
                self.reserved[k] = v
                continue
            self.app[k] = v
            self.app_versions[k] = ver
        self.incarnation = struct.unpack_from("<I", rec, 960)[0] \
            if minor >= 2 else 0

    @property
    def address(self):
        return f"{self.ip}:{self.port}"

    @property
    def is_self(self):
        return bool(self.flags & MEMBER_SELF)

    def as_dict(self):
        d = {k: getattr(self, k) for k in self.__slots__}
        d["address"] = self.address
        d["self"] = self.is_self
        return d

    def __repr__(self):
        return (f"Member({self.name!r}, {self.address}, {self.state}, "
                f"hb={self.heartbeat})")


class Lcore:
    """One lcore record: lcore_id, port_id, queue_id and LCORE_FIELDS."""

    def __init__(self, rec):
        self.lcore_id, self.port_id, self.queue_id = \
            _LCORE_HEAD.unpack_from(rec, 0)
        self.counters = {}
        for i, name in enumerate(LCORE_FIELDS):
            off = 8 + 8 * i
            # a 128-byte record of an older writer: later fields read 0
            self.counters[name] = _u64(rec, off) if off + 8 <= len(rec) \
                else 0

    def __getattr__(self, name):
        try:
            return self.__dict__["counters"][name]
        except KeyError:
            raise AttributeError(name) from None


class Snapshot:
    """A consistent copy of one status view (seq was even and unchanged
    across the copy). Fields follow the header's names."""

    def __init__(self, path, hdr, members, lcores):
        self.path = path
        self.raw_header = hdr
        (magic, self.major, self.minor, self.header_size, self.total_size,
         self.seq, self.writer_pid, self.flags, self.start_unix_ns,
         self.heartbeat_unix_ns, self.self_id, self.self_generation,
         self.member_offset, self.member_stride, self.member_capacity,
         self.member_count, self.lcore_offset, self.lcore_stride,
         self.lcore_capacity, self.lcore_count, self_ip, self.self_port,
         self.gossip_interval_ns, self.phi_convict_milli) = \
            _HDR.unpack_from(hdr, 0)
        self.self_ip = _ip(self_ip)
        self.cluster = _cstr(hdr[128:160])
        self.node_name = _cstr(hdr[160:224])
        self.control_socket = _cstr(hdr[224:336])
        self.members = members
        self.lcores = lcores

    # header flags
    @property
    def closed(self):
        return bool(self.flags & FLAG_CLOSED)

    @property
    def faults_active(self):
        return bool(self.flags & FLAG_FAULTS)

    @property
    def counters(self):
        """{name: int} as gossipctl stats --json "counters", with
        "rx_drop": {reason: count} (named reasons of the writer's minor,
        later slots only when non-zero)."""
        c = {n: _u64(self.raw_header, off) for n, off, minor in
             MAIN_COUNTERS if self.minor >= minor}
        c["rx_drop"] = {
            name: n for i, name in enumerate(DROP_REASONS)
            for n in [self.drop_count(i)]
            if (i > 0 and self.minor >= _DROP_MINOR[i]) or n != 0}
        return c

    def drop_count(self, reason):
        """Datagrams dropped for reason (an index or a name)."""
        if isinstance(reason, str):
            reason = DROP_REASONS.index(reason)
        if reason < 16:
            return _u64(self.raw_header, 768 + 8 * reason)
        if reason < 24:
            return _u64(self.raw_header, 336 + 40 + 8 * (reason - 16))
        raise IndexError(reason)

    @property
    def faults(self):
        """{"active": bool, "counters": {name: int}}."""
        return {"active": self.faults_active,
                "counters": {n: _u64(self.raw_header, 928 + 8 * i)
                             for i, n in enumerate(FAULT_COUNTERS)
                             if i < 7 or _u64(self.raw_header,
                                              928 + 8 * i) != 0}}

    @property
    def security(self):
        """As gossipctl stats --json "security"; None before minor 3."""
        if self.minor < 3:
            return None
        mode, cipher, primary, n_keys = struct.unpack_from(
            "<IIII", self.raw_header, 336)
        s = {"mode": "authenticated" if mode == 1 else "plaintext",
             "cipher": CIPHERS[cipher] if cipher < len(CIPHERS) else
             "none",
             "primary_key": f"{primary:08x}", "keys": n_keys}
        for n, off, minor in SECURITY_COUNTERS:
            if self.minor >= minor:
                s[n] = _u64(self.raw_header, off)
        return s

    @property
    def view(self):
        """View agreement (minor 6): digest, peers, agree, tx_sum, rx_sum,
        syncs; None for an older writer."""
        if self.minor < 6:
            return None
        names = ("tx_sum", "rx_sum", "syncs", "digest", "peers", "agree")
        return {n: _u64(self.raw_header, 456 + 8 * i)
                for i, n in enumerate(names)}

    def member(self, name):
        for m in self.members:
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def self_member(self):
        for m in self.members:
            if m.is_self:
                return m
        return None

    def writer_alive(self, now_ns=None, stale_ns=STALE_NS):
        """gsp_sv_writer_alive(): not CLOSED, the pid exists (EPERM counts
        as alive) and the last publish is younger than stale_ns. The pid
        only means something in the writer's pid namespace."""
        return self.dead_reason(now_ns, stale_ns) is None

    def dead_reason(self, now_ns=None, stale_ns=STALE_NS):
        if self.closed:
            return "gossipd exited (the view is CLOSED): last state shown"
        try:
            os.kill(self.writer_pid, 0)
        except ProcessLookupError:
            return f"gossipd (pid {self.writer_pid}) is gone: data is stale"
        except PermissionError:
            pass
        now = time.time_ns() if now_ns is None else now_ns
        if now > self.heartbeat_unix_ns + stale_ns:
            age = (now - self.heartbeat_unix_ns) / 1e9
            return f"no publish for {age:.1f} s: gossipd is stuck or stopped"
        return None

    def check_alive(self, now_ns=None, stale_ns=STALE_NS):
        """Returns self, or raises WriterGone with the reason."""
        why = self.dead_reason(now_ns, stale_ns)
        if why is not None:
            raise WriterGone(self.path, why, self)
        return self


class StatusView:
    """An open status view. read() returns a consistent Snapshot; the
    path is reopened when the file was replaced or shrank (a restarted
    gossipd, or a view re-created after damage)."""

    def __init__(self, path, tries=TRIES, pause_s=PAUSE_S):
        self.path = os.fspath(path)
        self.tries = max(1, int(tries))
        self.pause_s = pause_s
        self._fd = None
        self._open()

    def _open(self):
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC |
                         os.O_NONBLOCK)
        except FileNotFoundError:
            raise StatusViewError(self.path, "no such status view (is "
                                  "gossipd running?)") from None
        except OSError as e:
            raise StatusViewError(self.path, e.strerror) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise NotAStatusView(self.path, "not a gossipd status view "
                                     "(not a regular file)")
            self._check_layout(os.pread(fd, HEADER_MIN, 0), st.st_size)
        except BaseException:
            os.close(fd)
            raise
        if self._fd is not None:
            os.close(self._fd)
        self._fd = fd
        self._ino = (st.st_dev, st.st_ino)

    def _check_layout(self, h, size):
        """gsp_sv_open()'s checks: magic, major, sizes and offsets that
        fit the file. The fields checked never change after creation."""
        if len(h) < 24:
            raise NotAStatusView(self.path, "not a gossipd status view "
                                 "(too short)")
        magic, major, minor = struct.unpack_from("<QHH", h, 0)
        if magic != MAGIC:
            raise NotAStatusView(self.path, "not a gossipd status view "
                                 "(bad magic)")
        if major != MAJOR:
            raise UnsupportedVersion(self.path, f"status view format "
                                     f"{major}.{minor} is not supported "
                                     f"(this reader reads major {MAJOR})")
        if len(h) < HEADER_MIN:
            raise CorruptView(self.path, "header cut short (truncated?)")
        f = _HDR.unpack_from(h, 0)
        hsize, total = f[3], f[4]
        moff, mstride, mcap = f[12], f[13], f[14]
        loff, lstride, lcap = f[16], f[17], f[18]
        if (hsize < HEADER_MIN or mstride < MEMBER_MIN or
                (minor >= 7 and mstride < MEMBER_MIN_7) or
                lstride < LCORE_MIN or total > size or
                moff < hsize or loff < hsize or
                moff + mcap * mstride > total or
                loff + lcap * lstride > total):
            raise CorruptView(self.path, f"sizes or offsets do not fit the "
                              f"file ({size} of {total} bytes; truncated?)")

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _replaced(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) != self._ino

    def _pread(self, n, off):
        b = os.pread(self._fd, n, off)
        if len(b) != n:
            raise _Short()
        return b

    def read(self, reopen=True):
        """A consistent Snapshot (the seqcount protocol of
        docs/STATUS_VIEW.md). Raises TornRead after self.tries attempts;
        reopens the path once if the file shrank or was replaced."""
        if self._fd is None:
            raise StatusViewError(self.path, "closed")
        if reopen and (os.fstat(self._fd).st_size <
                       _u64(os.pread(self._fd, 24, 0).ljust(24, b"\0"), 16)
                       or self._replaced()):
            self._open()
        try:
            return self._read()
        except _Short:
            if not reopen:
                raise CorruptView(self.path, "the file was cut short while "
                                  "being read") from None
        self._open()
        try:
            return self._read()
        except _Short:
            raise CorruptView(self.path, "the status view was truncated "
                              "while being read, twice (something else "
                              "writes to it?)") from None

    def _read(self):
        odd = 0
        for attempt in range(self.tries):
            if attempt:
                # yield first, then sleep: a busy writer finishes soon
                if attempt < 10:
                    os.sched_yield()
                else:
                    time.sleep(self.pause_s)
            s1 = _u64(self._pread(8, _SEQ_OFF), 0)
            if s1 & 1:
                odd += 1
                continue
            # header_size may be larger than we know: we copy what we
            # know and locate records through offsets and strides only
            hdr = self._pread(HEADER_MIN, 0)
            f = _HDR.unpack_from(hdr, 0)
            moff, mstride, mcap, mcount = f[12], f[13], f[14], f[15]
            loff, lstride, lcap, lcount = f[16], f[17], f[18], f[19]
            # the copy may be torn here: clamp, validate after the check
            mn = min(mcount, mcap)
            ln = min(lcount, lcap)
            mraw = self._pread(mn * mstride, moff) if mn else b""
            lraw = self._pread(ln * lstride, loff) if ln else b""
            s2 = _u64(self._pread(8, _SEQ_OFF), 0)
            if s1 != s2:
                continue
            if mcount > mcap or lcount > lcap:
                raise CorruptView(self.path, "counts beyond capacity in a "
                                  "consistent copy: corrupt status view")
            minor = f[2]
            rec = MEMBER_MIN_7 if minor >= 7 else MEMBER_MIN
            try:
                members = [Member(mraw[i * mstride:i * mstride + rec],
                                  minor) for i in range(mn)]
            except _BadRecord as e:
                raise CorruptView(self.path, f"member record {e}: "
                                  f"malformed app state (app_ext) in a "
                                  f"consistent copy: corrupt status "
                                  f"view") from None
            lcores = [Lcore(lraw[i * lstride:i * lstride +
                                 min(lstride, 192)]) for i in range(ln)]
            return Snapshot(self.path, hdr, members, lcores)
        pid = _u64(os.pread(self._fd, 8, 32).ljust(8, b"\0"), 0) & \
            0xFFFFFFFF
        alive = _pid_alive(pid)
        raise TornRead(self.path, f"no consistent snapshot after "
                       f"{self.tries} tries ({odd} saw an update in "
                       f"progress); " + (
                           f"the writer (pid {pid}) is running but too busy"
                           if alive else
                           f"the writer (pid {pid}) is gone: it died in "
                           f"the middle of an update"))


class _Short(Exception):
    pass


class _BadRecord(Exception):
    """A member record that cannot be read (its name in args)."""


def _pid_alive(pid):
    if pid == 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read(path, **kw):
    """One consistent Snapshot of the view at path."""
    with StatusView(path, **kw) as v:
        return v.read(reopen=False)


def _view_dir(directory):
    return directory or os.environ.get("GOSSIPCTL_VIEW_DIR") or DEFAULT_DIR


def list_views(directory=None):
    """[(path, cluster, node)] of the readable status views in directory
    (default $GOSSIPCTL_VIEW_DIR or /dev/shm); other files are skipped."""
    out = []
    for p in sorted(glob.glob(os.path.join(glob.escape(_view_dir(directory)),
                                           "gossipd.*.*")))[:256]:
        try:
            s = read(p)
        except (StatusViewError, OSError):
            continue
        out.append((p, s.cluster, s.node_name))
    return out


def find_view(node=None, cluster=None, directory=None):
    """The path of a node's view, as gossipctl finds it: node and cluster
    give DIR/gossipd.CLUSTER.NODE; node alone matches gossipd.*.NODE and
    checks each header's node_name (names may contain dots); neither: the
    single view in the directory. Raises StatusViewError if there is
    none, or several."""
    d = _view_dir(directory)
    if node is not None and cluster is not None:
        p = os.path.join(d, f"gossipd.{cluster}.{node}")
        if not os.path.exists(p):
            raise StatusViewError(p, f"no status view for node {node} of "
                                  f"cluster {cluster} (is gossipd "
                                  f"running?)")
        return p
    found = [(p, c, n) for p, c, n in list_views(d)
             if (node is None or n == node) and
             (cluster is None or c == cluster)]
    if len(found) == 1:
        return found[0][0]
    what = (f"node {node}" if node is not None else
            f"cluster {cluster}" if cluster is not None else "any node")
    if not found:
        raise StatusViewError(d, f"no status view for {what} (is gossipd "
                              f"running?)")
    raise StatusViewError(d, f"{len(found)} status views match {what}: " +
                          ", ".join(f"{p} (cluster {c}, node {n})"
                                    for p, c, n in found) +
                          "; name --node and --cluster")

