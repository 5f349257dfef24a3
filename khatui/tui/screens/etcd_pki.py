"""Step 3: etcd (topology, how it runs, which nodes are members) and the certificates.

Members are the nodes with the etcd role; toggling one here edits that node's roles, and the
quorum math under the list follows each toggle. The role problems the cross-field rules find
(stacked etcd wants every control plane to be a member) are this step's to show.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from khatui.inventory.result import ROLE_ORDER
from khatui.spec.components import CASource, Etcd, EtcdRunAs, EtcdTopology, KeyAlgorithm
from khatui.spec.nodes import Role
from khatui.spec.problems import Path
from khatui.tui.screens.base import WizardStep
from khatui.tui.widgets.checklist import CheckList
from khatui.tui.widgets.field import BoundField, ChoiceField, TextField
from khatui.tui.widgets.modelform import model_fields
from khatui.tui.widgets.quorum import QuorumMath

ETCD: Path = ("spec", "etcd")
PKI: Path = ("spec", "pki")
CAS = (("kubernetes", "kubernetes CA"), ("etcd", "etcd CA"), ("frontProxy", "front-proxy CA"))


def _choices(enum: Any) -> list[tuple[str, str]]:
    return [(str(member.value), str(member.value)) for member in enum]


class EtcdPKIScreen(WizardStep):
    """etcd and certificates."""

    STEP = "etcd"
    HEADING = "etcd and certificates"
    HINT = "Where etcd runs and who is a member; keys, validity and CAs of the PKI."
    BINDINGS: ClassVar[list[BindingType]] = []

    def body(self) -> ComposeResult:
        get = self.state.get
        yield ChoiceField("topology", (*ETCD, "topology"), _choices(EtcdTopology), get((*ETCD, "topology"), "stacked"))
        yield ChoiceField("runAs", (*ETCD, "runAs"), _choices(EtcdRunAs), get((*ETCD, "runAs"), "systemd"))
        with Horizontal(classes="members"):
            yield Label("members", classes="field--label")
            yield CheckList(*self._member_options(), id="members", compact=True)
        yield QuorumMath(id="quorum")
        yield Static("", id="stacked-hint", classes="hint")
        yield from model_fields(Etcd, ETCD, self.state.data, skip=frozenset({"topology", "runAs"}))
        yield ChoiceField(
            "keyAlgorithm", (*PKI, "keyAlgorithm"), _choices(KeyAlgorithm), get((*PKI, "keyAlgorithm"), "ecdsa-p256")
        )
        yield TextField("validity", (*PKI, "validity"), get((*PKI, "validity")), placeholder="43800h (default)")
        yield TextField(
            "extraSANs",
            (*PKI, "extraSANs"),
            get((*PKI, "extraSANs")),
            kind="list",
            placeholder="names, comma-separated",
        )
        for key, title in CAS:
            base = (*PKI, "ca", key)
            yield ChoiceField(
                title,
                (*base, "mode"),
                [("generate", "generate"), ("import", "import")],
                get((*base, "mode"), "generate"),
            )
            yield Vertical(id=f"ca-{key}", classes="ca-files")

    def _member_options(self) -> list[Selection[int]]:
        options = []
        for index, node in enumerate(self.state.nodes):
            roles = node.get("roles") or []
            others = ", ".join(r for r in roles if r != "etcd") or "no other role"
            options.append(Selection(Text(f"{node.get('name', '?')}  ({others})"), index, "etcd" in roles))
        return options

    def on_mount(self) -> None:
        super().on_mount()
        self.redraw()
        self.query(BoundField).first().focus_control()

    def owns(self, path: Path) -> bool:
        if path[:2] in (ETCD, PKI) or path == ("spec", "nodes"):
            return True
        # Role problems found by the cross-field rules (the shape is right): topology and membership.
        return self.state.cluster is not None and path[:2] == ("spec", "nodes") and len(path) > 3 and path[3] == "roles"

    @on(SelectionList.SelectionToggled, "#members")
    def _toggled(self, event: SelectionList.SelectionToggled[int]) -> None:
        index = int(event.selection.value)
        selected = set(event.selection_list.selected)
        roles = set(self.state.nodes[index].get("roles") or [])
        roles = roles | {"etcd"} if index in selected else roles - {"etcd"}
        self.state.set(("spec", "nodes", index, "roles"), [str(r) for r in ROLE_ORDER if str(r) in roles] or None)
        self.ctx.forget_observation()
        self.redraw()
        self.show_problems()

    def changed(self, path: Path) -> None:
        self.ctx.forget_observation()
        if path[-1] == "mode" and path[:3] == (*PKI, "ca") and self.state.get(path) != "import":
            # generate takes no files: drop what import needed, so the spec stays valid.
            for key in ("certFile", "keyFile", "keyPassphraseEnv"):
                self.state.set((*path[:-1], key), None)
        self.redraw()

    def redraw(self) -> None:
        """Quorum math, the stacked hint, and which CA fields show."""
        members = sum(1 for node in self.state.nodes if "etcd" in (node.get("roles") or []))
        self.query_one(QuorumMath).show(members)
        stacked = self.state.get((*ETCD, "topology"), "stacked") == "stacked"
        cps = [str(n.get("name")) for n in self.state.nodes if str(Role.CONTROL_PLANE) in (n.get("roles") or [])]
        hint = (
            f"stacked: every control plane is a member ({', '.join(cps) or 'none yet'})"
            if stacked
            else "external: members are etcd-only nodes, not control planes"
        )
        self.query_one("#stacked-hint", Static).update(Text(hint))
        for key, _ in CAS:
            self.show_ca_files(key)

    def show_ca_files(self, key: str) -> None:
        """The certificate and key file fields of a CA, while it is imported (mounted only then)."""
        base = (*PKI, "ca", key)
        importing = self.state.get((*base, "mode"), "generate") == "import"
        container = self.query_one(f"#ca-{key}", Vertical)
        if importing and not container.children:
            fields = model_fields(CASource, base, self.state.data, skip=frozenset({"mode"}), label_prefix="  ")
            container.mount_all(list(fields))
            self.call_after_refresh(self.show_problems)
        elif not importing and container.children:
            container.remove_children()
