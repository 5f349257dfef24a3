"""`packages`: the distribution packages each node's roles need, installed with the node's own manager.

One step per node, planned from what the probe found installed (name and version): a no-op naming
them when all are there, else one `apt-get install` or `dnf install` of exactly the missing ones.
apt waits up to `LOCK_TIMEOUT_S` for a package lock someone else holds (an unattended upgrade) and
then fails with apt's own message naming the lock and its holder; dnf waits for its lock by itself,
bounded by the step's timeout. Offline (no facts) the node is planned as a fresh Debian/Ubuntu node.
With `spec.install.packages.mirror`, a `mirror` step first writes its key and source
(`package_mirror`), and the install uses that repository only. With an air-gapped bundle the
missing packages come from it instead (`offline.install_packages`).
"""

from __future__ import annotations

from collections.abc import Sequence

from khatui.errors import InputError
from khatui.facts.distro import MANAGER_FAMILY, Family, needs, packages_for
from khatui.plan.context import PlanContext, PlanNode
from khatui.plan.model import Run, Step
from khatui.plan.phases.offline import install_packages
from khatui.plan.phases.package_mirror import manager_options, mirror_files, suite_of
from khatui.plan.phases.rule import PhaseRule
from khatui.quoting import shell as sh
from khatui.quoting.shell import Script

LOCK_TIMEOUT_S = 300
MIRROR_TITLE = "package mirror (key and source)"
SUITE_FIELD = "spec.install.packages.mirror.suite"
APT = ("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", f"DPkg::Lock::Timeout={LOCK_TIMEOUT_S}")


def install_command(family: Family, missing: Sequence[str], only: Sequence[str] = ()) -> Script:
    """Install `missing` with `family`'s manager (apt: refresh the package lists first); `only`: the
    manager's options that restrict it to the package mirror."""
    if family is Family.RHEL:
        return sh.cmd("dnf", *only, "install", "-y", *missing)
    apt = (*APT, *only)
    return sh.and_(sh.cmd(*apt, "update"), sh.cmd(*apt, "install", "-y", "--no-install-recommends", *missing))


def installed_check(family: Family, wanted: Sequence[str]) -> Script:
    """Succeeds when every package of `wanted` is installed."""
    if family is Family.RHEL:
        return sh.quiet(sh.cmd("rpm", "-q", "--whatprovides", *wanted))
    return sh.quiet(sh.cmd("dpkg", "-s", *wanted))


def refuse(why: str) -> Run:
    """A command that prints `why` and fails: what a node cannot be brought to by khatui."""
    return Run(sh.and_(sh.cmd("echo", why), sh.cmd("false")))


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
        mirror = ctx.cluster.spec.install.packages.mirror
        family = MANAGER_FAMILY.get(node.facts.package_manager if node.facts else "apt-get")
        if mirror is None or family is None:
            return [self._install(ctx, node, ())]
        suite = suite_of(mirror, node) if family is Family.DEBIAN else ""  # a .repo has no suite
        if suite is None:
            why = f"khatui: {node.name} reports no VERSION_CODENAME in /etc/os-release: set {SUITE_FIELD}"
            return [Step(self.name, node.name, "mirror", MIRROR_TITLE, (refuse(why),))]
        if not ctx.mirror_key:
            raise InputError(f"{mirror.key}: spec.install.packages.mirror.key: the key was not read")
        files = mirror_files(mirror, ctx.mirror_key, family, node, suite)
        source = ctx.upload_step(self.name, node, "mirror", MIRROR_TITLE, files)
        return [source, self._install(ctx, node, manager_options(family))]

    def _install(self, ctx: PlanContext, node: PlanNode, only: Sequence[str]) -> Step:
        facts = node.facts
        manager = facts.package_manager if facts else "apt-get"
        family = MANAGER_FAMILY.get(manager)
        title = "distribution packages"
        if family is None:
            wanted = packages_for(ctx.cluster, node.node, Family.DEBIAN)
            why = f"khatui: no apt-get or dnf on {node.name}: install {' '.join(wanted)} (or their equivalents) by hand"
            return Step(self.name, node.name, "packages", title, (refuse(why),))
        wanted = packages_for(ctx.cluster, node.node, family)
        found = facts.packages if facts else {}
        missing = [p for p in wanted if p not in found]
        present = [p for p in wanted if p in found]
        if not missing and f"{self.name}/{node.name}/packages" not in ctx.redo:
            return Step(self.name, node.name, "packages", title, noop_reason=f"installed: {_versions(found, present)}")
        if ctx.bundle is not None:
            actions = install_packages(ctx.bundle, node.name, family, needs(ctx.cluster, node.node))
            return Step(
                self.name,
                node.name,
                "packages",
                f"{title} from the bundle",
                actions,
                check=installed_check(family, wanted),
            )
        had = f"; installed: {_versions(found, present)}" if present else ""
        lock = f", waiting up to {LOCK_TIMEOUT_S} s for the package lock" if family is Family.DEBIAN else ""
        source = " from the package mirror" if only else ""
        run = Run(
            install_command(family, missing or wanted, only),
            timeout=float(LOCK_TIMEOUT_S + 900),
            description=f"install {', '.join(missing or wanted)} with {manager}{source}{lock}{had}",
        )
        return Step(self.name, node.name, "packages", title, (run,), check=installed_check(family, wanted))
