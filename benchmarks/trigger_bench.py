"""The trigger's cost: cold start, warm overhead per request, AWS calls per run.

    python -m benchmarks.trigger_bench [--runs 15] [--requests 2000]

Cold start: fresh processes importing the handler (with the client it creates) against a bare
script that imports boto3 and creates the same client (goal: within 1.2x). Warm: handler time
per request with a stubbed client, minus the same stubbed call alone. Calls: ECS calls per
successful run (goal: 1, or 2 with the Spot fallback). Prints figures only, asserts nothing.
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

import boto3
from botocore.stub import Stubber

from longjobs_contract import run_event
from tools.program import PROJECT_ROOT, run_program

FUNCTION_DIR = PROJECT_ROOT / "functions" / "trigger"
ENVIRONMENT = {
    **os.environ,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
}
HANDLER_IMPORT = f"import sys; sys.path.insert(0, {str(FUNCTION_DIR)!r}); import handler"
BARE_IMPORT = (
    "import boto3; from botocore.config import Config; "
    "boto3.client('ecs', config=Config(retries={'mode': 'standard', 'total_max_attempts': 5}))"
)
SPOT_FULL = {"arn": "arn:aws:ecs:us-east-1:123456789012:x", "reason": "Capacity is unavailable"}


def cold_starts(codes: list[str], runs: int) -> list[float]:
    """Median wall time of each snippet in fresh processes, interleaved so drift hits all alike."""
    timings: list[list[float]] = [[] for _ in codes]
    for _ in range(runs):
        for code, samples in zip(codes, timings, strict=True):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=ENVIRONMENT, check=True)
            samples.append(time.perf_counter() - started)
    return [statistics.median(samples) for samples in timings]


def load_handler(config_path: Path):
    os.environ.update({k: ENVIRONMENT[k] for k in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID")})
    os.environ["AWS_SECRET_ACCESS_KEY"] = ENVIRONMENT["AWS_SECRET_ACCESS_KEY"]
    sys.path.insert(0, str(FUNCTION_DIR))
    import handler
    from longjobs_contract import trigger_config

    os.environ[trigger_config.CONFIG_PATH_VARIABLE] = str(config_path)
    handler.load_config.cache_clear()
    return handler


class Context:
    aws_request_id = "benchmark"


def task(handler) -> dict:
    cluster = handler.load_config().cluster_arn.rsplit("/", 1)[-1]
    task_id = "0123456789abcdef0123456789abcdef"
    return {"tasks": [{"taskArn": f"arn:aws:ecs:us-east-1:123456789012:task/{cluster}/{task_id}"}]}


def warm(handler, requests: int) -> tuple[float, float]:
    """Microseconds per request: the whole handler, and the stubbed client call alone."""
    client = boto3.client("ecs", region_name="us-east-1")
    handler.ecs = client
    event = {"job": "report", "environment": {"REPORT_DAY": "2026-11-01"}}
    with Stubber(client) as stubber, open(os.devnull, "w") as devnull:
        for _ in range(requests):
            stubber.add_response("run_task", task(handler))
        stdout, sys.stdout = sys.stdout, devnull  # the handler's one log line per request
        try:
            started = time.perf_counter()
            for _ in range(requests):
                handler.handler(event, Context())
            whole = time.perf_counter() - started
        finally:
            sys.stdout = stdout
        # The same request through the same client: what is left is the handler's own work.
        config = handler.load_config()
        params = handler.run_task_request(
            config, run_event.parse_run(event, config.jobs, "benchmark")
        )
        for _ in range(requests):
            stubber.add_response("run_task", task(handler))
        started = time.perf_counter()
        for _ in range(requests):
            client.run_task(**params)
        bare = time.perf_counter() - started
    return whole / requests * 1e6, bare / requests * 1e6


def calls_per_run(handler, spot_full: bool) -> int:
    """Every ECS call the handler makes for one successful run, whatever the operation."""
    client = boto3.client("ecs", region_name="us-east-1")
    handler.ecs = client
    calls = []
    client.meta.events.register("provide-client-params.ecs", lambda **kwargs: calls.append(1))
    with Stubber(client) as stubber, open(os.devnull, "w") as devnull:
        if spot_full:
            stubber.add_response("run_task", {"failures": [SPOT_FULL]})
        stubber.add_response("run_task", task(handler))
        stdout, sys.stdout = sys.stdout, devnull
        try:
            handler.handler({"job": "report"}, Context())
        finally:
            sys.stdout = stdout
    return len(calls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    handler_cold, bare_cold = cold_starts([HANDLER_IMPORT, BARE_IMPORT], args.runs)
    print(f"cold start, median of {args.runs} fresh processes (goal: handler within 1.2x bare)")
    print(f"  bare boto3 + ECS client  {bare_cold * 1000:8.1f} ms")
    ratio = handler_cold / bare_cold
    print(f"  handler module           {handler_cold * 1000:8.1f} ms  ({ratio:.2f}x)")

    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "longjobs-trigger.json"
        config_path.write_text(run_program("Pulumi.dev.yaml").trigger_config)
        handler = load_handler(config_path)
        whole, bare = warm(handler, args.requests)
        print(f"warm, {args.requests} run requests with a stubbed client")
        print(f"  handler per request      {whole:8.1f} us")
        print(f"  same RunTask, stubbed    {bare:8.1f} us")
        print(f"  handler overhead         {whole - bare:8.1f} us")
        print("AWS calls per successful run (goal: 1, or 2 with the Spot fallback)")
        print(f"  Spot has capacity        {calls_per_run(handler, spot_full=False):8d}")
        print(f"  Spot full, on-demand     {calls_per_run(handler, spot_full=True):8d}")


if __name__ == "__main__":
    main()
