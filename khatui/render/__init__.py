"""Spec in, files out: every file each node needs for the guide's HA cluster (pure; no SSH, no I/O).

`render_cluster(cluster)` returns `RenderedFile`s (node, absolute path, content, mode, owner, kind);
`read_header(content)` tells whether a file on a node is khatui's, unedited, and from which spec.
"""

from khatui.render.cluster import NO_PKI, PKISource, render_cluster, render_node
from khatui.render.errors import RenderError
from khatui.render.files import FileKind, RenderedFile, Stage
from khatui.render.header import Header, read_header, spec_digest

__all__ = [
    "NO_PKI",
    "FileKind",
    "Header",
    "PKISource",
    "RenderError",
    "RenderedFile",
    "Stage",
    "read_header",
    "render_cluster",
    "render_node",
    "spec_digest",
]
