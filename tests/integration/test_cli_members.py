# SPDX-License-Identifier: BSD-3-Clause
"""gossipctl members: filters by state, name and app state, for the table
and --json alike, the App column, and clear errors for bad filters."""

import pytest

from conftest import CONVERGE_S

NODES = ["node1", "node2", "node3"]


@pytest.fixture(scope="module")
def c(make_module_cluster):
    c = make_module_cluster(3)
    c.wait_converged(timeout=CONVERGE_S)
    for name, role, zone in (("node1", "web", "a"), ("node2", "db", "a"),
                             ("node3", "web-canary", "b")):
        c.ctl(name, "set", "role", role, check=True)
        c.ctl(name, "set", "zone", zone, check=True)

    def spread():
        m = c.member_map("node1")
        return all(m[n]["app"].get("zone") for n in NODES)
    c.wait_until(spread, 15, "app state of every node at node1")
    return c


def names_json(c, *flt):
    r = c.ctl("node1", "members", "--json", *flt)
    assert r.returncode == 0, r.stderr
    import json
    return sorted(m["name"] for m in json.loads(r.stdout)["members"])


def names_table(c, *flt):
    r = c.ctl("node1", "members", *flt)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("Node Name"))
    return sorted(ln.split()[0].rstrip("*") for ln in lines[head + 1:]), r.stdout


@pytest.mark.parametrize("flt,want", [
    ((), NODES),
    (("--name", "node[12]"), ["node1", "node2"]),
    (("--app", "role=web*"), ["node1", "node3"]),
    (("--app", "role=web*", "--app", "zone=a"), ["node1"]),
    (("--app", "role=db"), ["node2"]),
    (("--app", "nosuchkey=*"), []),
    (("--state", "alive"), NODES),
    (("--state", "down,left"), []),
    (("--state", "suspect,alive", "--name", "*3"), ["node3"]),
], ids=["none", "name", "app-glob", "app-and", "app-exact", "app-missing",
        "state", "state-none", "state-and-name"])
def test_filters(c, flt, want):
    assert names_json(c, *flt) == want
    got, text = names_table(c, *flt)
    assert got == want, text
    if flt:
        assert f"filter: {len(want)} of 3 members shown" in text, text


def test_app_column(c):
    r = c.ctl("node1", "members", "--name", "node2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = next(ln for ln in lines if ln.startswith("Node Name"))
    assert head.split()[-1] == "App", head
    row = next(ln for ln in lines if ln.startswith("node2"))
    # not a terminal: the whole state, sorted as the node keeps it
    assert row.split()[-1] in ("role=db,zone=a", "zone=a,role=db"), row
    m = c.member_map("node1")["node2"]
    assert m["app"] == {"role": "db", "zone": "a"}, m


def test_filter_left_member(c):
    c.ctl("node3", "leave", check=True)
    c.wait_until(lambda: names_json(c, "--state", "left") == ["node3"], 15,
                 "node3 to be left at node1")
    got, text = names_table(c, "--state", "alive")
    assert got == ["node1", "node2"], text
    assert "3 members (2 alive, 0 suspect, 0 down, 1 left)" in text, text


@pytest.mark.parametrize("args,msg", [
    (("--state", "dead"), '"dead" is not a state'),
    (("--state", "alive,"), '"" is not a state'),
    (("--state", ""), "--state: empty"),
    (("--app", "role"), '"role" is not KEY=VALUE'),
    (("--app", "=x"), '"=x" is not KEY=VALUE'),
    (("--name", ""), "--name: empty glob"),
])
def test_bad_filters(c, args, msg):
    r = c.ctl("node1", "members", *args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert msg in r.stderr, r.stderr


def test_filter_on_other_command(c):
    r = c.ctl("node1", "stats", "--state", "alive")
    assert r.returncode == 2, r.stderr
    assert "apply to members and watch only" in r.stderr, r.stderr
