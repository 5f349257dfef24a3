"""A bare lab (`khatui lab up --bare`): nodes see a minimal Debian, not this host, and install from
the lab's signed repository and files mirror, served on the lab's bridge (the `lab` tier).

One 1-node lab for the module, on a name and subnet of its own. The image, the packages and the
files mirror are cached in `$KHATUI_LAB_CACHE` when set (else in a fresh folder: built once here).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from khatui_lab import serve
from khatui_lab.host import run
from khatui_lab.image import NOT_IN_IMAGE
from khatui_lab.lab import Lab, remove_lab

NAME = "kbare"
SUBNET = "10.95.0.0/24"
KEYRING = "/etc/apt/keyrings/khatui-lab.asc"
SOURCES = "/etc/apt/sources.list.d/khatui-lab.sources"
APT = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=60"]


@pytest.fixture(scope="module")
def bare_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A booted 1-node bare lab, always torn down."""
    cache = os.environ.get("KHATUI_LAB_CACHE") or str(tmp_path_factory.mktemp("lab-cache"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KHATUI_LAB_CACHE", cache)
        lab = Lab(NAME, SUBNET, 1, base_dir=tmp_path_factory.mktemp("labs"), bare=True)
        try:
            remove_lab(NAME, lab.lab_dir)
            lab.up()
            yield lab
        finally:
            lab.down()


def sh(lab: Lab, script: str, check: bool = True) -> tuple[int, str]:
    """(exit code, stdout + stderr) of `script` run by /bin/sh in the lab's node."""
    result = lab.run_in("cp1", ["/bin/sh", "-c", script], check=check, timeout=300)
    return result.returncode, (result.stdout + result.stderr).decode()


def use_repository(lab: Lab) -> None:
    """The lab's key in /etc/apt/keyrings and a deb822 source naming it, as an operator would write."""
    lab.put_file("cp1", KEYRING, (lab.lab_dir / "repository.asc").read_bytes())
    source = f"Types: deb\nURIs: {serve.repository_url(lab.layout)}\nSuites: bookworm\nComponents: main\nSigned-By: {KEYRING}\n"
    lab.put_file("cp1", SOURCES, source.encode())


def test_a_bare_node_has_nothing_the_rollout_installs(bare_lab: Lab) -> None:
    _, found = sh(
        bare_lab,
        "find /usr -name 'etcd*' -o -name 'containerd*' -o -name 'haproxy*' -o -name 'keepalived*' -o -name 'conntrack*'",
    )
    assert found.strip() == ""
    _, listed = sh(bare_lab, "dpkg-query -W -f '${Package} ${Status}\\n'")
    installed = {line.split()[0] for line in listed.splitlines() if line.endswith("install ok installed")}
    assert {"systemd", "openssh-server", "python3-yaml"} <= installed
    assert installed.isdisjoint(NOT_IN_IMAGE)
    _, tools = sh(bare_lab, "ls /usr/local/bin; ls /usr/bin/kubeadm /usr/bin/kubelet 2>&1", check=False)
    assert "kube-apiserver" in tools and "kubeadm\n" not in tools and "No such file" in tools


def test_a_bare_node_boots_its_own_image_again_after_a_power_cut(bare_lab: Lab) -> None:
    assert bare_lab.power_off("cp1")
    bare_lab.power_on("cp1")
    _, state = sh(bare_lab, "systemctl is-system-running --wait", check=False)
    assert state.strip() == "running"
    _, fstab = sh(bare_lab, "grep -c . /etc/apt/sources.list 2>&1; cat /etc/debian_version")
    assert "No such file" in fstab and fstab.strip().endswith(tuple("0123456789"))


def test_apt_installs_from_the_lab_repository_and_refuses_a_tampered_release(bare_lab: Lab) -> None:
    use_repository(bare_lab)
    code, output = sh(bare_lab, " ".join([*APT, "update"]), check=False)
    assert code == 0 and "InRelease" in output and "W:" not in output, output
    code, output = sh(bare_lab, " ".join([*APT, "install", "-y", "conntrack"]) + " && conntrack --version", check=False)
    assert code == 0 and "conntrack v1.4.7" in output, output

    release = bare_lab.lab_dir / "serve/debian/dists/bookworm/InRelease"
    signed = release.read_text()
    try:
        release.write_text(signed.replace("Origin: khatui-lab", "Origin: someone-else"))
        # Without the indexes of the good update apt has nothing left to install from.
        sh(bare_lab, "rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin")
        code, output = sh(bare_lab, " ".join([*APT, "update", "--error-on=any"]), check=False)
        assert code != 0 and "BADSIG" in output, output
        code, output = sh(bare_lab, " ".join([*APT, "install", "-y", "socat"]), check=False)
        assert code != 0 and "Unable to locate package socat" in output, output
    finally:
        release.write_text(signed)


def _get(lab: Lab, path: str) -> bytes:
    with urllib.request.urlopen(f"{serve.files_url(lab.layout)}/{path}", timeout=10) as answer:
        data: bytes = answer.read()
        return data


def _sums(text: str) -> dict[str, str]:
    """path -> sha256 of sha256sum's `<sha256>  <path>` lines."""
    return {path: digest for digest, path in (line.split("  ", 1) for line in text.splitlines())}


def _members(archive: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return set(tar.getnames())


def test_files_mirror_serves_stand_ins_and_debian_binaries(bare_lab: Lab) -> None:
    sums = _sums(_get(bare_lab, "SHA256SUMS").decode())
    assert sums == _sums((bare_lab.lab_dir / "SHA256SUMS").read_text())
    files = {path: _get(bare_lab, path) for path in sums}
    assert all(hashlib.sha256(data).hexdigest() == sums[path] for path, data in files.items())
    kube = "dl.k8s.io/release/v1.31.4/bin/linux/amd64"
    for tool in ("kubeadm", "kubelet", "kubectl"):
        assert f"khatui lab stand-in for {tool}" in files[f"{kube}/{tool}"].decode()
    gh = "github.com"
    containerd = files[f"{gh}/containerd/containerd/releases/download/v1.6.20/containerd-1.6.20-linux-amd64.tar.gz"]
    assert {"bin/containerd", "bin/containerd-shim-runc-v2", "bin/ctr"} <= _members(containerd)
    cni = files[f"{gh}/containernetworking/plugins/releases/download/v1.1.1/cni-plugins-linux-amd64-v1.1.1.tgz"]
    assert {"./bridge", "./host-local", "./loopback", "./portmap"} <= _members(cni)
    etcd = files[f"{gh}/etcd-io/etcd/releases/download/v3.5.16/etcd-v3.5.16-linux-amd64.tar.gz"]
    assert {"etcd-v3.5.16-linux-amd64/etcd", "etcd-v3.5.16-linux-amd64/etcdctl"} <= _members(etcd)
    assert files[f"{gh}/opencontainers/runc/releases/download/v1.1.5/runc.amd64"].startswith(b"\x7fELF")
    crictl = files[f"{gh}/kubernetes-sigs/cri-tools/releases/download/v1.31.0/crictl-v1.31.0-linux-amd64.tar.gz"]
    assert _members(crictl) == {"crictl"}

    # The real binaries run on the bare node, fetched from the mirror the way the rollout would.
    url = f"{serve.files_url(bare_lab.layout)}/{gh}/etcd-io/etcd/releases/download/v3.5.16/etcd-v3.5.16-linux-amd64.tar.gz"
    fetch = f"import urllib.request; urllib.request.urlretrieve('{url}', '/tmp/etcd.tgz')"
    code, output = sh(
        bare_lab,
        f'python3 -c "{fetch}" && tar -xzf /tmp/etcd.tgz -C /tmp && /tmp/etcd-v3.5.16-linux-amd64/etcd --version',
    )
    assert code == 0 and "etcd Version: 3.5.16" in output, output


def test_a_bare_node_reaches_the_lab_but_nothing_beyond_it(bare_lab: Lab) -> None:
    # This host's own gateway: the host reaches it, a node must not (this host forwards nothing).
    route = run(["ip", "-j", "route", "show", "default"]).stdout
    gateway = next((entry["gateway"] for entry in json.loads(route or b"[]") if "gateway" in entry), "192.0.2.1")
    probe = "import socket, sys\ntry:\n    socket.create_connection((sys.argv[1], 80), timeout=3)\nexcept OSError:\n    sys.exit(7)\n"
    code, output = sh(bare_lab, f"python3 -c '{probe}' {gateway}", check=False)
    assert code == 7, output
    assert serve.answering(bare_lab.layout)


def test_status_shows_the_server_and_down_stops_it(bare_lab: Lab, tmp_path: Path) -> None:
    status = bare_lab.status()
    assert status.up and status.server_up
    assert status.repository == "http://10.95.0.1:8642/debian" and status.files == "http://10.95.0.1:8642/files"
    pid = serve.running_pid(bare_lab.layout, bare_lab.lab_dir)
    assert pid is not None
    bare_lab.down()
    assert not Path(f"/proc/{pid}").exists() and not serve.answering(bare_lab.layout)
    assert not bare_lab.status().exists
