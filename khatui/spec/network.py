"""The pod network (CNI): which plugin khatui deploys and the few settings the spec may change.

One enum of encapsulations shared by every plugin plus a table of which plugin takes which keeps the
spec flat (`network.encapsulation: host-gw`), while an encapsulation another plugin owns is refused
with the list this plugin accepts. Only plugins khatui renders completely are choices.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from khatui.spec.base import SpecModel


class NetworkPlugin(StrEnum):
    """The CNI plugin khatui deploys."""

    FLANNEL = "flannel"
    NONE = "none"


class Encapsulation(StrEnum):
    """How pod traffic crosses between nodes."""

    VXLAN = "vxlan"
    HOST_GW = "host-gw"


ENCAPSULATIONS: dict[NetworkPlugin, tuple[Encapsulation, ...]] = {
    NetworkPlugin.FLANNEL: (Encapsulation.VXLAN, Encapsulation.HOST_GW),
    NetworkPlugin.NONE: (),
}
"""What each plugin accepts; the first is its default."""


class Network(SpecModel):
    """The pod network. Its address range is `controlPlane.podCIDR`."""

    plugin: NetworkPlugin = NetworkPlugin.FLANNEL
    """flannel (default: its VXLAN overlay needs nothing from the network but UDP 8472 between the nodes,
    so it works on any plain L2 or routed L3 network, with no BGP peering and no kernel eBPF
    requirements), or none: bring your own CNI (the nodes stay NotReady until it runs)."""
    encapsulation: Encapsulation | None = None
    """flannel: vxlan (default) or host-gw (routes between nodes, which must share one L2 segment)."""
    mtu: int | None = Field(default=None, ge=1280, le=9000)
    """MTU of the pods' interfaces; left out, the plugin derives it from the node's interface."""

    @model_validator(mode="after")
    def _fits_the_plugin(self) -> Network:
        accepted = ENCAPSULATIONS[self.plugin]
        if self.plugin is NetworkPlugin.NONE and (self.encapsulation or self.mtu):
            raise ValueError("plugin 'none' deploys no network: leave out encapsulation and mtu")
        if self.encapsulation is not None and self.encapsulation not in accepted:
            names = ", ".join(str(e) for e in accepted)
            raise ValueError(f"plugin '{self.plugin}' takes encapsulation {names}, not '{self.encapsulation}'")
        return self

    @property
    def chosen_encapsulation(self) -> Encapsulation | None:
        """The spec's encapsulation, or the plugin's default (None for `none`)."""
        accepted = ENCAPSULATIONS[self.plugin]
        return self.encapsulation or (accepted[0] if accepted else None)
