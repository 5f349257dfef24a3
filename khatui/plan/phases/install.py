"""`runtime` and `kube-tools`: the release binaries each node's roles need, at the spec's versions.

One module for both phases (and the etcd binary the etcd phase installs first) because they decide
the same way: the version a node reports against the version the spec wants, a no-op saying so when
they agree, else the file from the catalog — uploaded from an air-gapped bundle or the operator's
verified cache (`fetchOn: operator`; both a `Transfer`) or fetched by the node itself with curl and checked with
sha256sum (`fetchOn: nodes`) — into /var/lib/khatui/artifacts/<sha256>, then installed from there.
Without facts (offline) every binary is planned; without `install.enabled` nothing is.

A daemon is restarted only when something it runs changed: containerd when its config, unit or
binary did (then the step waits until it answers on its socket), the kubelet when its unit or binary
did and only if it is running (kubeadm's kubelet-start phase starts it), etcd (systemd members) when
its unit or binary did — `restarted_on_change` is that rule, once.
"""

from __future__ import annotations

from collections.abc import Sequence

from khatui.artifacts import sums
from khatui.artifacts.bundle import Bundle
from khatui.artifacts.catalog import ARCHES, CNI_BIN_DIR, Artifact, Component, artifact, found_version, version_of
from khatui.errors import InputError
from khatui.plan.context import PlanContext, PlanNode, reload_and
from khatui.plan.model import Action, Run, Step, Transfer, WaitFor
from khatui.plan.phases.rule import PhaseRule
from khatui.quoting import shell as sh
from khatui.quoting.shell import Script
from khatui.render import containerd
from khatui.render.files import RenderedFile
from khatui.spec.components import EtcdRunAs
from khatui.spec.install import Fetcher
from khatui.spec.nodes import Node, Role

STAGING = "/var/lib/khatui/artifacts"
"""Where a node keeps the release files it was given, by sha256 (a rerun finds them there)."""
_UNPACK = "/var/lib/khatui/unpack"


def runs_kubelet(ctx: PlanContext, n: PlanNode) -> bool:
    """Control planes, workers, and etcd members run as static pods (a standalone kubelet)."""
    static_etcd = n.node.has(Role.ETCD) and ctx.cluster.spec.etcd.run_as is EtcdRunAs.STATIC_POD
    return n.node.has(Role.CONTROL_PLANE) or n.node.has(Role.WORKER) or static_etcd


def installed(n: PlanNode, component: Component) -> str | None:
    """The version of `component` the node reports, None when it has none (or nothing is known)."""
    if n.facts is None:
        return None
    line = n.facts.cni_version if component is Component.CNI_PLUGINS else n.facts.binaries.get(component.value, "")
    return found_version(line)


def _verify(sha256: str, path: str) -> sh.Pipeline:
    return sh.pipe(sh.cmd("printf", "%s  %s\\n", sha256, path), sh.cmd("sha256sum", "-c", "--quiet", "--status"))


def bundled(bundle: Bundle, art: Artifact) -> str:
    """The bundle's copy of `art` (on the operator's machine); `InputError` when it has none or
    another file than the published one."""
    file = bundle.binary(art.path)
    if file is None:
        raise InputError(
            f"{bundle.folder}: the bundle has no {art.component.value} {art.version} for {art.arch} ({art.path}); "
            "build it again with `khatui bundle` from this spec"
        )
    if file.sha256 != art.sha256:
        raise InputError(
            f"{bundle.local(file)}: sha256 {file.sha256} in the bundle's manifest, not the published {art.sha256}"
        )
    return bundle.local(file)


def fetch(ctx: PlanContext, art: Artifact) -> Action:
    """Get `art` to the node's staging path: from the bundle, the operator's cache, or downloaded by the node."""
    binaries = ctx.cluster.spec.install.binaries
    url, staged = art.url(binaries.mirror), f"{STAGING}/{art.sha256}"
    if ctx.bundle is not None:
        return Transfer(art.sha256, url, staged, local=bundled(ctx.bundle, art))
    if binaries.fetch_on is Fetcher.OPERATOR:
        return Transfer(art.sha256, url, staged)
    part = f"{staged}.part"
    download = sh.and_(
        sh.cmd("mkdir", "-p", STAGING),
        sh.cmd("curl", "-fsSL", "--retry", "3", "-o", part, url),
        _verify(art.sha256, part),
        sh.cmd("mv", "-f", part, staged),
    )
    return Run(
        sh.or_(_verify(art.sha256, staged), sh.cmd("sh", "-c", download)),
        description=f"download {url} on the node and check its sha256 ({art.sha256[:12]})",
    )


def install_command(art: Artifact) -> Script:
    """Put the staged file's members where they belong (binaries 0755)."""
    staged = f"{STAGING}/{art.sha256}"
    if not art.is_archive:
        return sh.and_(*(sh.cmd("install", "-D", "-m", "0755", staged, m.target) for m in art.members))
    if not art.members:
        return sh.and_(sh.cmd("mkdir", "-p", CNI_BIN_DIR), sh.cmd("tar", "-xzf", staged, "-C", CNI_BIN_DIR))
    scratch = f"{_UNPACK}/{art.sha256}"
    return sh.and_(
        sh.cmd("rm", "-rf", scratch),
        sh.cmd("mkdir", "-p", scratch),
        sh.cmd("tar", "-xzf", staged, "-C", scratch, *(m.source for m in art.members)),
        *(sh.cmd("install", "-D", "-m", "0755", f"{scratch}/{m.source}", m.target) for m in art.members),
        sh.cmd("rm", "-rf", scratch),
    )


def binary_step(ctx: PlanContext, phase: str, n: PlanNode, component: Component, step: str = "") -> Step:
    """Install `component` at the wanted version, or a no-op when the node has it (step name: `step`,
    else the component's)."""
    binaries = ctx.cluster.spec.install.binaries
    wanted = version_of(ctx.cluster, component)
    arch = ARCHES.get(n.facts.arch, n.facts.arch) if n.facts and n.facts.arch else "amd64"
    art = artifact(component, wanted, arch, sums.table(binaries.checksums))
    found = installed(n, component)
    name = component.value
    step = step or name
    if found == wanted and f"{phase}/{n.name}/{step}" not in ctx.redo:
        return Step(phase, n.name, step, f"{name} {wanted}", noop_reason=f"{name} {wanted} already installed")
    source = "the operator's cache" if binaries.fetch_on is Fetcher.OPERATOR else "a download on the node"
    source = "the bundle" if ctx.bundle else source
    title = f"install {name} {wanted} ({f'found {found}' if found else 'not installed'}; {art.name} via {source})"
    return Step(phase, n.name, step, title, (fetch(ctx, art), Run(install_command(art))))


RUNTIME = (Component.CONTAINERD, Component.RUNC, Component.CNI_PLUGINS, Component.CRICTL)
"""What the `runtime` phase installs on a kubelet node."""


def kube_tools(node: Node) -> tuple[Component, ...]:
    """What the `kube-tools` phase installs on a kubelet `node`: the kubelet alone on an etcd-only node."""
    kubeadm = node.has(Role.CONTROL_PLANE) or node.has(Role.WORKER)
    return (Component.KUBEADM, Component.KUBELET, Component.KUBECTL) if kubeadm else (Component.KUBELET,)


def restarted_on_change(
    ctx: PlanContext,
    phase: str,
    n: PlanNode,
    name: str,
    title: str,
    files: Sequence[RenderedFile],
    binaries: Sequence[Step],
    restart: Sequence[Action],
) -> Step:
    """Upload `files` and run `restart` when a file changed, `restart` alone when one of the steps
    installing the daemon's `binaries` puts a new one in place, else a no-op."""
    step = ctx.upload_step(phase, n, name, title, files, restart)
    new = [b.name for b in binaries if not b.is_noop]
    if step.is_noop and new:
        return Step(phase, n.name, name, f"{title}: restart, a new binary comes with {', '.join(new)}", tuple(restart))
    return step


def _containerd(ctx: PlanContext, n: PlanNode, binary: Step) -> Step:
    answering = WaitFor(
        sh.cmd("ctr", "--address", containerd.SOCKET, "version"),
        timeout=60,
        description=f"wait until containerd answers on {containerd.SOCKET}",
    )
    restart: list[Action] = [
        Run(reload_and(sh.cmd("systemctl", "enable", "containerd"), sh.cmd("systemctl", "restart", "containerd"))),
        answering,
    ]
    title = "containerd configured for Kubernetes, answering"
    step = restarted_on_change(
        ctx, Runtime.name, n, "containerd-config", title, n.pick(components=("containerd",)), [binary], restart
    )
    if step.is_noop and not n.active("containerd") and not ctx.offline:
        start = Run(
            sh.cmd("systemctl", "enable", "--now", "containerd"), description="start containerd (it is stopped)"
        )
        return Step(Runtime.name, n.name, "containerd-config", title, (start, answering))
    return step


class Runtime(PhaseRule):
    """containerd, runc, the CNI plugins and crictl on every node that runs a kubelet, then containerd
    configured, (re)started when its files or binary changed, and answering."""

    name = "runtime"
    title = "container runtime binaries"
    requires: tuple[str, ...] = ()

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        if not ctx.cluster.spec.install.enabled:
            return []
        return [n for n in ctx.all() if runs_kubelet(ctx, n)]

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        binaries = [binary_step(ctx, self.name, node, c) for c in RUNTIME]
        return [*binaries, _containerd(ctx, node, binaries[0])]


class KubeTools(PhaseRule):
    """kubeadm, kubelet and kubectl at exactly kubernetesVersion (the kubelet alone on etcd-only
    nodes), and the kubelet's unit: in place before kubeadm, enabled, restarted only if it runs."""

    name = "kube-tools"
    title = "kubeadm, kubelet, kubectl"
    requires: tuple[str, ...] = ()

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return Runtime().targets(ctx)

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        binaries = [binary_step(ctx, self.name, node, c) for c in kube_tools(node.node)]
        kubelet = next(b for b in binaries if b.name == Component.KUBELET.value)
        restart = [
            Run(reload_and(sh.cmd("systemctl", "enable", "kubelet"), sh.cmd("systemctl", "try-restart", "kubelet")))
        ]
        files = node.pick(components=("kubelet-unit",))
        title = "kubelet unit and kubeadm's drop-in"
        return [*binaries, restarted_on_change(ctx, self.name, node, "kubelet-unit", title, files, [kubelet], restart)]


def etcd_binary(ctx: PlanContext, phase: str, n: PlanNode) -> list[Step]:
    """etcd, etcdctl and etcdutl at spec.etcd.version on a member (none when not installing): a
    systemd member runs this etcd; a static-pod member uses its etcdctl for the health checks."""
    # Its own step name: `etcd` is the member's unit step of the same phase.
    return [binary_step(ctx, phase, n, Component.ETCD, "etcd-binary")] if ctx.cluster.spec.install.enabled else []
