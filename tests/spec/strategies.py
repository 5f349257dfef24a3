"""Hypothesis strategies for well-shaped cluster specs (as YAML data), covering every option."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import strategies as st

from khatui.spec.components import IPVSScheduler, KeyAlgorithm, ProxyMode

names = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
ipv4 = st.integers(min_value=0x0A000001, max_value=0x0AFFFFFE).map(lambda n: str(ipaddress.IPv4Address(n)))
ipv6 = st.integers(min_value=1, max_value=2**64).map(lambda n: str(ipaddress.IPv6Address((0xFD00 << 112) + n)))
addresses = st.one_of(ipv4, ipv6)
ports = st.integers(min_value=1, max_value=65535)
abs_paths = st.from_regex(r"/[a-z0-9_]{1,8}(/[a-z0-9_.-]{1,8}){0,3}", fullmatch=True)
hosts = st.one_of(addresses, st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z][a-z0-9]{0,8}){0,2}", fullmatch=True))
roles = st.lists(st.sampled_from(["etcd", "control-plane", "worker", "lb"]), min_size=1, max_size=4, unique=True)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def drop_none(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


ssh = st.builds(
    drop_none,
    user=optional(st.from_regex(r"[a-z_][a-z0-9_-]{0,10}", fullmatch=True)),
    port=optional(ports),
    host=optional(hosts),
    identityFile=optional(st.from_regex(r"~/\.ssh/[a-z_]{1,10}", fullmatch=True)),
    jumpHost=optional(st.from_regex(r"([a-z]{1,6}@)?[a-z]{1,8}(:[1-9][0-9]{1,3})?", fullmatch=True)),
    sudo=optional(st.booleans()),
    sudoPasswordEnv=optional(st.from_regex(r"[A-Z_][A-Z0-9_]{0,12}", fullmatch=True)),
)
node = st.builds(drop_none, name=names, address=addresses, roles=roles, ssh=optional(ssh))
ca_source = st.one_of(
    st.builds(drop_none, mode=optional(st.just("generate"))),
    st.builds(
        drop_none,
        mode=st.just("import"),
        certFile=abs_paths,
        keyFile=abs_paths,
        keyPassphraseEnv=optional(st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True)),
    ),
)
pki = st.builds(
    drop_none,
    keyAlgorithm=optional(st.sampled_from([k.value for k in KeyAlgorithm])),
    validity=optional(
        st.one_of(st.integers(1, 876_000).map(lambda n: f"{n}h"), st.integers(1, 36_500).map(lambda n: f"{n}d"))
    ),
    ca=optional(
        st.builds(drop_none, etcd=optional(ca_source), kubernetes=optional(ca_source), frontProxy=optional(ca_source))
    ),
    extraSANs=optional(st.lists(hosts, max_size=3)),
)
etcd = st.builds(
    drop_none,
    topology=optional(st.sampled_from(["stacked", "external"])),
    runAs=optional(st.sampled_from(["static-pod", "systemd"])),
    dataDir=optional(abs_paths),
    version=optional(st.from_regex(r"3\.[0-9]\.[0-9]{1,2}", fullmatch=True)),
    clientPort=optional(ports),
    peerPort=optional(ports),
)
networks = st.one_of(
    st.tuples(st.integers(0, 255), st.integers(8, 24)).map(
        lambda t: str(ipaddress.ip_network(f"10.{t[0]}.0.0/{t[1]}", strict=False))
    ),
    st.integers(48, 120).map(lambda p: str(ipaddress.ip_network(f"fd00:1::/{p}", strict=False))),
)
control_plane = st.builds(
    drop_none,
    kubernetesVersion=optional(st.from_regex(r"v1\.(29|3[0-3])\.[0-9]", fullmatch=True)),
    podCIDR=optional(networks),
    serviceCIDR=optional(networks),
    apiPort=optional(ports),
    dnsDomain=optional(st.from_regex(r"[a-z]{1,8}\.[a-z]{2,5}", fullmatch=True)),
    leaderElect=optional(st.booleans()),
)
load_balancer = st.one_of(
    st.builds(drop_none, mode=st.just("external"), address=hosts, port=optional(ports)),
    st.builds(
        drop_none,
        mode=st.just("haproxy-keepalived"),
        vip=addresses,
        vipPrefixLength=optional(st.integers(8, 32)),
        interface=optional(st.from_regex(r"(eth|ens|bond)[0-9]{1,2}", fullmatch=True)),
        virtualRouterId=optional(st.integers(1, 255)),
        port=optional(ports),
    ),
    st.builds(drop_none, mode=st.just("kube-vip"), vip=addresses, vipPrefixLength=optional(st.integers(8, 32))),
    st.builds(
        drop_none,
        mode=st.just("local-proxy"),
        implementation=optional(st.sampled_from(["haproxy", "nginx"])),
        port=optional(ports),
    ),
)
kube_proxy = st.builds(
    drop_none,
    mode=optional(st.sampled_from([m.value for m in ProxyMode])),
    ipvsScheduler=optional(st.sampled_from([s.value for s in IPVSScheduler])),
)
dns = st.builds(
    drop_none,
    replicas=optional(st.integers(1, 100)),
    cacheSize=optional(st.integers(0, 1_000_000)),
    maxConcurrent=optional(st.integers(1, 100_000)),
    memoryLimit=optional(st.from_regex(r"[1-9][0-9]{0,3}(Mi|Gi)", fullmatch=True)),
    nodeLocalDNS=optional(st.builds(drop_none, enabled=optional(st.booleans()), address=optional(addresses))),
)
common = {
    "name": names,
    "default": optional(st.booleans()),
    "reclaimPolicy": optional(st.sampled_from(["Delete", "Retain"])),
}
storage_class = st.one_of(
    st.builds(drop_none, backend=st.just("local"), paths=st.lists(abs_paths, min_size=1, max_size=3), **common),
    st.builds(
        drop_none,
        backend=st.just("nfs"),
        server=hosts,
        path=abs_paths,
        mountOptions=optional(st.lists(st.sampled_from(["nfsvers=4.1", "hard", "noatime"]), max_size=2)),
        **common,
    ),
    st.builds(
        drop_none,
        backend=st.just("iscsi"),
        portal=st.builds(lambda a, p: f"{a}:{p}", ipv4, ports),
        iqn=st.from_regex(r"iqn\.20[0-9]{2}-(0[1-9]|1[0-2])\.com\.[a-z]{2,8}:[a-z0-9]{1,8}", fullmatch=True),
        lun=optional(st.integers(0, 255)),
        fsType=optional(st.sampled_from(["ext4", "xfs"])),
        **common,
    ),
    st.builds(
        drop_none,
        backend=st.just("glusterfs"),
        endpoints=st.lists(hosts, min_size=1, max_size=3),
        volume=st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
        **common,
    ),
    st.builds(
        drop_none,
        backend=st.just("ceph-rbd"),
        clusterId=st.uuids().map(str),
        monitors=st.lists(st.builds(lambda a: f"{a}:6789", ipv4), min_size=1, max_size=3),
        pool=st.from_regex(r"[a-z]{1,8}", fullmatch=True),
        user=optional(st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
        secretRef=st.builds(drop_none, name=names, namespace=optional(names)),
        **common,
    ),
    st.builds(
        drop_none,
        backend=st.just("aws-ebs"),
        type=optional(st.sampled_from(["gp3", "gp2", "io1", "io2", "st1", "sc1"])),
        encrypted=optional(st.booleans()),
        fsType=optional(st.sampled_from(["ext4", "xfs"])),
        **common,
    ),
    st.builds(
        drop_none,
        backend=st.just("gce-pd"),
        type=optional(st.sampled_from(["pd-standard", "pd-balanced", "pd-ssd"])),
        replicationType=optional(st.sampled_from(["none", "regional-pd"])),
        **common,
    ),
    st.builds(
        drop_none,
        backend=st.just("azure-disk"),
        skuName=optional(st.sampled_from(["Standard_LRS", "Premium_LRS"])),
        cachingMode=optional(st.sampled_from(["None", "ReadOnly", "ReadWrite"])),
        **common,
    ),
)
cluster_spec = st.builds(
    drop_none,
    highAvailability=optional(st.booleans()),
    nodes=st.lists(node, min_size=1, max_size=6),
    etcd=optional(etcd),
    pki=optional(pki),
    controlPlane=optional(control_plane),
    loadBalancer=load_balancer,
    kubeProxy=optional(kube_proxy),
    dns=optional(dns),
    persistence=optional(st.builds(drop_none, classes=optional(st.lists(storage_class, max_size=4)))),
)
clusters = st.builds(
    lambda name, spec: {"apiVersion": "khatui/v1", "kind": "Cluster", "metadata": {"name": name}, "spec": spec},
    names,
    cluster_spec,
)
