"""`khatui plan --offline` for a 2,000-node spec: the text view against the JSON view (issue 17).

Reproduce (from the repository root):

    .venv/bin/python benchmarks/bench_plan_output.py        # --nodes N (default 2000), --runs N (default 3)

The spec is bench_render's large HA cluster. Each run is a whole `khatui plan --offline` process
(interpreter start-up, spec, PKI store, plan and output; stdout to a file), text and JSON
alternating so the box's load hits both alike; the PKI store is made once before timing. Reported:
median wall time of each view, bytes written, and text/JSON. Target: the text view is as fast as
the JSON one (ratio <= 1.10).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_render import spec_data  # noqa: E402

TARGET_RATIO = 1.10


def timed(spec: Path, output: str, env: dict[str, str], sink: Path) -> float:
    """Seconds of one `khatui plan --offline --output OUTPUT` process."""
    start = time.perf_counter()
    with sink.open("wb") as out:
        subprocess.run(
            [str(ROOT / ".venv/bin/khatui"), "plan", "--offline", str(spec), "--output", output],
            stdout=out, stderr=subprocess.DEVNULL, env=env, check=True,
        )  # fmt: skip
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        spec = work / "cluster.yaml"
        spec.write_text(yaml.safe_dump(spec_data(args.nodes)))
        env = os.environ | {"KHATUI_DATA_DIR": str(work / "data")}
        timed(spec, "json", env, work / "warm.out")  # makes the PKI store, warms the caches
        times: dict[str, list[float]] = {"text": [], "json": []}
        for _ in range(args.runs):
            for output in times:
                times[output].append(timed(spec, output, env, work / f"{output}.out"))
        text, json_ = statistics.median(times["text"]), statistics.median(times["json"])
        for output, median in (("text", text), ("json", json_)):
            size = (work / f"{output}.out").stat().st_size
            print(
                f"plan --output {output:4}  {args.nodes} nodes: median {median:6.2f} s over {args.runs} runs, {size / 1e6:5.1f} MB"
            )
        ratio = text / json_
        verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
        print(f"text / json: {ratio:.2f}x (target <= {TARGET_RATIO:.2f}x): {verdict}")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
