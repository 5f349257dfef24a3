"""Every rule of lab/khatui_lab/rules/kubeadm.yaml: the kubeadm stand-in, fed what the real kubeadm
v1.31 refuses, refuses it the same way and under the same check name (host-side, no lab: the checks
read a temporary node root, PATH and sockets)."""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
import yaml

from khatui_lab.standins import kubeadm
from khatui_lab.standins import kubeadm_checklists as cl
from khatui_lab.standins import kubeadm_config as kc
from khatui_lab.standins import kubeadm_preflight as pf

SOCKET = "/var/run/containerd/containerd.sock"


@pytest.fixture
def root() -> Iterator[Path]:
    """A short node root (unix socket paths are limited to 108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="kn", dir="/tmp"))
    yield folder
    shutil.rmtree(folder)


def _exe(root: Path, name: str, body: str = "exit 0") -> None:
    path = root / "bin" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _node(root: Path) -> pf.Node:
    return pf.Node(root, "/bin")


def test_external_etcd_version_floor(root: Path) -> None:
    class Etcd(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = json.dumps({"etcdserver": "3.4.23", "etcdcluster": "3.4.0"}).encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Etcd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        check = cl.external_etcd_version(_node(root), {"endpoints": [f"http://127.0.0.1:{server.server_port}"]})
    finally:
        server.shutdown()
    assert check.name == "ExternalEtcdVersion"
    assert check.errors == (
        "this version of kubeadm only supports external etcd version >= 3.5.11-0. Current version: 3.4.23",
    )


def test_external_etcd_client_certificates(root: Path) -> None:
    external = {"endpoints": ["https://10.0.0.1:2379"], "caFile": "/etc/ca.crt", "certFile": "/c", "keyFile": "/k"}
    checks = cl.init_checks(_node(root), {}, {"etcd": {"external": external}}, secondary=True)
    certs = [c for c in checks if c.name == "ExternalEtcdClientCertificates"]
    assert [c.errors for c in certs] == [("/etc/ca.crt doesn't exist",), ("/c doesn't exist",), ("/k doesn't exist",)]


def test_cri_socket_must_answer(root: Path) -> None:
    missing = pf.cri(_node(root), f"unix://{SOCKET}")
    assert missing.name == "CRI"
    assert missing.errors[0].startswith("container runtime is not running: rpc error: code = Unavailable")
    assert f"dial unix {SOCKET}: connect: no such file or directory" in missing.errors[0]
    (root / SOCKET.lstrip("/")).parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(root / SOCKET.lstrip("/")))
        listener.listen()
        assert pf.cri(_node(root), f"unix://{SOCKET}") == pf.Check("CRI")


def test_swap_is_a_warning(root: Path) -> None:
    (root / "proc").mkdir()
    (root / "proc/swaps").write_text("Filename Type Size Used Priority\n/swap file 1024 0 -2\n")
    check = pf.swap(_node(root))
    assert check.name == "Swap" and not check.errors and check.warnings[0].startswith("swap is supported for cgroup v2")
    (root / "proc/swaps").write_text("Filename Type Size Used Priority\n")
    assert pf.swap(_node(root)) == pf.Check("Swap")


@pytest.mark.parametrize(("content", "error"), [(None, "does not exist"), ("0\n", "contents are not set to 1")])
def test_ip_forward(root: Path, content: str | None, error: str) -> None:
    path = root / "proc/sys/net/ipv4/ip_forward"
    if content is not None:
        path.parent.mkdir(parents=True)
        path.write_text(content)
    [check] = cl.forwarding_checks(_node(root), ["10.96.0.0/12"])
    assert check.name == "FileContent--proc-sys-net-ipv4-ip_forward"
    assert check.errors == (f"/proc/sys/net/ipv4/ip_forward {error}",)


def test_ip_forward_is_not_checked_on_a_join_by_file_discovery(root: Path) -> None:
    join = {"discovery": {"file": {"kubeConfigPath": "/x"}}, "controlPlane": {}}
    assert not [c for c in cl.join_checks(_node(root), join) if c.name.startswith("FileContent")]


@pytest.mark.parametrize(
    ("exe", "mandatory"),
    [("conntrack", True), ("ip", True), ("iptables", True), ("mount", True), ("nsenter", True),
     ("crictl", False), ("ebtables", False), ("ethtool", False), ("socat", False), ("tc", False), ("touch", False)],
)  # fmt: skip
def test_required_executables(root: Path, exe: str, mandatory: bool) -> None:
    checks = {c.name: c for c in cl.common_checks(_node(root), {"name": "cp1"}, "v1.31.4")}
    check = checks[f"FileExisting-{exe}"]
    message = (f"{exe} not found in system path",)
    assert (check.errors, check.warnings) == ((message, ()) if mandatory else ((), message))
    _exe(root, exe)
    after = {c.name: c for c in cl.common_checks(_node(root), {"name": "cp1"}, "v1.31.4")}
    assert after[f"FileExisting-{exe}"] == pf.Check(f"FileExisting-{exe}")


def test_port_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert pf.port_open(port) == pf.Check(f"Port-{port}", (f"Port {port} is in use",))


def test_files_and_dirs_available(root: Path) -> None:
    manifests = root / "etc/kubernetes/manifests"
    manifests.mkdir(parents=True)
    (manifests / "etcd.yaml").write_text("x")
    checks = {c.name: c for c in cl.init_checks(_node(root), {}, {"etcd": {"external": {}}}, secondary=True)}
    assert checks["FileAvailable--etc-kubernetes-manifests-etcd.yaml"].errors == (
        "/etc/kubernetes/manifests/etcd.yaml already exists",
    )
    assert checks["FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml"].errors == ()
    assert pf.dir_available(_node(root), "/etc/kubernetes/manifests") == pf.Check(
        "DirAvailable--etc-kubernetes-manifests", ("/etc/kubernetes/manifests is not empty",)
    )


@pytest.mark.parametrize(
    ("kubelet", "control_plane", "error"),
    [
        ("v1.27.9", "v1.31.4", 'Kubelet version "v1.27.9" is lower than kubeadm can support. Please upgrade kubelet'),
        ("v1.31.4", "v1.30.2", "the kubelet version is higher than the control plane version"),
        ("v1.28.0", "v1.31.4", None),
    ],
)
def test_kubelet_version_skew(root: Path, kubelet: str, control_plane: str, error: str | None) -> None:
    _exe(root, "kubelet", f"echo 'Kubernetes {kubelet}'")
    check = pf.kubelet_version(_node(root), "v1.31.4", control_plane)
    assert check.name == "KubeletVersion"
    assert check.errors[0].startswith(error) if error else check.errors == (), check


def test_kubelet_missing(root: Path) -> None:
    assert pf.kubelet_version(_node(root), "v1.31.4", "").errors[0].startswith("couldn't get kubelet version")


def test_kubernetes_version_above_kubeadm_warns() -> None:
    check = pf.kubernetes_version("v1.31.4", "v1.32.0")
    assert check.name == "KubernetesVersion" and not check.errors
    assert check.warnings[0].startswith("Kubernetes version is greater than kubeadm version")


def test_hostname_warns() -> None:
    check = pf.hostname("Bad_Name-")
    assert (check.name, check.errors) == ("Hostname", ())
    assert check.warnings[0].startswith("invalid node name format 'Bad_Name-'")
    assert pf.hostname("cp1") == pf.Check("Hostname")


def test_images_list_for_v1_31() -> None:
    cluster = {"kubernetesVersion": "v1.31.4", "etcd": {"external": {}}}
    assert cl.images(cluster) == [
        "registry.k8s.io/kube-apiserver:v1.31.4",
        "registry.k8s.io/kube-controller-manager:v1.31.4",
        "registry.k8s.io/kube-scheduler:v1.31.4",
        "registry.k8s.io/kube-proxy:v1.31.4",
        "registry.k8s.io/coredns/coredns:v1.11.3",
        "registry.k8s.io/pause:3.10",
    ]
    assert cl.images({"imageRepository": "mirror.local/k8s", "kubernetesVersion": "v1.31.4"})[4:] == [
        "mirror.local/k8s/coredns:v1.11.3",
        "mirror.local/k8s/pause:3.10",
        "mirror.local/k8s/etcd:3.5.15-0",
    ]


def test_image_pull_fails_without_a_runtime(root: Path) -> None:
    check = cl.image_pull(_node(root), {"kubernetesVersion": "v1.31.4", "etcd": {"external": {}}}, {})
    assert check.name == "ImagePull" and len(check.errors) == 6
    assert check.errors[0].startswith("failed to pull image registry.k8s.io/kube-apiserver:v1.31.4: ")
    assert cl.image_pull(_node(root), {}, {"imagePullPolicy": "Never"}) == pf.Check("ImagePull")


def test_ignore_preflight_errors_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    failing = [pf.Check("CRI", ("down",)), pf.Check("Swap", warnings=("on",))]
    with pytest.raises(pf.PreflightError, match=r"\[ERROR CRI\]: down"):
        pf.run(failing, set())
    pf.run(failing, {"cri"})
    assert "[WARNING CRI]: down" in capsys.readouterr().err
    pf.run(failing, {"all"})


def _load(tmp_path: Path, docs: Sequence[Mapping[str, object]], minor: int = 31) -> kc.Config:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return kc.load(str(path), minor)


def test_old_api_version_refused(tmp_path: Path) -> None:
    config = _load(tmp_path, [{"apiVersion": "kubeadm.k8s.io/v1beta2", "kind": "InitConfiguration"}])
    assert config.errors == [
        'your configuration file uses an old API spec: "kubeadm.k8s.io/v1beta2" (kind: "InitConfiguration"). '
        "Please use kubeadm v1.22 instead and run 'kubeadm config migrate --old-config old.yaml --new-config "
        "new.yaml', which will write the new, similar spec using a newer API version."
    ]


def test_v1beta4_needs_kubeadm_1_31(tmp_path: Path) -> None:
    doc = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration"}
    assert _load(tmp_path, [doc], minor=30).errors == [
        'no kind "InitConfiguration" is registered for version "kubeadm.k8s.io/v1beta4" in scheme'
    ]
    assert _load(tmp_path, [doc], minor=31).errors == []
    wrong_kind = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "MasterConfiguration"}
    assert _load(tmp_path, [wrong_kind]).errors[0].startswith('no kind "MasterConfiguration" is registered')


def test_v1beta3_is_deprecated_in_1_31(tmp_path: Path) -> None:
    config = _load(tmp_path, [{"apiVersion": "kubeadm.k8s.io/v1beta3", "kind": "InitConfiguration"}])
    assert not config.errors
    assert config.warnings[0].startswith('your configuration file uses a deprecated API spec: "kubeadm.k8s.io/v1beta3"')


@pytest.mark.parametrize(
    ("api", "args", "error"),
    [
        ("v1beta4", {"leader-elect": "true"}, "cannot unmarshal object into Go struct field {} of type []v1beta4.Arg"),
        ("v1beta3", [{"name": "leader-elect", "value": "true"}], "cannot unmarshal array into Go struct field {} of type map[string]string"),
    ],
)  # fmt: skip
def test_extra_args_shape(tmp_path: Path, api: str, args: object, error: str) -> None:
    doc = {"apiVersion": f"kubeadm.k8s.io/{api}", "kind": "ClusterConfiguration", "scheduler": {"extraArgs": args}}
    config = _load(tmp_path, [doc])
    kc.check_cluster(config)
    assert "json: " + error.format("ClusterConfiguration.scheduler.extraArgs") in config.errors


def test_unknown_fields_warn_as_kubeadm_init_does(tmp_path: Path) -> None:
    docs: list[dict[str, object]] = [
        {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration", "nodeRegistration": {"nmae": "x"}},
        {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration", "encryptionAlgorithm": "RSA-2048"},
    ]
    config = _load(tmp_path, docs)
    gvk = 'schema.GroupVersionKind{Group:"kubeadm.k8s.io", Version:"v1beta4", Kind:"InitConfiguration"}'
    assert config.errors == []
    assert config.warnings == [
        f'error unmarshaling configuration {gvk}: error unmarshaling JSON: while decoding JSON: json: unknown field "nmae"'
    ]
    docs[1]["apiVersion"] = "kubeadm.k8s.io/v1beta3"
    docs[0]["apiVersion"] = "kubeadm.k8s.io/v1beta3"
    assert any('unknown field "encryptionAlgorithm"' in w for w in _load(tmp_path, docs).warnings)


@pytest.mark.parametrize(
    ("api", "addons", "unknown"),
    [
        ("v1beta4", {"dns": {"disabled": True, "imageTag": "v1.11.3"}, "proxy": {"disabled": True}}, []),
        ("v1beta3", {"dns": {"imageTag": "v1.11.3"}}, []),
        ("v1beta3", {"dns": {"disabled": True}}, ["disabled"]),
        ("v1beta3", {"proxy": {"disabled": True}}, ["proxy"]),
        ("v1beta4", {"proxy": {"disabld": True}}, ["disabld"]),
    ],
)
def test_addon_fields_decode_as_their_api_version(
    tmp_path: Path, api: str, addons: dict[str, object], unknown: list[str]
) -> None:
    """dns.disabled and proxy (disabled) exist from v1beta4 only; dns.imageRepository/imageTag in both."""
    doc = {"apiVersion": f"kubeadm.k8s.io/{api}", "kind": "ClusterConfiguration", **addons}
    config = _load(tmp_path, [doc])
    assert [w.rsplit('"', 2)[1] for w in config.warnings if "unknown field" in w] == unknown


def test_skipped_addon_phases_and_disabled_addons_agree() -> None:
    """kubeadm's manageSkippedAddons: a skipped addon phase disables the addon (its image is not pulled)
    and a disabled addon skips its phase; `addon` skips both; the config's skipPhases count when
    --skip-phases is empty (the stand-in's main does that)."""
    cluster: dict[str, object] = {"kubernetesVersion": "v1.31.4", "etcd": {"external": {}}}
    skipped = kubeadm.manage_skipped_addons(cluster, kubeadm.skip_list("addon/coredns", kubeadm.INIT_PHASES))
    assert skipped == {"addon/coredns"} and cluster["dns"] == {"disabled": True} and "proxy" not in cluster
    assert not any("coredns" in image for image in cl.images(cluster))
    cluster = {"proxy": {"disabled": True}}
    assert kubeadm.manage_skipped_addons(cluster, set()) == {"addon/kube-proxy"}
    cluster = {}
    assert kubeadm.manage_skipped_addons(cluster, {"addon"}) == {"addon", "addon/coredns", "addon/kube-proxy"}
    assert cluster == {"dns": {"disabled": True}, "proxy": {"disabled": True}}
    with pytest.raises(kubeadm.Failure, match="invalid phase name 'adon/coredns'"):
        kubeadm.skip_list("adon/coredns", kubeadm.INIT_PHASES)


def test_component_config_version(tmp_path: Path) -> None:
    old = {"apiVersion": "kubelet.config.k8s.io/v1alpha1", "kind": "KubeletConfiguration"}
    assert _load(tmp_path, [old]).errors == [
        'unexpected apiVersion "kubelet.config.k8s.io/v1alpha1", you may have to do manual conversion to '
        '"kubelet.config.k8s.io/v1beta1" and execute kubeadm again'
    ]
    good = {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration"}
    assert "KubeProxyConfiguration" in _load(tmp_path, [good]).docs
