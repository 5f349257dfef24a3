"""Importers that turn an existing inventory (Ansible/Kubespray, ~/.ssh/config) into a cluster spec.

Each importer reads one file and returns an `ImportResult`: the nodes it could build and a
`Notice` for everything it read but could not carry over (a secret, a Jinja template, a group
khatui has no use for). Nothing is dropped silently: the operator sees each notice with its file
and line. `assemble.cluster_document` then wraps the nodes into a full spec document, which the
CLI validates with the same code as `khatui validate`. Nothing here touches the network.
"""

from khatui.inventory.result import ImportedNode, ImportResult, Notice

__all__ = ["ImportResult", "ImportedNode", "Notice"]
