"""The local lab: real test nodes on one Linux machine, and stand-ins for what cannot be installed.

`Lab` brings nodes up and down and injects faults; `khatui.lab.standins` holds the lab-only
kubeadm, kubelet, kubectl and kube-apiserver stand-ins that `Lab.up` puts on every node.
"""

from khatui.lab.boot import NodeState
from khatui.lab.lab import Lab, LabStatus

__all__ = ["Lab", "LabStatus", "NodeState"]
