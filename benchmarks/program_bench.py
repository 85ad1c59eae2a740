"""How the program scales with the number of jobs, under Pulumi mocks.

    python -m benchmarks.program_bench [--jobs 1 10 100] [--repeat 3]

Each run is a fresh process: import the program's modules, validate the config, declare every
resource. Prints wall time and resource count; the goal is 100 jobs within 3x the time of 1 job
(the fixed cost is importing pulumi_aws). Prints figures only, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from tools.program import PROJECT_ROOT

CHILD = """
import json, sys, time
started = time.perf_counter()
from tools.program import run_program
imported = time.perf_counter()
jobs = int(sys.argv[1])
config = {
    "aws:region": "us-east-1",
    "longjobs:jobs": {
        f"job-{i}": {
            "build": "containers/hello-world",
            "cpu": 512,
            "memory": 1024,
            "capacity": "spot" if i % 2 else "on-demand",
            "environment": {"INDEX": str(i)},
            **({"schedules": {"hourly": {"expression": "rate(1 hour)"}}} if i % 10 == 0 else {}),
        }
        for i in range(jobs)
    },
}
run = run_program(config=config)
done = time.perf_counter()
print(json.dumps({
    "resources": sum(r.custom for r in run.resources),
    "import_s": imported - started,
    "program_s": done - imported,
}))
"""


def measure(jobs: int) -> dict:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(jobs)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall_s"] = time.perf_counter() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"program under mocks, fresh process each run, median of {args.repeat}")
    header = ("jobs", 5), ("resources", 10), ("wall s", 8), ("import s", 9), ("program s", 10)
    print(" ".join(f"{name:>{width}}" for name, width in header), f"{'x 1 job':>8}")
    base = None
    for jobs in args.jobs:
        runs = [measure(jobs) for _ in range(args.repeat)]
        wall = statistics.median(r["wall_s"] for r in runs)
        base = base or wall
        print(
            f"{jobs:>5} {runs[0]['resources']:>10} {wall:>8.2f} "
            f"{statistics.median(r['import_s'] for r in runs):>9.2f} "
            f"{statistics.median(r['program_s'] for r in runs):>10.2f} {wall / base:>8.2f}"
        )
    print("goal: 100 jobs within 3x the wall time of 1 job")


if __name__ == "__main__":
    main()
