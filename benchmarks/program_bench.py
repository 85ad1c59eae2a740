"""The program under Pulumi mocks against the SDK-only floor, by number of jobs.

    python -m benchmarks.program_bench [--jobs 1 10 100 300] [--repeat 3]

For each job count, in fresh processes, median of `--repeat` runs:

- program: `offline.program.run_program` on a generated config of that many jobs: `__main__.py`,
  config validation, our components, under `offline.program.AwsMocks` with `preview=False`.
- floor: the same mocks and the same engine calls, but a minimal program that only replays the
  resources the program registered: each component as a bare `pulumi.ComponentResource` with the
  same type, name and parent (and a `register_outputs` call, as ours make), each custom resource
  as a bare `pulumi.CustomResource` with the same type, name, parent and resolved inputs, plus
  one empty output per output property its pulumi_aws / pulumi_docker class declares (the SDK
  makes an Output for each). What the floor leaves out is our code: config parsing, components'
  logic, Outputs plumbed between resources, `apply` callbacks, invokes, the lazy imports of the
  pulumi_aws submodules we use. It is a floor, not a target: a program cannot do less.

- floor, GC off: the floor in a process whose cyclic garbage collector is off, as `__main__.py`
  turns it off; for information (the goals compare with the floor as the SDK runs by default).

Timed in each child: `declare s` = from after importing `pulumi` and `offline.program` to the end
of the run (everything our program adds sits in there); `wall s` = the child process end to end.
The resources to replay are recorded by one extra, untimed program run per job count.

Goals (printed as "goal met" / "goal MISSED", never asserted):
- at 100 jobs, program declare time within 2.0x the floor's;
- from 100 to 300 jobs, each of program and floor grows no worse than linear: declare time at
  300 within 3x that at 100, with 10% tolerance for timer noise (ratio <= 3.3).
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RATIO_GOAL = 2.0
LINEAR_TOLERANCE = 1.10


def bench_config(jobs: int) -> dict:
    """A stack of `jobs` built jobs, half on Spot, one in ten with a schedule."""
    return {
        "aws:region": "us-east-1",
        "longjobs:jobs": {
            f"job-{i}": {
                "build": "containers/hello-world",
                "cpu": 512,
                "memory": 1024,
                "capacity": "spot" if i % 2 else "on-demand",
                "environment": {"INDEX": str(i)},
                **(
                    {"schedules": {"hourly": {"expression": "rate(1 hour)"}}} if i % 10 == 0 else {}
                ),
            }
            for i in range(jobs)
        },
    }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# ---- children: each runs in a fresh process and prints one JSON line -------------------------


def child_program(jobs: int, record: str | None) -> dict:
    started = time.perf_counter()
    import pulumi

    from offline.program import AwsMocks, run_program

    imported = time.perf_counter()
    config = bench_config(jobs)
    mocks = AwsMocks("us-east-1")
    recorded: list[dict] = []
    if record:
        # Untimed run: a stack transformation sees every resource with its parent and the
        # properties its class declares; the mocks see the resolved inputs.
        keys: dict[int, tuple[str, str]] = {}

        def transformation(args: pulumi.ResourceTransformationArgs):
            keys[id(args.resource)] = (args.type_, args.name)
            parent = args.opts.parent if args.opts else None
            props = args.props if isinstance(args.props, dict) else vars(args.props or {})
            recorded.append(
                {
                    "type": args.type_,
                    "name": args.name,
                    "custom": isinstance(args.resource, pulumi.CustomResource),
                    "parent": keys.get(id(parent)) if parent is not None else None,
                    "declared": [_camel(k) for k in props],
                }
            )
            return None

        original = pulumi.runtime.set_mocks

        def set_mocks_then_record(*args, **kwargs):
            original(*args, **kwargs)
            pulumi.runtime.register_stack_transformation(transformation)

        pulumi.runtime.set_mocks = set_mocks_then_record
        run = run_program(config=config, mocks=mocks)
        pulumi.runtime.set_mocks = original
        inputs = {(r.type, r.name): r.inputs for r in run.resources}
        if not len(recorded) == len(inputs) == len(run.resources):
            raise SystemExit("cannot replay: resources are not told apart by type and name")
        for resource in recorded:
            resource["inputs"] = inputs[(resource["type"], resource["name"])]
        Path(record).write_bytes(pickle.dumps(recorded))
    else:
        run = run_program(config=config, mocks=mocks)
    done = time.perf_counter()
    return {
        "custom": sum(r.custom for r in run.resources),
        "components": sum(not r.custom for r in run.resources),
        "import_s": imported - started,
        "declare_s": done - imported,
    }


def child_floor(record: str, gc_off: bool) -> dict:
    started = time.perf_counter()
    if gc_off:
        import gc

        gc.disable()
    import pulumi
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from offline.program import AwsMocks

    imported = time.perf_counter()
    recorded = pickle.loads(Path(record).read_bytes())
    mocks = AwsMocks("us-east-1")
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="longjobs", stack="bench", preview=False)

    def program() -> None:
        made: dict[tuple[str, str], pulumi.Resource] = {}
        for r in recorded:
            parent = made.get(tuple(r["parent"])) if r["parent"] else None
            opts = pulumi.ResourceOptions(parent=parent)
            if r["custom"]:
                props = dict.fromkeys(r["declared"]) | r["inputs"]
                made[(r["type"], r["name"])] = pulumi.CustomResource(
                    r["type"], r["name"], props, opts
                )
            else:
                component = pulumi.ComponentResource(r["type"], r["name"], None, opts)
                made[(r["type"], r["name"])] = component
        for resource in made.values():
            if isinstance(resource, pulumi.ComponentResource):
                resource.register_outputs({})

    _sync_await(run_pulumi_func(program))
    done = time.perf_counter()
    return {
        "custom": sum(r.custom for r in mocks.resources),
        "components": sum(not r.custom for r in mocks.resources),
        "import_s": imported - started,
        "declare_s": done - imported,
    }


# ---- parent -----------------------------------------------------------------------------------


def _child(*args: str) -> dict:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.program_bench", "--child", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall_s"] = time.perf_counter() - started
    return figures


def _median(runs: list[dict]) -> dict:
    return {
        key: statistics.median(r[key] for r in runs)
        for key in ("custom", "components", "import_s", "declare_s", "wall_s")
    }


def _verdict(ok: bool) -> str:
    return "goal met" if ok else "goal MISSED"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 10, 100, 300])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"fresh process per run, median of {args.repeat}; declare s excludes importing pulumi")
    print("                  program          floor (SDK only)     floor, GC off")
    print("jobs  resources  declare s wall s  declare s wall s  ratio  declare s  ratio")
    program: dict[int, dict] = {}
    floor: dict[int, dict] = {}
    bare: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in args.jobs:
            record = str(Path(tmp) / f"{jobs}.pickle")
            recorded = _child("program", str(jobs), record)
            program[jobs] = _median([_child("program", str(jobs)) for _ in range(args.repeat)])
            floor[jobs] = _median([_child("floor", record) for _ in range(args.repeat)])
            bare[jobs] = _median([_child("floor", record, "gc-off") for _ in range(args.repeat)])
            p, f, b = program[jobs], floor[jobs], bare[jobs]
            counts = {(r["custom"], r["components"]) for r in (recorded, p, f, b)}
            print(
                f"{jobs:>4} {p['custom']:>6.0f}+{p['components']:<4.0f} "
                f"{p['declare_s']:>8.2f} {p['wall_s']:>6.2f} "
                f"{f['declare_s']:>8.2f} {f['wall_s']:>6.2f} "
                f"{p['declare_s'] / f['declare_s']:>6.2f} "
                f"{b['declare_s']:>8.2f} {p['declare_s'] / b['declare_s']:>6.2f}"
                + ("" if len(counts) == 1 else f"  (resource counts differ: {sorted(counts)}!)")
            )
    print("resources: custom + component, as the mocks saw them; all runs registered the same")
    if 100 in program:
        ratio = program[100]["declare_s"] / floor[100]["declare_s"]
        print(
            f"program/floor at 100 jobs: {ratio:.2f} (goal <= {RATIO_GOAL}): "
            f"{_verdict(ratio <= RATIO_GOAL)}"
        )
    if 100 in program and 300 in program:
        limit = 3 * LINEAR_TOLERANCE
        for label, figures in (("program", program), ("floor", floor), ("floor, GC off", bare)):
            growth = figures[300]["declare_s"] / figures[100]["declare_s"]
            print(
                f"{label} growth 100 -> 300 jobs: x{growth:.2f} (goal <= x{limit:.1f}, linear "
                f"with {LINEAR_TOLERANCE - 1:.0%} tolerance): {_verdict(growth <= limit)}"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        if kind == "program":
            figures = child_program(int(rest[0]), rest[1] if len(rest) > 1 else None)
        else:
            figures = child_floor(rest[0], gc_off=rest[1:] == ["gc-off"])
        print(json.dumps(figures))
    else:
        main()
