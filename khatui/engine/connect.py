"""Connecting to the spec's nodes: a `Target` and an SSH `Session` per node, and facts gathered from all
nodes in parallel over them.

Why the name: this module owns opening the engine's connections (it was `engine/inventory.py`,
which read as if it belonged to the `khatui.inventory` importers; it has nothing to do with them).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from khatui.engine.ssh import HostKeys, Session, Target
from khatui.errors import InputError, KhatuiError
from khatui.facts.model import NodeFacts
from khatui.facts.probe import parse, script
from khatui.spec.cluster import Cluster
from khatui.spec.validate import resolve_local_path
from khatui.userdirs import data_dir


def default_host_keys(accept_unknown: bool = False) -> HostKeys:
    """~/.ssh/known_hosts plus khatui's pinned keys; unknown keys accepted only when asked."""
    return HostKeys(
        (Path.home() / ".ssh" / "known_hosts",),
        data_dir() / "known_hosts",
        (lambda host, key_type, fingerprint: True) if accept_unknown else None,
    )


def targets(cluster: Cluster, spec_dir: str, environ: Mapping[str, str] = os.environ) -> dict[str, Target]:
    """A `Target` per node; sudo passwords are read from the environment variables the spec names."""
    found = {}
    for node in cluster.spec.nodes:
        ssh = node.ssh
        password = None
        if ssh.sudo_password_env:
            password = environ.get(ssh.sudo_password_env)
            if password is None:
                raise InputError(
                    f"node {node.name}: environment variable {ssh.sudo_password_env} (sudoPasswordEnv) is not set"
                )
        identity = str(resolve_local_path(ssh.identity_file, spec_dir)) if ssh.identity_file else None
        jump_identity = str(resolve_local_path(ssh.jump_identity_file, spec_dir)) if ssh.jump_identity_file else None
        found[node.name] = Target(
            node.name,
            ssh.host or str(node.address),
            ssh.port,
            ssh.user,
            identity,
            ssh.jump_host,
            ssh.sudo,
            password,
            jump_identity_file=jump_identity,
        )
    return found


def sessions(found: Mapping[str, Target], host_keys: HostKeys) -> dict[str, Session]:
    """One (not yet connected) session per node."""
    return {name: Session(target, host_keys) for name, target in found.items()}


def gather_facts(
    by_node: Mapping[str, Session],
    paths: Mapping[str, list[str]],
    content_paths: Mapping[str, list[str]],
    concurrency: int = 100,
    extra: Mapping[str, str] | None = None,
) -> tuple[dict[str, NodeFacts], dict[str, str], dict[str, str]]:
    """Probe every node at once, one round trip each, running `extra[node]` in the same script:
    (facts of the nodes that answered, error of those that did not, each answer's raw output)."""
    outputs: dict[str, str] = {}

    def probe(name: str) -> NodeFacts:
        session = by_node[name]
        session.connect()
        # The node's clock must read between sending the probe and receiving its answer.
        sent = time.time()
        text = script(paths.get(name, []), content_paths.get(name, []), (extra or {}).get(name, ""))
        result = session.run(text, timeout=60)
        received = time.time()
        if "@@end" not in result.stdout:
            raise KhatuiError(
                f"{name}: the probe did not finish (exit code {result.exit_code}): {result.stderr.strip()[-200:]}"
            )
        outputs[name] = result.stdout
        return parse(name, result.stdout, sent, received)

    facts: dict[str, NodeFacts] = {}
    errors: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(by_node) or 1))) as pool:
        futures = {name: pool.submit(probe, name) for name in by_node}
        for name, future in futures.items():
            try:
                facts[name] = future.result()
            except KhatuiError as exc:
                errors[name] = exc.message
    return facts, errors, outputs
