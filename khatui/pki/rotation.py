"""The CA rotation procedure, written out for one cluster: steps to follow, not actions khatui takes.

Replacing a CA cannot be one command: every node must trust the old and the new CA at once before
any certificate signed by the new one is presented, and services restart one at a time so etcd keeps
quorum and the API stays behind the load balancer. khatui prints the steps with this cluster's nodes,
files and paths filled in; the operator runs them and checks each before the next. The new CA and
its leaves are staged with khatui's own `generate` in a copy of the store, which is idempotent and
reissues exactly the leaves a missing CA signed (`reconcile`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from khatui.pki.ca_names import CAName
from khatui.pki.catalog import Catalog

UPSTREAM_GUIDE = "https://kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates/"

_RESTARTS: dict[CAName, str] = {
    CAName.ETCD: "etcd on each member, one at a time (wait for `etcdctl endpoint health` on it before the "
    "next), then kube-apiserver on each control plane, one at a time",
    CAName.KUBERNETES: "kube-apiserver, kube-controller-manager and kube-scheduler on each control plane, "
    "one at a time, then the kubelet on every node",
    CAName.FRONT_PROXY: "kube-apiserver on each control plane, one at a time",
}


def rotation_steps(catalog: Catalog, ca: CAName, store: Path, spec_path: str, today: date) -> str:
    """The full procedure for replacing CA `ca`, as numbered text with this cluster's details."""
    staged = store.with_name(store.name + ".next")
    backup = store.with_name(f"{store.name}.backup-{today:%Y%m%d}")
    ca_file = f"ca/{ca.value}.crt"
    trusting = [p for p in catalog.placements if p.file == ca_file]
    leaves = {leaf.stem for leaf in catalog.leaves if leaf.issuer is ca}
    moved = [p for p in catalog.placements if p.file.rsplit(".", 1)[0] in leaves]
    ca_keys = [p for p in catalog.placements if p.file == f"ca/{ca.value}.key"]
    ca_dest = trusting[0].dest if trusting else "(no node holds this CA)"
    nodes = ", ".join(dict.fromkeys(p.node for p in trusting)) or "(none)"
    lines = [
        f"Rotating the {ca.value} CA of cluster {catalog.cluster_name!r}.",
        "khatui prints these steps; it does not run them. Do them in order and check each before the next.",
        "",
        "1. Back up the store:",
        f"     cp -a {store} {backup}",
        "2. Stage a new CA and the certificates it signs in a copy of the store:",
        f"     cp -a {store} {staged}",
        f"     rm {staged}/ca/{ca.value}.crt {staged}/ca/{ca.value}.key",
        f"     khatui certs generate {spec_path} --dir {staged}",
        f"   generate creates the new CA and reissues only the leaves it signs ({len(leaves)}); other CAs stay.",
        f"3. Trust both CAs: on {nodes}, make {ca_dest} hold the old and the new CA:",
        f"     cat {store}/{ca_file} {staged}/{ca_file} > {ca.value}-ca-bundle.crt",
        f"   copy it to {ca_dest} (mode 0644) on each of those nodes, then restart {_RESTARTS[ca]}.",
        "4. Switch to the new certificates: copy from the staged store, node by node:",
    ]
    for placement in moved:
        lines.append(f"     {placement.node}: {staged}/{placement.file} -> {placement.dest}")
    lines += [
        f"   then restart {_RESTARTS[ca]}, checking health after each.",
        f"5. Drop the old CA: copy {staged}/{ca_file} alone to {ca_dest} on {nodes}"
        + (
            ", and the new CA key with it (kubeadm pairs the key with the first certificate of that file):"
            if ca_keys
            else ";"
        ),
    ]
    for placement in ca_keys:
        lines.append(f"     {placement.node}: {staged}/{placement.file} -> {placement.dest}")
    lines += [
        "   restart as in step 3. Run no kubeadm command between steps 2 and 5.",
        "6. Make the staged store the store:",
        f"     mv {store} {store}.old && mv {staged} {store}",
        f"7. Check: khatui certs list {spec_path}",
    ]
    if ca is CAName.KUBERNETES:
        lines += [
            "",
            "The cluster CA is also embedded where khatui's store does not reach: kubeconfigs (admin.conf,",
            "super-admin.conf, controller-manager.conf, scheduler.conf, kubelet.conf), kubelet client",
            "certificates, the kube-root-ca.crt ConfigMaps, and every client that trusts the API server.",
            "Between steps 3 and 5, renew those with `kubeadm certs renew` on each control plane and follow",
            f"the upstream procedure for them: {UPSTREAM_GUIDE}",
            "The service-account key pair (ca/sa.*) is separate from the CA; keep it, so tokens stay valid.",
        ]
    return "\n".join(lines) + "\n"
