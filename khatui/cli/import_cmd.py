"""`khatui import`: turn an existing inventory (Ansible: Kubespray/kubeasz, ~/.ssh/config, k0sctl,
KubeKey) into a cluster spec.

The spec is always written, even when it has errors (a host known only by hostname has no IP
address yet): the operator then fixes a handful of lines instead of typing the whole spec. Notices
about what was not imported and the spec's validation problems go to stderr with file and line;
the exit code is 0 for a valid spec and 2 when it still has errors or the input is unusable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from khatui.cli.output import check_destination, write_text
from khatui.errors import InputError
from khatui.inventory.ansible import import_ansible
from khatui.inventory.assemble import cluster_document
from khatui.inventory.k0sctl import import_k0sctl
from khatui.inventory.kubekey import import_kubekey
from khatui.inventory.naming import cluster_name
from khatui.inventory.result import ImportResult
from khatui.inventory.ssh_config import Selection, import_ssh_config
from khatui.spec.addresses import Use, ip_for
from khatui.spec.problems import Problem, Severity
from khatui.spec.validate import validate_data
from khatui.spec.yamlio import dump, load_text

ANSIBLE_DESCRIPTION = """\
Import a Kubespray-style Ansible inventory (INI or YAML; detected from the extension, else the
content). Roles come from the groups kube_control_plane (or kube-master), etcd and kube_node; a host
of the bastion group becomes every node's ssh.jumpHost. The node address is `ip`, else `access_ip`,
else `ansible_host`; ansible_user, ansible_port, ansible_ssh_private_key_file and ansible_become map
to ssh settings. Everything else (other groups and variables, inline passwords, host ranges) is
reported as a notice with its line; nothing is resolved over the network.

The load balancer is local-proxy (Kubespray's default too) unless --vip is given; etcd is stacked
when every etcd host is a control plane, else external. The spec is written even when it has errors,
so you can fix it; the exit code is then 2."""

ANSIBLE_EXAMPLE = """\
example:
  khatui import ansible inventory/mycluster/hosts.yaml -o cluster.yaml
  khatui import ansible inventory.ini --name prod --lb lb1,lb2 --vip 10.0.0.100 -o cluster.yaml"""

SSH_DESCRIPTION = """\
Import hosts of an OpenSSH client config. Each chosen alias is resolved the way ssh resolves it
(first value wins, `Host *` defaults apply, Include is followed from ~/.ssh): HostName, User, Port,
the first IdentityFile and ProxyJump (hops resolved through the file) become the node's ssh settings.
Match blocks, wildcard Host patterns and other options are reported, not imported.

Pick the hosts with --hosts and/or the role flags (names or ssh patterns, comma-separated). A chosen
host without a role flag becomes a worker; without --etcd, the control planes are the etcd members
(stacked). A host whose HostName is a DNS name needs --address ALIAS=IP (nothing is resolved). A
non-root User gets ssh.sudo: true, since khatui needs root on the nodes."""

SSH_EXAMPLE = """\
example:
  khatui import ssh-config ~/.ssh/config --control-plane cp1,cp2,cp3 --worker 'w-*' -o cluster.yaml
  khatui import ssh-config ./ssh_config --hosts 'k8s-*' --control-plane k8s-cp1 --address k8s-cp1=10.0.0.11"""


K0SCTL_DESCRIPTION = """\
Import a k0sctl cluster file (k0sctl.yaml). Role controller becomes control-plane + etcd, worker a
worker, controller+worker and single both; ssh address/user/port/keyPath map to the node's ssh
settings and ssh.bastion to ssh.jumpHost and ssh.jumpIdentityFile; privateAddress is the node
address. From spec.k0s.config.spec: network podCIDR, serviceCIDR, clusterDomain, kubeProxy.mode,
api.sans (pki.extraSANs) and api.externalAddress (an external load balancer); the k0s version gives
the Kubernetes version. Everything else is reported as a notice with its line."""

KUBEKEY_DESCRIPTION = """\
Import a KubeKey cluster config (config-sample.yaml). spec.hosts become nodes (internalAddress is the
node address, address where to connect; a password is reported, never copied), roleGroups give the
roles (etcd, control-plane or master, worker; ranges like node[1:3]). controlPlaneEndpoint:
internalLoadbalancer haproxy -> local-proxy, kube-vip -> kube-vip at its address, an address alone
-> an external load balancer. kubernetes version/proxyMode/clusterName (the DNS domain), etcd.type
and network kubePodsCIDR/kubeServiceCIDR map too; the network plugin and the rest are reported."""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `import ansible` and `import ssh-config`."""
    parser = sub.add_parser(
        "import",
        help="turn an Ansible inventory, an ssh config, a k0sctl or KubeKey file into a cluster spec",
        description="Turn an existing inventory into a cluster spec. Notices about anything not imported "
        "go to stderr as FILE:LINE: notice: ...; the spec is validated and written. "
        "Exit code 0: valid spec; 2: the input is unusable or the spec still has errors (it is written anyway).",
    )
    sources = parser.add_subparsers(title="sources", metavar="SOURCE", required=True)

    ansible = sources.add_parser(
        "ansible",
        help="import a Kubespray-style Ansible inventory (INI or YAML)",
        description=ANSIBLE_DESCRIPTION,
        epilog=ANSIBLE_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ansible.add_argument("file", metavar="FILE", help="inventory file (inventory.ini, hosts.yaml, ...)")
    ansible.add_argument(
        "--lb",
        metavar="NAMES",
        type=_names,
        action="extend",
        default=[],
        help="inventory hosts that get the lb role (Kubespray has no lb group)",
    )
    _common_arguments(ansible)
    ansible.set_defaults(run=_run_ansible)

    ssh = sources.add_parser(
        "ssh-config",
        help="import hosts of an OpenSSH client config (~/.ssh/config)",
        description=SSH_DESCRIPTION,
        epilog=SSH_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ssh.add_argument("file", metavar="FILE", help="ssh config file (e.g. ~/.ssh/config)")
    for flag, role in (
        ("--hosts", "hosts to import (they become workers unless a role flag names them)"),
        ("--control-plane", "control-plane hosts"),
        ("--etcd", "etcd members (default: the control-plane hosts)"),
        ("--worker", "worker hosts"),
        ("--lb", "load balancer hosts (for --vip)"),
    ):
        ssh.add_argument(flag, metavar="NAMES", type=_names, action="extend", default=[], help=role)
    _common_arguments(ssh)
    ssh.set_defaults(run=_run_ssh_config)

    for source, importer, help_text, description in (
        ("k0sctl", import_k0sctl, "import a k0sctl cluster file (k0sctl.yaml)", K0SCTL_DESCRIPTION),
        ("kubekey", import_kubekey, "import a KubeKey cluster config (config-sample.yaml)", KUBEKEY_DESCRIPTION),
    ):
        parser_ = sources.add_parser(
            source,
            help=help_text,
            description=description,
            epilog=f"example:\n  khatui import {source} {source}.yaml -o cluster.yaml",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser_.add_argument("file", metavar="FILE", help=f"the {source} file")
        _common_arguments(parser_, addresses=False)
        parser_.set_defaults(run=_cluster_file_runner(importer, source))


def _common_arguments(parser: argparse.ArgumentParser, addresses: bool = True) -> None:
    parser.add_argument("-o", "--output", metavar="OUT", help="write the spec to OUT instead of standard output")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument("--name", help="cluster name (default: from the file name or its folder)")
    parser.add_argument(
        "--vip",
        metavar="IP",
        type=_vip,
        help="virtual IP: use haproxy-keepalived on the lb nodes instead of the default local-proxy",
    )
    if not addresses:
        return
    parser.add_argument(
        "--address",
        metavar="NAME=IP",
        type=_addresses,
        action="extend",
        default=[],
        help="the IP of a host known only by a DNS name (repeatable, or comma-separated)",
    )


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give one or more names, separated by ','")
    return names


def _ip(text: str, use: Use = Use.NODE) -> str:
    """`text` as an address for `use`, checked by the spec's own rules."""
    try:
        return str(ip_for(text, use))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _vip(text: str) -> str:
    return _ip(text, Use.VIP)


def _addresses(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in _names(text):
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise argparse.ArgumentTypeError(f"{item!r} is not NAME=IP")
        pairs.append((name.strip(), _ip(value.strip())))
    return pairs


def _run_ansible(args: argparse.Namespace) -> int:
    _refuse_overwrite(args)
    result = import_ansible(args.file, addresses=dict(args.address), lb_hosts=args.lb)
    return _finish(args, result, "ansible")


def _run_ssh_config(args: argparse.Namespace) -> int:
    _refuse_overwrite(args)
    selection = Selection(
        hosts=args.hosts,
        control_plane=args.control_plane,
        etcd=args.etcd,
        worker=args.worker,
        lb=args.lb,
        addresses=dict(args.address),
    )
    return _finish(args, import_ssh_config(args.file, selection), "ssh-config")


def _cluster_file_runner(importer: Callable[[str], ImportResult], source: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        _refuse_overwrite(args)
        return _finish(args, importer(args.file), source)

    return run


def _refuse_overwrite(args: argparse.Namespace) -> None:
    # Checked before importing, so a refused OUT never comes after a screen of notices.
    if args.output not in (None, "-"):
        check_destination(args.output, args.force)


def _finish(args: argparse.Namespace, result: ImportResult, source: str) -> int:
    """Write the spec, then report notices and validation problems; 0 if the spec is valid, else 2."""
    target = None if args.output in (None, "-") else args.output
    document = cluster_document(result, args.name or result.name or cluster_name(args.file), args.vip)
    header = f"# Imported from {args.file} by `khatui import {source}`; check it with `khatui validate`.\n"
    text = header + dump(document)
    problems = _located(validate_data(document).problems, text, target or "<stdout>")
    write_text(text, target, args.force)
    for notice in result.sorted_notices():
        print(notice, file=sys.stderr)
    for problem in problems:
        print(problem, file=sys.stderr)
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    imported = f"{args.file}: imported {len(result.nodes)} node{'s' * (len(result.nodes) != 1)}"
    imported += f" with {len(result.notices)} notice{'s' * (len(result.notices) != 1)}"
    verdict = "the spec is valid" if not errors else f"the spec needs fixing in {target or 'the output'}"
    print(f"{imported}; {verdict} ({counts})", file=sys.stderr)
    return 2 if errors else 0


def _located(problems: list[Problem], text: str, source: str) -> list[Problem]:
    """`problems` placed at their lines of the written spec `text` (parsed only when there are any)."""
    if not problems:
        return problems
    try:
        loaded = load_text(text, source)
    except InputError:
        return [problem.located(source, None) for problem in problems]
    return [problem.located(source, loaded.line_of(problem.path)) for problem in problems]
