"""AWS calls of the job lifecycle: per supervisor event by kind, per started run on the
trigger's path, and per reconciliation pass over many open runs.

    python -m benchmarks.supervisor_bench [--open-runs 1000]

The real trigger and supervisor run against moto's DynamoDB, with the runs table the program
declares, and the ECS model (simulation/ecs.py) for the dev stack's cluster, on the wall clock
with nothing scheduled: a task changes only as the benchmark says. Every DynamoDB call is counted
by a botocore event hook on the client, every ECS call by the model, in the order they come.
Events are the documented "ECS Task State Change" sample (tests/functions/fixtures) carrying the
model's task. Goals: at most 2 calls per
started run on the trigger's path (the record, RunTask) and at most 3 per supervisor event;
each figure is printed against its goal, as met or MISSED. Prints figures only, asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from offline.moto import create_runs_table
from offline.program import PROJECT_ROOT, run_program
from simulation.ecs import EcsModel, Fate

for _variable, _value in (
    ("AWS_DEFAULT_REGION", "us-east-1"),
    ("AWS_ACCESS_KEY_ID", "bench"),
    ("AWS_SECRET_ACCESS_KEY", "bench"),
    ("MOTO_EC2_LOAD_DEFAULT_AMIS", "false"),
):
    os.environ.setdefault(_variable, _value)  # fmt: skip

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from functions.common import records  # noqa: E402
from functions.supervisor import supervisor  # noqa: E402
from functions.trigger import handler  # noqa: E402
from longjobs_contract import trigger_config  # noqa: E402

REGION = "us-east-1"
SAMPLE = json.loads(
    (
        PROJECT_ROOT
        / "tests"
        / "functions"
        / "fixtures"
        / "ecs_task_state_change_fargate_running.json"
    ).read_text()
)
TRIGGER_GOAL = 2
EVENT_GOAL = 3


class Context:
    aws_request_id = "bench"


@dataclasses.dataclass
class Stack:
    config: trigger_config.TriggerConfig
    calls: list[str]
    job: str
    container: str

    def run(self, key: str) -> dict[str, Any]:
        return quiet(lambda: handler.handler({"job": self.job, "idempotencyKey": key}, Context()))

    def event(self, answer: dict[str, Any], status: str, version: int, **more: Any) -> Any:
        task = handler.ecs.describe_tasks(cluster=self.config.cluster_arn,
                                          tasks=[answer["taskArn"]])["tasks"][0]  # fmt: skip
        envelope = copy.deepcopy(SAMPLE)
        detail = envelope["detail"]
        for key in ("startedAt", "stoppedAt", "stoppingAt", "stopCode", "stoppedReason"):
            detail.pop(key, None)
        detail.update({k: v for k, v in task.items() if not hasattr(v, "isoformat")})
        detail.update(lastStatus=status, version=version, **more)
        container = {"name": self.container, "lastStatus": status}
        if "exitCode" in more:
            container["exitCode"] = detail.pop("exitCode")
        detail["containers"] = [container]
        return envelope

    def counted(self, call: Callable[[], Any]) -> list[str]:
        self.calls.clear()
        quiet(call)
        return list(self.calls)


def quiet(call: Callable[[], Any]) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return call()


@contextlib.contextmanager
def stack() -> Iterator[Stack]:
    """moto with the dev stack's runs table, and the ECS model for its cluster; the functions'
    clients are these, each call counted."""
    program = run_program(str(PROJECT_ROOT / "Pulumi.dev.yaml"))
    with mock_aws(), tempfile.TemporaryDirectory() as folder:
        config = trigger_config.loads(program.trigger_config)
        path = Path(folder) / trigger_config.CONFIG_FILE
        path.write_text(trigger_config.dumps(config))
        saved = os.environ.get(trigger_config.CONFIG_PATH_VARIABLE)
        os.environ[trigger_config.CONFIG_PATH_VARIABLE] = str(path)
        handler.load_config.cache_clear()
        supervisor.load_config.cache_clear()
        calls: list[str] = []
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.meta.events.register(
            "provide-client-params.*", lambda model, **_: calls.append(model.name)
        )
        ecs = EcsModel(
            now=lambda: datetime.now(UTC),
            schedule=lambda when, action: None,
            emit=lambda task: None,
            fate_of=lambda run_id, index: Fate("hang"),
            on_call=calls.append,
        )
        create_runs_table(
            dynamodb,
            program.one("aws:dynamodb/table:Table", "runs-table").inputs,
            config.runs_table,
        )
        # The functions' own clients, put back afterwards: a process that goes on (pytest)
        # must find them as they were.
        clients = {module: (module.ecs, module.dynamodb) for module in (handler, supervisor)}
        for module in clients:
            module.ecs, module.dynamodb = ecs, dynamodb
        job = sorted(config.jobs)[0]
        try:
            yield Stack(config, calls, job, config.jobs[job].container_name)
        finally:
            for module, (own_ecs, own_dynamodb) in clients.items():
                module.ecs, module.dynamodb = own_ecs, own_dynamodb
            if saved is None:
                os.environ.pop(trigger_config.CONFIG_PATH_VARIABLE, None)
            else:
                os.environ[trigger_config.CONFIG_PATH_VARIABLE] = saved
            handler.load_config.cache_clear()
            supervisor.load_config.cache_clear()


def verdict(count: int, goal: int) -> str:
    return "met" if count <= goal else "MISSED"


def event_calls(bench: Stack) -> list[tuple[str, list[str]]]:
    """Calls per supervisor event, by kind."""
    figures: list[tuple[str, list[str]]] = []
    answer = bench.run("events-1")
    running = bench.event(answer, "RUNNING", 2)
    figures.append(("RUNNING", bench.counted(lambda: supervisor.handler(running, Context()))))
    figures.append(("duplicate (the same RUNNING)",
                    bench.counted(lambda: supervisor.handler(running, Context()))))  # fmt: skip
    success = bench.event(answer, "STOPPED", 3, desiredStatus="STOPPED",
                          stopCode="EssentialContainerExited", exitCode=0)  # fmt: skip
    figures.append(
        ("STOPPED, success", bench.counted(lambda: supervisor.handler(success, Context())))
    )
    late = bench.event(answer, "PENDING", 1)
    figures.append(("late (PENDING after STOPPED)",
                    bench.counted(lambda: supervisor.handler(late, Context()))))  # fmt: skip
    interrupted = bench.run("events-2")
    stopped = bench.event(interrupted, "STOPPED", 3, desiredStatus="STOPPED",
                          stopCode="SpotInterruption")  # fmt: skip
    figures.append(("STOPPED, re-run",
                    bench.counted(lambda: supervisor.handler(stopped, Context()))))  # fmt: skip
    return figures


def pass_calls(bench: Stack, open_runs: int) -> list[str]:
    """Calls of one reconciliation pass over `open_runs` RUNNING runs whose tasks are as their
    records say (the steady state of long jobs)."""
    for index in range(open_runs):
        answer = bench.run(f"open-{index}")
        event = bench.event(answer, "RUNNING", 2)
        quiet(lambda event=event: supervisor.handler(event, Context()))
    moved = records.now() + timedelta(minutes=3)
    real_now, records.now = records.now, lambda: moved
    try:
        return bench.counted(lambda: supervisor.handler(supervisor.RECONCILE, Context()))
    finally:
        records.now = real_now


def summary(calls: list[str]) -> str:
    counts: dict[str, int] = {}
    for name in calls:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{name} {count}" if count > 1 else name for name, count in counts.items())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--open-runs", type=int, default=1000)
    args = parser.parse_args(argv)
    with stack() as bench:
        trigger = bench.counted(lambda: bench.run("trigger"))
        print(f"AWS calls per started run on the trigger's path (goal: at most {TRIGGER_GOAL})")
        print(
            f"  started run               {len(trigger):3d}  {summary(trigger):<40} "
            f"{verdict(len(trigger), TRIGGER_GOAL)}"
        )
        print(f"AWS calls per supervisor event (goal: at most {EVENT_GOAL})")
        for kind, calls in event_calls(bench):
            print(
                f"  {kind:<28}{len(calls):3d}  {summary(calls):<40} "
                f"{verdict(len(calls), EVENT_GOAL)}"
            )
    with stack() as bench:  # a table of open runs only
        calls = pass_calls(bench, args.open_runs)
        print(
            f"AWS calls of one reconciliation pass over {args.open_runs} RUNNING runs whose "
            "tasks are as recorded"
        )
        print(f"  {len(calls)}: {summary(calls)}")


if __name__ == "__main__":
    main()
