"""The pod network addon: the chosen plugin's objects, the file they go in, and the images they run.

One table maps each plugin to the module that builds its objects, so adding a plugin is one entry.
`images` reads the images off the rendered pod templates rather than from a second list, so the
air-gapped bundle can never miss one the manifest uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import PurePosixPath
from typing import Any

from khatui.render import flannel, yamltext
from khatui.render.context import RenderContext
from khatui.render.files import FileKind, RenderedFile, Stage
from khatui.spec.cluster import Cluster
from khatui.spec.network import NetworkPlugin
from khatui.spec.nodes import Node

Objects = Callable[[RenderContext], list[dict[str, Any]]]
PLUGINS: dict[NetworkPlugin, Objects] = {NetworkPlugin.FLANNEL: flannel.objects, NetworkPlugin.NONE: lambda ctx: []}
FILE_NAME = "10-pod-network.yaml"
"""First in the addons folder: `kubectl apply -f` goes by name, and the nodes turn Ready with it."""


def objects(ctx: RenderContext) -> list[dict[str, Any]]:
    """The chosen plugin's objects (none for `plugin: none`)."""
    return PLUGINS[ctx.spec.network.plugin](ctx)


def pod_containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The init containers and containers of a workload's pod template (none for other kinds)."""
    pod = document.get("spec", {}).get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def pod_images(documents: Iterable[dict[str, Any]]) -> list[str]:
    """Every image of the pod templates in `documents`, once each, in order."""
    return list(dict.fromkeys(c["image"] for d in documents for c in pod_containers(d)))


def images(cluster: Cluster) -> list[str]:
    """The images the spec's pod network runs (for the air-gapped bundle)."""
    return pod_images(objects(RenderContext.of(cluster)))


def addon_files(ctx: RenderContext, node: Node, directory: PurePosixPath) -> list[RenderedFile]:
    """The pod network manifest, applied from `node` (the first control plane); none for `none`."""
    documents = objects(ctx)
    if not documents:
        return []
    body = yamltext.dump_all(documents)
    return [ctx.config(node, directory / FILE_NAME, body, "pod-network", FileKind.ADDON, stage=Stage.AFTER_KUBEADM)]
