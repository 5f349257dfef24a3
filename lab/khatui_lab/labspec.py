"""The cluster spec a lab writes next to itself (`lab.yaml`): ready for `khatui validate --strict`.

Built as plain data and validated with the spec's own `validate_data`, so a lab can never hand the
operator a spec khatui would refuse; the roles come from `khatui_lab.layout`. A bare lab's spec
also says where its nodes' bits come from (`spec.install`): the lab's own signed package
repository and files mirror (`khatui_lab.serve`), at the versions the lab has.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from khatui.errors import KhatuiError
from khatui.spec.document import to_yaml
from khatui.spec.problems import Severity
from khatui.spec.validate import validate_data
from khatui_lab import mirror, repo, serve
from khatui_lab.deviations import describe
from khatui_lab.layout import LB_PORT_SHARED, LabLayout

ETCD = "3.5.16"
"""The etcd of a bare lab's repository and files mirror (trixie's, see khatui_lab.debs)."""
RUNTIME_VERSIONS = {"containerd": "1.6.20", "runc": "1.1.5", "cniPlugins": "1.1.1", "crictl": mirror.CRICTL}
"""What a bare lab's files mirror holds (Debian bookworm's, repackaged; crictl is a stand-in)."""

HEADER = """\
# khatui lab cluster spec, written by `khatui lab up`: {count} node(s) on {subnet}.
# Every node is a namespace on this machine with its own systemd and sshd (`khatui lab status`).
# Try: khatui validate --strict {path}
# Where the lab does not meet a rule of the real tools (khatui_lab.deviations):
{deviations}"""


def bare_install(layout: LabLayout, lab_dir: Path) -> dict[str, Any]:
    """`spec.install` of a bare lab: everything from the lab's server, checked against its sums."""
    return {
        "binaries": {
            "mirror": serve.files_url(layout),
            "checksums": str(lab_dir / mirror.SUMS),
            **RUNTIME_VERSIONS,
        },
        "packages": {"mirror": {"url": serve.repository_url(layout), "key": str(lab_dir / repo.KEY)}},
    }


def lab_spec_data(layout: LabLayout, identity_file: Path, bare: bool = False) -> dict[str, Any]:
    """The lab's cluster spec as YAML-shaped data (`bare`: with the lab's install sources)."""
    load_balancer: dict[str, Any] = {
        "mode": "haproxy-keepalived",
        "vip": str(layout.vip),
        "vipPrefixLength": layout.subnet.prefixlen,
        "interface": "eth0",
        "virtualRouterId": 51,
        # Lab nodes inherit this machine's open-file limit (often 20000, not raisable here);
        # haproxy needs about twice its maxconn in file descriptors.
        "maxConnections": 4000,
    }
    if layout.shares_lb:
        load_balancer["port"] = LB_PORT_SHARED
    nodes = [
        {
            "name": node.name,
            "address": str(node.address),
            "roles": list(node.roles),
            "ssh": {
                "user": "root",
                "port": 22,
                "identityFile": str(identity_file),
                "knownHostsFile": str(identity_file.parent / "known_hosts"),
            },
        }
        for node in layout.nodes
    ]
    spec: dict[str, Any] = {
        "apiVersion": "khatui/v1",
        "kind": "Cluster",
        "metadata": {"name": layout.name},
        "spec": {
            "highAvailability": layout.high_availability,
            "nodes": nodes,
            "etcd": {"topology": "stacked", "runAs": "systemd"},
            # A declared deviation (khatui_lab.deviations): no registry to pull images from.
            "controlPlane": {"imagePullPolicy": "Never"},
            "network": {"plugin": "none"},  # deviations.DEVIATIONS: no DaemonSet pod runs in the lab
            "loadBalancer": load_balancer,
            # A host-image lab (`lab up --host-image`): its nodes come with their binaries.
            "install": {"enabled": False},
        },
    }
    if bare:
        spec["spec"]["etcd"]["version"] = ETCD
        spec["spec"]["install"] = bare_install(layout, identity_file.parent)
    return spec


def lab_spec_yaml(layout: LabLayout, identity_file: Path, path: Path, bare: bool = False) -> str:
    """`lab.yaml`'s text; `KhatuiError` if the spec would not pass strict validation (a lab bug)."""
    data = lab_spec_data(layout, identity_file, bare)
    report = validate_data(data)
    problems = [p for p in report.problems if p.severity in (Severity.ERROR, Severity.WARNING)]
    if report.cluster is None or problems:
        raise KhatuiError(f"the lab's own spec is not valid: {'; '.join(str(p) for p in problems)}")
    deviations = "".join(f"# - {line}\n" for line in describe(bare))
    header = HEADER.format(count=len(layout.nodes), subnet=layout.subnet, path=path, deviations=deviations)
    return header + to_yaml(report.cluster)
