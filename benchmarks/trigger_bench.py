"""The trigger's cost: cold start, warm overhead per request, AWS calls per run.

    python -m benchmarks.trigger_bench [--runs 15] [--requests 2000]

Cold start: fresh processes importing the handler (with the clients it creates) by its handler
setting from the declared package, unpacked as Lambda does, and reading its config file, against
a bare script that imports boto3 and creates the same clients (goal: within 1.1x). Warm: handler
time per request with stubbed clients, minus the same stubbed calls alone. Calls: AWS calls on
the path of a started run (goal: 2, the record and RunTask, on every path: the Spot fallback's
second RunTask misses it, and is printed so). Prints figures only, asserts nothing.
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

from offline.program import ProgramRun, run_program

ENVIRONMENT = {
    **os.environ,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    # As in Lambda: the package ships sources only and /var/task is read-only, so every cold
    # start compiles the package's modules (the installed boto3 here is compiled already).
    "PYTHONDONTWRITEBYTECODE": "1",
}
GOAL = 1.1
"""The handler's cold start, at most this many times the bare clients'."""
BARE_IMPORT = (
    "import boto3; from botocore.config import Config; "
    "config = Config(connect_timeout=2, read_timeout=5, "
    "retries={'mode': 'standard', 'total_max_attempts': 2}); "
    "boto3.client('ecs', config=config); boto3.client('dynamodb', config=config)"
)
SPOT_FULL = {
    "arn": "arn:aws:ecs:us-east-1:123456789012:x",
    "reason": "Capacity is unavailable at this time. Please try again later or in a different "
    "availability zone",
}


def unpack(program: ProgramRun, folder: Path) -> str:
    """Write the trigger's declared package into `folder`; the code importing its handler by
    its handler setting and reading its config file."""
    function = program.one("aws:lambda/function:Function", "trigger-function")
    for name, asset in function.inputs["code"].assets.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if getattr(asset, "text", None) is not None:
            target.write_text(asset.text)
        else:
            target.write_bytes(Path(asset.path).read_bytes())
    module, _, name = function.inputs["handler"].rpartition(".")
    # The config file is read at the first request, which a cold start's first caller waits for.
    return (
        f"import importlib; module = importlib.import_module({module!r}); "
        f"getattr(module, {name!r}); module.load_config()"
    )


def cold_starts(codes: list[str], runs: int, folder: Path) -> list[float]:
    """Median wall time of each snippet in fresh processes started in `folder` (first on the
    path, as Lambda's /var/task), interleaved so drift hits all alike."""
    timings: list[list[float]] = [[] for _ in codes]
    for _ in range(runs):
        for code, samples in zip(codes, timings, strict=True):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=folder, env=ENVIRONMENT, check=True)
            samples.append(time.perf_counter() - started)
    return [statistics.median(samples) for samples in timings]


def load_handler(config_path: Path):
    os.environ.update({k: ENVIRONMENT[k] for k in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID")})
    os.environ["AWS_SECRET_ACCESS_KEY"] = ENVIRONMENT["AWS_SECRET_ACCESS_KEY"]
    from functions.trigger import handler
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


def stubbed_clients(handler) -> tuple[Stubber, Stubber, list[str]]:
    """ECS and DynamoDB clients with Stubbers, counting every call the handler makes."""
    calls: list[str] = []
    stubbers = []
    for service in ("ecs", "dynamodb"):
        client = boto3.client(service, region_name="us-east-1")
        client.meta.events.register(
            f"provide-client-params.{service}", lambda model, **_: calls.append(model.name)
        )
        setattr(handler, service, client)
        stubbers.append(Stubber(client))
    return stubbers[0], stubbers[1], calls


def warm(handler, requests: int) -> tuple[float, float]:
    """Microseconds per request: the whole handler, and the stubbed client calls alone."""
    ecs, dynamodb, _ = stubbed_clients(handler)
    with ecs, dynamodb, open(os.devnull, "w") as devnull:
        for _ in range(requests):
            dynamodb.add_response("put_item", {})
            ecs.add_response("run_task", task(handler))
        stdout, sys.stdout = sys.stdout, devnull  # the handler's one log line per request
        try:
            started = time.perf_counter()
            for index in range(requests):
                event = {"job": "report", "environment": {"REPORT_DAY": "2026-11-01"}}
                handler.handler({**event, "idempotencyKey": f"k{index}"}, Context())
            whole = time.perf_counter() - started
        finally:
            sys.stdout = stdout
        # The same requests through the same clients: what is left is the handler's own work.
        for _ in range(requests):
            dynamodb.add_response("put_item", {})
            ecs.add_response("run_task", task(handler))
        item = {"runId": {"S": "0" * 32}, "job": {"S": "report"}}
        started = time.perf_counter()
        for _ in range(requests):
            handler.dynamodb.put_item(TableName="t", Item=item)
            handler.ecs.run_task(cluster="c", taskDefinition="t:1", clientToken="x")
        bare = time.perf_counter() - started
    return whole / requests * 1e6, bare / requests * 1e6


def calls_per_run(handler, spot_full: bool) -> list[str]:
    """Every AWS call the handler makes for one started run, in order."""
    ecs, dynamodb, calls = stubbed_clients(handler)
    with ecs, dynamodb, open(os.devnull, "w") as devnull:
        dynamodb.add_response("put_item", {})
        if spot_full:
            ecs.add_response("run_task", {"tasks": [], "failures": [SPOT_FULL]})
            # The on-demand fallback is recorded before its token is sent.
            dynamodb.add_response("update_item", {})
        ecs.add_response("run_task", task(handler))
        stdout, sys.stdout = sys.stdout, devnull
        try:
            handler.handler({"job": "report", "idempotencyKey": "calls"}, Context())
        finally:
            sys.stdout = stdout
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    program = run_program("Pulumi.dev.yaml")
    with tempfile.TemporaryDirectory() as folder:
        handler_import = unpack(program, Path(folder))
        handler_cold, bare_cold = cold_starts(
            [handler_import, BARE_IMPORT], args.runs, Path(folder)
        )
    print(f"cold start, median of {args.runs} fresh processes (goal: handler within {GOAL}x bare)")
    print(f"  bare boto3, 2 clients    {bare_cold * 1000:8.1f} ms")
    ratio = handler_cold / bare_cold
    verdict = "goal met" if ratio <= GOAL else "goal MISSED"
    print(f"  handler module           {handler_cold * 1000:8.1f} ms  ({ratio:.2f}x, {verdict})")

    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "longjobs-trigger.json"
        config_path.write_text(program.trigger_config)
        handler = load_handler(config_path)
        whole, bare = warm(handler, args.requests)
        print(f"warm, {args.requests} run requests with stubbed clients")
        print(f"  handler per request      {whole:8.1f} us")
        print(f"  PutItem + RunTask, stubbed {bare:6.1f} us")
        print(f"  handler overhead         {whole - bare:8.1f} us")
        print("AWS calls per started run (goal: 2, the record and RunTask)")
        for label, spot_full in (("Spot has capacity", False), ("Spot full", True)):
            calls = calls_per_run(handler, spot_full)
            verdict = "goal met" if len(calls) <= 2 else "goal MISSED"
            print(f"  {label:<22} {len(calls):4d}  {', '.join(calls)}  ({verdict})")


if __name__ == "__main__":
    main()
