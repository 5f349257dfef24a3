"""kubeconfig documents: the discovery file kubeadm joins with, and the URLs every kubeconfig points at."""

from __future__ import annotations

import base64
import ipaddress

import yaml
from hypothesis import given
from hypothesis import strategies as st

from khatui.render.kubeconfig import discovery_kubeconfig
from khatui.render.urls import host_port, https_url

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
TOKEN = "abcdef.0123456789abcdef"
DISCOVERY = f"""\
apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    certificate-authority-data: {base64.b64encode(CA).decode()}
    server: https://[fd00::10]:6443
contexts:
- name: bootstrap
  context:
    cluster: kubernetes
    user: bootstrap
current-context: bootstrap
users:
- name: bootstrap
  user:
    token: {TOKEN}
"""


def test_discovery_kubeconfig_embeds_the_ca_and_the_token() -> None:
    """Byte for byte what kubeadm's file discovery reads (and what plans before the phase split wrote)."""
    assert discovery_kubeconfig("https://[fd00::10]:6443", CA, TOKEN).decode() == DISCOVERY


def test_urls_bracket_ipv6_hosts_only() -> None:
    assert https_url("10.0.0.1", 6443, "/healthz") == "https://10.0.0.1:6443/healthz"
    assert https_url(ipaddress.ip_address("fd00::1"), 443) == "https://[fd00::1]:443"
    assert host_port("api.example.com", 6443) == "api.example.com:6443"


@given(st.ip_addresses(), st.integers(1, 65535))
def test_a_url_host_parses_back_to_the_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int
) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(https_url(address, port))
    assert parts.port == port and ipaddress.ip_address(parts.hostname or "") == address
    assert yaml.safe_load(discovery_kubeconfig(https_url(address, port), CA, TOKEN))["clusters"][0]["cluster"][
        "server"
    ] == https_url(address, port)
