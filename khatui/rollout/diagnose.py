"""A diagnostics bundle an operator can share: logs from every node, the rendered files, the
certificate summaries and a run report, in one tarball, with secrets redacted and no key material."""

from __future__ import annotations

import io
import json
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from khatui.errors import KhatuiError
from khatui.journal import Journal, RolloutRecord
from khatui.localfs import PRIVATE_FILE, Folder
from khatui.pki.catalog import build_catalog
from khatui.pki.status import summaries
from khatui.pki.store import Store
from khatui.redact import Redactor
from khatui.render.files import FileKind
from khatui.rollout.desired import Desired
from khatui.rollout.nodes import Observed

NODE_LOGS = (
    "journalctl --no-pager -n 400 -u etcd -u kubelet -u haproxy -u keepalived -u nginx 2>&1; "
    "echo '--- failed units'; systemctl --failed --no-pager 2>&1; "
    "echo '--- listening'; ss -Hltnp 2>&1; "
    "echo '--- manifests'; ls -l /etc/kubernetes/manifests 2>&1"
)


def run_report(journal: Journal, record: RolloutRecord) -> str:
    """Per node and step: state, timing and how it ended, from the journal."""
    lines = [f"rollout {record.id} of {record.cluster}: {record.state}", f"spec: {record.spec_path}", ""]
    timings: dict[str, float] = {}
    for step_id, started, ended, _result in journal.run_timings(record.id):
        if ended is not None:
            timings[step_id] = timings.get(step_id, 0.0) + ended - started
    steps = sorted(journal.steps(record.id).values(), key=lambda s: (s.node, s.step_id))
    for step in steps:
        seconds = f"{timings[step.step_id]:6.1f} s" if step.step_id in timings else "       -"
        detail = f"  {step.detail}" if step.detail else ""
        lines.append(f"{step.node:<16} {step.step_id:<48} {step.state:<8} {seconds}{detail}")
    if record.failure:
        lines += ["", record.failure]
    return "\n".join(lines) + "\n"


def bundle(
    journal: Journal, record: RolloutRecord, desired: Desired, observed: Observed | None, out: Path, redact: Redactor
) -> Path:
    """Write the tarball to `out` and return its path."""
    entries: dict[str, str] = {"report.txt": run_report(journal, record)}
    log = Path(record.log_path)
    if log.exists():
        entries["rollout.log"] = log.read_text(encoding="utf-8", errors="replace")
    for file in desired.files:
        if file.kind not in (FileKind.KEY, FileKind.CERTIFICATE):
            entries[f"rendered/{file.node}{file.path}"] = file.text
    store = Store.for_cluster(desired.cluster.metadata.name)
    catalog = build_catalog(desired.cluster)
    certs = summaries(catalog, store.load(catalog, with_keys=False), datetime.now(UTC))
    entries["certificates.json"] = json.dumps([asdict(c) for c in certs], indent=2)
    if observed is not None:
        for node, error in observed.unreachable.items():
            entries[f"nodes/{node}/unreachable.txt"] = error + "\n"

        def collect(node: str) -> tuple[str, str]:
            try:
                return node, observed.sessions[node].run(NODE_LOGS, timeout=60).stdout
            except KhatuiError as exc:
                return node, f"could not collect logs: {exc.message}\n"

        reachable = [n for n in observed.sessions if n not in observed.unreachable]
        with ThreadPoolExecutor(max_workers=max(1, min(32, len(reachable)))) as pool:
            for node, text in pool.map(collect, reachable):
                entries[f"nodes/{node}/logs.txt"] = text
    tarball = io.BytesIO()
    with tarfile.open(fileobj=tarball, mode="w:gz") as tar:
        for name, text in sorted(entries.items()):
            data = redact(text).encode()
            info = tarfile.TarInfo(f"khatui-diagnose-{record.id}/{name}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
    with Folder.open(out.parent) as folder:  # atomic, 0600, never through a symlink at `out`
        folder.write({out.name: (tarball.getvalue(), PRIVATE_FILE)})
    return out
