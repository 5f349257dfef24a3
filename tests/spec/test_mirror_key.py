"""The package mirror's key: an OpenPGP public key, armored or binary, or one line naming the field."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from khatui.errors import InputError
from khatui.facts.distro import Family
from khatui.plan.phases.package_mirror import key_path
from khatui.spec.mirrorkey import key_problem, read_key

ARMORED = b"""-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaxNCPhYJKwYBBAHaRw8BAQdAje6W40GAux1b6Jcn+GeWwdrQfMox7H0sd/Ie
8Y9fZUK0HGtoYXR1aSBsYWIgbTJiYXJlIHJlcG9zaXRvcnmIkAQTFggAOBYhBC4d
xJNAAYuaAZ0fGVPM1M2+hLLnBQJrE0I+AhsDBQsJCAcCBhUKCQgLAgQWAgMBAh4B
AheAAAoJEFPM1M2+hLLnMTMBALUc4HKN+XS6HG39PYartmNtt3bU3joWvIbIAtWP
4YmTAQDuh8Ki6KWVJBn5CygwCkJ+wy2PpQLKRo1EJQMWTzhxCA==
=kZxv
-----END PGP PUBLIC KEY BLOCK-----
"""
"""A lab repository's signing key (ed25519), as `gpg --armor --export` writes it."""
BINARY = base64.b64decode(b"".join(ARMORED.splitlines()[2:-2]))
"""The same key as `gpg --export` writes it: an old-format public-key packet first (0x98)."""


@pytest.mark.parametrize("data", [ARMORED, b"\n" + ARMORED, BINARY, bytes([0xC6, 0x33]) + BINARY[2:]])
def test_an_openpgp_public_key_is_accepted(data: bytes) -> None:
    assert key_problem(data) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n",
        b"-----BEGIN PGP SIGNATURE-----\n",
        bytes([0x95]) + BINARY[1:],  # a secret-key packet (tag 5)
        bytes([0x88]) + BINARY[1:],  # a signature packet (tag 2)
        b"Types: deb\n",
        b"x" * (1 << 20) + ARMORED,
    ],
)
def test_anything_else_is_refused(data: bytes) -> None:
    assert key_problem(data) is not None


def test_a_refused_key_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "mirror.key"
    path.write_text("not a key\n")
    with pytest.raises(InputError) as caught:
        read_key(str(path))
    assert str(caught.value).startswith(f"{path}: spec.install.packages.mirror.key: not an OpenPGP public key")
    assert "\n" not in str(caught.value)


def test_apt_names_the_keyring_by_its_kind() -> None:
    assert key_path(Family.DEBIAN, ARMORED) == "/etc/apt/keyrings/khatui-mirror.asc"
    assert key_path(Family.DEBIAN, BINARY) == "/etc/apt/keyrings/khatui-mirror.gpg"
    assert key_path(Family.RHEL, BINARY) == "/etc/pki/rpm-gpg/RPM-GPG-KEY-khatui-mirror"
