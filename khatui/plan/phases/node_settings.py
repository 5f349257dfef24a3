"""`node-settings`: swap off, kernel modules loaded, then the sysctls, in that order on each node.

The order is the point: a sysctl key of a module (`net.ipv4.vs.*` of ip_vs) exists only once the
module is loaded, so `sysctl -p` before `modprobe` fails on a fresh node. Modules are written to
modules-load.d (for the next boot) and loaded now with modprobe, before any sysctl file is applied.
Swap is turned off now (`swapoff -a`) and kept off across reboots: the swap lines of /etc/fstab are
commented out behind a marker (the plan shows them, before and after) and swap.target is masked, so
no swap unit (a zram generator's, say) starts at boot — Kubespray's way. Swap is only touched when
`spec.install.enabled`; otherwise preflight reports it, as the operator prepares the nodes.
"""

from __future__ import annotations

from collections.abc import Sequence

from khatui.facts.install_sections import SWAP_MARK
from khatui.plan.context import PlanContext, PlanNode
from khatui.plan.model import Action, Run, Step, Upload
from khatui.plan.phases.rule import PhaseRule
from khatui.quoting import shell as sh
from khatui.render.files import RenderedFile
from khatui.spec.components import EtcdRunAs
from khatui.spec.nodes import Role

MODULES_DIR = "/etc/modules-load.d/"
SYSCTL_DIR = "/etc/sysctl.d/"
FSTAB = "/etc/fstab"
SWAP_LINE = r"^[[:space:]]*[^#[:space:]][^[:space:]]*[[:space:]]+[^[:space:]]+[[:space:]]+swap([[:space:]]|$)"
"""sed's form of `install_sections.FSTAB_SWAP_AWK`: a line whose third field is `swap`."""


def is_node_setting(file: RenderedFile) -> bool:
    """A modules-load.d or sysctl.d file: applied by this phase, not by the phase that renders it."""
    return file.path.startswith((MODULES_DIR, SYSCTL_DIR))


def comment_out_swap(fstab: str = FSTAB) -> sh.Command:
    """Comment out every swap line of `fstab` behind `SWAP_MARK` (a copy stays as FSTAB.khatui-bak)."""
    return sh.cmd("sed", "-i.khatui-bak", "-E", f"/{SWAP_LINE}/s/^/{SWAP_MARK}/", fstab)


def modules_of(file: RenderedFile) -> list[str]:
    """The module names a modules-load.d file lists (comments and blank lines skipped)."""
    text = file.data.decode("utf-8", "replace")  # the khatui header is comment lines too
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("#", ";"))]


def _runs_kubelet(ctx: PlanContext, n: PlanNode) -> bool:
    static_etcd = n.node.has(Role.ETCD) and ctx.cluster.spec.etcd.run_as is EtcdRunAs.STATIC_POD
    return n.node.has(Role.CONTROL_PLANE) or n.node.has(Role.WORKER) or static_etcd


class NodeSettings(PhaseRule):
    """Swap, kernel modules and sysctls of every node that needs them."""

    name = "node-settings"
    title = "Node settings (swap, kernel modules, sysctls)"
    requires = ()

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return [n for n in ctx.all() if self._swap_managed(ctx, n) or any(map(is_node_setting, n.files))]

    def _swap_managed(self, ctx: PlanContext, n: PlanNode) -> bool:
        return ctx.cluster.spec.install.enabled and _runs_kubelet(ctx, n)

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        steps = [self._swap(ctx, node)] if self._swap_managed(ctx, node) else []
        modules = [f for f in node.files if f.path.startswith(MODULES_DIR)]
        if modules:
            steps.append(self._modules(ctx, node, modules))
        sysctls = [f for f in node.files if f.path.startswith(SYSCTL_DIR)]
        if sysctls:
            apply = [Run(sh.cmd("sysctl", "-q", "-p", f.path), description=f"apply {f.path}") for f in sysctls]
            steps.append(ctx.upload_step(self.name, node, "sysctls", "kernel settings (sysctl.d)", sysctls, apply))
        return steps

    def _swap(self, ctx: PlanContext, n: PlanNode) -> Step:
        facts, title = n.facts, "swap off, now and at boot"
        active = facts.swap_devices if facts else ("(unknown: offline)",)
        lines = facts.fstab_swap if facts else ()
        masked = bool(facts and facts.swap_units.get("swap.target") == "masked")
        redo = f"{self.name}/{n.name}/swap" in ctx.redo
        if not active and not lines and not redo:
            return Step(self.name, n.name, "swap", title, noop_reason="swap off, no swap line in /etc/fstab")
        actions: list[Action] = []
        if active or redo:
            actions.append(Run(sh.cmd("swapoff", "-a"), description=f"swapoff -a (active: {', '.join(active)})"))
        if lines or not facts or redo:
            diff = "".join(f"\n  - {line}\n  + {SWAP_MARK}{line}" for line in lines) or " every swap line"
            actions.append(Run(comment_out_swap(), description=f"comment out in {FSTAB}:{diff}"))
        if not masked:
            actions.append(
                Run(
                    sh.cmd("systemctl", "mask", "swap.target"),
                    description="mask swap.target: no swap unit starts at boot",
                )
            )
        return Step(self.name, n.name, "swap", title, tuple(actions))

    def _modules(self, ctx: PlanContext, n: PlanNode, files: list[RenderedFile]) -> Step:
        names = list(dict.fromkeys(m for f in files for m in modules_of(f)))
        changed = n.changed(files)
        unloaded = [m for m in names if not (n.facts and n.facts.module_in_use(m))]
        title = "kernel modules (loaded now and at boot)"
        if not changed and not unloaded and f"{self.name}/{n.name}/modules" not in ctx.redo:
            what = ", ".join(sorted(f.path.rsplit("/", 1)[-1] for f in files))
            return Step(
                self.name, n.name, "modules", title, noop_reason=f"{what} up to date; loaded: {', '.join(names)}"
            )
        uploads = [Upload(f.path, f.data, f.mode, f.owner) for f in changed]
        loads = [Run(sh.cmd("modprobe", "--", m), description=f"load {m}") for m in names]
        return Step(self.name, n.name, "modules", title, (*uploads, *loads))
