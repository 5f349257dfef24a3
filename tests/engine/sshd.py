"""Real OpenSSH servers on loopback addresses, one per test node, for engine tests.

Each node is an `sshd -D` on its own 127.0.x.y address with its own host key; a node's "disk" is
a directory under the test's tmp dir, so nodes never see each other's files.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


@dataclass
class TestNode:
    name: str
    host: str
    port: int
    root: Path
    """The node's private directory (its "disk")."""
    host_key: Path
    process: subprocess.Popen[bytes] | None = None

    def public_host_key_line(self) -> str:
        key_type, key = Path(f"{self.host_key}.pub").read_text().split()[:2]
        return f"[{self.host}]:{self.port} {key_type} {key}"


class SSHDFarm:
    """A set of sshd test nodes sharing one client key."""

    def __init__(self, base: Path, count: int, subnet: int = 1) -> None:
        self.base = base
        self.client_key = base / "id_ed25519"
        self.known_hosts = base / "known_hosts"
        self.authorized = base / "authorized_keys"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.client_key)], check=True)
        self.authorized.write_text(Path(f"{self.client_key}.pub").read_text())
        self.authorized.chmod(0o644)
        Path("/run/sshd").mkdir(exist_ok=True)
        self.nodes: list[TestNode] = []
        for index in range(count):
            root = base / f"node{index}"
            root.mkdir()
            key = root / "ssh_host_ed25519_key"
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
            node = TestNode(f"n{index}", f"127.0.{subnet}.{10 + index}", _free_port(), root, key)
            self.nodes.append(node)
            self.start(node)
        self.known_hosts.write_text("".join(n.public_host_key_line() + "\n" for n in self.nodes))

    def start(self, node: TestNode) -> None:
        config = node.root / "sshd_config"
        config.write_text(
            f"ListenAddress {node.host}:{node.port}\nHostKey {node.host_key}\nAuthorizedKeysFile {self.authorized} .ssh/authorized_keys\n"
            f"PidFile {node.root}/sshd.pid\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nLogLevel ERROR\nMaxSessions 100\n"
            "MaxStartups 100\nSubsystem sftp internal-sftp\n"
            # This machine's root .bashrc runs `pyenv init` (~150 ms), which bash sources for every
            # command sshd starts; a node's HOME without it keeps a command at a few ms, as on real nodes.
            f"SetEnv HOME={node.root}\n"
        )
        node.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((node.host, node.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd for {node.name} did not start")

    def stop(self, node: TestNode) -> None:
        if node.process is not None:
            node.process.kill()
            node.process.wait()
            node.process = None

    def close(self) -> None:
        for node in self.nodes:
            self.stop(node)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
