"""The probe script and the parsers of its sections.

The script is POSIX sh, read-only, and tolerant: a missing tool prints nothing for its section
rather than failing the probe. Sections start with a line `@@name [argument]`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable

from khatui import layout
from khatui.facts.model import EtcdMember, NodeFacts
from khatui.quoting import shell as sh

BINARIES = (
    "etcd",
    "etcdctl",
    "kubeadm",
    "kubelet",
    "kubectl",
    "haproxy",
    "keepalived",
    "nginx",
    "containerd",
    "systemctl",
)
SYSCTLS = (
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-iptables",
    "net.ipv4.ip_nonlocal_bind",
)
ETCD_MEMBERS = (
    # The local etcd member's view of its cluster, with the ETCDCTL_* variables khatui installs there:
    # etcdctl where it is installed, else etcd's JSON gateway through curl (static pods bring no etcdctl).
    f"if [ -r {layout.ETCDCTL_ENV} ]; then echo @@etcd-members; ( set -a; . {layout.ETCDCTL_ENV}; "
    "if command -v etcdctl >/dev/null; then timeout 5 etcdctl --command-timeout=4s -w json member list; "
    'else curl -s --max-time 4 --cacert "$ETCDCTL_CACERT" --cert "$ETCDCTL_CERT" --key "$ETCDCTL_KEY" '
    '-X POST -d "{}" "${ETCDCTL_ENDPOINTS%%,*}/v3/cluster/member/list"; fi ) | tr -d "\\n"; echo; fi'
)
_CONTENT = """khatui_content() { [ -f "$1" ] && { printf '@@content %s\\n' "$1"; base64 -w0 "$1"; echo; }; }"""
"""Prints one file's section; the path reaches it as an argument, never as script text."""
SERVICES = ("etcd", "kubelet", "haproxy", "keepalived", "nginx", "containerd")
_VERSION_FLAGS = {
    "haproxy": "-v",
    "keepalived": "--version",
    "nginx": "-v",
    "etcdctl": "version",
    "kubectl": "version --client",
}


def script(paths: Iterable[str], content_paths: Iterable[str], extra: str = "") -> str:
    """The probe for a node that would receive `paths` (hashes) and `content_paths` (contents too);
    `extra` (more read-only probing, such as the network mesh) runs in the same round trip."""
    lines = [
        "exec 2>/dev/null",
        "echo @@time; date +%s.%N",
        "echo @@os; cat /etc/os-release",
        "echo @@kernel; uname -r",
        "echo @@cpus; nproc",
        "echo @@memory; grep MemTotal /proc/meminfo",
        "echo @@swap; tail -n +2 /proc/swaps",
        "echo @@listening; ss -Hltnp",
        "echo @@addresses; ip -o addr show | awk '{print $4}' | cut -d/ -f1",
        "echo @@modules; cut -d' ' -f1 /proc/modules",
        "echo @@available; find /lib/modules/$(uname -r) -name '*.ko*' 2>/dev/null | sed 's|.*/||; s|\\.ko.*||'",
        "echo @@sysctl; for k in " + " ".join(SYSCTLS) + "; do printf '%s=%s\\n' $k \"$(sysctl -n $k)\"; done",
        "echo @@binaries",
    ]
    for name in BINARIES:
        flag = _VERSION_FLAGS.get(name, "--version")
        lines.append(
            f"command -v {name} >/dev/null && printf '%s\\t%s\\n' {name} \"$({name} {flag} 2>&1 | head -n 1)\""
        )
    lines.append(
        "echo @@services; for u in "
        + " ".join(SERVICES)
        + "; do printf '%s=%s\\n' $u \"$(systemctl show -p ActiveState --value $u.service)\"; done"
    )
    lines.append(ETCD_MEMBERS)
    lines.append("echo @@hashes")
    hashed = sorted(set(paths))
    if hashed:
        lines.append(sh.cmd("sha256sum", "--", *hashed))
    lines.append(_CONTENT)
    lines += [sh.cmd("khatui_content", path) for path in sorted(set(content_paths))]
    if extra:
        lines.append(extra.rstrip("\n"))
    lines.append("echo @@end")
    return "\n".join(lines) + "\n"


def sections(output: str) -> dict[str, list[str]]:
    """Split probe output into sections; `@@content PATH` sections are keyed `content PATH`."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("@@"):
            current = found.setdefault(line[2:].strip(), [])
        elif current is not None:
            current.append(line)
    return found


def parse_os(lines: list[str]) -> tuple[str, str, str]:
    """(ID, VERSION_ID, PRETTY_NAME) from /etc/os-release."""
    values = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"')
    return values.get("ID", ""), values.get("VERSION_ID", ""), values.get("PRETTY_NAME", "")


def parse_memory(lines: list[str]) -> int:
    """MiB from a `MemTotal: N kB` line."""
    for line in lines:
        match = re.match(r"MemTotal:\s+(\d+)\s+kB", line)
        if match:
            return int(match.group(1)) // 1024
    return 0


def parse_listening(lines: list[str]) -> dict[int, str]:
    """TCP port -> process name from `ss -Hltnp` lines."""
    ports: dict[int, str] = {}
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        local = fields[3]
        port_text = local.rsplit(":", 1)[-1]
        if not port_text.isdigit():
            continue
        match = re.search(r'users:\(\("([^"]+)"', line)
        ports.setdefault(int(port_text), match.group(1) if match else "")
    return ports


def parse_key_values(lines: list[str]) -> dict[str, str]:
    """`key=value` lines; empty values dropped."""
    values = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and value.strip():
            values[key.strip()] = value.strip()
    return values


def parse_binaries(lines: list[str]) -> dict[str, str]:
    """`name<TAB>version line` lines."""
    found = {}
    for line in lines:
        name, sep, version = line.partition("\t")
        if sep:
            found[name] = version.strip()
    return found


def parse_hashes(lines: list[str]) -> dict[str, str]:
    """`sha256  path` lines from sha256sum; a line starting with `\\` has its path escaped (GNU
    sha256sum's form for a name holding a backslash or a newline)."""
    hashes = {}
    for line in lines:
        escaped = line.startswith("\\")
        digest, sep, path = line.removeprefix("\\").partition("  ")
        if sep and re.fullmatch(r"[0-9a-f]{64}", digest):
            hashes[_unescape(path) if escaped else path] = digest
    return hashes


def _unescape(path: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), path)


def parse_etcd_members(lines: list[str]) -> tuple[tuple[EtcdMember, ...] | None, str]:
    """(members, "") from etcd's member list JSON; (None, why) when the local member did not answer."""
    text = "".join(lines).strip()
    try:
        data = json.loads(text)
        members = tuple(
            EtcdMember(
                name=str(item.get("name", "")),
                member_id=f"{int(item['ID']):x}",
                peer_urls=tuple(item.get("peerURLs", ())),
                client_urls=tuple(item.get("clientURLs", ())),
                learner=bool(item.get("isLearner", False)),
            )
            for item in data["members"]
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, f"the local etcd member did not list its cluster: {text[:160] or 'no answer'}"
    return members, ""


def clock_offset(node_time: float, sent: float, received: float) -> float:
    """How far the node's clock is at least off: 0 when its reading falls between sending the probe
    and receiving its answer (session start-up on a node can take seconds; that is not skew)."""
    if node_time < sent:
        return node_time - sent
    if node_time > received:
        return node_time - received
    return 0.0


def parse(node: str, output: str, sent: float, received: float | None = None) -> NodeFacts:
    """All facts from one probe's output; `sent`/`received`: the operator's clock around the probe."""
    found = sections(output)
    os_id, os_version, pretty = parse_os(found.get("os", []))
    cpus = found.get("cpus", ["0"])
    time_lines = found.get("time", [])
    node_time = float(time_lines[0]) if time_lines and re.fullmatch(r"\d+(\.\d+)?", time_lines[0]) else sent
    contents = {}
    for key, value in found.items():
        if key.startswith("content "):
            try:
                contents[key[len("content ") :]] = base64.b64decode("".join(value), validate=True)
            except ValueError:
                continue
    members, members_error = parse_etcd_members(found["etcd-members"]) if "etcd-members" in found else (None, "")
    return NodeFacts(
        node=node,
        os_id=os_id,
        os_version=os_version,
        os_pretty=pretty,
        kernel=(found.get("kernel") or [""])[0],
        cpus=int(cpus[0]) if cpus and cpus[0].isdigit() else 0,
        memory_mib=parse_memory(found.get("memory", [])),
        swap_devices=tuple(line.split()[0] for line in found.get("swap", []) if line.strip()),
        clock_offset_s=clock_offset(node_time, sent, sent if received is None else received),
        listening=parse_listening(found.get("listening", [])),
        modules_loaded=frozenset(line.strip() for line in found.get("modules", []) if line.strip()),
        modules_available=frozenset(line.strip() for line in found.get("available", []) if line.strip()),
        sysctls=parse_key_values(found.get("sysctl", [])),
        binaries=parse_binaries(found.get("binaries", [])),
        file_hashes=parse_hashes(found.get("hashes", [])),
        file_contents=contents,
        addresses=frozenset(line.strip() for line in found.get("addresses", []) if line.strip()),
        services=parse_key_values(found.get("services", [])),
        etcd_members=members,
        etcd_members_error=members_error,
    )
