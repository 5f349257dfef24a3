"""`khatui render SPEC --out DIR` as an operator uses it."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
import yaml

from khatui.cli.main import build_parser, main
from khatui.cli.render_index import INDEX
from khatui.render import read_header
from tests.conftest import EXAMPLES

STACKED = next(p for p in EXAMPLES if p.stem == "stacked-haproxy-ipvs-nfs")


def test_render_writes_every_node_with_modes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", str(STACKED), "--out", str(out), "--no-pki"]) == 0
    assert "wrote 62 files for 7 nodes" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["cp1", "cp2", "cp3", "lb1", "lb2", "worker1", "worker2", INDEX]
    )
    manifest = out / "cp1/etc/kubernetes/manifests/etcd.yaml"
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600
    script = out / "lb1/etc/keepalived/khatui-check-haproxy.sh"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert read_header(manifest.read_bytes()) is not None
    rows = (out / INDEX).read_text().splitlines()
    assert rows[0].split("\t") == ["node", "path", "mode", "owner", "kind", "stage", "sha256"]
    assert len(rows) == 63  # the header and 62 files
    assert (
        "cp1\t/etc/kubernetes/manifests/etcd.yaml\t0600\troot:root\tmanifest\tbefore-kubeadm\t"
        in (out / INDEX).read_text()
    )


def test_render_takes_certificates_and_keys_from_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", str(STACKED), "--out", str(out), "--pki-dir", str(tmp_path / "pki")]) == 0
    err = capsys.readouterr().err
    assert "issued 22 certificate(s)" in err
    key = out / "cp1/etc/kubernetes/pki/etcd/peer.key"
    cert = out / "cp1/etc/kubernetes/pki/etcd/peer.crt"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(cert.stat().st_mode) == 0o644
    assert cert.read_bytes() == (tmp_path / "pki/nodes/cp1/etcd-peer.crt").read_bytes()
    assert not (out / "worker1/etc/kubernetes/pki/etcd/peer.key").exists()
    again = tmp_path / "again"
    assert main(["render", str(STACKED), "--out", str(again), "--pki-dir", str(tmp_path / "pki")]) == 0
    assert "issued" not in capsys.readouterr().err
    assert (again / "cp1/etc/kubernetes/pki/etcd/peer.crt").read_bytes() == cert.read_bytes()


def test_render_refuses_a_non_empty_folder_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", str(STACKED), "--out", str(out)]) == 0
    stale = out / "cp1/etc/stale.conf"
    stale.write_text("old\n")
    digest = hashlib.sha256(b"old\n").hexdigest()
    (out / INDEX).write_text(
        (out / INDEX).read_text() + f"cp1\t/etc/stale.conf\t0644\troot:root\tconfig\tbefore-kubeadm\t{digest}\n"
    )
    assert main(["render", str(STACKED), "--out", str(out)]) == 2
    assert "not empty; pass --force" in capsys.readouterr().err
    assert main(["render", str(STACKED), "--out", str(out), "--force"]) == 0
    assert not stale.exists(), "a file of the previous render that no longer belongs was kept"
    assert (out / "cp1/etc/kubernetes/manifests/etcd.yaml").exists()

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me\n")
    assert main(["render", str(STACKED), "--out", str(foreign), "--force"]) == 2
    assert "not a khatui render" in capsys.readouterr().err
    assert (foreign / "mine.txt").read_text() == "keep me\n"


def test_render_invalid_spec_lists_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load(STACKED.read_text())
    data["spec"]["nodes"][1]["address"] = data["spec"]["nodes"][0]["address"]
    spec = tmp_path / "bad.yaml"
    spec.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    assert main(["render", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: spec.nodes[1].address: duplicate address" in err and "nothing rendered" in err
    assert not out.exists()


def test_render_etcd_existing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", str(STACKED), "--out", str(out), "--etcd-existing", "cp3"]) == 0
    assert "--initial-cluster-state=existing" in (out / "cp3/etc/kubernetes/manifests/etcd.yaml").read_text()
    assert "--initial-cluster-state=new" in (out / "cp1/etc/kubernetes/manifests/etcd.yaml").read_text()
    assert main(["render", str(STACKED), "--out", str(tmp_path / "x"), "--etcd-existing", "nope"]) == 2
    assert "no node called nope" in capsys.readouterr().err


def test_render_glusterfs_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load(STACKED.read_text())
    data["spec"]["persistence"]["classes"][0] = {
        "name": "g", "backend": "glusterfs", "endpoints": ["10.20.0.5"], "volume": "v", "default": True
    }  # fmt: skip
    spec = tmp_path / "g.yaml"
    spec.write_text(yaml.safe_dump(data))
    assert main(["render", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert "GlusterFS cannot be provisioned" in capsys.readouterr().err


def test_render_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["render", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "DIR/<node>/<absolute path on the node>" in out and "--etcd-existing" in out
