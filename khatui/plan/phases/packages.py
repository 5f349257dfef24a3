"""`packages`: the distribution packages each node's roles need, installed with the node's own manager.

One step per node, planned from what the probe found installed (name and version): a no-op naming
them when all are there, else one `apt-get install` or `dnf install` of exactly the missing ones.
apt waits up to `LOCK_TIMEOUT_S` for a package lock someone else holds (an unattended upgrade) and
then fails with apt's own message naming the lock and its holder; dnf waits for its lock by itself,
bounded by the step's timeout. Offline (no facts) the node is planned as a fresh Debian/Ubuntu node.
With an air-gapped bundle the missing packages come from it instead (`offline.install_packages`).
"""

from __future__ import annotations

from collections.abc import Sequence

from khatui.facts.distro import MANAGER_FAMILY, Family, needs, packages_for
from khatui.plan.context import PlanContext, PlanNode
from khatui.plan.model import Run, Step
from khatui.plan.phases.offline import install_packages
from khatui.plan.phases.rule import PhaseRule
from khatui.quoting import shell as sh
from khatui.quoting.shell import Script

LOCK_TIMEOUT_S = 300
APT = ("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", f"DPkg::Lock::Timeout={LOCK_TIMEOUT_S}")


def install_command(family: Family, missing: Sequence[str]) -> Script:
    """Install `missing` with `family`'s manager (apt: refresh the package lists first)."""
    if family is Family.RHEL:
        return sh.cmd("dnf", "install", "-y", *missing)
    return sh.and_(sh.cmd(*APT, "update"), sh.cmd(*APT, "install", "-y", "--no-install-recommends", *missing))


def installed_check(family: Family, wanted: Sequence[str]) -> Script:
    """Succeeds when every package of `wanted` is installed."""
    if family is Family.RHEL:
        return sh.quiet(sh.cmd("rpm", "-q", "--whatprovides", *wanted))
    return sh.quiet(sh.cmd("dpkg", "-s", *wanted))


def _versions(found: dict[str, str], names: Sequence[str]) -> str:
    return ", ".join(f"{name} {found[name]}" for name in names)


class Packages(PhaseRule):
    """Each node's missing distribution packages, installed in one command."""

    name = "packages"
    title = "Distribution packages"
    requires = ()

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        if not ctx.cluster.spec.install.enabled:
            return []
        return [n for n in ctx.all() if packages_for(ctx.cluster, n.node, Family.DEBIAN)]

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        facts = node.facts
        manager = facts.package_manager if facts else "apt-get"
        family = MANAGER_FAMILY.get(manager)
        title = "distribution packages"
        if family is None:
            wanted = packages_for(ctx.cluster, node.node, Family.DEBIAN)
            why = f"khatui: no apt-get or dnf on {node.name}: install {' '.join(wanted)} (or their equivalents) by hand"
            return [
                Step(self.name, node.name, "packages", title, (Run(sh.and_(sh.cmd("echo", why), sh.cmd("false"))),))
            ]
        wanted = packages_for(ctx.cluster, node.node, family)
        found = facts.packages if facts else {}
        missing = [p for p in wanted if p not in found]
        present = [p for p in wanted if p in found]
        if not missing and f"{self.name}/{node.name}/packages" not in ctx.redo:
            return [
                Step(self.name, node.name, "packages", title, noop_reason=f"installed: {_versions(found, present)}")
            ]
        if ctx.bundle is not None:
            actions = install_packages(ctx.bundle, node.name, family, needs(ctx.cluster, node.node))
            check = installed_check(family, wanted)
            return [Step(self.name, node.name, "packages", f"{title} from the bundle", actions, check=check)]
        had = f"; installed: {_versions(found, present)}" if present else ""
        lock = f", waiting up to {LOCK_TIMEOUT_S} s for the package lock" if family is Family.DEBIAN else ""
        run = Run(
            install_command(family, missing or wanted),
            timeout=float(LOCK_TIMEOUT_S + 900),
            description=f"install {', '.join(missing or wanted)} with {manager}{lock}{had}",
        )
        return [Step(self.name, node.name, "packages", title, (run,), check=installed_check(family, wanted))]
