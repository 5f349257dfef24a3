"""Render every file of a generated 500-node cluster and report the wall time on one core.

Reproduce (from the repository root):

    .venv/bin/python benchmarks/bench_render.py            # --nodes N (default 500), --runs N (default 5)

The spec is the guide's large HA cluster: 5 stacked control planes (etcd as static pods), 3
haproxy+keepalived lb nodes, the rest workers; kube-proxy in IPVS mode, NodeLocal DNSCache, and
two storage classes (NFS, and local disks with two paths per worker, i.e. two PersistentVolumes per
worker). The figure is `render_cluster(cluster)` alone: spec validation is timed separately, files
are not written. The process is pinned to one CPU; the best and median of the runs are reported,
after one untimed warm-up run. Target: under 2 s.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from khatui.render import render_cluster  # noqa: E402
from khatui.spec.cluster import Cluster  # noqa: E402
from khatui.spec.rules import check  # noqa: E402

TARGET_SECONDS = 2.0


def spec_data(count: int) -> dict[str, Any]:
    """A valid spec with `count` nodes."""
    base = ipaddress.IPv4Address("10.50.0.10")
    nodes = []
    for index in range(count):
        if index < 5:
            name, roles = f"cp{index + 1}", ["control-plane", "etcd"]
        elif index < 8:
            name, roles = f"lb{index - 4}", ["lb"]
        else:
            name, roles = f"worker{index - 7}", ["worker"]
        nodes.append({"name": name, "address": str(base + index), "roles": roles})
    return {
        "apiVersion": "khatui/v1",
        "kind": "Cluster",
        "metadata": {"name": "bench"},
        "spec": {
            "nodes": nodes,
            "etcd": {"runAs": "static-pod"},
            "controlPlane": {"podCIDR": "10.244.0.0/16", "serviceCIDR": "10.96.0.0/12"},
            "loadBalancer": {"mode": "haproxy-keepalived", "vip": "10.50.255.250", "vipPrefixLength": 16, "port": 6443},
            "kubeProxy": {"mode": "ipvs", "ipvsScheduler": "rr"},
            "dns": {"replicas": 10, "nodeLocalDNS": {"enabled": True}},
            "persistence": {
                "classes": [
                    {"name": "nfs", "backend": "nfs", "server": "10.50.255.5", "path": "/export", "default": True},
                    {"name": "local", "backend": "local", "paths": ["/mnt/disk1", "/mnt/disk2"]},
                ]
            },
        },
    }


def main() -> int:
    """Run the benchmark; exit 1 when the best time misses the target."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    started = time.perf_counter()
    cluster = Cluster.model_validate(spec_data(args.nodes))
    errors = [p for p in check(cluster) if p.severity == "error"]
    validated = time.perf_counter() - started
    if errors:
        print(f"generated spec is invalid: {errors}", file=sys.stderr)
        return 2

    files = render_cluster(cluster)  # warm-up
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        files = render_cluster(cluster)
        times.append(time.perf_counter() - started)

    size = sum(len(f.data) for f in files)
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(Counter(str(f.kind) for f in files).items()))
    best, median = min(times), statistics.median(times)
    print(f"nodes: {args.nodes}; files: {len(files)} ({kinds}); {size / 1e6:.1f} MB")
    print(f"spec validation: {validated:.3f} s")
    print(f"render_cluster: best {best:.3f} s, median {median:.3f} s over {args.runs} runs, one CPU")
    print(f"target < {TARGET_SECONDS:.1f} s: {'met' if best < TARGET_SECONDS else 'MISSED'}")
    return 0 if best < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
