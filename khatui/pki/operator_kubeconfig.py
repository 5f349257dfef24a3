"""The operator's admin kubeconfig: a client certificate signed by the cluster CA of the local store,
short-lived by default, for the address a client outside the cluster reaches the API at.

In the PKI layer because it signs with the store's CA (read back with every check `adopt_authority`
makes); it reuses the leaf signer and renders the document with `khatui.render.kubeconfig`. The
server is the load balancer's, except with `localProxy` (its 127.0.0.1 exists only on the nodes),
where it is the first control plane's apiserver. The default group `kubeadm:cluster-admins` is the
one kubeadm (>= 1.29) binds to cluster-admin, so the certificate can be revoked by unbinding it,
unlike `system:masters`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from khatui.errors import InputError
from khatui.pki.authority import adopt_authority
from khatui.pki.ca_names import CAName
from khatui.pki.catalog import Catalog, Profile
from khatui.pki.issue import sign
from khatui.pki.keys import generate_key, private_key_pem
from khatui.pki.store import Store
from khatui.render.kubeconfig import embedded_kubeconfig
from khatui.render.urls import https_url
from khatui.spec.cluster import Cluster
from khatui.spec.loadbalancer import LocalProxy, endpoint
from khatui.spec.nodes import Role

ADMIN_GROUP = "kubeadm:cluster-admins"
"""kubeadm's cluster-admin group (the O of its admin.conf since v1.29)."""


def operator_server(cluster: Cluster) -> str:
    """`https://host:port` a client off the nodes uses: the load balancer's; with `localProxy`, the
    first control plane's apiserver."""
    spec = cluster.spec
    if isinstance(spec.load_balancer, LocalProxy):
        first = next(n for n in spec.nodes if n.has(Role.CONTROL_PLANE))
        return https_url(first.address, spec.control_plane.api_port)
    return https_url(*endpoint(spec.load_balancer, spec.control_plane.api_port))


def operator_kubeconfig(
    cluster: Cluster,
    catalog: Catalog,
    store: Store,
    user: str,
    groups: tuple[str, ...],
    ttl: timedelta,
    now: datetime,
) -> bytes:
    """A kubeconfig for `user` (CN) in `groups` (O), valid `ttl` from `now`, with its key embedded."""
    spec = catalog.authority(CAName.KUBERNETES)
    pair = store.load(catalog, with_keys=True).get(spec.stem)
    crt, key_file = store.path(f"{spec.stem}.crt"), store.path(f"{spec.stem}.key")
    if pair.cert is None or pair.key is None:
        raise InputError(f"{crt}: the cluster CA is not in the PKI store; create it with `khatui certs generate`")
    ca = adopt_authority(CAName.KUBERNETES, pair.cert, pair.key, str(crt), str(key_file), now)
    subject = x509.Name(
        [
            *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups),
            x509.NameAttribute(NameOID.COMMON_NAME, user),
        ]
    )
    key = generate_key(catalog.key_algorithm)
    cert = sign(subject, Profile.CLIENT, (), key, ca, ttl, now)
    return embedded_kubeconfig(
        operator_server(cluster),
        ca.cert_pem,
        user,
        cert.public_bytes(serialization.Encoding.PEM),
        private_key_pem(key),
        cluster.metadata.name,
    )
