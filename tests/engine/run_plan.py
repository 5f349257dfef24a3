"""A stand-alone engine process for crash tests: runs (or resumes) a fixed plan against a farm.

Usage: python -m tests.engine.run_plan FARM_JSON JOURNAL [ROLLOUT_ID]
Prints the rollout id first, then runs; exit 0 when the rollout succeeds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from khatui.engine.executor import EngineOptions, Executor, log_dir
from khatui.engine.ssh import HostKeys, Session, Target
from khatui.journal import Journal
from khatui.plan.model import Phase, Plan, Run, Step
from khatui.quoting.shell import Script


def crash_plan(nodes: list[dict[str, str]]) -> Plan:
    """3 phases x nodes x 2 steps; each step appends its id to the node's `effects` file once."""
    phases = []
    for p in range(3):
        steps = []
        for node in nodes:
            for k in range(2):
                label = f"p{p}-{node['name']}-s{k}"
                effects = f"{node['root']}/effects"
                steps.append(
                    Step(
                        f"p{p}",
                        node["name"],
                        f"s{k}",
                        label,
                        (Run(Script(f"sleep 0.15; echo {label} >> {effects}")),),
                        check=Script(f"grep -qx {label} {effects}"),
                    )
                )
        phases.append(Phase(f"p{p}", f"phase {p}", tuple(steps), requires=(f"p{p - 1}",) if p else ()))
    return Plan("crash", "hash", tuple(phases))


def main() -> int:
    farm = json.loads(Path(sys.argv[1]).read_text())
    journal = Journal(Path(sys.argv[2]))
    plan = crash_plan(farm["nodes"])
    if len(sys.argv) > 3:
        record = journal.rollout(sys.argv[3])
    else:
        record = journal.new_rollout(plan.cluster, "spec.yaml", plan.spec_hash, "", log_dir(journal.path))
    assert record is not None
    print(record.id, flush=True)
    sessions = {
        n["name"]: Session(
            Target(n["name"], n["host"], int(n["port"]), identity_file=farm["key"]),
            HostKeys((Path(farm["known_hosts"]),), Path(farm["known_hosts"] + ".pinned")),
        )
        for n in farm["nodes"]
    }
    result = Executor(plan, sessions.__getitem__, lambda event: None, journal, record, EngineOptions()).run()
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
