"""Issue the guide's PKI with khatui, cfssl and the openssl CLI, side by side, and compare wall times.

Reproduce (from the repository root; cfssl is Debian's `golang-cfssl`, the guide's tool):

    apt-get install -y golang-cfssl openssl
    .venv/bin/python benchmarks/bench_pki.py            # --runs N (default 5), --algorithms rsa-2048,ecdsa-p256

The set is the same for all three tools, 16 keys and 15 certificates: an etcd CA and, for each of 3
external etcd members, a server, a peer and a healthcheck-client certificate; the Kubernetes CA, the
front-proxy CA and the service-account key pair; and for one control plane the apiserver serving
certificate, the apiserver-etcd-client and the front-proxy-client certificates. cfssl runs the
guide's commands (one `cfssl gencert | cfssljson` pair per certificate, with the guide's
ca-config.json profiles); openssl runs one `openssl req -x509` per certificate. Each figure is the
median wall time of a whole run, processes included (for khatui: `khatui certs generate` into an
empty directory, interpreter start-up, spec validation and atomic fsync'd writes included), after
one untimed warm-up run of each tool.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

MEMBERS = [("etcd1", "10.30.0.11"), ("etcd2", "10.30.0.12"), ("etcd3", "10.30.0.13")]
MASTER = ("master1", "10.30.0.21")
LB = "k8s-api.example.com"
EXPECTED_KEYS = 16
FLOOR_TARGET = 1.5
"""khatui's ECDSA run within this factor of the Python floor (issue 17)."""

CA_CONFIG = {
    "signing": {
        "default": {"expiry": "43800h"},
        "profiles": {
            "server": {"expiry": "43800h", "usages": ["signing", "key encipherment", "server auth"]},
            "client": {"expiry": "43800h", "usages": ["signing", "key encipherment", "client auth"]},
            "peer": {"expiry": "43800h", "usages": ["signing", "key encipherment", "server auth", "client auth"]},
        },
    }
}
APISERVER_HOSTS = [
    MASTER[0], MASTER[1], LB, "localhost", "127.0.0.1", "kubernetes", "kubernetes.default",
    "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "10.96.0.1",
]  # fmt: skip


def spec_yaml(algorithm: str) -> str:
    """The cluster spec khatui reads: 3 external etcd members, one control plane, an external LB."""
    nodes = "".join(f"    - {{name: {n}, address: {a}, roles: [etcd]}}\n" for n, a in MEMBERS)
    nodes += f"    - {{name: {MASTER[0]}, address: {MASTER[1]}, roles: [control-plane]}}\n"
    return (
        "apiVersion: khatui/v1\nkind: Cluster\nmetadata: {name: bench}\nspec:\n  nodes:\n"
        f"{nodes}  etcd: {{topology: external}}\n  pki: {{keyAlgorithm: {algorithm}}}\n"
        f"  loadBalancer: {{mode: external, address: {LB}}}\n"
    )


def cfssl_script(algorithm: str, work: Path) -> str:
    """The guide's cfssl commands for the whole set (one gencert | cfssljson per certificate)."""
    algo, size = ("rsa", 2048) if algorithm == "rsa-2048" else ("ecdsa", 256)
    (work / "ca-config.json").write_text(json.dumps(CA_CONFIG))

    def csr(name: str, cn: str, hosts: list[str]) -> str:
        (work / f"{name}.json").write_text(json.dumps({"CN": cn, "hosts": hosts, "key": {"algo": algo, "size": size}}))
        return f"{name}.json"

    def sign(ca: str, profile: str, csr_file: str, out: str) -> str:
        return (
            f"cfssl gencert -ca={ca}.pem -ca-key={ca}-key.pem -config=ca-config.json -profile={profile} "
            f"{csr_file} 2>/dev/null | cfssljson -bare {out}"
        )

    lines = ["set -e"]
    for ca in ("etcd-ca", "ca", "front-proxy-ca"):
        lines.append(f"cfssl gencert -initca {csr(ca + '-csr', ca, [])} 2>/dev/null | cfssljson -bare {ca}")
    for name, address in MEMBERS:
        hosts = csr(f"{name}-config", name, [name, address, "localhost", "127.0.0.1", "::1"])
        lines.append(sign("etcd-ca", "server", hosts, f"{name}-server"))
        lines.append(sign("etcd-ca", "peer", hosts, f"{name}-peer"))
        lines.append(sign("etcd-ca", "client", csr(f"{name}-hc", "kube-etcd-healthcheck-client", [""]), f"{name}-hc"))
    lines.append(sign("ca", "server", csr("apiserver", "kube-apiserver", APISERVER_HOSTS), "apiserver"))
    lines.append(sign("etcd-ca", "client", csr("apiserver-etcd-client", "kube-apiserver-etcd-client", [""]), "aec"))
    lines.append(sign("front-proxy-ca", "client", csr("fpc", "front-proxy-client", [""]), "front-proxy-client"))
    lines.append(f"cfssl genkey {csr('sa', 'service-accounts', [])} 2>/dev/null | cfssljson -bare sa")
    return "\n".join(lines) + "\n"


def openssl_script(algorithm: str, work: Path) -> str:
    """The same set with the openssl CLI: one `req -x509` per certificate (OpenSSL 3's -CA option)."""
    newkey = "rsa:2048" if algorithm == "rsa-2048" else "ec -pkeyopt ec_paramgen_curve:P-256"
    keyusage = "digitalSignature,keyEncipherment" if algorithm == "rsa-2048" else "digitalSignature"
    lines = ["set -e"]
    for ca in ("etcd-ca", "ca", "front-proxy-ca"):
        lines.append(
            f"openssl req -x509 -newkey {newkey} -nodes -keyout {ca}.key -out {ca}.crt -days 3650 -subj /CN={ca} "
            "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature "
            "2>/dev/null"
        )

    def leaf(ca: str, out: str, cn: str, eku: str, hosts: list[str]) -> str:
        san = ",".join(("IP:" if h[0].isdigit() or ":" in h else "DNS:") + h for h in hosts)
        ext = f"-addext subjectAltName={san} " if hosts else ""
        return (
            f"openssl req -x509 -CA {ca}.crt -CAkey {ca}.key -newkey {newkey} -nodes -keyout {out}.key -out {out}.crt "
            f"-days 1825 -subj /CN={cn} -addext basicConstraints=critical,CA:FALSE "
            f"-addext keyUsage=critical,{keyusage} -addext extendedKeyUsage={eku} {ext}2>/dev/null"
        )

    for name, address in MEMBERS:
        hosts = [name, address, "localhost", "127.0.0.1", "::1"]
        lines.append(leaf("etcd-ca", f"{name}-server", name, "serverAuth,clientAuth", hosts))
        lines.append(leaf("etcd-ca", f"{name}-peer", name, "serverAuth,clientAuth", hosts))
        lines.append(leaf("etcd-ca", f"{name}-hc", "kube-etcd-healthcheck-client", "clientAuth", []))
    lines.append(leaf("ca", "apiserver", "kube-apiserver", "serverAuth", APISERVER_HOSTS))
    lines.append(leaf("etcd-ca", "aec", "kube-apiserver-etcd-client", "clientAuth", []))
    lines.append(leaf("front-proxy-ca", "fpc", "front-proxy-client", "clientAuth", []))
    sa = "RSA -pkeyopt rsa_keygen_bits:2048" if algorithm == "rsa-2048" else "EC -pkeyopt ec_paramgen_curve:P-256"
    lines.append(f"openssl genpkey -algorithm {sa} -out sa.key 2>/dev/null")
    lines.append("openssl pkey -in sa.key -pubout -out sa.pub")
    return "\n".join(lines) + "\n"


def khatui_command() -> list[str]:
    """The installed console script next to this interpreter (what an operator runs)."""
    script = Path(sys.executable).parent / "khatui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "khatui"]


def count_keys(directory: Path) -> int:
    """Private key files a run produced (khatui *.key, cfssl *-key.pem, openssl *.key)."""
    return sum(1 for p in directory.rglob("*") if p.name.endswith((".key", "-key.pem")))


def khatui_setup(spec: Path, work: Path) -> list[str]:
    """`khatui certs generate SPEC --dir WORK/pki`."""
    return [*khatui_command(), "certs", "generate", str(spec), "--dir", str(work / "pki")]


def script_setup(script: Callable[[str, Path], str], algorithm: str, work: Path) -> list[str]:
    """A bash script (the cfssl or openssl commands) written for `work`."""
    return ["bash", "-c", script(algorithm, work)]


def run_once(setup: Callable[[Path], list[str]], work: Path, expected: int = EXPECTED_KEYS) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole run in the empty folder `work`; checks the key count, cleans up.

    CPU is user + system time of the process tree: unlike wall time, it does not depend on how many
    cores other work leaves free, so it shows the work done even on a busy machine.
    """
    work.mkdir()
    command = setup(work)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=work, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    keys = count_keys(work)
    if keys != expected:
        raise SystemExit(f"{command[0]} produced {keys} keys, expected {expected} (in {work})")
    shutil.rmtree(work)
    return elapsed, cpu


def measure(tools: dict[str, Callable[[Path], list[str]]], root: Path, runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) per tool; tools take turns within each round so machine noise hits them alike."""
    walls: dict[str, list[float]] = {tool: [] for tool in tools}
    cpus: dict[str, list[float]] = {tool: [] for tool in tools}
    for round_index in range(runs + 1):  # round 0 warms caches and is not counted
        for tool, setup in tools.items():
            wall, cpu = run_once(setup, root / f"{tool}-{round_index}")
            if round_index:
                walls[tool].append(wall)
                cpus[tool].append(cpu)
    return {tool: (statistics.median(walls[tool]), statistics.median(cpus[tool])) for tool in tools}


def main() -> int:
    """Run every tool for every algorithm and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per tool and algorithm (median shown)")
    parser.add_argument("--algorithms", default="rsa-2048,ecdsa-p256", help="comma-separated: rsa-2048, ecdsa-p256")
    args = parser.parse_args()
    algorithms = [a for a in args.algorithms.split(",") if a]
    has_cfssl = bool(shutil.which("cfssl") and shutil.which("cfssljson"))
    if not has_cfssl:
        print("cfssl not found: install Debian's golang-cfssl (apt-get install -y golang-cfssl); cfssl is skipped")
    if not shutil.which("openssl"):
        raise SystemExit("openssl not found: apt-get install -y openssl")
    results: dict[str, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pki-") as tmp:
        root = Path(tmp)
        os.environ["KHATUI_DATA_DIR"] = str(root / "data")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode cached
        for algorithm in algorithms:
            spec = root / f"{algorithm}.yaml"
            spec.write_text(spec_yaml(algorithm))
            tools: dict[str, Callable[[Path], list[str]]] = {"khatui": partial(khatui_setup, spec)}
            if has_cfssl:
                tools["cfssl"] = partial(script_setup, cfssl_script, algorithm)
            tools["openssl"] = partial(script_setup, openssl_script, algorithm)
            for tool, figures in measure(tools, root, args.runs).items():
                results.setdefault(tool, {})[algorithm] = figures
    print_table(results, algorithms, args.runs)
    floor, floor_cpu = python_floor(args.runs)
    print(
        f"\nfloor: a Python process that only imports cryptography and makes one ECDSA key: {floor:.3f}s "
        f"(CPU {floor_cpu:.2f}s; interpreter and venv start-up included, like khatui's figure)"
    )
    mine = results["khatui"].get("ecdsa-p256")
    if mine:
        verdict = "PASS" if mine[0] <= FLOOR_TARGET * floor else "MISS"
        print(
            f"       khatui's ECDSA run at {mine[0] / floor:.2f}x the floor, {mine[1] / floor_cpu:.2f}x in CPU "
            f"(target <= {FLOOR_TARGET}x): {verdict}"
        )
    ecdsa = results.get("cfssl", {}).get("ecdsa-p256")
    if ecdsa:
        print(f"       the best any Python tool could do against cfssl with ECDSA: {ecdsa[0] / floor:.2f}x")
    return 0


FLOOR = (
    "from cryptography import x509\n"
    "from cryptography.hazmat.primitives import hashes, serialization\n"
    "from cryptography.hazmat.primitives.asymmetric import ec\n"
    "ec.generate_private_key(ec.SECP256R1())\n"
)


def python_floor(runs: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of a process that does nothing but what every Python PKI tool must:
    start and load cryptography (the OpenSSL-backed extension)."""
    walls, cpus = [], []
    for _ in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", FLOOR], check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls[1:]), statistics.median(cpus[1:])


def print_table(results: dict[str, dict[str, tuple[float, float]]], algorithms: list[str], runs: int) -> None:
    """Wall and CPU times, and wall-time speed-up against cfssl (cfssl time / tool time: >1 is faster)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"\n{EXPECTED_KEYS} keys + 15 certificates, median of {runs} runs, {os.cpu_count()} cores, load average {load}"
    )
    header = f"{'tool':<9}" + "".join(f"{a + ' wall':>18}{'cpu':>8}{'vs cfssl':>10}" for a in algorithms)
    print(header)
    print("-" * len(header))
    for tool in ("khatui", "cfssl", "openssl"):
        if tool not in results:
            continue
        row = f"{tool:<9}"
        for algorithm in algorithms:
            wall, cpu = results[tool][algorithm]
            reference = results.get("cfssl", {}).get(algorithm)
            ratio = f"{reference[0] / wall:.2f}x" if reference else "n/a"
            row += f"{wall:>17.3f}s{cpu:>7.2f}s{ratio:>10}"
        print(row)


if __name__ == "__main__":
    raise SystemExit(main())
