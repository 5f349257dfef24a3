"""What `khatui bundle` fetches from, on loopback: a files mirror (http.server), a flat apt repository
of small .deb files built here (dpkg-deb, apt-ftparchive), and a real registry (Debian's
docker-registry) holding a tiny image (umoci) under every name the spec's cluster runs."""

from __future__ import annotations

import hashlib
import http.server
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from khatui.bundling.build import artifacts_for
from khatui.bundling.images import cluster_images
from khatui.facts.distro import Family, packages_for
from khatui.render import render_cluster
from khatui.spec.cluster import Cluster
from khatui.spec.yamlio import load_file
from tests.conftest import ROOT

DEPENDENCY = "libkhatui-test-dep"
"""What every fake package depends on: the bundle must hold it too."""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


def example_cluster(mirror: str = "", checksums: str = "") -> Cluster:
    data = load_file(str(ROOT / "assets/examples/single-node-lab.yaml")).data
    binaries = {"mirror": mirror, "checksums": checksums} if mirror else {}
    data["spec"]["install"] = {"enabled": True, "binaries": binaries}
    return Cluster.model_validate(data)


@pytest.fixture
def files_mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(mirror URL, checksums file) serving a stand-in of every release file the example installs."""
    tree, lines = tmp_path / "mirror", []
    for art in artifacts_for(example_cluster(), "amd64"):
        body = f"stand-in for {art.path}\n".encode()
        (tree / art.path).parent.mkdir(parents=True, exist_ok=True)
        (tree / art.path).write_bytes(body)
        lines.append(f"{hashlib.sha256(body).hexdigest()}  {art.path}\n")
    checksums = tmp_path / "SHA256SUMS"
    checksums.write_text("".join(lines))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(tree)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", checksums
    server.shutdown()


def _deb(pool: Path, name: str, depends: str) -> None:
    root = pool / f"build-{name}"
    (root / "DEBIAN").mkdir(parents=True)
    control = f"Package: {name}\nVersion: 1:1.0-1\nArchitecture: all\nMaintainer: khatui tests <t@example.org>\n"
    control += f"Depends: {depends}\n" if depends else ""
    (root / "DEBIAN/control").write_text(control + "Description: a khatui test package\n")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(pool)], check=True, capture_output=True)


@pytest.fixture
def apt_repo(tmp_path: Path) -> list[str]:
    """apt-get `-o` settings naming only a flat repository of the example's packages (each
    depending on `DEPENDENCY`), unsigned and trusted."""
    pool = tmp_path / "repo"
    pool.mkdir()
    cluster = example_cluster()
    for name in packages_for(cluster, cluster.spec.nodes[0], Family.DEBIAN):
        _deb(pool, name, DEPENDENCY)
    _deb(pool, DEPENDENCY, "")
    listing = subprocess.run(["apt-ftparchive", "packages", "."], cwd=pool, check=True, capture_output=True)
    (pool / "Packages").write_bytes(listing.stdout)
    sources = tmp_path / "sources.list"
    sources.write_text(f"deb [trusted=yes] copy:{pool} ./\n")
    (tmp_path / "sources.list.d").mkdir()
    return [f"Dir::Etc::sourcelist={sources}", f"Dir::Etc::sourceparts={tmp_path / 'sources.list.d'}"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """registries.conf sending every registry the example's cluster pulls from (registry.k8s.io,
    ghcr.io for flannel...) to a loopback docker-registry holding a tiny image under every name."""
    port, base = _free_port(), tmp_path / "registry"
    base.mkdir()
    config = base / "config.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {base / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    server = subprocess.Popen(
        ["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        layout = base / "layout"
        subprocess.run(["umoci", "init", "--layout", str(layout)], check=True)
        subprocess.run(["umoci", "new", "--image", f"{layout}:tiny"], check=True)
        hosts: set[str] = set()
        for image in cluster_images(example_cluster(), render_cluster(example_cluster())):
            host, _, name = image.partition("/")  # registry.k8s.io, ghcr.io (the pod network's)...
            hosts.add(host)
            push = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout}:tiny"]
            subprocess.run([*push, f"docker://127.0.0.1:{port}/{host}/{name}"], check=True)
        conf = base / "registries.conf"
        conf.write_text(
            "".join(
                f'[[registry]]\nprefix = "{host}"\nlocation = "127.0.0.1:{port}/{host}"\ninsecure = true\n'
                for host in sorted(hosts)
            )
        )
        yield str(conf)
    finally:
        server.terminate()
        server.wait()
