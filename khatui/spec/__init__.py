"""The declarative cluster spec: models, YAML I/O and validation (pure; no terminal, no network).

The models (`khatui.spec.cluster` and the modules it uses) load pydantic and build a few dozen
classes, a noticeable part of a second: nothing here imports them, so code that only needs the
document's identity or the problem types (`khatui.spec.problems`) starts without them.
"""

from typing import Literal

API_VERSION: Literal["khatui/v1"] = "khatui/v1"
KIND: Literal["Cluster"] = "Cluster"
