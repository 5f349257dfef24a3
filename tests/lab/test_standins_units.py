"""The stand-ins' pure parts, host-side (no lab): durations, token Secrets, manifests, retries."""

from __future__ import annotations

import errno
import ssl
from pathlib import Path

import pytest

from khatui_lab.standins.kubeadm_token import TokenError, _short, ttl_seconds
from khatui_lab.standins.kubeclient import _transient
from khatui_lab.standins.kubectl_api import KubectlError
from khatui_lab.standins.kubectl_apply import files_of, read_objects, resource


@pytest.mark.parametrize(("text", "seconds"), [("2h", 7200), ("1h30m", 5400), ("24h0m0s", 86400), ("0", 0)])
def test_ttl_is_a_go_duration(text: str, seconds: float) -> None:
    assert ttl_seconds(text) == seconds


@pytest.mark.parametrize("text", ["2x", "h", "2h ", "-1h", ""])
def test_a_bad_ttl_is_refused(text: str) -> None:
    with pytest.raises(TokenError, match="invalid duration"):
        ttl_seconds(text)


def test_ttls_print_as_kubeadm_does() -> None:
    assert [_short(s) for s in (-5, 30, 7199, 7200, 90000)] == ["<invalid>", "30s", "1h", "2h", "1d"]


def test_only_transient_failures_are_retried() -> None:
    assert _transient(ConnectionRefusedError()) and _transient(ssl.SSLEOFError()) and _transient(TimeoutError())
    assert not _transient(ssl.SSLCertVerificationError()) and not _transient(OSError("no route to host"))
    # EHOSTUNREACH while a VIP moves (CI: kubeadm init's bootstrap-token phase, the VIP just restarted)
    assert _transient(OSError(errno.EHOSTUNREACH, "No route to host"))
    assert not _transient(OSError(errno.EACCES, "Permission denied"))


def test_kubectl_reads_a_folder_in_name_order_and_names_kinds_like_kubectl(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n")
    (tmp_path / "a.json").write_text('{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", '
                                     '"kind": "Service", "metadata": {"name": "s"}}]}')  # fmt: skip
    (tmp_path / "notes.txt").write_text("ignored")
    objects = read_objects(files_of(str(tmp_path)))
    assert [resource(item) + "/" + item["metadata"]["name"] for _, item in objects] == [
        "service/s",
        "deployment.apps/d",
    ]
    (tmp_path / "c.yml").write_text("- not a mapping\n")
    with pytest.raises(KubectlError, match=r"c.yml\" \(document 1\): apiVersion, kind, metadata.name not set"):
        read_objects(files_of(str(tmp_path)))
