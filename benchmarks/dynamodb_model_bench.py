"""The runs table's model against moto: microseconds per RunStore call.

    python -m benchmarks.dynamodb_model_bench [--runs 300] [--repeats 3]

The same RunStore calls (the functions' only use of the table) on the model and on moto through
boto3, each with the table the dev stack declares. For the model, the time inside its client
(with botocore's request checks, and without) apart from RunStore's whole call, whose own
(de)serializing is the same on any client; the best of `repeats` fresh tables. A simulation
running ~50 lifecycle runs per second of CPU, some ten calls each, has a few hundred microseconds
a call for everything: the model's share should be tens. Prints figures only, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

for _variable, _value in (
    ("AWS_DEFAULT_REGION", "us-east-1"),
    ("AWS_ACCESS_KEY_ID", "bench"),
    ("AWS_SECRET_ACCESS_KEY", "bench"),
):
    os.environ.setdefault(_variable, _value)  # fmt: skip

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from functions.common import records  # noqa: E402
from longjobs_contract import runs, trigger_config  # noqa: E402
from longjobs_contract.run_event import RunRequest  # noqa: E402
from longjobs_contract.runs import Record  # noqa: E402
from offline.moto import create_runs_table  # noqa: E402
from offline.program import ProgramRun, run_program  # noqa: E402
from simulation import dynamodb  # noqa: E402

START = datetime(2026, 3, 1, tzinfo=UTC)
PAGES = 50


def new_records(program: ProgramRun, count: int) -> list[dict[str, Any]]:
    job, rules = next(iter(trigger_config.loads(program.trigger_config).jobs.items()))
    made = []
    for run in range(count):
        request = RunRequest(
            job=job,
            rules=rules,
            environment={"DAY": str(run % 28)},
            command=None,
            capacity="spot",
            idempotency_key=f"bench-{run}",
        )
        run_id = runs.run_id(job, request.idempotency_key)
        made.append(records.new_record(run_id, request, START + timedelta(seconds=run)))
    return made


class TimedClient:
    """A client that adds up the time spent inside it."""

    def __init__(self, client: Any):
        self.client, self.inside = client, 0.0

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        method = getattr(self.client, operation)

        def call(**params: Any) -> Any:
            began = time.perf_counter()
            try:
                return method(**params)
            finally:
                self.inside += time.perf_counter() - began

        return call


def timer(client: TimedClient) -> Callable[[list[Callable[[], Any]]], tuple[float, float]]:
    def timed(calls: list[Callable[[], Any]]) -> tuple[float, float]:
        """Microseconds per call: the whole call, and the part inside the client."""
        client.inside, began = 0.0, time.perf_counter()
        for call in calls:
            call()
        whole = time.perf_counter() - began
        return whole / len(calls) * 1e6, client.inside / len(calls) * 1e6

    return timed


def measure(client: Any, table: str, made: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Each RunStore call over `made`, in the order the lifecycle makes them."""
    timed_client = TimedClient(client)
    store, timed = records.RunStore(timed_client, table), timer(timed_client)
    ids = [r[Record.RUN_ID] for r in made]
    running = {Record.STATUS: runs.RUNNING}
    figures = {
        "create": timed([lambda r=r: store.create(r) for r in made]),
        "create, a duplicate": timed([lambda r=r: store.create(r) for r in made]),
        "get": timed([lambda i=i: store.get(i) for i in ids]),
        "update": timed([lambda r=r: store.update(r, running) for r in made]),
        "update, stale": timed([lambda r=r: store.update(r, running) for r in made]),
        "page, newest 20": timed(
            [lambda: store.page(job=None, status=None, limit=20, next_token=None)] * PAGES
        ),
        "page, job+status 20": timed(
            [
                lambda: store.page(
                    job=made[0][Record.JOB], status=runs.RUNNING, limit=20, next_token=None
                )
            ]
            * PAGES
        ),  # fmt: skip
        "oldest_in 20": timed([lambda: store.oldest_in(runs.RUNNING, 20, None)] * PAGES),
        "due_notices 10": timed([lambda: store.due_notices(10)] * PAGES),
    }
    cursors = {runs.RUNNING: records.status_position(made[0] | running)}
    figures["save + read cursors"] = timed(
        [lambda: (store.save_pass_cursors(cursors, "bench"), store.pass_cursors())] * PAGES
    )
    return figures


def best_of_models(
    schema: dynamodb.Schema, made: list[dict[str, Any]], validate: bool, repeats: int
) -> dict[str, tuple[float, float]]:
    """Per call, the best whole time and the best time inside the client, over fresh tables."""
    rounds = []
    for _ in range(repeats):
        table = dynamodb.Table(schema, now=lambda: START + timedelta(days=1))
        rounds.append(measure(table.client(validate=validate), schema.name, made))
    return {
        call: (min(r[call][0] for r in rounds), min(r[call][1] for r in rounds))
        for call in rounds[0]
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    program = run_program("Pulumi.dev.yaml")
    made = new_records(program, args.runs)
    declared = program.one("aws:dynamodb/table:Table", "runs-table").inputs
    schema = dynamodb.Schema.from_declared(declared)
    checked = best_of_models(schema, made, True, args.repeats)
    unchecked = best_of_models(schema, made, False, args.repeats)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        moto = measure(client, create_runs_table(client, declared), made)
    print(f"us per RunStore call, {args.runs} runs")
    print(f"  {'':<22} {'inside the model client':^23} {'whole RunStore call':^30}")
    header = ("call", "checked", "unchecked", "model", "moto", "moto/model")
    print("  {:<22} {:>11} {:>11} {:>9} {:>9} {:>11}".format(*header))
    for call in checked:
        whole, moto_whole = unchecked[call][0], moto[call][0]
        print(
            f"  {call:<22} {checked[call][1]:11.1f} {unchecked[call][1]:11.1f} "
            f"{whole:9.1f} {moto_whole:9.0f} {moto_whole / whole:10.0f}x"
        )
    print("  (model: unchecked; moto: through boto3, which checks requests as it sends them)")


if __name__ == "__main__":
    main()
