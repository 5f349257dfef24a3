"""The lab's folder: keys, known_hosts, lab.yaml, the nodes' layers, and `lab.json` saying what it is.

Layout of `<data dir>/lab/<name>/`:

    lab.json            name, subnet, node count, the nodes' image when bare (written last:
                        its presence means "complete")
    lab.yaml            the cluster spec for this lab
    id_ed25519(.pub)    the operator's client key (root on every node accepts it)
    known_hosts         one line per node: its address and its ed25519 host key
    nodes/<node>/       upper/ and work/ overlay layers, root/ (/root), tmp/ (/tmp), console.log
    serve/, gnupg/, repository.asc, SHA256SUMS, serve.pid, serve.log   a bare lab's (khatui_lab.bare)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from khatui.errors import InputError
from khatui_lab import keys, rootfs
from khatui_lab.labspec import lab_spec_yaml
from khatui_lab.layout import LabLayout, parse_subnet, plan_layout

STATE = "lab.json"
SPEC = "lab.yaml"
IDENTITY = "id_ed25519"
KNOWN_HOSTS = "known_hosts"


@dataclass(frozen=True)
class SavedLab:
    """What `lab.json` records about an existing lab."""

    name: str
    """Lab name."""
    subnet: str
    """Subnet (CIDR)."""
    nodes: int
    """Node count."""
    image: str | None = None
    """A bare lab's image (the nodes' lower layer); None: the host's own file system."""

    def layout(self) -> LabLayout:
        """The layout this record describes."""
        return plan_layout(self.name, parse_subnet(self.subnet), self.nodes)


def load(lab_dir: Path) -> SavedLab | None:
    """The record of the lab in `lab_dir`, None when there is no complete lab there."""
    try:
        data = json.loads((lab_dir / STATE).read_text())
        image = data.get("image")
        return SavedLab(
            str(data["name"]), str(data["subnet"]), int(data["nodes"]), None if image is None else str(image)
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{lab_dir / STATE} is damaged ({exc}); run `khatui lab down` to start afresh") from None


def create(lab_dir: Path, layout: LabLayout, image: Path | None = None) -> None:
    """Write every file of a new lab into `lab_dir` (emptied first: a half-made lab is discarded);
    `image`: a bare lab's nodes' lower layer."""
    if lab_dir.exists():
        shutil.rmtree(lab_dir)
    lab_dir.mkdir(parents=True, mode=0o700)
    identity = lab_dir / IDENTITY
    client_public = keys.write_keypair(identity, f"khatui-lab-{layout.name}")
    entries = []
    for node in layout.nodes:
        host_private, host_public = keys.new_keypair(f"root@{node.name}")
        rootfs.prepare(lab_dir, layout, node, client_public, host_private, image or rootfs.HOST)
        entries.append((str(node.address), host_public))
    (lab_dir / KNOWN_HOSTS).write_text(keys.known_hosts(entries))
    spec = lab_dir / SPEC
    spec.write_text(lab_spec_yaml(layout, identity, spec, bare=image is not None))
    state = {"name": layout.name, "subnet": str(layout.subnet), "nodes": len(layout.nodes)}
    if image is not None:
        state["image"] = str(image)
    (lab_dir / STATE).write_text(json.dumps(state, indent=2) + "\n")
