# SPDX-License-Identifier: BSD-3-Clause
"""A node's config: names and addresses on the cluster's subnet, seeds,
and the INI text rendered from configs/demo.ini.in plus extra settings
(extra_ini), start-up faults and the cluster's key."""

import base64
import os
import re
import secrets
from pathlib import Path

from . import REPO
from .errors import ClusterError

TEMPLATE = REPO / "configs" / "demo.ini.in"
# Node k is 10.77.<k / 256>.<k % 256> on one /16 (the template's prefix),
# so a cluster may have up to NODES_MAX nodes, not one /24's 254.
NET = "10.77"
PREFIX_LEN = 16
NODES_MAX = 65534
GOSSIP_PORT = 7946
DEFAULT_INTERVAL_MS = 200
DEFAULT_SEEDS = (1, 2)

_SECTION_RE = re.compile(r"^\s*\[([^\]]*)\]\s*(?:[;#].*)?$")
_KEY_RE = re.compile(r"^\s*([^=:;#\s\[][^=:]*?)\s*[=:]")


def node_address(k):
    """Node k's IPv4 address: 1 -> '10.77.0.1', 300 -> '10.77.1.44'."""
    k = int(k)
    if not 1 <= k <= NODES_MAX:
        raise ClusterError(f"node number out of range 1..{NODES_MAX}: {k}")
    return f"{NET}.{k >> 8}.{k & 0xff}"


def parse_seed(item):
    """1 -> '10.77.0.1:7946'; '10.0.0.5' -> '10.0.0.5:7946'."""
    if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
        return f"{node_address(item)}:{GOSSIP_PORT}"
    s = str(item).strip()
    return s if ":" in s else f"{s}:{GOSSIP_PORT}"


def parse_seed_list(text):
    """'1,2' or '10.77.0.1:7946,3' or 'none' -> list."""
    if text is None:
        return list(DEFAULT_SEEDS)
    text = text.strip()
    if text.lower() in ("", "none"):
        return []
    return [int(x) if x.strip().isdigit() else x.strip()
            for x in text.split(",") if x.strip()]


def node_name(k):
    return f"node{int(k)}"


def node_index(name):
    """'node3' or '3' -> 3."""
    m = re.fullmatch(r"(?:node)?(\d+)", str(name))
    if not m:
        raise ClusterError(f"bad node name {name!r} (want nodeK or K)")
    return int(m.group(1))


def ini_set(text, section, key, value):
    """Set (value: scalar), replace by several lines (value: list) or
    delete (value: None) `key` in `[section]`; the section is appended
    when missing."""
    lines = text.splitlines()
    if value is None:
        new = []
    elif isinstance(value, (list, tuple)):
        new = [f"{key} = {_ini_value(v)}" for v in value]
    else:
        new = [f"{key} = {_ini_value(value)}"]
    start = None
    for i, line in enumerate(lines):
        m = _SECTION_RE.match(line)
        if m and m.group(1).strip() == section:
            start = i
            break
    if start is None:
        if not new:
            return text
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["", f"[{section}]"] + new
        return "\n".join(lines) + "\n"
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if _SECTION_RE.match(lines[i]):
            end = i
            break
    hits = [i for i in range(start + 1, end)
            if (m := _KEY_RE.match(lines[i])) and m.group(1).strip() == key]
    if hits:
        out = lines[:hits[0]] + new
        out += [ln for i, ln in enumerate(lines[hits[0] + 1:], hits[0] + 1)
                if i not in hits]
    else:
        at = end
        while at > start + 1 and not lines[at - 1].strip():
            at -= 1
        out = lines[:at] + new + lines[at:]
    return "\n".join(out) + "\n"


def _ini_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def ini_get(text, section, key):
    """Last value of key in [section], or None."""
    cur = None
    val = None
    for line in text.splitlines():
        m = _SECTION_RE.match(line)
        if m:
            cur = m.group(1).strip()
            continue
        if cur == section:
            m = _KEY_RE.match(line)
            if m and m.group(1).strip() == key:
                val = re.split(r"\s;", line[m.end():], maxsplit=1)[0].strip()
    return val


def ini_apply(text, extra):
    """extra: None, a dict {section: {key: value|list|None}}, a string
    (appended verbatim), or a list of those (applied in order)."""
    if extra is None:
        return text
    if isinstance(extra, (list, tuple)):
        for e in extra:
            text = ini_apply(text, e)
        return text
    if isinstance(extra, str):
        return text.rstrip("\n") + "\n\n" + extra.strip("\n") + "\n"
    for section, kv in extra.items():
        for key, value in kv.items():
            text = ini_set(text, section, key, value)
    return text


FAULT_KEYS = ("drop", "dup", "reorder", "delay", "jitter", "reorder_by",
              "block")


def fault_ini(spec):
    """A start-up fault spec ("drop=0.1 delay=5ms block=10.77.0.2:in") as
    extra_ini for [fault]: each token becomes its key (block repeats).
    Values are not checked here: gossipd checks them with the one parser
    (gsp_fault_parse) and names the config line."""
    kv, blocks = {}, []
    for tok in re.split(r"[\s,]+", spec.strip()):
        if not tok:
            continue
        key, eq, value = tok.partition("=")
        if not eq or key not in FAULT_KEYS:
            raise ClusterError(f"start-up fault {tok!r}: want one of "
                               f"{', '.join(k + '=...' for k in FAULT_KEYS)}"
                               f" (clear/unblock only make sense at run "
                               f"time: scripts/cluster fault NODE ...)")
        if key == "block":
            blocks.append(value)
        else:
            kv[key] = value
    if blocks:
        kv["block"] = blocks
    return {"fault": kv} if kv else None


FALLBACK_TEMPLATE = """\
; generated by scripts/gossipd_tools/config.py (configs/demo.ini.in is missing)
[cluster]
name = @CLUSTER@

[node]
name = @NODE@
address = @ADDRESS@
port = @PORT@

[gossip]
interval = @INTERVAL_MS@ms
fanout = 2
phi_threshold = 8
forget_after = 10m

[seeds]
@SEEDS@

[control]
status_interval = 100ms
"""


def render_config(cluster, name, address, seeds, interval_ms, extra,
                  template=TEMPLATE):
    """The INI text for one node."""
    if Path(template).is_file():
        text = Path(template).read_text()
    else:
        text = FALLBACK_TEMPLATE
    seed_lines = "\n".join(f"seed = {s}" for s in seeds)
    subst = {"CLUSTER": cluster, "NODE": name, "ADDRESS": address,
             "SEEDS": seed_lines, "PORT": str(GOSSIP_PORT),
             "INTERVAL_MS": str(interval_ms)}
    for k, v in subst.items():
        text = text.replace(f"@{k}@", v)
    left = sorted(set(re.findall(r"@[A-Z_]+@", text)))
    if left:
        raise ClusterError(f"{template}: unknown placeholders {', '.join(left)}")
    # the launcher's own choices win over whatever the template says
    # (an old template's interval_ms would clash with interval: gossipd
    # refuses both)
    text = ini_set(text, "gossip", "interval_ms", None)
    text = ini_set(text, "gossip", "interval", f"{int(interval_ms)}ms")
    return ini_apply(text, extra)


def cluster_key(state_dir):
    """The cluster's shared key (base64), made once per cluster."""
    path = Path(state_dir) / "cluster.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return path.read_text().strip()


def with_keyring(text, state_dir, name):
    """Each node gets its own keyring file (gossipd rewrites it on a
    key rotation) holding the cluster key, unless its config chose
    plaintext or a keyring of its own."""
    if ini_get(text, "security", "mode") == "plaintext" or \
            ini_get(text, "security", "keyring"):
        return text
    path = Path(state_dir) / f"{name}.keyring"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(cluster_key(state_dir) + "\n")
    return ini_set(text, "security", "keyring", str(path))
