# SPDX-License-Identifier: BSD-3-Clause
"""The Kubernetes manifests of deploy/k8s (docs/DEPLOY.md), checked
without a cluster (there is no kubectl here; nothing claims they were
applied): parsed with Debian's python3-yaml; their structure (hostNetwork,
hugepages requests == limits, the volumes both containers mount, the
sidecar reading the view the daemon's config writes, the SR-IOV resource
and its PCIDEVICE_ variable, Multus' attachment naming that resource);
every option they pass to gossipd (EAL's included), gossipctl and the
exporter found in that binary's own usage text; and the config template
rendered by the init container's own script, then accepted by
`gossipd --check-config`."""

import configparser
import json
import re
import shlex
import subprocess

import pytest
import yaml

from conftest import BUILD_DIR, GOSSIPCTL, GOSSIPD, REPO

K8S = REPO / "deploy" / "k8s"
DAEMONSETS = ["daemonset.yaml", "daemonset-multus.yaml"]
EXPORTER_FLAGS = {"--view", "--listen"}     # docs/METRICS.md


def docs(name):
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def one(name, kind):
    found = [d for d in docs(name) if d["kind"] == kind]
    assert len(found) == 1, f"{name}: one {kind}"
    return found[0]


def pod(name):
    ds = one(name, "DaemonSet")
    assert ds["apiVersion"] == "apps/v1"
    sel = ds["spec"]["selector"]["matchLabels"]
    labels = ds["spec"]["template"]["metadata"]["labels"]
    assert sel.items() <= labels.items(), "the selector matches the pods"
    return ds["spec"]["template"]


def container(spec, name):
    return [c for c in spec["containers"] if c["name"] == name][0]


def config_template():
    cm = one("configmap.yaml", "ConfigMap")
    ini = configparser.ConfigParser(interpolation=None, strict=False)
    ini.read_string(cm["data"]["gossipd.ini.in"])
    return cm, ini


def gossipd_argv(c):
    assert c["command"] == ["/bin/sh", "-c"]
    argv = shlex.split(c["args"][0])
    assert argv[0] == "exec", "gossipd replaces the shell: it gets SIGTERM"
    return argv[1:]


def usage(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return p.stdout + p.stderr


def eal_usage():
    """DPDK's own EAL usage text, from the librte_eal gossipd links."""
    out = subprocess.run(["ldd", str(GOSSIPD)], capture_output=True,
                         text=True, check=True).stdout
    lib = re.search(r"(\S*librte_eal\.so\S*) => (\S+)", out)
    assert lib, "gossipd links librte_eal"
    data = open(lib.group(2), "rb").read()
    return "\n".join(s.decode() for s in re.findall(rb"[ -~]{4,}", data))


def flags(tokens):
    return {t.split("=", 1)[0] for t in tokens if t.startswith("-")}


def option_in(opt, text):
    # "  -a, --allow", "  -m MB", "  --huge-dir", "--config FILE"
    return re.search(r"(^|[\s,\[])" + re.escape(opt) + r"([\s,=\[]|$)",
                     text, re.M) is not None


@pytest.mark.parametrize("name", DAEMONSETS)
def test_daemonset_structure(name):
    spec = pod(name)["spec"]
    d, x = container(spec, "gossipd"), container(spec, "exporter")
    if name == "daemonset.yaml":
        assert spec["hostNetwork"] is True
        assert spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    else:
        assert not spec.get("hostNetwork", False)
    # hugepages: requests == limits (Kubernetes refuses anything else),
    # Guaranteed QoS: every resource of the daemon requested == limited
    req, lim = d["resources"]["requests"], d["resources"]["limits"]
    huge = [k for k in req if k.startswith("hugepages-")]
    assert huge and all(req[k] == lim[k] for k in huge)
    assert req == lim
    # the SR-IOV VF: its resource requested, its PCIDEVICE_ variable used
    res = [k for k in req if "/" in k]
    assert res == ["intel.com/sriov_gossip"]
    env = "PCIDEVICE_" + re.sub(r"[./]", "_", res[0]).upper()
    argv = gossipd_argv(d)
    assert argv[argv.index("-a") + 1] == f"${env}"
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["hugepages"]["emptyDir"]["medium"] == "HugePages"
    assert vols["shm"]["emptyDir"]["medium"] == "Memory"
    dm = {m["name"]: m for m in d["volumeMounts"]}
    xm = {m["name"]: m for m in x["volumeMounts"]}
    assert dm["hugepages"]["mountPath"] == "/dev/hugepages"
    assert argv[argv.index("--huge-dir") + 1] == "/dev/hugepages"
    # the status view is shared: the daemon writes, the sidecar reads
    assert dm["shm"]["mountPath"] == xm["shm"]["mountPath"] == "/dev/shm"
    assert xm["shm"].get("readOnly") is True and not dm["shm"].get(
        "readOnly")
    for m in (*d["volumeMounts"], *x["volumeMounts"]):
        assert m["name"] in vols
    _, ini = config_template()
    view = ini["control"]["status_view"]
    sock = ini["control"]["socket"]
    assert view.startswith(dm["shm"]["mountPath"] + "/")
    assert sock.startswith(dm["run-gossipd"]["mountPath"] + "/")
    assert x["args"][x["args"].index("--view") + 1] == view
    # the probes read that same view and socket
    ready = d["readinessProbe"]["exec"]["command"]
    live = d["livenessProbe"]["exec"]["command"]
    assert ready[ready.index("--view") + 1] == view
    assert live[live.index("--socket") + 1] == sock and live[-1] == "ping"
    # the config the daemon reads is what the init container renders
    cfg = argv[argv.index("--config") + 1]
    init = spec["initContainers"][0]
    im = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
    assert cfg.startswith(im["etc-gossipd"] + "/")
    assert dm["etc-gossipd"]["mountPath"] == im["etc-gossipd"]
    # the keyring gossipd reads lies in that writable copy
    assert ini["security"]["keyring"].startswith(im["etc-gossipd"] + "/")
    port = x["ports"][0]["containerPort"]
    assert x["args"][x["args"].index("--listen") + 1].endswith(f":{port}")


@pytest.mark.parametrize("name", DAEMONSETS)
def test_security_context_is_minimal(name):
    spec = pod(name)["spec"]
    d, x = container(spec, "gossipd"), container(spec, "exporter")
    sc = d["securityContext"]
    assert sc["capabilities"]["drop"] == ["ALL"]
    # VFIO pins DMA memory; IOVA as VA needs no SYS_ADMIN/SYS_RAWIO
    assert sc["capabilities"]["add"] == ["IPC_LOCK"]
    assert "--iova-mode=va" in gossipd_argv(d)
    assert not sc.get("privileged", False)
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    # a read-only root: every directory DPDK and gossipd write is a volume
    writes = {m["mountPath"] for m in d["volumeMounts"]
              if not m.get("readOnly")}
    assert {"/dev/hugepages", "/dev/shm", "/run/gossipd",
            "/var/run/dpdk", "/etc/gossipd"} <= writes
    xs = x["securityContext"]
    assert xs["runAsNonRoot"] is True and xs["capabilities"]["drop"] == \
        ["ALL"] and "add" not in xs["capabilities"]


def test_multus_attachment_names_the_requested_resource():
    nad = one("sriov-network.yaml", "NetworkAttachmentDefinition")
    dp = json.loads(one("sriov-network.yaml", "ConfigMap")["data"][
        "config.json"])["resourceList"][0]
    resource = f"{dp['resourcePrefix']}/{dp['resourceName']}"
    assert dp["selectors"]["drivers"] == ["vfio-pci"]
    assert nad["metadata"]["annotations"][
        "k8s.v1.cni.cncf.io/resourceName"] == resource
    cni = json.loads(nad["spec"]["config"])
    assert cni["type"] == "sriov" and cni["name"] == nad["metadata"]["name"]
    t = pod("daemonset-multus.yaml")
    assert t["metadata"]["annotations"][
        "k8s.v1.cni.cncf.io/networks"] == nad["metadata"]["name"]
    assert nad["metadata"]["namespace"] == "gossipd"
    init = t["spec"]["initContainers"][0]
    envs = {e["name"]: e.get("value") for e in init["env"]}
    assert envs["GOSSIP_NETWORK"] == nad["metadata"]["name"]
    vols = {v["name"]: v for v in t["spec"]["volumes"]}
    item = vols["podinfo"]["downwardAPI"]["items"][0]
    assert "k8s.v1.cni.cncf.io/network-status" in item["fieldRef"][
        "fieldPath"]
    for name in DAEMONSETS:
        d = container(pod(name)["spec"], "gossipd")
        assert resource in d["resources"]["limits"]


@pytest.mark.parametrize("name", DAEMONSETS)
def test_options_exist_in_the_binaries(name):
    spec = pod(name)["spec"]
    argv = gossipd_argv(container(spec, "gossipd"))
    assert argv[0].endswith("/gossipd")
    cut = argv.index("--")
    eal, own = argv[1:cut], argv[cut + 1:]
    eal_text = eal_usage()
    for opt in flags(eal):
        assert option_in(opt, eal_text), f"EAL option {opt} not in DPDK's"
    gd = usage([str(GOSSIPD), "--help"])
    for opt in flags(own):
        assert option_in(opt, gd), f"gossipd option {opt} not in its usage"
    gc = usage([str(GOSSIPCTL), "--help"])
    d = container(spec, "gossipd")
    for probe in (d["readinessProbe"], d["livenessProbe"]):
        cmd = probe["exec"]["command"]
        assert cmd[0].endswith("/gossipctl")
        for opt in flags(cmd[1:]):
            assert option_in(opt, gc), f"gossipctl {opt} not in its usage"
        # the command comes last, after the options and their values
        assert re.search(rf"^\s+{cmd[-1]}\b", gc, re.M), cmd
    x = container(spec, "exporter")
    exporter = [p for p in BUILD_DIR.rglob("gossipd-exporter")
                if p.is_file()]
    xf = flags(x["args"])
    if exporter:
        text = usage([str(exporter[0]), "--help"])
        for opt in xf:
            assert option_in(opt, text), f"exporter {opt} not in its usage"
    else:
        # not built in this tree: the interface docs/METRICS.md names
        assert xf == EXPORTER_FLAGS


@pytest.mark.parametrize("network", [None, "gossip-net"])
def test_rendered_config_passes_check_config(tmp_path, network):
    """The init container's render.py, run on the ConfigMap's own files
    (paths moved into tmp), writes a config gossipd accepts."""
    cm, _ = config_template()
    cfgdir, etc, secret, podinfo = (tmp_path / d for d in
                                    ("config", "etc", "secret", "podinfo"))
    for d in (cfgdir, etc, secret, podinfo):
        d.mkdir()
    for k, v in cm["data"].items():
        (cfgdir / k).write_text(v)
    key = subprocess.run([str(GOSSIPCTL), "keygen"], capture_output=True,
                         text=True, check=True).stdout
    (secret / "keyring").write_text(key)
    if network:
        (podinfo / "network-status").write_text(json.dumps([
            {"name": "cbr0", "ips": ["10.244.1.5"]},
            {"name": f"gossipd/{network}", "ips": ["10.20.0.77"]}]))
    src = cm["data"]["render.py"]
    for old, new in (("/config/", cfgdir), ("/etc/gossipd/", etc),
                     ("/secret/", secret), ("/podinfo/", podinfo)):
        src = src.replace(old, f"{new}/")
    script = tmp_path / "render.py"
    script.write_text(src)
    env = {"NODE_NAME": "worker-2", "PATH": "/usr/bin:/bin"}
    if network:
        env["GOSSIP_NETWORK"] = network
    p = subprocess.run(["/usr/bin/python3", str(script)], env=env,
                       capture_output=True, text=True, timeout=90)
    assert p.returncode == 0, p.stderr
    ini = configparser.ConfigParser(interpolation=None, strict=False)
    ini.read_string((etc / "gossipd.ini").read_text())
    assert ini["node"]["name"] == "worker-2"
    assert ini["node"]["address"] == ("10.20.0.77" if network else
                                      "10.20.0.12")
    assert (etc / "keyring").stat().st_mode & 0o777 == 0o600
    # gossipd's own check, with the keyring where this test put it
    text = (etc / "gossipd.ini").read_text().replace(
        ini["security"]["keyring"], str(etc / "keyring"))
    (etc / "check.ini").write_text(text)
    p = subprocess.run([str(GOSSIPD), "--", "--config",
                        str(etc / "check.ini"), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    # a node with no address anywhere is refused by name
    env["NODE_NAME"] = "worker-9"
    env.pop("GOSSIP_NETWORK", None)
    p = subprocess.run(["/usr/bin/python3", str(script)], env=env,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "no gossip address for node worker-9" in \
        p.stderr
