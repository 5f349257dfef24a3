"""The kubelet stand-in refuses what the real kubelet refuses (lab/khatui_lab/rules/kubelet.yaml).

Each test writes the node state a rule reads into a temporary root and expects the real kubelet's
condition, reason and message. The API calls are checked against a recording `request`.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from khatui_lab.standins import kubelet, kubelet_node
from khatui_lab.standins import kubelet_status as ks
from khatui_lab.standins.kubeclient import ClientError, Reply

NO_CNI = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)
CONFLIST = {"cniVersion": "1.0.0", "name": "lab", "plugins": [{"type": "bridge"}, {"type": "portmap"}]}


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """A node root whose containerd socket answers."""
    path = tmp_path / "run/containerd/containerd.sock"
    path.parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(8)
        yield tmp_path


def reporter(root: Path, kubeconfig: str = "") -> kubelet_node.NodeReporter:
    settings = kubelet_node.NodeSettings("cp1", "10.0.0.1", kubeconfig, ks.DEFAULT_RUNTIME_ENDPOINT, root)
    return kubelet_node.NodeReporter(settings)


def ready(root: Path, now: float = 100.0) -> ks.Condition:
    conditions = reporter(root).probe(now)
    assert [c.type for c in conditions] == ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    return conditions[-1]


def write_cni(root: Path, name: str, content: str) -> None:
    folder = root / ks.CNI_CONF_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(content)


def test_ready_when_runtime_and_network_hold(root: Path) -> None:
    write_cni(root, "10-lab.conflist", json.dumps(CONFLIST))
    assert ready(root) == ks.Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")


CNI_CORPUS = {
    "no folder": {},
    "empty folder": {".keep": ""},
    "other extensions only": {"10-lab.conflist.bak": json.dumps(CONFLIST), "README": "x"},
    "not JSON": {"10-lab.conflist": "{"},
    "conflist without plugins": {"10-lab.conflist": json.dumps({"name": "lab", "plugins": []})},
    "conf without type": {"10-lab.conf": json.dumps({"name": "lab"})},
    "first file broken": {"00-bad.json": "[]", "10-lab.conflist": json.dumps(CONFLIST)},
}


@pytest.mark.parametrize("files", CNI_CORPUS.values(), ids=CNI_CORPUS.keys())
def test_no_usable_cni_config_is_network_not_ready(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        write_cni(root, name, content)
    assert ready(root) == ks.Condition("Ready", "False", "KubeletNotReady", NO_CNI)


def test_runtime_that_never_answered(tmp_path: Path) -> None:
    write_cni(tmp_path, "10-lab.conflist", json.dumps(CONFLIST))
    message = "[container runtime status check may not have completed yet, network state unknown]"
    assert ready(tmp_path) == ks.Condition("Ready", "False", "KubeletNotReady", message)


def test_runtime_down() -> None:
    assert ks.runtime_errors(10.0, 10.0 + ks.RUNTIME_SYNC_THRESHOLD) == ["container runtime is down"]
    assert ks.runtime_errors(10.0, 20.0) == []
    condition = ks.ready_condition(ks.runtime_errors(0.0, 60.0), [NO_CNI])
    assert condition.message == f"[container runtime is down, {NO_CNI}]"


def test_swap_on_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/swaps").write_text("Filename\tType\tSize\tUsed\tPriority\n/swap.img file 4194300 0 -2\n")
    refused = "failed to run Kubelet: running with swap on is not supported, please disable swap or set --fail-swap-on flag to false"
    assert kubelet.startup_refusal({}, {}, tmp_path) == refused
    assert kubelet.startup_refusal({}, {"failSwapOn": False}, tmp_path) is None
    assert kubelet.startup_refusal({"fail-swap-on": "false"}, {}, tmp_path) is None
    (tmp_path / "proc/swaps").write_text("Filename\tType\tSize\tUsed\tPriority\n")
    assert kubelet.startup_refusal({}, {}, tmp_path) is None


CONTAINERD = {
    "config without SystemdCgroup": ("version = 2\n", "cgroupfs"),
    "SystemdCgroup = false": ("[plugins]\n  SystemdCgroup = false\n", "cgroupfs"),
    "commented out": ("#  SystemdCgroup = true\n", "cgroupfs"),
    "SystemdCgroup = true": (
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n',
        "systemd",
    ),
}


@pytest.mark.parametrize(("config", "driver"), CONTAINERD.values(), ids=CONTAINERD.keys())
def test_cgroup_driver_must_match_containerd(tmp_path: Path, config: str, driver: str) -> None:
    (tmp_path / "etc/containerd").mkdir(parents=True)
    (tmp_path / ks.CONTAINERD_CONFIG).write_text(config)
    assert ks.runtime_cgroup_driver(tmp_path) == driver
    other = "cgroupfs" if driver == "systemd" else "systemd"
    assert ks.cgroup_mismatch(driver, tmp_path) is None
    refusal = ks.cgroup_mismatch(other, tmp_path)
    assert refusal is not None and f'kubelet cgroup driver "{other}"' in refusal and f'"{driver}"' in refusal


def test_cgroup_driver_without_containerd(tmp_path: Path) -> None:
    assert ks.cgroup_mismatch("systemd", tmp_path) is None
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "usr/bin/containerd").write_text("")
    assert ks.cgroup_mismatch("systemd", tmp_path) is not None  # containerd's default is cgroupfs


def test_pod_network_needs_cni_plugin_binaries(root: Path) -> None:
    write_cni(root, "10-lab.conflist", json.dumps(CONFLIST))
    assert ks.sandbox_error(root, False, []) == (
        'plugin type="bridge" failed (add): failed to find plugin "bridge" in path [/opt/cni/bin]'
    )
    assert ks.sandbox_error(root, True, []) is None
    (root / ks.CNI_BIN_DIR).mkdir(parents=True)
    for plugin in ("bridge", "portmap"):
        (root / ks.CNI_BIN_DIR / plugin).write_text("")
    assert ks.sandbox_error(root, False, []) is None


def test_pod_without_host_network_waits_for_the_network(root: Path, tmp_path: Path) -> None:
    assert ks.sandbox_error(root, False, [NO_CNI]) == f"network is not ready: {NO_CNI}"
    folder = tmp_path / "manifests"
    folder.mkdir()
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "command": ["true"]}]},
    }
    (folder / "p.yaml").write_text(json.dumps(pod))
    pods: dict[str, kubelet.Pod] = {}
    kubelet.sync(folder, pods, {}, kubelet.pod_refusal(reporter(root), "cgroupfs"))
    (only,) = pods.values()
    assert only.refused == f"network is not ready: {ks.NETWORK_UNKNOWN}" and only.containers[0].pid is None


class Recorder:
    """Stands in for kubeclient.request: records calls, answers from a queue."""

    def __init__(self, *answers: Reply | ClientError) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str, Any, str]] = []

    def __call__(self, _config: object, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
        self.calls.append((method, path, body, kwargs.get("content_type", "application/json")))
        answer = self.answers.pop(0)
        if isinstance(answer, ClientError):
            raise answer
        return answer


def post(monkeypatch: pytest.MonkeyPatch, root: Path, recorder: Recorder, times: int = 1) -> None:
    (root / "etc/kubernetes").mkdir(parents=True, exist_ok=True)
    (root / "etc/kubernetes/kubelet.conf").write_text("")
    monkeypatch.setattr(kubelet_node, "load_kubeconfig", lambda path: path)
    monkeypatch.setattr(kubelet_node, "request", recorder)
    node = reporter(root, "/etc/kubernetes/kubelet.conf")
    for _ in range(times):
        node.post(node.status(node.probe(100.0)))


def test_registers_the_node_then_patches_its_status(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    recorder = Recorder(Reply(201, {}), Reply(200, {}), Reply(200, {}))
    post(monkeypatch, root, recorder, times=2)
    (create, patch, again) = recorder.calls
    assert create[:2] == ("POST", "/api/v1/nodes")
    assert create[2]["metadata"]["name"] == "cp1"
    assert create[2]["metadata"]["labels"]["kubernetes.io/hostname"] == "cp1"
    assert create[2]["metadata"]["labels"]["kubernetes.io/os"] == "linux"
    assert "node-role.kubernetes.io/control-plane" not in create[2]["metadata"]["labels"]  # kubeadm adds it
    assert patch[0:2] == ("PATCH", "/api/v1/nodes/cp1/status") and patch[3] == kubelet_node.STRATEGIC_MERGE
    status = patch[2]["status"]
    assert status["conditions"][-1] | {"lastHeartbeatTime": "", "lastTransitionTime": ""} == {
        "type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": NO_CNI,
        "lastHeartbeatTime": "", "lastTransitionTime": "",
    }  # fmt: skip
    assert status["nodeInfo"]["kubeletVersion"].startswith("v1.")
    assert {"type": "InternalIP", "address": "10.0.0.1"} in status["addresses"]
    assert again[0] == "PATCH"


def test_registration_retried_until_the_api_server_answers(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    recorder = Recorder(ClientError("cannot reach the API server"), Reply(409, {}), Reply(200, {}))
    post(monkeypatch, root, recorder, times=2)
    assert [c[:2] for c in recorder.calls] == [
        ("POST", "/api/v1/nodes"), ("POST", "/api/v1/nodes"), ("PATCH", "/api/v1/nodes/cp1/status"),
    ]  # fmt: skip


def test_a_deleted_node_is_registered_again(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    recorder = Recorder(Reply(201, {}), Reply(404, {}), Reply(201, {}), Reply(200, {}))
    post(monkeypatch, root, recorder, times=2)
    assert [c[0] for c in recorder.calls] == ["POST", "PATCH", "POST", "PATCH"]


def test_no_kubeconfig_no_registration(tmp_path: Path) -> None:
    node = reporter(tmp_path, "/etc/kubernetes/kubelet.conf")
    node.post(node.status(node.probe(1.0)))
    assert not node.registered


def test_kubelet_exits_while_the_runtime_does_not_answer(tmp_path: Path) -> None:
    endpoint = "unix:///run/containerd/containerd.sock"
    refused = ks.runtime_refusal(endpoint, tmp_path)
    assert refused == (
        "failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint "
        '"unix:///run/containerd/containerd.sock": rpc error: code = Unavailable desc = connection error: '
        'desc = "transport: Error while dialing: dial unix /run/containerd/containerd.sock: connect: '
        'no such file or directory"'
    )
    (tmp_path / "run/containerd").mkdir(parents=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "run/containerd/containerd.sock"))
        assert str(ks.runtime_refusal(endpoint, tmp_path)).endswith('connect: connection refused"')
        server.listen(1)
        assert ks.runtime_refusal(endpoint, tmp_path) is None
