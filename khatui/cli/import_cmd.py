"""`khatui import`: turn an existing inventory into a cluster spec (filled in by the inventory work)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Placeholder until the importers land; registers nothing."""
