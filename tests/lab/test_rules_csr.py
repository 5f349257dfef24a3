"""The kubelet's TLS bootstrap, rule by rule (rules/apiserver.yaml, controller-manager.yaml, kubelet.yaml,
kubeadm.yaml): fed what the real apiserver, csrapprover, csrsigner and kubelet refuse, the stand-ins
refuse it. Host-side, over a real loopback etcd; the kubelet's keys and CSRs come from its own code."""

from __future__ import annotations

import base64
import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from khatui_lab.standins import controller_csr, kubelet_bootstrap
from khatui_lab.standins.apiserver_api import route
from khatui_lab.standins.apiserver_registry import Registry
from khatui_lab.standins.controller_manager import Elector, reconcile
from khatui_lab.standins.kubeadm_kubelet import KubeletPhaseError, wait_tls_bootstrap
from khatui_lab.standins.kubeadm_token import allow_node_bootstrap
from khatui_lab.standins.kubeclient import Reply, load_kubeconfig

from .certs import Issued, issue, make_ca
from .local_etcd import admin_api

BOOTSTRAPPER = ("system:bootstrap:abcdef", frozenset({"system:bootstrappers",
                "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"}))  # fmt: skip
CONTROLLER = ("system:kube-controller-manager", frozenset({"system:authenticated"}))
CSRS = controller_csr.CSRS
Api = Callable[[str, str, Any], Reply]


def api_as(registry: Registry, who: tuple[str, frozenset[str]]) -> Api:
    def api(method: str, path: str, body: Any) -> Reply:
        return Reply(*route(method, path, who[0], who[1], registry, copy.deepcopy(body)))

    return api


def bootstrap_rbac(registry: Registry) -> None:
    """What kubeadm init's bootstrap-token phase creates."""
    admin = admin_api(registry)
    lines = allow_node_bootstrap(lambda method, path, body: admin(method, path, body))
    assert len(lines) == 4


def kubelet_csr(tmp_path: Path, node: str = "cp2") -> tuple[str, bytes, bytes]:
    """(name, request PEM, key) as the kubelet stand-in makes them."""
    key = kubelet_bootstrap.node_key(tmp_path / "pki")
    return kubelet_bootstrap.csr_name(key, node), kubelet_bootstrap.csr_pem(key, node), key


def foreign_csr(cn: str, orgs: list[str], dns: list[str] | None = None) -> bytes:
    """A CSR a kubelet would never send (cryptography, not the stand-in's code)."""
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([*names, x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def post_csr(registry: Registry, name: str, pem: bytes, **spec: Any) -> tuple[int, dict[str, Any]]:
    body = kubelet_bootstrap.csr_object(name, pem)
    body["spec"].update(spec)
    reply = api_as(registry, BOOTSTRAPPER)("POST", CSRS, body)
    return reply.status, reply.body


@pytest.fixture
def ca(tmp_path: Path) -> tuple[Issued, Path, Path]:
    authority = make_ca("kubernetes")
    (tmp_path / "ca.crt").write_bytes(authority.cert)
    (tmp_path / "ca.key").write_bytes(authority.key)
    return authority, tmp_path / "ca.crt", tmp_path / "ca.key"


def test_a_bootstrap_token_posts_csrs_only_with_the_kubeadm_binding(registry: Registry, tmp_path: Path) -> None:
    name, pem, _key = kubelet_csr(tmp_path)
    code, body = post_csr(registry, name, pem)
    assert (code, body["reason"]) == (403, "Forbidden")
    assert 'User "system:bootstrap:abcdef" cannot create resource "certificatesigningrequests"' in body["message"]
    bootstrap_rbac(registry)
    code, body = post_csr(registry, name, pem, username="system:admin", groups=["system:masters"])
    assert code == 201
    assert body["spec"]["username"] == "system:bootstrap:abcdef"  # the requester, not what the body claimed
    assert "system:masters" not in body["spec"]["groups"]


def test_approved_and_signed_for_a_bootstrap_token_with_the_binding(
    registry: Registry, tmp_path: Path, ca: Any
) -> None:
    authority, ca_cert, ca_key = ca
    bootstrap_rbac(registry)
    name, pem, _key = kubelet_csr(tmp_path)
    assert post_csr(registry, name, pem)[0] == 201
    done = reconcile(api_as(registry, CONTROLLER), ca_cert, ca_key, 3600)
    assert done == [f"approved csr {name!r}", f"signed csr {name!r}"]
    csr = api_as(registry, BOOTSTRAPPER)("GET", f"{CSRS}/{name}", None).body
    assert csr["status"]["conditions"][0]["reason"] == "AutoApproved"
    issued = x509.load_pem_x509_certificate(base64.b64decode(csr["status"]["certificate"]))
    assert issued.subject.rfc4514_string() == "CN=system:node:cp2,O=system:nodes"
    assert issued.issuer == authority.certificate.subject
    authority.certificate.public_key().verify(issued.signature, issued.tbs_certificate_bytes,
                                              ec.ECDSA(hashes.SHA256()))  # fmt: skip


def test_without_the_autoapprove_binding_the_csr_stays_pending(registry: Registry, tmp_path: Path, ca: Any) -> None:
    _authority, ca_cert, ca_key = ca
    admin = admin_api(registry)
    allow_node_bootstrap(lambda method, path, body: admin(method, path, body))
    admin("DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:node-autoapprove-bootstrap")
    name, pem, _key = kubelet_csr(tmp_path)
    assert post_csr(registry, name, pem)[0] == 201
    done = reconcile(api_as(registry, CONTROLLER), ca_cert, ca_key, 3600)
    assert done == [f"recognized csr {name!r} as ['nodeclient'] but subject access review was not approved"]
    csr = api_as(registry, BOOTSTRAPPER)("GET", f"{CSRS}/{name}", None).body
    assert not (csr.get("status") or {}).get("conditions")


@pytest.mark.parametrize(
    ("request_pem", "spec"),
    [
        pytest.param(lambda: foreign_csr("system:node:cp2", ["system:masters"]), {}, id="O-not-system:nodes"),
        pytest.param(lambda: foreign_csr("system:node:cp2", ["system:nodes", "x"]), {}, id="O-extra"),
        pytest.param(lambda: foreign_csr("kubernetes-admin", ["system:nodes"]), {}, id="CN-not-system:node"),
        pytest.param(lambda: foreign_csr("system:node:cp2", ["system:nodes"], ["cp2"]), {}, id="DNS-SAN"),
        pytest.param(
            lambda: foreign_csr("system:node:cp2", ["system:nodes"]),
            {"usages": ["digital signature", "key encipherment", "server auth"]},
            id="server-usages",
        ),  # fmt: skip
        pytest.param(
            lambda: foreign_csr("system:node:cp2", ["system:nodes"]),
            {"signerName": "kubernetes.io/kube-apiserver-client"},
            id="other-signer",
        ),  # fmt: skip
    ],
)
def test_what_is_not_a_kubelet_client_csr_is_not_approved(
    registry: Registry, ca: Any, request_pem: Callable[[], bytes], spec: dict[str, Any]
) -> None:
    _authority, ca_cert, ca_key = ca
    bootstrap_rbac(registry)
    assert post_csr(registry, "odd", request_pem(), **spec)[0] == 201
    assert reconcile(api_as(registry, CONTROLLER), ca_cert, ca_key, 3600) == []
    assert not (api_as(registry, BOOTSTRAPPER)("GET", f"{CSRS}/odd", None).body.get("status") or {})


def test_an_approved_request_the_signer_rejects_is_failed(registry: Registry, ca: Any) -> None:
    _authority, ca_cert, ca_key = ca
    bootstrap_rbac(registry)
    assert post_csr(registry, "odd", foreign_csr("system:node:cp2", ["system:masters"]))[0] == 201
    admin = admin_api(registry)
    csr = admin("GET", f"{CSRS}/odd").body
    csr["status"] = {"conditions": [{"type": "Approved", "status": "True", "reason": "ByHand", "message": ""}]}
    assert admin("PUT", f"{CSRS}/odd/approval", csr).status == 200
    assert reconcile(api_as(registry, CONTROLLER), ca_cert, ca_key, 3600) == [
        "csr 'odd' failed signer validation: subject organization is not system:nodes"
    ]
    conditions = admin("GET", f"{CSRS}/odd").body["status"]["conditions"]
    assert [(c["type"], c["reason"]) for c in conditions] == [
        ("Approved", "ByHand"),
        ("Failed", "SignerValidationFailure"),
    ]
    assert "certificate" not in admin("GET", f"{CSRS}/odd").body["status"]


def test_approving_needs_approve_on_the_signer(registry: Registry, tmp_path: Path) -> None:
    bootstrap_rbac(registry)
    name, pem, _key = kubelet_csr(tmp_path)
    post_csr(registry, name, pem)
    admin = admin_api(registry)
    csr = admin("GET", f"{CSRS}/{name}").body
    csr["status"] = {"conditions": [{"type": "Approved", "status": "True", "reason": "Mine", "message": ""}]}
    reply = api_as(registry, BOOTSTRAPPER)("PUT", f"{CSRS}/{name}/approval", csr)
    assert reply.status == 403 and 'cannot update resource "certificatesigningrequests/approval"' in reply.message
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "approver"},
            "rules": [{"verbs": ["update"], "apiGroups": ["certificates.k8s.io"],
                       "resources": ["certificatesigningrequests/approval"]}]}  # fmt: skip
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "m"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "approver"},
               "subjects": [{"kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"}]}  # fmt: skip
    admin("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", role)
    admin("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding)
    reply = api_as(registry, ("mallory", frozenset()))("PUT", f"{CSRS}/{name}/approval", csr)
    assert (reply.status, reply.message) == (403, f'certificatesigningrequests.certificates.k8s.io "{name}" is '
            'forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client-kubelet"')  # fmt: skip


def write_bootstrap_kubeconfig(path: Path, ca_pem: bytes) -> None:
    from khatui_lab.standins.kubeadm_kubelet import bootstrap_kubeconfig

    path.write_text(bootstrap_kubeconfig("https://10.91.0.100:6443", ca_pem, "abcdef.0123456789abcdef"))


def test_kubelet_tls_bootstrap_writes_the_store_and_kubelet_conf(registry: Registry, tmp_path: Path, ca: Any) -> None:
    authority, ca_cert, ca_key = ca
    bootstrap_rbac(registry)
    kubeconfig, bootstrap, store = tmp_path / "kubelet.conf", tmp_path / "bootstrap-kubelet.conf", tmp_path / "pki"
    write_bootstrap_kubeconfig(bootstrap, authority.cert)
    as_bootstrapper = api_as(registry, BOOTSTRAPPER)
    with pytest.raises(kubelet_bootstrap.BootstrapError, match="waiting for client certificate to be issued"):
        kubelet_bootstrap.load_client_cert(kubeconfig, bootstrap, store, "cp2", True, as_bootstrapper)
    assert not kubeconfig.exists() and (store / kubelet_bootstrap.TMP_KEY).is_file()
    reconcile(api_as(registry, CONTROLLER), ca_cert, ca_key, 3600)
    kubelet_bootstrap.load_client_cert(kubeconfig, bootstrap, store, "cp2", True, as_bootstrapper)
    current = store / "kubelet-client-current.pem"
    assert current.is_symlink() and os.readlink(current).startswith(str(store / "kubelet-client-2"))
    assert not (store / kubelet_bootstrap.TMP_KEY).exists()
    config = load_kubeconfig(str(kubeconfig))
    assert config.server == "https://10.91.0.100:6443" and config.token is None
    assert config.cert_pem == config.key_pem == current.read_bytes()
    issued = x509.load_pem_x509_certificate(current.read_bytes())
    assert issued.subject.rfc4514_string() == "CN=system:node:cp2,O=system:nodes"
    assert len(registry.list(next(k for k in registry.builtin if k.kind == "CertificateSigningRequest"), None)) == 1


def test_kubelet_without_a_bootstrap_kubeconfig_cannot_bootstrap(tmp_path: Path) -> None:
    with pytest.raises(kubelet_bootstrap.BootstrapError, match="unable to load bootstrap kubeconfig: open .*: no such"):
        kubelet_bootstrap.load_client_cert(tmp_path / "kubelet.conf", tmp_path / "none.conf", tmp_path / "pki", "cp2",
                                           True, lambda *_: Reply(500, {}))  # fmt: skip


def embedded_kubeconfig(path: Path, authority: Issued) -> Issued:
    from khatui_lab.standins.kubeadm_files import kubeconfig

    leaf = issue(authority, "system:node:cp1", [], server=False)
    (path.parent / "ca.crt").write_bytes(authority.cert)
    (path.parent / "leaf.crt").write_bytes(leaf.cert)
    (path.parent / "leaf.key").write_bytes(leaf.key)
    path.write_text(kubeconfig(path.parent, "https://10.91.0.100:6443", "system:node:cp1", path.parent / "leaf.crt",
                               path.parent / "leaf.key", "kubernetes"))  # fmt: skip
    return leaf


@pytest.mark.parametrize("rotate", [True, False])
def test_a_valid_kubelet_conf_is_used_and_its_embedded_pair_goes_to_the_store(tmp_path: Path, rotate: bool) -> None:
    leaf = embedded_kubeconfig(tmp_path / "kubelet.conf", make_ca("kubernetes"))
    refuse: Api = lambda *_: pytest.fail("no request when kubelet.conf is valid")  # noqa: E731
    kubelet_bootstrap.load_client_cert(tmp_path / "kubelet.conf", tmp_path / "none", tmp_path / "pki", "cp1", rotate,
                                       refuse, say=lambda _line: None)  # fmt: skip
    current = tmp_path / "pki" / "kubelet-client-current.pem"
    assert current.exists() == rotate
    if rotate:
        assert current.read_bytes() == leaf.cert.rstrip(b"\n") + b"\n" + leaf.key.rstrip(b"\n") + b"\n"


def test_the_join_gives_up_waiting_for_the_tls_bootstrap(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(KubeletPhaseError, match="kubelet-start: context deadline exceeded"):
        wait_tls_bootstrap(0.0, usable=lambda: False)
    out = capsys.readouterr().out
    assert "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap" in out
    assert "- 'journalctl -xeu kubelet'" in out


def test_one_controller_manager_leads_until_its_lease_expires(registry: Registry) -> None:
    cm = api_as(registry, CONTROLLER)
    first, second = Elector(cm, "cp1_a"), Elector(cm, "cp2_b")
    assert first.try_acquire_or_renew(0.0)
    assert not second.try_acquire_or_renew(1.0)
    assert first.try_acquire_or_renew(5.0)
    assert not second.try_acquire_or_renew(6.0)  # sees the renewal now: its 15 s start again
    assert not second.try_acquire_or_renew(20.0)  # 14 s since it saw the renewal
    assert second.try_acquire_or_renew(21.5)  # 15.5 s without a renewal: taken over
    lease = cm("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager", None).body
    assert (lease["spec"]["holderIdentity"], lease["spec"]["leaseTransitions"]) == ("cp2_b", 1)
    assert not first.try_acquire_or_renew(22.0)


def test_only_the_controller_manager_may_hold_its_lease(registry: Registry) -> None:
    assert not Elector(api_as(registry, BOOTSTRAPPER), "x").try_acquire_or_renew(0.0)
