"""The phases of a plan, one module each, and the orders they are composed in.

`ROLLOUT` is the guide's order for a full rollout: certificates everywhere, the distribution
packages and the node settings (swap, kernel modules, sysctls), the runtime and kube tools, an
air-gapped bundle's images, etcd members in
parallel, an etcd health barrier, the load balancer, the first control plane, the other control
planes and the workers, the addons, and a verification. A later operation (a day-2 change, a test)
composes its own tuple and passes it to `build_plan(..., phases=...)`.
"""

from khatui.plan.phases.addons import Addons
from khatui.plan.phases.etcd import Etcd, EtcdHealth
from khatui.plan.phases.images import Images
from khatui.plan.phases.install import KubeTools, Runtime
from khatui.plan.phases.kubeadm import ControlPlaneInit, ControlPlaneJoin, Workers
from khatui.plan.phases.loadbalancer import LoadBalancer
from khatui.plan.phases.node_settings import NodeSettings
from khatui.plan.phases.packages import Packages
from khatui.plan.phases.pki import Pki
from khatui.plan.phases.rule import PhaseRule
from khatui.plan.phases.verify import Verify

ROLLOUT: tuple[PhaseRule, ...] = (
    Pki(),
    Packages(),
    NodeSettings(),
    Runtime(),
    KubeTools(),
    Images(),
    Etcd(),
    EtcdHealth(),
    LoadBalancer(),
    ControlPlaneInit(),
    ControlPlaneJoin(),
    Workers(),
    Addons(),
    Verify(),
)
"""Every phase of a rollout, in the order they run."""


def rollout_phases(smoke: bool = False) -> tuple[PhaseRule, ...]:
    """`ROLLOUT`, its verification with the smoke test (a pod resolving a name) when `smoke`."""
    return tuple(Verify(smoke) if isinstance(p, Verify) else p for p in ROLLOUT)


__all__ = ["ROLLOUT", "PhaseRule", "rollout_phases"]
