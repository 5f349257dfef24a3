"""The names of the cluster's certificate authorities, apart from the catalog so that building the
command line (which offers them as choices) loads no spec model."""

from __future__ import annotations

from enum import StrEnum


class CAName(StrEnum):
    """The cluster's certificate authorities."""

    ETCD = "etcd"
    KUBERNETES = "kubernetes"
    FRONT_PROXY = "front-proxy"
