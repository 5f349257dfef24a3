"""The PKI of a 500-node cluster with khatui, cfssl and openssl, side by side, against the floors.

Reproduce (from the repository root; cfssl is Debian's `golang-cfssl`, the guide's tool):

    apt-get install -y golang-cfssl openssl
    .venv/bin/python benchmarks/bench_pki_scale.py      # --runs N (default 5), --algorithms, --workers N

The cluster is the guide's large one: 5 stacked control planes (control-plane + etcd), 3 lb nodes and
492 workers. The set is what `khatui certs generate` issues for it, read from khatui's own catalog:
the etcd, Kubernetes and front-proxy CAs, the service-account key pair and, for each control plane,
etcd server, peer and healthcheck-client, apiserver, apiserver-etcd-client and front-proxy-client
certificates: 34 keys and 33 certificates. Workers get none from the operator: kubeadm joins them
with a bootstrap token and their kubelets ask the cluster for certificates (TLS bootstrap).

cfssl runs as the guide runs it, one `cfssl gencert | cfssljson` pair per certificate; openssl runs
one `openssl req -x509` per certificate. Every figure is the median wall (and CPU) time of a whole
run, processes included, after one untimed warm-up round; the tools take turns within each round.
Two floors are measured in the same rounds:

- key generation: the set's keys made in this process on one thread per core (RSA's prime search
  releases the GIL), nothing else: no tool that makes these keys can be faster;
- Python: a process that starts, imports cryptography and makes one ECDSA key (`bench_pki`'s floor):
  no Python tool can be faster, whatever it issues.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_pki import CA_CONFIG, khatui_setup, python_floor, run_once, script_setup  # noqa: E402

from khatui.pki.catalog import Catalog, LeafSpec, Profile, build_catalog  # noqa: E402
from khatui.pki.keys import generate_key  # noqa: E402
from khatui.spec.validate import validate_file  # noqa: E402

COMMAND = "benchmarks/bench_pki_scale.py"
ECDSA_TARGET = 10.0
"""khatui at least this many times faster than cfssl with ECDSA-P256 (issue 17)."""
RSA_TARGET = 1.2
"""khatui within this factor of the key-generation floor with RSA-2048 (issue 17)."""
OPENSSL_EKU = {Profile.SERVER: "serverAuth", Profile.CLIENT: "clientAuth", Profile.PEER: "serverAuth,clientAuth"}


def spec_yaml(algorithm: str, workers: int) -> str:
    """5 stacked control planes, 3 lb nodes behind haproxy+keepalived, `workers` workers."""
    nodes = [f"    - {{name: cp{i}, address: 10.60.0.{10 + i}, roles: [control-plane, etcd]}}" for i in range(1, 6)]
    nodes += [f"    - {{name: lb{i}, address: 10.60.0.{20 + i}, roles: [lb]}}" for i in range(1, 4)]
    nodes += [
        f"    - {{name: w{i}, address: 10.60.{1 + i // 250}.{1 + i % 250}, roles: [worker]}}" for i in range(workers)
    ]
    return (
        "apiVersion: khatui/v1\nkind: Cluster\nmetadata: {name: bench-500}\nspec:\n  nodes:\n"
        + "\n".join(nodes)
        + f"\n  etcd: {{topology: stacked}}\n  pki: {{keyAlgorithm: {algorithm}}}\n"
        "  loadBalancer: {mode: haproxy-keepalived, vip: 10.60.0.100, interface: eth0}\n"
    )


def catalog_of(spec: Path) -> Catalog:
    """khatui's catalog of `spec`: the set every tool issues."""
    report = validate_file(str(spec), check_local_files=False)
    if report.cluster is None:
        raise SystemExit(f"{spec}: the benchmark spec does not validate: {report.problems[0]}")
    return build_catalog(report.cluster)


def key_count(catalog: Catalog) -> int:
    """CAs, leaves and the service-account key."""
    return len(catalog.authorities) + len(catalog.leaves) + 1


def _name(leaf: LeafSpec) -> str:
    return f"{leaf.node}-{leaf.kind.value}"


def cfssl_script(catalog: Catalog, algorithm: str, work: Path) -> str:
    """The guide's commands for the set: one `cfssl gencert | cfssljson` per certificate."""
    algo, size = ("rsa", 2048) if algorithm == "rsa-2048" else ("ecdsa", 256)
    (work / "ca-config.json").write_text(json.dumps(CA_CONFIG))

    def csr(name: str, cn: str, hosts: list[str]) -> str:
        (work / f"{name}.json").write_text(json.dumps({"CN": cn, "hosts": hosts, "key": {"algo": algo, "size": size}}))
        return f"{name}.json"

    lines = ["set -e"]
    for ca in catalog.authorities:
        name = ca.ca.value
        lines.append(
            f"cfssl gencert -initca {csr(name + '-csr', ca.common_name, [])} 2>/dev/null | cfssljson -bare {name}"
        )
    for leaf in catalog.leaves:
        ca = leaf.issuer.value
        hosts = [san.value for san in leaf.sans] or [""]
        lines.append(
            f"cfssl gencert -ca={ca}.pem -ca-key={ca}-key.pem -config=ca-config.json -profile={leaf.profile.value} "
            f"{csr(_name(leaf), leaf.common_name, hosts)} 2>/dev/null | cfssljson -bare {_name(leaf)}"
        )
    lines.append(f"cfssl genkey {csr('sa', 'service-accounts', [])} 2>/dev/null | cfssljson -bare sa")
    return "\n".join(lines) + "\n"


def openssl_script(catalog: Catalog, algorithm: str, work: Path) -> str:
    """The set with the openssl CLI: one `req -x509` per certificate (OpenSSL 3's -CA option)."""
    del work  # the commands carry everything
    newkey = "rsa:2048" if algorithm == "rsa-2048" else "ec -pkeyopt ec_paramgen_curve:P-256"
    usage = "digitalSignature,keyEncipherment" if algorithm == "rsa-2048" else "digitalSignature"
    lines = ["set -e"]
    for ca in catalog.authorities:
        name = ca.ca.value
        lines.append(
            f"openssl req -x509 -newkey {newkey} -nodes -keyout {name}.key -out {name}.crt -days 3650 "
            f"-subj /CN={ca.common_name} -addext basicConstraints=critical,CA:TRUE "
            "-addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature 2>/dev/null"
        )
    for leaf in catalog.leaves:
        ca, out = leaf.issuer.value, _name(leaf)
        san = ",".join(("IP:" if s.is_ip else "DNS:") + s.value for s in leaf.sans)
        ext = f"-addext subjectAltName={san} " if san else ""
        lines.append(
            f"openssl req -x509 -CA {ca}.crt -CAkey {ca}.key -newkey {newkey} -nodes -keyout {out}.key "
            f"-out {out}.crt -days 1825 -subj /CN={leaf.common_name} -addext basicConstraints=critical,CA:FALSE "
            f"-addext keyUsage=critical,{usage} -addext extendedKeyUsage={OPENSSL_EKU[leaf.profile]} {ext}2>/dev/null"
        )
    sa = "RSA -pkeyopt rsa_keygen_bits:2048" if algorithm == "rsa-2048" else "EC -pkeyopt ec_paramgen_curve:P-256"
    lines += [f"openssl genpkey -algorithm {sa} -out sa.key 2>/dev/null", "openssl pkey -in sa.key -pubout -out sa.pub"]
    return "\n".join(lines) + "\n"


def keygen_floor(algorithm: str, count: int) -> tuple[float, float]:
    """(wall, CPU) seconds to make `count` keys in this process on one thread per core."""
    cpu, start = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(generate_key, [algorithm] * count))
    return time.perf_counter() - start, time.process_time() - cpu


Figures = dict[str, tuple[float, float]]
"""tool (or floor) -> median (wall, CPU) seconds."""


def measure(algorithm: str, spec: Path, root: Path, runs: int, with_cfssl: bool) -> Figures:
    """Every tool and the key-generation floor for `algorithm`, taking turns in each round."""
    catalog = catalog_of(spec)
    keys = key_count(catalog)
    tools: dict[str, Callable[[Path], list[str]]] = {"khatui": partial(khatui_setup, spec)}
    if with_cfssl:
        tools["cfssl"] = partial(script_setup, partial(cfssl_script, catalog), algorithm)
    tools["openssl"] = partial(script_setup, partial(openssl_script, catalog), algorithm)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in [*tools, "keygen floor"]}
    for round_index in range(runs + 1):  # round 0 warms caches and is not counted
        figures = {
            tool: run_once(setup, root / f"{tool}-{algorithm}-{round_index}", keys) for tool, setup in tools.items()
        }
        figures["keygen floor"] = keygen_floor(algorithm, keys)
        if round_index:
            for name, pair in figures.items():
                samples[name].append(pair)
    return {
        name: (statistics.median(w for w, _ in pairs), statistics.median(c for _, c in pairs))
        for name, pairs in samples.items()
    }


def main() -> int:
    """Run every tool for every algorithm, print the table, the floors and the targets."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed rounds (median shown)")
    parser.add_argument("--algorithms", default="ecdsa-p256,rsa-2048", help="comma-separated: ecdsa-p256, rsa-2048")
    parser.add_argument("--workers", type=int, default=492, help="worker nodes besides 5 control planes and 3 lb")
    args = parser.parse_args()
    algorithms = [a for a in args.algorithms.split(",") if a]
    with_cfssl = bool(shutil.which("cfssl") and shutil.which("cfssljson"))
    if not with_cfssl:
        print("cfssl not found: install Debian's golang-cfssl (apt-get install -y golang-cfssl); cfssl is skipped")
    if not shutil.which("openssl"):
        raise SystemExit("openssl not found: apt-get install -y openssl")
    results: dict[str, Figures] = {}
    keys = 0
    with tempfile.TemporaryDirectory(prefix="bench-pki-scale-") as tmp:
        root = Path(tmp)
        os.environ["KHATUI_DATA_DIR"] = str(root / "data")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode cached
        for algorithm in algorithms:
            spec = root / f"{algorithm}.yaml"
            spec.write_text(spec_yaml(algorithm, args.workers))
            keys = key_count(catalog_of(spec))
            results[algorithm] = measure(algorithm, spec, root, args.runs, with_cfssl)
    floor = python_floor(args.runs)  # (wall, CPU)
    nodes = 8 + args.workers
    print_table(results, algorithms, f"{nodes} nodes: {keys} keys + {keys - 1} certificates", args.runs, floor)
    print_targets(results, floor)
    print(f"\nreproduce: .venv/bin/python {COMMAND} --runs {args.runs} --algorithms {args.algorithms}")
    return 0


def print_table(
    results: dict[str, Figures], algorithms: list[str], what: str, runs: int, floor: tuple[float, float]
) -> None:
    """Wall and CPU per tool and floor, and the speed-up against cfssl (cfssl time / tool time)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\n{what}, median of {runs} rounds, {os.cpu_count()} cores, load average {load}")
    header = f"{'':<14}" + "".join(f"{a + ' wall':>18}{'cpu':>8}{'vs cfssl':>10}" for a in algorithms)
    print(header)
    print("-" * len(header))
    for name in ("khatui", "cfssl", "openssl", "keygen floor", "python floor"):
        row = f"{name:<14}"
        for algorithm in algorithms:
            figures = dict(results[algorithm])
            if algorithm.startswith("ecdsa"):
                figures["python floor"] = floor
            if name not in figures:
                row += f"{'':>36}"
                continue
            wall, cpu = figures[name]
            reference = figures.get("cfssl")
            ratio = f"{reference[0] / wall:.2f}x" if reference else "n/a"
            row += f"{wall:>17.3f}s{cpu:>7.2f}s{ratio:>10}"
        print(row)


def print_targets(results: dict[str, Figures], floor: tuple[float, float]) -> None:
    """Each issue-17 target with the measured ratio and PASS or MISS."""
    print()
    ecdsa, rsa = results.get("ecdsa-p256"), results.get("rsa-2048")
    if ecdsa and "cfssl" in ecdsa:
        ratio, cpu_ratio = (ecdsa["cfssl"][i] / ecdsa["khatui"][i] for i in (0, 1))
        verdict = "PASS" if ratio >= ECDSA_TARGET else "MISS"
        print(
            f"ECDSA: khatui {ratio:.2f}x faster than cfssl, {cpu_ratio:.2f}x in CPU "
            f"(target >= {ECDSA_TARGET:.0f}x): {verdict}"
        )
        best, best_cpu = (ecdsa["cfssl"][i] / floor[i] for i in (0, 1))
        print(f"       the best any Python process can do: cfssl / python floor = {best:.2f}x, {best_cpu:.2f}x in CPU")
    if rsa:
        ratio, cpu_ratio = (rsa["khatui"][i] / rsa["keygen floor"][i] for i in (0, 1))
        verdict = "PASS" if ratio <= RSA_TARGET else "MISS"
        print(
            f"RSA:   khatui at {ratio:.2f}x the key-generation floor, {cpu_ratio:.2f}x in CPU "
            f"(target <= {RSA_TARGET}x): {verdict}"
        )
        if "cfssl" in rsa:
            speedup = rsa["cfssl"][0] / rsa["khatui"][0]
            print(f"       khatui {speedup:.2f}x faster than cfssl (target > 1x): {'PASS' if speedup > 1 else 'MISS'}")


if __name__ == "__main__":
    raise SystemExit(main())
