"""`lb`: the proxies in front of the apiservers (haproxy + keepalived, or nginx on every node).

Only a service whose own files changed is reloaded; a service whose files are current but which is
not running is started. Nothing here depends on etcd, so a broken etcd does not hold the proxies back.
"""

from __future__ import annotations

from collections.abc import Sequence

from khatui.plan.context import PlanContext, PlanNode
from khatui.plan.model import Run, Step
from khatui.plan.phases.rule import PhaseRule
from khatui.quoting import shell as sh

SERVICE_OF = {"haproxy": "haproxy", "keepalived": "keepalived", "nginx": "nginx"}
"""Load-balancer component -> the systemd unit that reads its files."""


class LoadBalancer(PhaseRule):
    """Each proxy node's files; reload what changed, start what is stopped."""

    name = "lb"
    title = "Load balancer"
    requires = ("pki", "packages")

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return [n for n in ctx.all() if n.pick(components=tuple(SERVICE_OF))]

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        files = node.pick(components=tuple(SERVICE_OF))
        services = list(dict.fromkeys(SERVICE_OF[f.component] for f in files))
        changed = {SERVICE_OF[f.component] for f in ctx.changed(self.name, node, "proxy", files)}
        restarts = [
            Run(sh.and_(sh.cmd("systemctl", "enable", s), sh.cmd("systemctl", "reload-or-restart", s)))
            for s in services
            if s in changed
        ]
        step = ctx.upload_step(self.name, node, "proxy", f"load balancer ({', '.join(services)})", files, restarts)
        inactive = [s for s in services if not node.active(s)]
        if step.is_noop and inactive and not ctx.offline:
            starts = tuple(Run(sh.cmd("systemctl", "enable", "--now", s)) for s in inactive)
            step = Step(self.name, node.name, "proxy", step.title, starts)
        return [step]
