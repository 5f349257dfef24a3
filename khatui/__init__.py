"""khatui: from a list of machines to a highly available Kubernetes control plane, over SSH."""

__version__ = "0.1.0"
