# SPDX-License-Identifier: BSD-3-Clause
"""Network plumbing of a local cluster: one Linux bridge per run, a netns
per node joined to it by a veth pair, spare netns and veths for tests.
IPv6 is off on every device made here (no router solicitations, no
DAD traffic on the wire the tests watch)."""

import json
import os
import subprocess
import time

from .errors import ClusterError
from .run import run

IFNAMSIZ = 15
TAP_BRIDGE = "gsptap"           # inside a node's netns (pmd "tap")


def sysctl(ns, key, value, check=False):
    """sysctl -w, inside netns ns (None: the host)."""
    cmd = ["sysctl", "-qw", f"{key}={value}"]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    return run(cmd, check=check)


def check_ifname(*names):
    if max(len(n) for n in names) > IFNAMSIZ:
        raise ClusterError(f"interface name too long: {names[0]}")


def create_bridge(br):
    run(["ip", "link", "add", br, "type", "bridge", "stp_state", "0",
         "forward_delay", "0", "mcast_snooping", "0"])
    sysctl(None, f"net.ipv6.conf.{br}.disable_ipv6", 1)
    run(["ip", "link", "set", br, "up"])


def create_netns(ns):
    """A netns with lo up, where new devices start with IPv6 off."""
    run(["ip", "netns", "add", ns])
    sysctl(ns, "net.ipv6.conf.all.disable_ipv6", 1)
    sysctl(ns, "net.ipv6.conf.default.disable_ipv6", 1)
    run(["ip", "-n", ns, "link", "set", "lo", "up"])


def create_veth(host_end, free_end, bridge, netns=None):
    """A veth pair: host_end on the bridge, free_end in netns (None: the
    host namespace), both up without addresses."""
    run(["ip", "link", "add", host_end, "type", "veth", "peer", "name",
         free_end])
    sysctl(None, f"net.ipv6.conf.{host_end}.disable_ipv6", 1)
    if netns:
        run(["ip", "link", "set", free_end, "netns", netns])
        sysctl(netns, f"net.ipv6.conf.{free_end}.disable_ipv6", 1)
        run(["ip", "-n", netns, "link", "set", free_end, "up"])
    else:
        sysctl(None, f"net.ipv6.conf.{free_end}.disable_ipv6", 1)
        run(["ip", "link", "set", free_end, "up"])
    run(["ip", "link", "set", host_end, "master", bridge])
    run(["ip", "link", "set", host_end, "up"])


def netns_bridge(ns, port):
    """A bridge inside netns ns (TAP_BRIDGE) with port on it: a node's
    TAP device joins its veth there (attach_tap). No IPv6 in the netns,
    so the TAP the PMD creates later sends nothing of its own."""
    sysctl(ns, "net.ipv6.conf.default.disable_ipv6", 1)
    run(["ip", "-n", ns, "link", "add", TAP_BRIDGE, "type", "bridge"])
    run(["ip", "-n", ns, "link", "set", port, "master", TAP_BRIDGE])
    run(["ip", "-n", ns, "link", "set", TAP_BRIDGE, "up"])


def attach_tap(ns, tap, alive, timeout=10.0):
    """Once net_tap started tap in ns (up: the port started), put it on
    the netns's bridge. Its kernel side carries the PMD's MAC, which a
    bridge keeps for itself (a port's own address is local): it gets
    another, after the PMD set its own. The MAC it gave, or None when
    alive() turns false or the port never comes up."""
    deadline = time.monotonic() + timeout
    while True:
        p = run(["ip", "-n", ns, "-j", "link", "show", tap], check=False)
        if p.returncode == 0 and "UP" in json.loads(p.stdout)[0]["flags"]:
            break
        if not alive() or time.monotonic() >= deadline:
            return None
        time.sleep(0.02)
    mac = "02:" + ":".join(f"{b:02x}" for b in os.urandom(5))
    run(["ip", "-n", ns, "link", "set", tap, "address", mac])
    run(["ip", "-n", ns, "link", "set", tap, "master", TAP_BRIDGE])
    # the PMD may still be setting its MAC on the kernel side while the
    # port starts: were it to win, the bridge would take the node's own
    # MAC as local and never forward a unicast frame to it (the node
    # would hear broadcasts only: ARP requests, never their replies)
    settle = time.monotonic() + 1.0
    while time.monotonic() < settle:
        p = run(["ip", "-n", ns, "-j", "link", "show", tap], check=False)
        if p.returncode == 0 and json.loads(p.stdout)[0].get(
                "address", mac).lower() != mac:
            run(["ip", "-n", ns, "link", "set", tap, "address", mac])
        time.sleep(0.05)
    return mac


def keep_tap_mac(ns, tap, mac):
    """Gives tap's kernel side mac again if the PMD set its own after
    attach_tap's watch (on a loaded host it can come seconds later; the
    node would then hear broadcasts only). Call once the node is ready:
    its port has started, so the PMD sets no MAC after this. True when it
    had to."""
    p = run(["ip", "-n", ns, "-j", "link", "show", tap], check=False)
    if p.returncode != 0 or json.loads(p.stdout)[0].get(
            "address", mac).lower() == mac:
        return False
    run(["ip", "-n", ns, "link", "set", tap, "address", mac])
    return True


def _delete(kind, name, path, cmd, problems):
    """Run cmd when path exists; a failure that leaves it is added to
    problems."""
    if not os.path.exists(path):
        return
    p = run(cmd, check=False)
    if p.returncode != 0 and os.path.exists(path):
        problems.append(f"{kind} {name}: {p.stderr.strip()}")


def delete_netns(ns, problems):
    """Delete ns if it exists; a failure is added to problems."""
    _delete("netns", ns, f"/run/netns/{ns}", ["ip", "netns", "del", ns],
            problems)


def delete_link(link, problems):
    """Delete a link (a veth: both ends) if it exists."""
    _delete("link", link, f"/sys/class/net/{link}",
            ["ip", "link", "del", link], problems)


def link_exists(link):
    return os.path.exists(f"/sys/class/net/{link}")


def netns_exists(ns):
    return os.path.exists(f"/run/netns/{ns}")


def link_mac(ns, dev):
    """The MAC address of a device in a netns."""
    out = subprocess.run(["ip", "-n", ns, "-j", "link", "show", dev],
                         capture_output=True, text=True, check=True,
                         timeout=10).stdout
    return json.loads(out)[0]["address"]
