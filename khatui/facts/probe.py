"""The probe: a table of (section, command, parser), run as one script per node, parsed section by section.

Gathering is one SSH round trip per node, so the table builds one POSIX sh script that prints every
section under a line `@@name [argument]`, and the output is split by those lines and each section
handed to its own parser. The script is read-only and tolerant: a missing tool prints nothing for its
section rather than failing the probe. A parser takes the facts so far and the section's lines and
returns the facts with its fields filled in, so each row is tested against recorded output alone
(tests/facts/fixtures/).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from khatui import nodepaths
from khatui.facts import install_sections
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
    "runc",
    "crictl",
    "systemctl",
)
SYSCTLS = (
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-iptables",
    "net.ipv4.ip_nonlocal_bind",
)
PATH_EXECUTABLES = (
    "crictl",
    "conntrack",
    "ip",
    "iptables",
    "mount",
    "nsenter",
    "ebtables",
    "ethtool",
    "socat",
    "tc",
    "touch",
)
"""Every executable kubeadm's preflight looks up in PATH in some supported version
(`khatui.preflight.upstream.kubeadm_executables` says which, and whether it is mandatory)."""
CRI_SOCKETS = (
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
)
"""The container runtime sockets kubeadm knows (cmd/kubeadm/app/constants/constants_unix.go)."""
CONTAINERD_CONFIG = "/etc/containerd/config.toml"
CNI_BIN_DIR = "/opt/cni/bin"
SERVICES = ("etcd", "kubelet", "haproxy", "keepalived", "nginx", "containerd")
_VERSION_FLAGS = {
    "haproxy": "-v",
    "keepalived": "--version",
    "nginx": "-v",
    "etcdctl": "version",
    "kubectl": "version --client",
    "kubeadm": "version -o short",
}


@dataclass(frozen=True)
class Reading:
    """One section of a probe's output, and the operator's clock around the probe."""

    lines: list[str]
    argument: str = ""
    """What follows the section's name on its `@@` line (the path of a `content` section)."""
    sent: float = 0.0
    received: float = 0.0


Parser = Callable[[NodeFacts, Reading], NodeFacts]


@dataclass(frozen=True)
class Section:
    """One row of the probe: a section's name, the sh that prints it, and the parser of its lines."""

    name: str
    command: str
    parse: Parser
    marks_itself: bool = False
    """The command prints its own `@@` line(s): only when it has something to report, or once per file."""

    def script(self) -> str:
        """This section's part of the probe script."""
        if self.marks_itself:
            return self.command
        return f"echo @@{self.name}; {self.command}" if self.command else f"echo @@{self.name}"


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


def _first(lines: list[str]) -> str:
    return lines[0] if lines else ""


def _words(lines: list[str]) -> frozenset[str]:
    return frozenset(line.strip() for line in lines if line.strip())


def _time(facts: NodeFacts, r: Reading) -> NodeFacts:
    text = _first(r.lines)
    node_time = float(text) if re.fullmatch(r"\d+(\.\d+)?", text) else r.sent
    return replace(facts, clock_offset_s=clock_offset(node_time, r.sent, r.received))


def _os(facts: NodeFacts, r: Reading) -> NodeFacts:
    os_id, version, pretty = parse_os(r.lines)
    codename = parse_key_values(r.lines).get("VERSION_CODENAME", "").strip('"')
    return replace(facts, os_id=os_id, os_version=version, os_pretty=pretty, os_codename=codename)


def _etcd_members(facts: NodeFacts, r: Reading) -> NodeFacts:
    members, error = parse_etcd_members(r.lines)
    return replace(facts, etcd_members=members, etcd_members_error=error)


def parse_systemd_cgroup(lines: list[str]) -> str:
    """containerd's runc cgroup driver from `SystemdCgroup = ...` lines of its config.toml (the
    section's first line is `config` or `no-config`): the last setting wins, unset is cgroupfs."""
    if not lines or lines[0].strip() not in ("config", "no-config"):
        return ""
    if lines[0].strip() == "no-config":
        return "no-config"
    driver = "cgroupfs"
    for line in lines[1:]:
        match = re.fullmatch(r"\s*SystemdCgroup\s*=\s*(\w+)\s*(#.*)?", line)
        if match:
            driver = "systemd" if match[1] == "true" else "cgroupfs"
    return driver


def _cni(facts: NodeFacts, r: Reading) -> NodeFacts:
    version = r.lines[0] if r.lines and r.lines[0].startswith("CNI ") else ""
    plugins = _words(r.lines[1:] if version else r.lines)
    return replace(facts, cni_version=version, cni_plugins=plugins)


def _content(facts: NodeFacts, r: Reading) -> NodeFacts:
    if not r.argument:
        return facts
    try:
        data = base64.b64decode("".join(r.lines), validate=True)
    except ValueError:
        return facts
    return replace(facts, file_contents={**facts.file_contents, r.argument: data})


def _lines_parser(parse: Callable[[NodeFacts, list[str]], NodeFacts]) -> Parser:
    return lambda facts, reading: parse(facts, reading.lines)


_BINARY_LINES = "\n".join(
    f"command -v {name} >/dev/null && printf '%s\\t%s\\n' {name} \"$({name} {_VERSION_FLAGS.get(name, '--version')} 2>&1 | head -n 1)\""
    for name in BINARIES
)
ETCD_MEMBERS = (
    # The local etcd member's view of its cluster, with the ETCDCTL_* variables khatui installs there:
    # etcdctl where it is installed, else etcd's JSON gateway through curl (static pods bring no etcdctl).
    f"if [ -r {nodepaths.ETCDCTL_ENV} ]; then echo @@etcd-members; ( set -a; . {nodepaths.ETCDCTL_ENV}; "
    "if command -v etcdctl >/dev/null; then timeout 5 etcdctl --command-timeout=4s -w json member list; "
    'else curl -s --max-time 4 --cacert "$ETCDCTL_CACERT" --cert "$ETCDCTL_CERT" --key "$ETCDCTL_KEY" '
    '-X POST -d "{}" "${ETCDCTL_ENDPOINTS%%,*}/v3/cluster/member/list"; fi ) | tr -d "\\n"; echo; fi'
)
CNI_PLUGINS = f"[ -x {CNI_BIN_DIR}/loopback ] && {CNI_BIN_DIR}/loopback 2>&1 | head -n 1; ls {CNI_BIN_DIR}"
"""The CNI plugins' version (a plugin run without CNI_COMMAND prints `CNI loopback plugin v1.4.0`),
then the plugins installed."""
_CONTENT = """khatui_content() { [ -f "$1" ] && { printf '@@content %s\\n' "$1"; base64 -w0 "$1"; echo; }; }"""
"""Prints one file's section; the path reaches it as an argument, never as script text."""

SECTIONS: tuple[Section, ...] = (
    Section("time", "date +%s.%N", _time),
    Section("os", "cat /etc/os-release", _os),
    Section("arch", "uname -m", lambda f, r: replace(f, arch=_first(r.lines))),
    Section("cni", CNI_PLUGINS, _cni),
    Section("kernel", "uname -r", lambda f, r: replace(f, kernel=_first(r.lines))),
    Section("cpus", "nproc", lambda f, r: replace(f, cpus=int(_first(r.lines)) if _first(r.lines).isdigit() else 0)),
    Section("memory", "grep MemTotal /proc/meminfo", lambda f, r: replace(f, memory_mib=parse_memory(r.lines))),
    Section(
        "swap",
        "tail -n +2 /proc/swaps",
        lambda f, r: replace(f, swap_devices=tuple(line.split()[0] for line in r.lines if line.strip())),
    ),
    Section("listening", "ss -Hltnp", lambda f, r: replace(f, listening=parse_listening(r.lines))),
    Section(
        "addresses",
        "ip -o addr show | awk '{print $4}' | cut -d/ -f1",
        lambda f, r: replace(f, addresses=_words(r.lines)),
    ),
    Section("modules", "cut -d' ' -f1 /proc/modules", lambda f, r: replace(f, modules_loaded=_words(r.lines))),
    Section(
        "sysctl",
        "for k in " + " ".join(SYSCTLS) + "; do printf '%s=%s\\n' $k \"$(sysctl -n $k)\"; done",
        lambda f, r: replace(f, sysctls=parse_key_values(r.lines)),
    ),
    Section("binaries", _BINARY_LINES, lambda f, r: replace(f, binaries=parse_binaries(r.lines))),
    Section(
        "services",
        "for u in "
        + " ".join(SERVICES)
        + "; do printf '%s=%s\\n' $u \"$(systemctl show -p ActiveState --value $u.service)\"; done",
        lambda f, r: replace(f, services=parse_key_values(r.lines)),
    ),
    Section(
        "in-path",
        "for e in " + " ".join(PATH_EXECUTABLES) + "; do command -v $e >/dev/null && echo $e; done",
        lambda f, r: replace(f, in_path=_words(r.lines)),
    ),
    Section(
        "sockets",
        "for s in " + " ".join(CRI_SOCKETS) + "; do [ -S $s ] && echo $s; done",
        lambda f, r: replace(f, sockets=_words(r.lines)),
    ),
    Section(
        "containerd-cgroup",
        f"if [ -r {CONTAINERD_CONFIG} ]; then echo config; grep -E '^[[:space:]]*SystemdCgroup[[:space:]]*=' "
        f"{CONTAINERD_CONFIG}; else echo no-config; fi",
        lambda f, r: replace(f, containerd_cgroup=parse_systemd_cgroup(r.lines)),
    ),
    Section("etcd-members", ETCD_MEMBERS, _etcd_members, marks_itself=True),
    *(Section(name, command, _lines_parser(parse)) for name, command, parse in install_sections.ROWS),
)
"""The sections every node reports, in script order."""
HASHES = Section("hashes", "", lambda f, r: replace(f, file_hashes=parse_hashes(r.lines)))
"""sha256 of the files khatui would write; its command names them (see `script`)."""
CONTENT = Section("content", _CONTENT, _content, marks_itself=True)
"""One `@@content PATH` section per non-secret file khatui would write (base64)."""
_PARSERS = {section.name: section.parse for section in (*SECTIONS, HASHES, CONTENT)}


def script(paths: Iterable[str], content_paths: Iterable[str], extra: str = "") -> str:
    """The probe for a node that would receive `paths` (hashes) and `content_paths` (contents too);
    `extra` (more read-only probing, such as the network mesh) runs in the same round trip."""
    hashed = sorted(set(paths) | {str(p) for p in nodepaths.PACKAGE_MIRROR_FILES})
    hashes = replace(HASHES, command=sh.cmd("sha256sum", "--", *hashed) if hashed else "")
    lines = ["exec 2>/dev/null", *(section.script() for section in SECTIONS), hashes.script(), CONTENT.script()]
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


def parse(node: str, output: str, sent: float, received: float | None = None) -> NodeFacts:
    """All facts from one probe's output; `sent`/`received`: the operator's clock around the probe.
    Sections the table does not know (the mesh's, `end`) are left to their own readers."""
    facts = NodeFacts(node=node)
    for key, lines in sections(output).items():
        name, _, argument = key.partition(" ")
        parser = _PARSERS.get(name)
        if parser is not None:
            facts = parser(facts, Reading(lines, argument, sent, sent if received is None else received))
    return facts
