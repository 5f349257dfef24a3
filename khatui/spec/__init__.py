"""The declarative cluster spec: models, YAML I/O and validation (pure; no terminal, no network)."""

from khatui.spec.cluster import API_VERSION, KIND, Cluster, ClusterSpec, Metadata
from khatui.spec.nodes import Node, Role, SSHSettings

__all__ = ["API_VERSION", "KIND", "Cluster", "ClusterSpec", "Metadata", "Node", "Role", "SSHSettings"]
