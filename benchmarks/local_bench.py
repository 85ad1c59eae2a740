"""The local runtime's figures: start to ready, a run's overhead, memory at rest.

    python -m benchmarks.local_bench [--runs 5]

Ready: wall time from starting `longjobs dev --stack dev` (a new process: imports, the
program under mocks, the local AWS, the handlers) to its ready line, with the images built
already (a first start builds them and is not counted): goal <= 10 s. Overhead: for hello-world,
the wall time from the trigger's invocation to the run's SUCCEEDED in `status`, minus its
container's own run time (the attempt's startedAt to stoppedAt), median of the runs: goal <= 3 s.
Memory: the runtime process's resident set (the local AWS and the handlers share it) after the
runs and a few quiet seconds: goal <= 300 MB. Needs Docker; without it, says so. Prints figures
only, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from offline.program import PROJECT_ROOT

READY_GOAL = 10.0
OVERHEAD_GOAL = 3.0
MEMORY_GOAL_MB = 300.0
QUIET_SECONDS = 5.0


def verdict(ok: bool) -> str:
    return "goal met" if ok else "goal MISSED"


def start(outputs: Path) -> tuple[subprocess.Popen, float]:
    """The runtime's process and its seconds to ready."""
    command = [sys.executable, "-m", "longjobs", "dev", "--no-schedules", "--outputs", str(outputs)]
    began = time.monotonic()
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if " ready in " in line:
            return process, time.monotonic() - began
    raise SystemExit(f"the local runtime did not start (exit {process.wait()})")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=300)


def overhead(outputs: dict[str, Any]) -> float:
    """One hello-world run's seconds from invoke to SUCCEEDED, less its container's own."""
    client = boto3.client(
        "lambda",
        endpoint_url=outputs["endpointUrls"]["lambda"],
        region_name=outputs["clusterArn"].split(":")[3],
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        answer = client.invoke(
            FunctionName=outputs["triggerFunctionName"], Payload=json.dumps(event)
        )
        return dict(json.loads(answer["Payload"].read()))

    began = time.monotonic()
    run_id = invoke({"job": "hello-world"})["runId"]
    while (status := invoke({"action": "status", "runId": run_id}))["status"] != "SUCCEEDED":
        if status["status"] in ("FAILED", "STOPPED", "TIMED_OUT"):
            raise SystemExit(f"hello-world ended {status['status']}")
        time.sleep(0.05)
    wall = time.monotonic() - began
    attempt = status["attempts"][-1]
    own = _at(attempt["stoppedAt"]) - _at(attempt["startedAt"])
    return wall - own


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def resident_mb(pid: int) -> float | None:
    """The process's resident set (Linux /proc); None elsewhere."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    from local.dev import LocalError
    from local.docker_side import engine

    try:
        engine()
    except LocalError as error:
        print(f"local runtime: not measured: {error}")
        return 0
    with tempfile.TemporaryDirectory() as work:
        outputs_file = Path(work) / "outputs.json"
        first, _ = start(outputs_file)  # builds the images
        stop(first)
        process, ready = start(outputs_file)
        try:
            outputs = json.loads(outputs_file.read_text())
            overheads = [overhead(outputs) for _ in range(args.runs)]
            time.sleep(QUIET_SECONDS)
            memory = resident_mb(process.pid)
        finally:
            stop(process)
    median = statistics.median(overheads)
    goal = f"{verdict(ready <= READY_GOAL)}: <= {READY_GOAL:.0f} s"
    print(f"local runtime: start to ready {ready:.1f} s ({goal})")
    spread = ", ".join(f"{o:.2f}" for o in overheads)
    print(
        f"local runtime: hello-world overhead {median:.2f} s median of {args.runs} ({spread}) "
        f"({verdict(median <= OVERHEAD_GOAL)}: <= {OVERHEAD_GOAL:.0f} s)"
    )
    if memory is None:
        print("local runtime: memory at rest not measured (no /proc)")
    else:
        print(
            f"local runtime: memory at rest {memory:.0f} MB "
            f"({verdict(memory <= MEMORY_GOAL_MB)}: <= {MEMORY_GOAL_MB:.0f} MB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
