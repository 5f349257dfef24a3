"""kube-apiserver stand-in: the status a Deployment gets, honest about what runs.

The real status comes from the deployment controller, counting pods the scheduler placed and the
kubelets started. The lab's controller-manager and scheduler stand-ins run no controllers and
schedule nothing, so no pod of a Deployment ever runs: its status says so as the real controller
would, `availableReplicas` absent (0) and condition Available=False with reason
MinimumReplicasUnavailable, so `kubectl wait --for=condition=Available` fails instead of lying.
Scheduling pods onto Ready nodes that have the images comes with a later issue.
"""

from __future__ import annotations

from typing import Any


def computed_status(obj: dict[str, Any]) -> dict[str, Any]:
    """The status fields the stand-in sets on a write of `obj` ({} for kinds it computes none for)."""
    if obj.get("kind") != "Deployment" or obj.get("apiVersion") != "apps/v1":
        return {}
    wanted = (obj.get("spec") or {}).get("replicas", 1)
    condition = {
        "type": "Available",
        "status": "False",
        "reason": "MinimumReplicasUnavailable",
        "message": "Deployment does not have minimum availability.",
    }
    generation = (obj.get("metadata") or {}).get("generation", 1)
    return {"status": {"observedGeneration": generation, "replicas": 0, "unavailableReplicas": wanted,
                       "conditions": [condition]}}  # fmt: skip
