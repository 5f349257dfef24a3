"""The one error renderers raise: the spec is valid, yet khatui cannot turn part of it into files
that would work (e.g. a backend Kubernetes no longer supports)."""

from __future__ import annotations

from khatui.errors import InputError


class RenderError(InputError):
    """The spec asks for something khatui cannot render into working files; exit code 2."""

    title = "Cannot render"
