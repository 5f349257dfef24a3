"""The khatui header: every rendered config carries one, in its own comment syntax, naming the spec;
hand edits are detected; keys, certificates and other people's files are not mistaken for khatui's."""

from __future__ import annotations

import hashlib

import pytest

from khatui.render import FileKind, read_header, spec_digest
from khatui.render.header import stamp
from khatui.spec.cluster import Cluster
from tests.render.variants import rendered, specs


def test_spec_digest_is_short_sha256_of_canonical_json() -> None:
    cluster = specs()["single-node-lab"]
    full = hashlib.sha256(cluster.model_dump_json(by_alias=True).encode()).hexdigest()
    assert spec_digest(cluster) == full[:12]
    changed = Cluster.model_validate(cluster.model_dump(by_alias=True) | {"metadata": {"name": "other"}})
    assert spec_digest(changed) != spec_digest(cluster)


@pytest.mark.parametrize("name", sorted(specs()))
def test_every_config_carries_the_header_of_its_spec(name: str) -> None:
    digest = spec_digest(specs()[name])
    for file in rendered()[name]:
        assert file.kind not in (FileKind.KEY, FileKind.CERTIFICATE)
        header = read_header(file.content)
        assert header is not None, f"{file.node}:{file.path} has no khatui header"
        assert header.cluster_name == specs()[name].metadata.name
        assert header.from_spec(digest), f"{file.node}:{file.path}"
        first = file.text.splitlines()[1 if file.text.startswith("#!") else 0]
        assert first.startswith("# Written by khatui from spec ")


def test_hand_edit_is_detected() -> None:
    text = stamp("a: 1\n", "demo", "0" * 12)
    header = read_header(text)
    assert header is not None and header.intact and header.from_spec("0" * 12)
    assert not header.from_spec("1" * 12)
    edited = read_header(text.replace("a: 1", "a: 2"))
    assert edited is not None and not edited.intact and not edited.from_spec("0" * 12)
    assert read_header(text.encode()) == header


def test_shebang_stays_first() -> None:
    text = stamp("#!/bin/sh\nexit 0\n", "demo", "a" * 12)
    assert text.startswith("#!/bin/sh\n# Written by khatui")
    header = read_header(text)
    assert header is not None and header.intact


@pytest.mark.parametrize(
    "content",
    [
        "",
        "# Written by khatui from spec demo sha256:zzz; content sha256:abc.\n",
        "# just a comment\nkey: value\n",
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "# Written by khatui from spec demo sha256:000000000000; content sha256:0000000000000000.\nnot the second line\n",
    ],
)
def test_other_files_have_no_header(content: str | bytes) -> None:
    assert read_header(content) is None
