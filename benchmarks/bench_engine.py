"""Run one SSH workload with khatui's engine, ansible-core, OpenSSH, asyncssh and fabric, side by side.

Reproduce (from the repository root; installs ansible-core, asyncssh and fabric into
benchmarks/.venvs/engine, never into the project venv, and openssh via apt when missing):

    .venv/bin/python benchmarks/bench_engine.py            # --runs N (default 3), --tools a,b, --memory-nodes N

The workload is issue 5's: 20 nodes x 10 steps, per node in order `mkdir -p`, `uname -r`, upload
file0, `test -s file0`, read file0 back (`sha256sum`, compared with the local digest), `cat
/proc/loadavg`, upload file1, `ls -l`, read file1 back, `echo done`. Uploads are 4 KiB of random
bytes, written atomically (temp file + rename) with mode 0644 and owner root. The nodes are 20 real
sshd processes on loopback addresses (tests/engine/sshd.py), every tool checks their host keys
against the farm's known_hosts, and every node's HOME is its own directory so that no tool pays for
this machine's root .bashrc. After every run the benchmark checks each node's files itself.

- khatui: `Executor` with a hand-built one-phase plan, events recorded, the SQLite journal and the
  rollout log on; read-backs compared from the OutputLine events.
- ansible-core: forks=20, pipelining on, its default ControlPersist ssh_args plus host key checking;
  `shell` and `copy` tasks, read-backs by `register` + `failed_when`. Connections start fresh each run.
- openssh: bash, one ControlMaster per node, all nodes in parallel, uploads via `cat > tmp && mv`.
- asyncssh: one connection and one SFTP client per node, all nodes in one event loop.
- fabric: one reused `Connection` per node on 20 threads, fabric's defaults (`put` + `mv`).

Figures: wall time of the whole process (interpreter start-up included, as an operator sees it) and
the time the Python tools report for their work alone; the median of N runs after one untimed
warm-up round, the tools taking turns within each round. Then khatui's cost per step on a reused
connection (200 `true`, and 50 uploads of 4 KiB), and the memory of an engine process holding a
500-node plan: first with 500 Sessions not yet connected, then after running the same 10-step
workload on all 500 nodes (the farm's 20 sshds cycled, so 500 connections are open).
Exits non-zero only on errors; each target prints PASS or MISS.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "benchmarks" / ".venvs" / "engine"
TOOLS = ("khatui", "ansible", "openssh", "asyncssh", "fabric")
BENCH_PACKAGES = ("ansible-core>=2.19,<2.20", "asyncssh>=2.24,<3", "fabric>=3.2,<4")  # as measured in README.md
NODES, FILE_SIZE = 20, 4096
STEPS: list[tuple[str, Any]] = [
    ("run", "mkdir -p {dir}"),
    ("run", "uname -r"),
    ("upload", 0),
    ("run", "test -s {dir}/file0.conf && echo present"),
    ("check", 0),
    ("run", "cat /proc/loadavg"),
    ("upload", 1),
    ("run", "ls -l {dir}"),
    ("check", 1),
    ("run", "echo done"),
]


def remote_dir(node: dict[str, Any], tag: str) -> str:
    return f"{node['root']}/bench/{tag}"


# -- workers: each runs in its own process and prints its result as JSON ------------------------
def khatui_engine(manifest: dict[str, Any], tag: str, nodes: list[tuple[str, dict[str, Any]]], sink: Any) -> Any:
    """An Executor (journal and log on) for the workload on `nodes` (name, farm node to reach it by).

    Returns (executor, sessions, expected read-back digest per step id).
    """
    from khatui.engine.executor import Executor, log_dir
    from khatui.engine.ssh import HostKeys, Session, Target
    from khatui.journal import Journal
    from khatui.plan.model import Phase, Plan, Run, Step, Upload

    keys = HostKeys((Path(manifest["known_hosts"]),), Path(manifest["work"]) / f"pinned-{tag}")
    steps, sessions, expected = [], {}, {}
    for name, node in nodes:
        sessions[name] = Session(Target(name, node["host"], node["port"], identity_file=manifest["key"]), keys)
        where = remote_dir(node, tag) if name == node["name"] else f"{remote_dir(node, tag)}/{name}"
        for index, (kind, arg) in enumerate(STEPS):
            if kind == "run":
                action: Run | Upload = Run(arg.format(dir=where))
            elif kind == "upload":
                content = Path(node["files"][arg]).read_bytes()
                action = Upload(f"{where}/file{arg}.conf", content, 0o644, "root:root")
            else:
                action = Run(f"sha256sum {where}/file{arg}.conf")
                expected[f"bench/{name}/s{index}"] = node["digests"][arg]
            steps.append(Step("bench", name, f"s{index}", f"step {index}", (action,)))
    plan = Plan("bench", "hash", (Phase("bench", "benchmark", tuple(steps)),))
    journal = Journal(Path(manifest["work"]) / f"journal-{tag}.db")
    record = journal.new_rollout("bench", "spec.yaml", "hash", "", log_dir(journal.path))
    return Executor(plan, sessions.__getitem__, sink, journal, record), sessions, expected


def worker_khatui(manifest: dict[str, Any], tag: str) -> float:
    from khatui.events import OutputLine

    start = time.perf_counter()
    events: list[Any] = []
    lock = threading.Lock()

    def sink(event: Any) -> None:
        with lock:
            events.append(event)

    executor, sessions, expected = khatui_engine(manifest, tag, [(n["name"], n) for n in manifest["nodes"]], sink)
    result = executor.run()
    if not result.ok:
        raise SystemExit(result.summary)
    got = {e.step_id: e.line.split()[0] for e in events if isinstance(e, OutputLine) and e.step_id in expected}
    if got != expected:
        raise SystemExit("khatui: a read-back did not match the local digest")
    elapsed = time.perf_counter() - start
    for session in sessions.values():
        session.close()
    executor.journal.close()
    return elapsed


def worker_asyncssh(manifest: dict[str, Any], tag: str) -> float:
    import asyncssh

    async def node_run(node: dict[str, Any]) -> None:
        where = remote_dir(node, tag)
        options = {"username": "root", "client_keys": [manifest["key"]], "known_hosts": manifest["known_hosts"]}
        async with asyncssh.connect(node["host"], node["port"], **options) as conn, conn.start_sftp_client() as sftp:
            for kind, arg in STEPS:
                if kind == "run":
                    await conn.run(arg.format(dir=where), check=True)
                elif kind == "upload":
                    dest = f"{where}/file{arg}.conf"
                    await sftp.put(node["files"][arg], dest + ".tmp")
                    await sftp.chmod(dest + ".tmp", 0o644)
                    await sftp.posix_rename(dest + ".tmp", dest)
                else:
                    out = await conn.run(f"sha256sum {where}/file{arg}.conf", check=True)
                    if str(out.stdout).split()[0] != node["digests"][arg]:
                        raise SystemExit(f"asyncssh: read-back mismatch on {node['name']}")

    async def main() -> None:
        await asyncio.gather(*(node_run(node) for node in manifest["nodes"]))

    start = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - start


def worker_fabric(manifest: dict[str, Any], tag: str) -> float:
    import paramiko
    from fabric import Connection

    def node_run(node: dict[str, Any]) -> None:
        where = remote_dir(node, tag)
        conn = Connection(node["host"], "root", node["port"], connect_kwargs={"key_filename": [manifest["key"]]})
        conn.client.load_host_keys(manifest["known_hosts"])
        conn.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        with conn:
            for kind, arg in STEPS:
                if kind == "run":
                    conn.run(arg.format(dir=where), hide=True, in_stream=False)
                elif kind == "upload":
                    dest = f"{where}/file{arg}.conf"
                    conn.put(node["files"][arg], dest + ".tmp")
                    conn.run(f"chmod 644 {dest}.tmp && mv -f {dest}.tmp {dest}", hide=True, in_stream=False)
                else:
                    out = conn.run(f"sha256sum {where}/file{arg}.conf", hide=True, in_stream=False)
                    if out.stdout.split()[0] != node["digests"][arg]:
                        raise SystemExit(f"fabric: read-back mismatch on {node['name']}")

    start = time.perf_counter()
    with ThreadPoolExecutor(len(manifest["nodes"])) as pool:
        list(pool.map(node_run, manifest["nodes"]))
    return time.perf_counter() - start


def worker_perstep(manifest: dict[str, Any], tag: str) -> dict[str, float]:
    """khatui's cost per action on one reused connection: 200 `true`, 50 uploads of 4 KiB.

    Also the same command over a bare paramiko channel of its own on the same connection (sshd
    starting a session on the node, as Session.run did for every command before its persistent
    shell), and the client CPU khatui spends per `true`.
    """
    from khatui.engine.ssh import HostKeys, Session, Target

    node = manifest["nodes"][0]
    keys = HostKeys((Path(manifest["known_hosts"]),), Path(manifest["work"]) / f"pinned-{tag}")
    session = Session(Target(node["name"], node["host"], node["port"], identity_file=manifest["key"]), keys)
    transport = session.connect().client.get_transport()
    wrapped = "export LC_ALL=C && sh -c true </dev/null"  # what Session.run sends for `true` on a channel of its own

    def bare() -> None:
        channel = transport.open_session()
        channel.exec_command(wrapped)
        if channel.recv_exit_status() != 0:
            raise SystemExit("perstep: `true` failed")
        channel.close()

    def khatui() -> None:
        if session.run("true").exit_code != 0:
            raise SystemExit("perstep: `true` failed")

    def per_call(call: Any, count: int) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            call()
        return (time.perf_counter() - wall) / count * 1000, (time.process_time() - cpu) / count * 1000

    for _ in range(20):
        khatui()
        bare()
    run_ms, cpu_ms = per_call(khatui, 200)
    floor_ms = per_call(bare, 200)[0]
    where, content = remote_dir(node, tag), os.urandom(FILE_SIZE)
    session.run(f"mkdir -p {where}")
    upload_ms = per_call(lambda: session.upload(f"{where}/up.conf", content, 0o644, "root:root"), 50)[0]
    session.close()
    return {"run_ms": run_ms, "cpu_ms": cpu_ms, "floor_ms": floor_ms, "upload_ms": upload_ms}


def worker_memory(manifest: dict[str, Any], tag: str) -> dict[str, float]:
    """RSS of an engine with a 500-node plan: Sessions unconnected, then after running it on all 500."""
    count, farm = manifest["memory_nodes"], manifest["nodes"]
    nodes = [(f"m{i}", farm[i % len(farm)]) for i in range(count)]
    executor, sessions, _ = khatui_engine(manifest, tag, nodes, lambda event: None)
    idle = _rss_mib()["VmRSS"]
    start = time.perf_counter()
    result = executor.run()
    seconds = time.perf_counter() - start
    connected = sum(1 for s in sessions.values() if s._conn is not None and s._conn.is_connected)
    after = _rss_mib()
    if not result.ok or connected != count:
        raise SystemExit(f"memory: {connected}/{count} connected; {result.summary}")
    for session in sessions.values():
        session.close()
    return {"idle": idle, "open": after["VmRSS"], "peak": after["VmHWM"], "seconds": seconds}


def _rss_mib() -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}


WORKERS = {
    "khatui": worker_khatui,
    "asyncssh": worker_asyncssh,
    "fabric": worker_fabric,
    "perstep": worker_perstep,
    "memory": worker_memory,
}


# -- the other tools' inputs, generated ---------------------------------------------------------
def write_ansible(manifest: dict[str, Any], work: Path) -> None:
    """ansible.cfg, an inventory with per-host files and digests, and the playbook (JSON is YAML)."""
    ssh_args = (
        f"-F none -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile={manifest['known_hosts']} "
        "-o StrictHostKeyChecking=yes"
    )
    (work / "ansible.cfg").write_text(
        f"[defaults]\ninventory = {work}/hosts.yml\nforks = {NODES}\nhost_key_checking = True\ngathering = explicit\n"
        f"retry_files_enabled = False\nlocal_tmp = {work}/ansible-local\n"
        f"[ssh_connection]\npipelining = True\nssh_args = {ssh_args}\n"
    )
    hosts = {
        n["name"]: {
            "ansible_host": n["host"],
            "ansible_port": n["port"],
            "ansible_user": "root",
            "ansible_ssh_private_key_file": manifest["key"],
            "ansible_python_interpreter": "/usr/bin/python3",
            "node_root": n["root"],
            "files": n["files"],
            "digests": n["digests"],
        }
        for n in manifest["nodes"]
    }
    (work / "hosts.yml").write_text(json.dumps({"all": {"hosts": hosts}}))
    tasks: list[dict[str, Any]] = []
    for index, (kind, arg) in enumerate(STEPS):
        if kind == "run":
            tasks.append({"name": f"s{index}", "ansible.builtin.shell": arg.format(dir="{{ dir }}")})
        elif kind == "upload":
            copy = {"src": f"{{{{ files[{arg}] }}}}", "dest": f"{{{{ dir }}}}/file{arg}.conf", "mode": "0644"}
            tasks.append({"name": f"s{index}", "ansible.builtin.copy": {**copy, "owner": "root", "group": "root"}})
        else:
            tasks.append(
                {
                    "name": f"s{index}",
                    "ansible.builtin.command": f"sha256sum {{{{ dir }}}}/file{arg}.conf",
                    "register": "out",
                    "failed_when": f"out.rc != 0 or out.stdout.split()[0] != digests[{arg}]",
                }
            )
    play = {"hosts": "all", "gather_facts": False, "vars": {"dir": "{{ node_root }}/bench/{{ tag }}"}, "tasks": tasks}
    (work / "playbook.yml").write_text(json.dumps([play]))


def openssh_script(manifest: dict[str, Any], work: Path, tag: str) -> str:
    """bash: per node in the background, a ControlMaster, then every step through it."""
    lines = ["pids=()"]
    for node in manifest["nodes"]:
        where = remote_dir(node, tag)
        ssh = (
            f"ssh -F none -i {manifest['key']} -o UserKnownHostsFile={manifest['known_hosts']} "
            f"-o StrictHostKeyChecking=yes -o BatchMode=yes -o ControlPath={work}/cp-{tag}-{node['name']} "
            f"-p {node['port']} root@{node['host']}"
        )
        lines += [
            "(",
            "set -e",
            f"S='{ssh}'",
            "$S -o ControlMaster=yes -o ControlPersist=yes -fN",
            "trap '$S -O exit 2>/dev/null' EXIT",
        ]
        for kind, arg in STEPS:
            if kind == "run":
                lines.append(f"$S '{arg.format(dir=where)}'")
            elif kind == "upload":
                tmp, dest = f"{where}/file{arg}.conf.tmp", f"{where}/file{arg}.conf"
                lines.append(
                    f"$S 'cat > {tmp} && chmod 644 {tmp} && chown root:root {tmp} && mv -f {tmp} {dest}'"
                    f" < {node['files'][arg]}"
                )
            else:
                lines += [
                    f"out=$($S 'sha256sum {where}/file{arg}.conf')",
                    f'[ "${{out%% *}}" = {node["digests"][arg]} ]',
                ]
        lines += [") &", "pids+=($!)"]
    lines += ["rc=0", 'for p in "${pids[@]}"; do wait "$p" || rc=1; done', "exit $rc"]
    return "\n".join(lines) + "\n"


# -- the driver ---------------------------------------------------------------------------------
def ensure_tools() -> Path:
    """OpenSSH from apt when missing; ansible-core, asyncssh and fabric in the benchmark's own venv."""
    if not (shutil.which("ssh") and Path("/usr/sbin/sshd").exists()):
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "openssh-client", "openssh-server"], check=True)
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import ansible, asyncssh, fabric"]
    if not python.exists() or subprocess.run(probe, capture_output=True).returncode != 0:
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *BENCH_PACKAGES], check=True)
    return python


def tool_command(
    tool: str, bench_python: Path, manifest_path: Path, work: Path, tag: str
) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    if tool == "khatui":
        return [sys.executable, __file__, "--worker", tool, str(manifest_path), tag], env
    if tool in ("asyncssh", "fabric"):
        return [str(bench_python), __file__, "--worker", tool, str(manifest_path), tag], env
    if tool == "ansible":
        env.update(ANSIBLE_CONFIG=str(work / "ansible.cfg"), ANSIBLE_SSH_CONTROL_PATH_DIR=str(work / f"acp-{tag}"))
        playbook = str(bench_python.parent / "ansible-playbook")
        return [playbook, str(work / "playbook.yml"), "-e", f"tag={tag}"], env
    manifest = json.loads(manifest_path.read_text())
    return ["bash", "-c", openssh_script(manifest, work, tag)], env


def run_tool(tool: str, bench_python: Path, manifest_path: Path, work: Path, tag: str) -> tuple[float, float | None]:
    """(wall, work) seconds of one run of `tool`; raises if it failed or left a wrong file behind."""
    command, env = tool_command(tool, bench_python, manifest_path, work, tag)
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    for sock in (work / f"acp-{tag}").glob("*"):  # ansible's ControlPersist masters
        subprocess.run(["ssh", "-O", "exit", "-S", str(sock), "x"], capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"{tool} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    for node in json.loads(manifest_path.read_text())["nodes"]:
        for index, digest in enumerate(node["digests"]):
            path = Path(remote_dir(node, tag)) / f"file{index}.conf"
            if hashlib.sha256(path.read_bytes()).hexdigest() != digest or path.stat().st_mode & 0o777 != 0o644:
                raise SystemExit(f"{tool}: {path} has the wrong content or mode")
    inner = json.loads(proc.stdout.strip().splitlines()[-1]) if tool in WORKERS else None
    return wall, inner


def worker_json(kind: str, manifest_path: Path, tag: str) -> Any:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(manifest_path), tag], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_manifest(farm: Any, work: Path, memory_nodes: int) -> dict[str, Any]:
    nodes = []
    for node in farm.nodes:
        files, digests = [], []
        for index in range(2):
            path = work / "files" / f"{node.name}-file{index}.conf"
            content = os.urandom(FILE_SIZE)
            path.write_bytes(content)
            files.append(str(path))
            digests.append(hashlib.sha256(content).hexdigest())
        nodes.append(
            {
                "name": node.name,
                "host": node.host,
                "port": node.port,
                "root": str(node.root),
                "files": files,
                "digests": digests,
            }
        )
    return {
        "nodes": nodes,
        "key": str(farm.client_key),
        "known_hosts": str(farm.known_hosts),
        "work": str(work),
        "memory_nodes": memory_nodes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool (median shown)")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ",".join(TOOLS))
    parser.add_argument("--memory-nodes", type=int, default=500, help="nodes in the memory measurement (0: skip)")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "MANIFEST", "TAG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, manifest_path, tag = args.worker
        print(json.dumps(WORKERS[kind](json.loads(Path(manifest_path).read_text()), tag)))
        return 0
    tools = [t for t in args.tools.split(",") if t]
    if unknown := set(tools) - set(TOOLS):
        raise SystemExit(f"unknown tools: {', '.join(sorted(unknown))}")
    bench_python = ensure_tools()
    sys.path.insert(0, str(ROOT))
    from tests.engine.sshd import SSHDFarm

    work = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    (work / "files").mkdir()
    (work / "farm").mkdir()
    farm = SSHDFarm(work / "farm", NODES, subnet=77)
    try:
        manifest = make_manifest(farm, work, args.memory_nodes)
        manifest_path = work / "manifest.json"
        manifest_path.write_text(json.dumps(manifest))
        write_ansible(manifest, work)
        walls: dict[str, list[float]] = {t: [] for t in tools}
        inners: dict[str, list[float]] = {t: [] for t in tools}
        per_step: list[dict[str, float]] = []
        for round_index in range(args.runs + 1):  # round 0 warms caches and is not counted
            for tool in tools:
                wall, inner = run_tool(tool, bench_python, manifest_path, work, f"{tool}-r{round_index}")
                print(f"round {round_index} {tool:<9} {wall:7.3f} s", file=sys.stderr, flush=True)
                if round_index:
                    walls[tool].append(wall)
                    if inner is not None:
                        inners[tool].append(inner)
            if round_index:
                per_step.append(worker_json("perstep", manifest_path, f"perstep-r{round_index}"))
        memory = worker_json("memory", manifest_path, "memory") if args.memory_nodes else None
    finally:
        farm.close()
    print_report(walls, inners, per_step, memory, args)
    shutil.rmtree(work, ignore_errors=True)
    return 0


def print_report(
    walls: dict[str, list[float]],
    inners: dict[str, list[float]],
    per_step: list[dict[str, float]],
    memory: dict[str, float] | None,
    args: argparse.Namespace,
) -> None:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\n{NODES} nodes x {len(STEPS)} steps, median of {args.runs} runs, {os.cpu_count()} cores, load {load}")
    print(f"{'tool':<10}{'wall s':>9}{'work s':>9}{'khatui faster by':>18}")
    wall = {t: statistics.median(v) for t, v in walls.items()}
    for tool, seconds in wall.items():
        inner = f"{statistics.median(inners[tool]):9.3f}" if inners[tool] else f"{'-':>9}"
        ratio = f"{seconds / wall['khatui']:.2f}x" if "khatui" in wall else "n/a"
        print(f"{tool:<10}{seconds:9.3f}{inner}{ratio:>18}")
    run_ms = statistics.median(p["run_ms"] for p in per_step)
    upload_ms = statistics.median(p["upload_ms"] for p in per_step)
    floor_ms = statistics.median(p["floor_ms"] for p in per_step)
    cpu_ms = statistics.median(p["cpu_ms"] for p in per_step)
    print(
        f"\nkhatui on one reused connection: {run_ms:.2f} ms per `true` ({cpu_ms:.2f} ms of it client CPU; the same "
        f"command on a bare paramiko channel: {floor_ms:.2f} ms), {upload_ms:.2f} ms per 4 KiB upload"
    )
    if memory:
        print(
            f"engine with {args.memory_nodes} nodes: {memory['idle']:.0f} MiB with Sessions unconnected; "
            f"{memory['open']:.0f} MiB (peak {memory['peak']:.0f}) after running the workload on all of them, "
            f"{args.memory_nodes} connections open ({memory['seconds']:.1f} s)"
        )
    print("\ntargets")
    if "khatui" in wall:
        faster = {tool: seconds / wall["khatui"] for tool, seconds in wall.items()}
        for tool, text, ok in (
            ("ansible", "khatui >= 30x faster than ansible-core", lambda r: r >= 30),
            ("openssh", "khatui faster than multiplexed OpenSSH", lambda r: r > 1),
            ("asyncssh", "khatui within 1.2x of asyncssh", lambda r: 1 / r <= 1.2),
        ):
            if tool in faster:
                verdict(ok(faster[tool]), f"{text} ({faster[tool]:.2f}x faster)")
    verdict(run_ms <= 5, f"per-step overhead <= 5 ms ({run_ms:.2f} ms)")
    if memory:
        verdict(memory["peak"] < 300, f"{args.memory_nodes}-node engine < 300 MiB (peak {memory['peak']:.0f} MiB)")


def verdict(ok: bool, text: str) -> None:
    print(f"  {'PASS' if ok else 'MISS'}  {text}")


if __name__ == "__main__":
    raise SystemExit(main())
