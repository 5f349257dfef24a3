"""Stand-in for kubeadm: `init`, `join`, `token` and `version`, checking their input as kubeadm does.

`init --config F` / `join --config F` validate the config (see `kubeadm_config`), run kubeadm's
preflight checks (honouring `--ignore-preflight-errors`), use or create certificates, write the
kubeconfigs, the control-plane static pods and the kubelet's files, restart the kubelet and wait for
the local apiserver's /healthz, as kubeadm's phases do (`--skip-phases` skips them). The
bootstrap-token phase creates the RBAC bindings a joining kubelet's TLS bootstrap needs
(`kubeadm_token`); the kubelet phases (a join waits for the kubelet's TLS bootstrap,
kubelet-finalize) are `kubeadm_kubelet`'s. Other phases that only create API objects
(upload-config, mark-control-plane, addon...) are announced and skipped. A joining control plane reads the
ClusterConfiguration through its discovery kubeconfig's server, i.e. through the load balancer,
from the apiserver stand-in's kubeadm-config ConfigMap, authenticated by the discovery kubeconfig's
bootstrap token (`kubeadm_discovery`); `kubeadm token` manages those tokens (`kubeadm_token`).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import ssl
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from . import kubeadm_config as kc
from . import kubeadm_files as kf
from . import kubeadm_token
from .common import default_address, version
from .kubeadm_checklists import image_pull, init_checks, join_checks
from .kubeadm_discovery import DiscoveryError, discover
from .kubeadm_kubelet import KubeletPhaseError, join_kubelet_start, kubelet_finalize, kubelet_start
from .kubeadm_pki import Leaf, PKIError, ensure_leaf, ensure_service_account
from .kubeadm_preflight import Node, PreflightError, privileged, say
from .kubeadm_preflight import run as run_checks
from .kubeclient import ClientError, load_kubeconfig

INIT_PHASES = (
    "preflight", "certs", "kubeconfig", "etcd", "control-plane", "kubelet-start", "wait-control-plane",
    "upload-config", "upload-certs", "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addon",
    "show-join-command",
)  # fmt: skip
JOIN_PHASES = (
    "preflight", "control-plane-prepare", "kubelet-start", "control-plane-join", "kubelet-wait-bootstrap",
    "wait-control-plane", "etcd-join", "mark-control-plane",
)  # fmt: skip
API_ONLY = {"upload-config", "upload-certs", "mark-control-plane", "addon", "etcd-join"}
ADDONS = {"addon/coredns": "dns", "addon/kube-proxy": "proxy"}
"""kubeadm init's addon sub-phases and the ClusterConfiguration field that disables each."""
WAIT_SECONDS = 120.0


class Failure(Exception):
    """Stops kubeadm with a message (exit code 1)."""


def parser() -> argparse.ArgumentParser:
    """kubeadm's command line, limited to what khatui uses."""
    root = argparse.ArgumentParser(prog="kubeadm", description="khatui lab stand-in for kubeadm (NOT the real kubeadm)")
    sub = root.add_subparsers(dest="command", required=True)
    for name in ("init", "join"):
        command = sub.add_parser(name)
        if name == "join":
            command.add_argument("endpoint", nargs="?")
            command.add_argument("--control-plane", action="store_true")
        command.add_argument("--config", required=True, help="kubeadm configuration file (required by the stand-in)")
        command.add_argument("--skip-phases", default="")
        command.add_argument("--ignore-preflight-errors", default="")
        command.add_argument("--v", "-v", dest="verbosity", type=int, default=0)
        command.add_argument("--upload-certs", action="store_true")
        command.add_argument("--certificate-key", default="")
        command.add_argument("--skip-token-print", action="store_true")
        command.add_argument("--dry-run", action="store_true")
    kubeadm_token.add_parser(sub)
    show = sub.add_parser("version")
    show.add_argument("-o", "--output", choices=("", "short", "json", "yaml"), default="")
    return root


def main(argv: list[str]) -> int:
    """Run kubeadm with `argv`; exit code 0 on success, 1 on any failure."""
    args = parser().parse_args(argv)
    if args.command == "version":
        return show_version(args.output)
    if args.command == "token":
        return kubeadm_token.run(args)
    try:
        known = INIT_PHASES if args.command == "init" else JOIN_PHASES
        phases = skip_list(args.skip_phases, known)
        ignored = {item.strip().lower() for item in args.ignore_preflight_errors.split(",") if item.strip()}
        config = kc.load(args.config, minor=int(version().split(".")[1]))
        if args.command == "init":
            kc.check_init(config)
        else:
            kc.check_join(config)
        for warning in config.warnings:
            print(f"W [config] {warning}", file=sys.stderr)
        if config.errors:
            raise Failure(f"invalid configuration {args.config}:\n  - " + "\n  - ".join(config.errors))
        kind = "InitConfiguration" if args.command == "init" else "JoinConfiguration"
        phases = phases or skip_list(",".join(str(p) for p in config.get(kind).get("skipPhases") or []), known)
        if args.command == "init":
            phases = manage_skipped_addons(config.get("ClusterConfiguration"), phases)
        registration = config.get(kind).get("nodeRegistration") or {}
        ignored |= {str(item).lower() for item in registration.get("ignorePreflightErrors") or []}
        if args.dry_run:
            say("[dryrun] the configuration is valid; nothing written (khatui lab stand-in)")
            return 0
        run_init(config, phases, ignored) if args.command == "init" else run_join(config, phases, ignored)
    except (Failure, PKIError, PreflightError, KubeletPhaseError) as exc:
        print(f"error execution phase: {exc}", file=sys.stderr)
        print(
            "To see the stack trace of this error execute with --v=5 or higher (khatui lab stand-in: there is none)",
            file=sys.stderr,
        )
        return 1
    return 0


def show_version(output: str) -> int:
    """`kubeadm version`."""
    text = version()
    info = {"clientVersion": {"gitVersion": text, "gitCommit": "khatui-lab-stand-in", "platform": "linux/amd64"}}
    if output == "short":
        print(text)
    elif output == "json":
        print(json.dumps(info, indent=2))
    elif output == "yaml":
        print(yaml.safe_dump(info), end="")
    else:
        print(f'kubeadm version: &version.Info{{GitVersion:"{text}", GitCommit:"khatui-lab-stand-in"}}')
    return 0


def skip_list(text: str, phases: tuple[str, ...]) -> set[str]:
    """The phases named by --skip-phases (or the config's skipPhases when the flag is empty): top-level
    ones skip the whole phase, sub-phases 'a/b' are kept as named (only addon's are acted on)."""
    skipped = set()
    for item in (part.strip() for part in text.split(",") if part.strip()):
        top = item.split("/", 1)[0]
        if top not in phases:
            raise Failure(f"invalid phase name {item!r} for --skip-phases (phases: {', '.join(phases)})")
        skipped.add(item)
    return skipped


def manage_skipped_addons(cluster: dict[str, Any], skipped: set[str]) -> set[str]:
    """kubeadm's manageSkippedAddons: a skipped addon phase (or `addon`) disables its addon, so its image
    is not pulled either, and a disabled addon (v1beta4 `dns.disabled`, `proxy.disabled`) skips its phase."""
    skipped = set(skipped)
    for phase, key in ADDONS.items():
        if "addon" in skipped or phase in skipped:
            cluster[key] = {**(cluster.get(key) or {}), "disabled": True}
        if (cluster.get(key) or {}).get("disabled"):
            skipped.add(phase)
    return skipped


def extras(config: kc.Config, cluster: dict[str, Any]) -> dict[str, dict[str, str]]:
    """extraArgs of the three components, as dicts."""
    return {
        name: kc.extra_args(config, name, (cluster.get(name) or {}).get("extraArgs"))
        for name in ("apiServer", "controllerManager", "scheduler")
    }


def apiserver_sans(cluster: dict[str, Any], node: str, address: str) -> list[str]:
    """Every name kubeadm puts in (and requires of) the apiserver certificate."""
    networking = cluster.get("networking") or {}
    domain = str(networking.get("dnsDomain", "cluster.local"))
    service = str(networking.get("serviceSubnet", "10.96.0.0/12")).split(",")[0]
    first = str(ipaddress.ip_network(service, strict=False).network_address + 1)
    host, _port = kc.endpoint(cluster.get("controlPlaneEndpoint")) or ("", 0)
    names = [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{domain}",
        node,
        first,
        address,
        host,
    ]
    names += [str(san) for san in (cluster.get("apiServer") or {}).get("certSANs") or []]
    return list(dict.fromkeys(n for n in names if n))


def control_plane_files(
    config: kc.Config, cluster: dict[str, Any], node: str, address: str, port: int, phases: set[str], init: bool
) -> None:
    """certs, kubeconfig and control-plane phases (shared by init and a control-plane join)."""
    pki = Path(str(cluster.get("certificatesDir", "/etc/kubernetes/pki")))
    endpoint = kc.endpoint(cluster["controlPlaneEndpoint"])
    assert endpoint is not None
    server = f"https://{kf.host_port(*endpoint)}"
    local = f"https://{kf.host_port(address, port)}"
    name = str(cluster.get("clusterName", "kubernetes"))
    if "certs" not in phases:
        say(f"[certs] Using certificateDir folder {pki!r}")
        for ca in ("ca", "front-proxy-ca"):
            if not (pki / f"{ca}.crt").is_file():
                raise Failure(f"certs: {pki / ca}.crt is missing (the khatui lab stand-in never creates CAs)")
        leaves = [
            (
                Leaf("apiserver", "kube-apiserver", server=True, sans=tuple(apiserver_sans(cluster, node, address))),
                "ca",
            ),
            (Leaf("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("kubeadm:cluster-admins",)), "ca"),
            (Leaf("front-proxy-client", "front-proxy-client"), "front-proxy-ca"),
        ]
        for leaf, ca in leaves:
            say(f"[certs] {ensure_leaf(pki, leaf, ca)}")
        say(f"[certs] {ensure_service_account(pki)}")
    if "kubeconfig" not in phases:
        kubeconfigs = [
            ("admin.conf", server, Leaf("kubernetes-admin", "kubernetes-admin", ("kubeadm:cluster-admins",))),
            ("controller-manager.conf", local, Leaf("controller-manager", "system:kube-controller-manager")),
            ("scheduler.conf", local, Leaf("scheduler", "system:kube-scheduler")),
        ]
        if init:
            kubeconfigs += [
                ("super-admin.conf", server, Leaf("super-admin", "kubernetes-super-admin", ("system:masters",))),
                ("kubelet.conf", server, Leaf("kubelet", f"system:node:{node}", ("system:nodes",))),
            ]
        for file, url, leaf in kubeconfigs:
            kf.write_kubeconfig(pki, file, url, leaf, name)
            say(f'[kubeconfig] Writing "{file}" kubeconfig file (server {url})')
    if "control-plane" not in phases:
        pods = kf.control_plane_pods(
            cluster, extras(config, cluster), address, port, str(cluster.get("kubernetesVersion", version()))
        )
        for stem, pod in pods.items():
            kf.write(kf.MANIFESTS / f"{stem}.yaml", yaml.safe_dump(pod, sort_keys=False))
            say(f'[control-plane] Creating static Pod manifest for "{stem}"')
        kf.write(kf.CLUSTER_CONFIG_COPY, yaml.safe_dump(cluster, sort_keys=False))


def wait_healthz(pki: Path, address: str, port: int) -> None:
    """Wait for https://address:port/healthz, verified with the cluster CA (kubeadm: up to 4 minutes)."""
    say(f"[wait-control-plane] Waiting for the API server at https://{kf.host_port(address, port)}/healthz")
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    deadline = time.monotonic() + WAIT_SECONDS
    url = f"https://{kf.host_port(address, port)}/healthz"
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, context=context, timeout=3) as reply:
                if reply.status == 200:
                    say("[api-check] The API server is healthy")
                    return
        except (OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.5)
    raise Failure(f"wait-control-plane: the API server at {url} is not healthy after {WAIT_SECONDS:.0f} s: {last}")


def announce_api_only(phases: tuple[str, ...], skipped: set[str]) -> None:
    """Say which phases the stand-in cannot run (they only store API objects)."""
    names = [p for p in phases if p in API_ONLY and p not in skipped and p != "addon"]
    if "addon" in phases and "addon" not in skipped:
        names += [phase for phase in ADDONS if phase not in skipped]
    if names:
        say(f"[khatui-lab] skipped (API objects only, the apiserver stand-in stores none): {', '.join(names)}")


def run_init(config: kc.Config, skipped: set[str], ignored: set[str]) -> None:
    """kubeadm init."""
    init, cluster = config.get("InitConfiguration"), config.get("ClusterConfiguration")
    local = init.get("localAPIEndpoint") or {}
    node = str((init.get("nodeRegistration") or {}).get("name") or socket.gethostname())
    address = str(local.get("advertiseAddress") or default_address())
    port = int(local.get("bindPort", 6443))
    if "preflight" not in skipped:
        say("[preflight] Running pre-flight checks")
        run_checks([privileged()], ignored)
        run_checks(init_checks(Node(), init, cluster), ignored)
        say("[preflight] Pulling images required for setting up a Kubernetes cluster")
        run_checks([image_pull(Node(), cluster, init.get("nodeRegistration") or {})], ignored)
    control_plane_files(config, cluster, node, address, port, skipped, init=True)
    if "kubelet-start" not in skipped:
        kubelet_start(config, "InitConfiguration", config.get("KubeletConfiguration"))
    if "wait-control-plane" not in skipped:
        wait_healthz(Path(str(cluster.get("certificatesDir", "/etc/kubernetes/pki"))), address, port)
    if "bootstrap-token" not in skipped:
        try:
            admin = kubeadm_token.admin_api(load_kubeconfig(str(kf.KUBERNETES / "admin.conf")))
            for line in kubeadm_token.allow_node_bootstrap(admin):
                say(line)
        except (ClientError, kubeadm_token.TokenError) as exc:
            raise Failure(f"bootstrap-token: {exc}") from None
    if "kubelet-finalize" not in skipped:
        kubelet_finalize(config, node)
    announce_api_only(INIT_PHASES, skipped)
    say("Your Kubernetes control-plane has initialized successfully! (khatui lab stand-in)")


def run_join(config: kc.Config, skipped: set[str], ignored: set[str]) -> None:
    """kubeadm join (a worker, or a control plane with `controlPlane`)."""
    join = config.get("JoinConfiguration")
    control_plane = join.get("controlPlane")
    node = str((join.get("nodeRegistration") or {}).get("name") or socket.gethostname())
    ca_cert = Path(str(join.get("caCertPath", "/etc/kubernetes/pki/ca.crt")))
    if "preflight" not in skipped:
        say("[preflight] Running pre-flight checks")
        run_checks([privileged()], ignored)
        run_checks(join_checks(Node(), join), ignored)
    local = (control_plane or {}).get("localAPIEndpoint") or {}
    address = str(local.get("advertiseAddress") or default_address())
    port = int(local.get("bindPort", 6443))
    try:
        discovered = discover(join, ca_cert)
    except DiscoveryError as exc:
        raise Failure(f"discovery: {exc}") from None
    say(f"[discovery] Read the cluster configuration from {discovered.server} with bootstrap token authentication")
    if control_plane is not None:
        cluster = discovered.cluster
        if "preflight" not in skipped:
            as_init = {"localAPIEndpoint": local, "nodeRegistration": join.get("nodeRegistration") or {}}
            run_checks(init_checks(Node(), as_init, cluster, secondary=True), ignored)
            run_checks([image_pull(Node(), cluster, as_init["nodeRegistration"])], ignored)
        pki = Path(str(cluster.get("certificatesDir", "/etc/kubernetes/pki")))
        if "control-plane-prepare" not in skipped:
            shared = ["ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt", "front-proxy-ca.key"]
            missing = [name for name in shared if not (pki / name).is_file()]
            if missing:
                raise Failure(
                    "control-plane-prepare: one or more conditions for hosting a new control plane instance is not satisfied: "
                    f"missing shared certificates {', '.join(missing)} in {pki} (khatui shares its PKI; no --certificate-key)"
                )
            control_plane_files(config, cluster, node, address, port, set(), init=False)
    if "kubelet-start" not in skipped:
        if not ca_cert.is_file():
            kf.write(ca_cert, discovered.ca_pem.decode(), 0o644)
        join_kubelet_start(config, node, discovered.server, discovered.ca_pem, discovered.token)
    if control_plane is not None and "wait-control-plane" not in skipped:
        wait_healthz(ca_cert.parent, address, port)
    announce_api_only(JOIN_PHASES, skipped)
    say("This node has joined the cluster (khatui lab stand-in)")
