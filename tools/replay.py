"""Replay many runs end to end: the real trigger and supervisor, moto's DynamoDB, a simulated ECS.

    venv/bin/python -m tools.replay [--runs 1000] [--seed N] [--wave 50]

Each run gets a scenario at random (seeded): success, a Spot interruption then success
on-demand, failures until `retries` run out, capacity failures at start or at a re-run, a
retried invocation or a duplicate request, TaskFailedToStart transient and permanent, a RunTask
that is refused, a user stop, a timeout. Runs are played in waves that share one clock, one runs
table and one ECS (`tools/ecs_sim.py`), with a deploy (new task definition revisions) in the
middle of each wave. Events are delivered as ECS promises them, at least once and in any order:
each is delayed, some duplicated, some dropped, and every event of some runs is dropped. The
reconciliation pass runs every simulated minute. A handler that raises is invoked again as
Lambda retries an async invocation (about 1 and 2 minutes later), then given up.

At the end every run is held against its scenario, worked out here from the README's rules and
not from the lifecycle's code: its final status, how many tasks it started (a duplicate task is
one more than the scenario allows, or one started while another of the run still ran), and the
final transitions reported for it: the supervisor's answer carrying "final" (for an event or in
the pass), the pass ending a lost run, the trigger answering a run it ended FAILED, or a stop by
run id that ended it STOPPED; exactly one per run. When the functions' config has a
notifications topic, the notices published are also counted against what each job asks for.
Tasks left running, passes that raised and how long a run whose events were all dropped took to
end are printed too. The last line reads
`replay: R runs, L lost, D duplicate tasks, W wrong final states, N notifications not exactly
once`, then whether the goal (all four 0) is met.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import functools
import heapq
import io
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The functions make their clients at import: a region and fake credentials first (moto answers).
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
for _variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(_variable, "testing")

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto import mock_aws  # noqa: E402

from functions.common import records  # noqa: E402
from functions.supervisor import supervisor  # noqa: E402
from functions.trigger import handler  # noqa: E402
from longjobs_contract import capacity, lifecycle, runs, trigger_config  # noqa: E402
from longjobs_contract.jobs import JobContract, LifecycleRules  # noqa: E402
from offline.moto import create_runs_table  # noqa: E402
from simulation.ecs import EcsModel as EcsSim  # noqa: E402
from simulation.ecs import Fate  # noqa: E402
from simulation.ecs_api import client_error  # noqa: E402

REGION = "eu-west-1"
ACCOUNT = "123456789012"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/longjobs-replay"
SAMPLE = json.loads(
    (
        ROOT / "tests" / "functions" / "fixtures" / "ecs_task_state_change_fargate_running.json"
    ).read_text()
)
"""The documented "ECS Task State Change" sample (ECS developer guide, "Amazon ECS task state
change events"): every delivered event is it, with the task's own fields and state set on it."""
START = datetime(2026, 11, 2, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
LAMBDA_RETRIES = (timedelta(minutes=1), timedelta(minutes=2))
"""Lambda retries a failed async invocation twice, about 1 and then 2 minutes later."""
WAVE_SPREAD = timedelta(minutes=10)
"""Runs of a wave are requested over this long."""
TAIL = timedelta(minutes=15)
"""How long a wave goes on once every run is final: late and duplicate events still come."""
HORIZON = timedelta(hours=6)
"""A wave ends this long after it began, final or not."""

REPORT_RULES = LifecycleRules(retries=1, interruption_retries=2, on_interruption="on-demand")
IMPORT_RULES = LifecycleRules(
    retries=1, interruption_retries=2, on_interruption="on-demand", timeout_seconds=600
)
RULES = {"report": REPORT_RULES, "import": IMPORT_RULES}
CAPACITY = {"report": capacity.SPOT, "import": capacity.ON_DEMAND}
CONTAINER = {"report": "report", "import": "importer"}

# Event delivery, per event of a run whose events are not all dropped.
DROP = 0.1
DUPLICATE = 0.2
LATE = 0.1
"""Share of deliveries held back up to 10 minutes (a late RUNNING after STOPPED, ...)."""
DROP_ALL = 0.15
"""Share of runs whose every event is dropped."""
THROTTLE = 0.01
"""Share of new RunTask requests ECS throttles."""


# --- scenarios -------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    job: str
    fates: list[Fate]
    """What each task the run starts does, in order."""
    blocked: dict[int, tuple[float, frozenset[str]]] = field(default_factory=dict)
    """Task index → (seconds from the first RunTask for it, providers without capacity)."""
    refused: dict[int, str] = field(default_factory=dict)
    """Task index → the error code RunTask raises for it (AccessDeniedException, ...)."""
    stop_after: float | None = None
    """Seconds after the request when the user stops the run by its id."""
    repeats: list[tuple[float, bool]] = field(default_factory=list)
    """(seconds after the request, same invocation): the request again, as Lambda's own retry
    of the same invocation (same request id) or as another caller's (a new one)."""
    drop_all: bool = False

    def expected(self) -> tuple[str, int]:
        """(final status, tasks allowed) by the README's rules, from the scenario alone."""
        rules = RULES[self.job]
        job_failed = interrupted = 0
        for index, fate in enumerate(self.fates):
            if index in self.refused:
                return runs.FAILED, index
            tasks = index + 1
            if fate.kind == "hang":
                if self.stop_after is not None:
                    return runs.STOPPED, tasks
                return runs.TIMED_OUT, tasks
            if fate.kind == "exit" and fate.exit_code == 0:
                return runs.SUCCEEDED, tasks
            if fate.kind == "exit":
                job_failed += 1
                if job_failed > rules.retries:
                    return runs.FAILED, tasks
            elif fate.kind in ("interrupt", "start-transient"):
                interrupted += 1
                if interrupted > rules.interruption_retries:
                    return runs.FAILED, tasks
            elif fate.kind == "start-permanent":
                return runs.FAILED, tasks
        raise ValueError(f"scenario {self.name} does not end")


def _exit(rng: random.Random, code: int = 0) -> Fate:
    return Fate("exit", code, rng.uniform(30, 300))


def _interrupt(rng: random.Random) -> Fate:
    return Fate("interrupt", seconds=rng.uniform(10, 300))


def _both(rng: random.Random) -> tuple[float, frozenset[str]]:
    return rng.uniform(20, 420), frozenset({"FARGATE", "FARGATE_SPOT"})


def _job(rng: random.Random) -> str:
    return rng.choice(["report", "import"])


SCENARIOS: dict[str, tuple[int, Callable[[random.Random], Scenario]]] = {
    "success": (10, lambda r: Scenario("success", _job(r), [_exit(r)])),
    "spot interruption then success on-demand": (
        10,
        lambda r: Scenario("", "report", [_interrupt(r), _exit(r)]),
    ),
    "interrupted until interruptionRetries run out": (
        4,
        lambda r: Scenario("", "report", [_interrupt(r) for _ in range(3)]),
    ),
    "failures until retries run out": (
        8,
        lambda r: Scenario("", _job(r), [_exit(r, 1), _exit(r, r.choice([1, 2, 137]))]),
    ),
    "failure then success": (6, lambda r: Scenario("", _job(r), [_exit(r, 1), _exit(r)])),
    "capacity failure at start, then capacity back": (
        8,
        lambda r: Scenario("", _job(r), [_exit(r)], blocked={0: _both(r)}),
    ),
    "Spot full at start, on-demand at once": (
        4,
        lambda r: Scenario(
            "", "report", [_exit(r)], blocked={0: (r.uniform(20, 600), frozenset({"FARGATE_SPOT"}))}
        ),
    ),
    "retried invocation after a capacity failure": (
        6,
        lambda r: Scenario(
            "",
            _job(r),
            [_exit(r)],
            blocked={0: _both(r)},
            repeats=[(r.uniform(30, 2400), True)],
        ),
    ),
    "capacity failure at a re-run": (
        5,
        lambda r: Scenario("", "report", [_interrupt(r), _exit(r)], blocked={1: _both(r)}),
    ),
    "duplicate trigger request": (
        8,
        lambda r: Scenario(
            "",
            _job(r),
            [_exit(r)],
            repeats=[(r.uniform(0, 2400), r.random() < 0.3) for _ in range(r.randint(1, 3))],
        ),
    ),
    "TaskFailedToStart transient": (
        6,
        lambda r: Scenario("", _job(r), [Fate("start-transient")] * r.randint(1, 2) + [_exit(r)]),
    ),
    "TaskFailedToStart transient until interruptionRetries run out": (
        2,
        lambda r: Scenario("", _job(r), [Fate("start-transient")] * 3),
    ),
    "TaskFailedToStart permanent": (
        5,
        lambda r: Scenario("", _job(r), [Fate("start-permanent")]),
    ),
    "RunTask refused": (
        3,
        lambda r: Scenario(
            "",
            _job(r),
            [_exit(r)],
            refused={0: r.choice(["AccessDeniedException", "InvalidParameterException"])},
        ),
    ),
    "re-run refused": (
        2,
        lambda r: Scenario(
            "", "report", [_interrupt(r), _exit(r)], refused={1: "AccessDeniedException"}
        ),
    ),
    "user stop": (
        8,
        lambda r: Scenario(
            "",
            "report",
            ([_interrupt(r)] if r.random() < 0.3 else []) + [Fate("hang")],
            stop_after=r.uniform(0, 600),
        ),
    ),
    "timeout": (5, lambda r: Scenario("", "import", [Fate("hang")])),
}


def scenario(rng: random.Random) -> Scenario:
    names = list(SCENARIOS)
    name = rng.choices(names, weights=[SCENARIOS[n][0] for n in names])[0]
    chosen = SCENARIOS[name][1](rng)
    chosen.name = name
    chosen.drop_all = rng.random() < DROP_ALL
    return chosen


# --- one run as the replay saw it ------------------------------------------------------------


@dataclass
class Case:
    index: int
    run_id: str
    scenario: Scenario
    request: dict[str, Any]
    request_id: str
    requested: datetime
    block_began: dict[int, datetime] = field(default_factory=dict)
    reports: list[str] = field(default_factory=list)
    """Final transitions reported: "<who>: <status>"."""
    story: list[str] = field(default_factory=list)
    """What happened to the run, one line each, for the diagnostics."""
    notices: int = 0


class Context:
    def __init__(self, request_id: str):
        self.aws_request_id = request_id


@dataclass
class Summary:
    runs: int = 0
    lost: int = 0
    duplicate_tasks: int = 0
    wrong: int = 0
    not_once: int = 0
    still_running: int = 0
    slowest_final: float = 0.0
    """Most seconds from a run's last task stopping to its final state."""
    slow_finals: int = 0
    """Runs whose events were all dropped that ended over SLOW_FINAL after their task."""
    pass_errors: int = 0
    given_up: int = 0
    notices_wrong: int = 0
    scenarios: dict[str, int] = field(default_factory=dict)
    failing: list[tuple[int, str]] = field(default_factory=list)
    """(run number, what went wrong with it)."""
    calls: dict[str, int] = field(default_factory=dict)

    def add(self, other: Summary) -> None:
        for name in ("lost", "duplicate_tasks", "wrong", "not_once", "still_running",
                     "pass_errors", "given_up", "notices_wrong", "slow_finals"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.slowest_final = max(self.slowest_final, other.slowest_final)
        for mine, theirs in ((self.scenarios, other.scenarios), (self.calls, other.calls)):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count
        self.failing += other.failing

    @property
    def goal_met(self) -> bool:
        return self.lost == self.duplicate_tasks == self.wrong == self.not_once == 0

    def line(self) -> str:
        return (
            f"replay: {self.runs} runs, {self.lost} lost, {self.duplicate_tasks} duplicate tasks, "
            f"{self.wrong} wrong final states, {self.not_once} notifications not exactly once"
        )


# --- the world of one wave -------------------------------------------------------------------


class Wave:
    """Runs sharing one clock, one runs table and one ECS."""

    def __init__(
        self,
        rng: random.Random,
        cases: list[Case],
        dynamodb: Any,
        table: str,
        config_path: Path,
        began: datetime,
    ):
        self.rng = rng
        self.now = began
        self.began = began
        self.cases = {case.run_id: case for case in cases}
        self.dynamodb = dynamodb
        self.store = records.RunStore(dynamodb, table)
        self.config_path = config_path
        self.table = table
        self._queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = 0
        self.pending = 0
        """Queued actions other than the every-minute pass."""
        self.pass_errors = 0
        self.given_up = 0
        self.ecs = EcsSim(
            now=lambda: self.now,
            schedule=self.at,
            emit=self.on_task_change,
            fate_of=self.fate_of,
            placeable=self.placeable,
            refused=self.refused,
            rng=rng,
            throttle_rate=THROTTLE,
        )
        self.revision = 1
        self.final: dict[str, str] = {}
        self.passes: list[tuple[datetime, str]] = []
        """What the passes that did something did, for the diagnostics."""

    # the clock

    def at(self, when: datetime, action: Callable[[], None], *, periodic: bool = False) -> None:
        self._seq += 1
        if not periodic:
            self.pending += 1

        def counted() -> None:
            if not periodic:
                self.pending -= 1
            action()

        heapq.heappush(self._queue, (max(when, self.now), self._seq, counted))

    def play(self) -> None:
        self.write_config()
        for case in self.cases.values():
            self.at(case.requested, functools.partial(self.request, case, case.request_id))
            if case.scenario.stop_after is not None:
                when = case.requested + timedelta(seconds=case.scenario.stop_after)
                self.at(when, functools.partial(self.stop, case))
            for seconds, same in case.scenario.repeats:
                request_id = case.request_id if same else self.new_id()
                when = case.requested + timedelta(seconds=seconds)
                self.at(when, functools.partial(self.request, case, request_id))
        self.at(self.began + self.rng.uniform(0, 1) * 4 * WAVE_SPREAD, self.deploy)
        self.at(self.began + MINUTE, self.reconcile, periodic=True)
        quiet_since: datetime | None = None
        while self._queue:
            when, _, action = heapq.heappop(self._queue)
            self.now = when
            if when - self.began > HORIZON:
                break
            action()
            if self.pending == 0 and self.all_final():
                quiet_since = quiet_since or self.now
                if self.now - quiet_since >= TAIL:
                    break
            else:
                quiet_since = None

    def all_final(self) -> bool:
        return not self.unfinished()

    def unfinished(self) -> list[Case]:
        """The runs not final yet (a final run never changes: it is not read again)."""
        return [case for case in self.cases.values() if self.status(case) not in runs.FINAL]

    def status(self, case: Case) -> str | None:
        if case.run_id in self.final:
            return self.final[case.run_id]
        record = self.store.get(case.run_id)
        status = record[runs.Record.STATUS] if record else None
        if status in runs.FINAL:
            self.final[case.run_id] = status
        return status

    def new_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    # what ECS does for the runs' scenarios

    def fate_of(self, run_id: str, index: int) -> Fate:
        fates = self.cases[run_id].scenario.fates
        # A task beyond the scenario's is a duplicate: it succeeds, so that it is counted only.
        return fates[index] if index < len(fates) else Fate("exit", 0, 60.0)

    def placeable(self, run_id: str, index: int, provider: str) -> bool:
        case = self.cases[run_id]
        block = case.scenario.blocked.get(index)
        if block is None:
            return True
        seconds, providers = block
        began = case.block_began.setdefault(index, self.now)
        return provider not in providers or self.now - began >= timedelta(seconds=seconds)

    def refused(self, run_id: str, index: int) -> ClientError | None:
        code = self.cases[run_id].scenario.refused.get(index)
        if code is None:
            return None
        return client_error(code, f"{code}: the replay refuses this task", "RunTask")

    # events: at least once, in any order

    def on_task_change(self, task: dict[str, Any]) -> None:
        case = self.cases.get(str(task.get("startedBy")))
        if case is None:
            return
        where = (
            f"{self.clock()} task {task['taskArn'][-6:]} v{task['version']} {task['lastStatus']}"
        )
        if case.scenario.drop_all or self.rng.random() < DROP:
            case.story.append(f"{where}: event dropped")
            return
        copies = 2 if self.rng.random() < DUPLICATE else 1
        for copy_number in range(copies):
            late = self.rng.random() < LATE
            delay = self.rng.uniform(60, 600) if late else self.rng.uniform(0.5, 45)
            event = self.envelope(task)
            note = f"{where} (copy {copy_number + 1}, +{delay:.0f}s)"
            self.at(
                self.now + timedelta(seconds=delay),
                functools.partial(self.deliver, case, event, note),
            )

    def envelope(self, task: dict[str, Any]) -> dict[str, Any]:
        event = copy.deepcopy(SAMPLE)
        detail = event["detail"]
        for key in (
            "startedAt",
            "stoppedAt",
            "stoppingAt",
            "pullStartedAt",
            "pullStoppedAt",
            "connectivityAt",
            "executionStoppedAt",
            "stopCode",
            "stoppedReason",
        ):
            detail.pop(key, None)
        for key, value in task.items():
            if key == "tags":
                continue  # events carry no tags
            detail[key] = records.timestamp(value) if isinstance(value, datetime) else value
        detail["updatedAt"] = records.timestamp(self.now)
        event.update(
            id=self.new_id(),
            time=records.timestamp(self.now),
            region=REGION,
            account=ACCOUNT,
            resources=[task["taskArn"]],
        )
        return event

    def deliver(self, case: Case, event: dict[str, Any], note: str) -> None:
        self.invoke(
            case,
            f"event {note}",
            lambda: supervisor.handler(event, Context(self.new_id())),
        )

    # Lambda: an invocation that raises is retried, twice, then given up

    def invoke(self, case: Case, what: str, call: Callable[[], Any], tries: int = 0) -> None:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                answer = call()
        except Exception as error:
            retry = LAMBDA_RETRIES[tries] if tries < len(LAMBDA_RETRIES) else None
            then = f"retried in {retry.seconds // 60} min" if retry else "given up"
            case.story.append(
                f"{self.clock()} {what}: raised {type(error).__name__}: {str(error)[:90]}; {then}"
            )
            if retry is not None:
                self.at(self.now + retry, lambda: self.invoke(case, what, call, tries + 1))
            else:
                self.given_up += 1
            return
        case.story.append(f"{self.clock()} {what}: {_short(answer)}")

    # the trigger

    def request(self, case: Case, request_id: str) -> None:
        def call() -> dict[str, Any]:
            before = self.status(case)
            answer = handler.handler(case.request, Context(request_id))
            status = answer.get("status")
            if status in runs.FINAL and before not in runs.FINAL:
                case.reports.append(f"trigger run: {status}")
            return answer

        self.invoke(case, f"run request {request_id[:6]}", call)

    def stop(self, case: Case) -> None:
        def call() -> dict[str, Any]:
            before = self.status(case)
            answer = handler.handler(
                {"action": "stop", "runId": case.run_id, "reason": "replay: user stop"},
                Context(self.new_id()),
            )
            if answer.get("status") == runs.STOPPED and before not in runs.FINAL:
                case.reports.append("trigger stop: STOPPED")
            return answer

        self.invoke(case, "stop by run id", call)

    # the supervisor's pass, every minute

    def reconcile(self) -> None:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                answer = supervisor.handler(supervisor.RECONCILE, Context(self.new_id()))
            if any(answer.get(k) for k in ("timedOut", "resent", "lost", "applied")):
                self.passes.append((self.now, f"{self.clock()} pass: {_short(answer)}"))
        except Exception as error:
            self.pass_errors += 1
            self.passes.append(
                (self.now, f"{self.clock()} pass raised {type(error).__name__}: {str(error)[:90]}")
            )
        self.at(self.now + MINUTE, self.reconcile, periodic=True)

    # a deploy: every job's task definition gets a new revision

    def deploy(self) -> None:
        self.revision += 1
        self.write_config()
        for case in self.cases.values():
            case.story.append(
                f"{self.clock()} deploy: task definitions at revision {self.revision}"
            )

    def write_config(self) -> None:
        self.config_path.write_text(trigger_config.dumps(make_config(self.table, self.revision)))
        handler.load_config.cache_clear()
        supervisor.load_config.cache_clear()

    def clock(self) -> str:
        return self.clock_of(self.now)

    def clock_of(self, when: datetime) -> str:
        return f"+{(when - self.began).total_seconds() / 60:6.2f}m"


def _short(answer: Any) -> str:
    if not isinstance(answer, dict):
        return repr(answer)
    shown = {k: v for k, v in answer.items() if k not in ("attempts", "request", "idempotencyKey")}
    if "taskArn" in shown and isinstance(shown["taskArn"], str):
        shown["taskArn"] = shown["taskArn"][-6:]
    return json.dumps(shown, default=str)[:200]


# --- the stack -------------------------------------------------------------------------------


def make_config(table: str, revision: int) -> trigger_config.TriggerConfig:
    """A stack of two jobs with lifecycle rules: `report` on Spot, `import` on-demand with a
    timeout."""
    jobs = {
        job: JobContract(
            task_definition_arn=(
                f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/longjobs-replay-{job}:{revision}"
            ),
            container_name=CONTAINER[job],
            capacity=CAPACITY[job],
            log_group=f"/longjobs/replay/{job}",
            # What each replayed run sends (a run may set only what its job declares).
            overridable_environment=("REPLAY_RUN",),
            **_lifecycle(RULES[job]),
        )
        for job in RULES
    }
    return trigger_config.TriggerConfig(
        cluster_arn=CLUSTER,
        subnet_ids=("subnet-0123456789abcdef0",),
        security_group_ids=("sg-0123456789abcdef0",),
        assign_public_ip=False,
        runs_table=table,
        run_retention_days=90,
        checkpoint_bucket=f"longjobs-replay-checkpoints-{ACCOUNT}-{REGION}",
        jobs=jobs,
        **_known(
            trigger_config.TriggerConfig,
            {
                "notifications_topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:longjobs-replay",
                "region": REGION,
            },
        ),
    )


def _lifecycle(rules: LifecycleRules) -> dict[str, Any]:
    return {f.name: getattr(rules, f.name) for f in dataclasses.fields(LifecycleRules)}


def _known(kind: type, candidates: dict[str, Any]) -> dict[str, Any]:
    """The fields among `candidates` that `kind` has (the config grows with notifications)."""
    names = {f.name for f in dataclasses.fields(kind)}
    return {key: value for key, value in candidates.items() if key in names}


def declared_runs_table() -> dict[str, Any]:
    from offline.program import run_program

    program = run_program(str(ROOT / "Pulumi.dev.yaml"))
    return dict(program.one("aws:dynamodb/table:Table", "runs-table").inputs)


# --- counting what the functions report ------------------------------------------------------


class FakeSns:
    """Counts notices per run."""

    def __init__(self) -> None:
        self.published: dict[str, int] = {}

    def publish(self, **params: Any) -> dict[str, Any]:
        run_id = params["MessageAttributes"]["runId"]["StringValue"]
        self.published[run_id] = self.published.get(run_id, 0) + 1
        return {"MessageId": str(len(self.published))}


class FakeLogs:
    class exceptions:  # noqa: N801 - boto3's client attribute
        class ResourceNotFoundException(Exception):
            pass

    def get_log_events(self, **params: Any) -> dict[str, Any]:
        return {"events": []}


@contextlib.contextmanager
def patched(dynamodb: Any, ecs: Callable[[], EcsSim], clock: Callable[[], datetime],
            sink: Callable[[str, str], None], sns: FakeSns) -> Iterator[None]:  # fmt: skip
    """The functions' clients, clock and final-transition reports, for the replay only."""
    saved: list[tuple[Any, str, Any]] = []

    def put(module: Any, name: str, value: Any) -> None:
        saved.append((module, name, getattr(module, name)))
        setattr(module, name, value)

    class CurrentEcs:
        def __getattr__(self, name: str) -> Any:
            return getattr(ecs(), name)

    apply, lost = supervisor.apply, supervisor._lost

    def reporting_apply(config: Any, store: Any, run_id: str, task: Any) -> Any:
        answer = apply(config, store, run_id, task)
        if answer.get("final"):
            sink(run_id, f"supervisor: {answer['final']}")
        return answer

    def reporting_lost(store: Any, record: Any, now: Any, rules: Any) -> None:
        lost(store, record, now, rules)
        sink(record[runs.Record.RUN_ID], "supervisor pass (lost): FAILED")

    for module in (handler, supervisor):
        put(module, "dynamodb", dynamodb)
        put(module, "ecs", CurrentEcs())
    put(records, "now", clock)
    put(supervisor, "apply", reporting_apply)
    put(supervisor, "_lost", reporting_lost)
    put(supervisor, "sns", sns)
    put(supervisor, "logs", FakeLogs())
    try:
        yield
    finally:
        for module, name, value in reversed(saved):
            setattr(module, name, value)


# --- the replay ------------------------------------------------------------------------------


def replay(total: int = 1000, seed: int = 1, wave_size: int = 50, workers: int = 1) -> Summary:
    """Play `total` runs in waves of `wave_size`, spread over `workers` processes. Each wave
    draws from its own generator (seed and wave number), so the figures depend on the seed
    alone, not on how many processes played them."""
    declared = declared_runs_table()
    waves = [
        (number, first, min(total, first + wave_size))
        for number, first in enumerate(range(0, total, wave_size))
    ]
    shares = [waves[i::workers] for i in range(max(1, min(workers, len(waves))))]
    if len(shares) == 1:
        parts = [play_waves(declared, seed, shares[0])]
    else:
        spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads
        with ProcessPoolExecutor(len(shares), mp_context=spawn) as pool:
            parts = list(pool.map(play_waves, [declared] * len(shares), [seed] * len(shares),
                                  shares))  # fmt: skip
    summary = Summary(runs=total)
    for part in parts:
        summary.add(part)
    summary.failing.sort()
    return summary


def play_waves(declared: dict[str, Any], seed: int, waves: list[tuple[int, int, int]]) -> Summary:
    """Play some waves in this process, in one moto."""
    summary = Summary()
    sns = FakeSns()
    current: dict[str, Wave] = {}
    everything: dict[str, Case] = {}

    def sink(run_id: str, report: str) -> None:
        case = everything.get(run_id)
        if case is not None:
            case.reports.append(report)

    saved_path = os.environ.get(trigger_config.CONFIG_PATH_VARIABLE)
    with (
        tempfile.TemporaryDirectory() as folder,
        mock_aws(config={"core": {"reset_boto3_session": False}}),
    ):
        config_path = Path(folder) / trigger_config.CONFIG_FILE
        os.environ[trigger_config.CONFIG_PATH_VARIABLE] = str(config_path)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        try:
            with patched(
                dynamodb, lambda: current["wave"].ecs, lambda: current["wave"].now, sink, sns
            ):
                for number, first, last in waves:
                    rng = random.Random(f"{seed}/{number}")
                    began = START + number * timedelta(days=2)  # tokens and tasks forgotten
                    table = f"longjobs-replay-runs-{number}"
                    create_runs_table(dynamodb, declared, table)
                    cases = [new_case(rng, seed, index, began) for index in range(first, last)]
                    everything.update((case.run_id, case) for case in cases)
                    wave = Wave(rng, cases, dynamodb, table, config_path, began)
                    current["wave"] = wave
                    wave.play()
                    judge(wave, cases, summary, sns)
                    dynamodb.delete_table(TableName=table)
        finally:
            handler.load_config.cache_clear()
            supervisor.load_config.cache_clear()
            if saved_path is None:
                os.environ.pop(trigger_config.CONFIG_PATH_VARIABLE, None)
            else:
                os.environ[trigger_config.CONFIG_PATH_VARIABLE] = saved_path
    return summary


def new_case(rng: random.Random, seed: int, index: int, began: datetime) -> Case:
    chosen = scenario(rng)
    key = f"replay-{seed}-{index}"
    return Case(
        index=index,
        run_id=runs.run_id(chosen.job, key),
        scenario=chosen,
        request={
            "job": chosen.job,
            "idempotencyKey": key,
            "environment": {"REPLAY_RUN": str(index)},
        },
        request_id=f"{rng.getrandbits(128):032x}",
        requested=began + rng.uniform(0, 1) * WAVE_SPREAD,
    )


def judge(wave: Wave, cases: list[Case], summary: Summary, sns: FakeSns) -> None:
    summary.pass_errors += wave.pass_errors
    summary.given_up += wave.given_up
    for operation, count in wave.ecs.operations().items():
        summary.calls[operation] = summary.calls.get(operation, 0) + count
    left_running: dict[str, int] = {}
    for task in wave.ecs.running():
        run_id = str(task["startedBy"])
        left_running[run_id] = left_running.get(run_id, 0) + 1
        summary.still_running += 1
    for case in cases:
        summary.scenarios[case.scenario.name] = summary.scenarios.get(case.scenario.name, 0) + 1
        record = wave.store.get(case.run_id)
        status = record[runs.Record.STATUS] if record else None
        expected, allowed = case.scenario.expected()
        tasks = wave.ecs.by_run.get(case.run_id, [])
        problems = []
        if status not in runs.FINAL:
            summary.lost += 1
            problems.append(f"lost: {status}")
        elif status != expected:
            summary.wrong += 1
            problems.append(f"wrong final state: {status}, expected {expected}")
        extra = max(0, len(tasks) - allowed) + wave.ecs.overlaps.get(case.run_id, 0)
        if extra:
            summary.duplicate_tasks += extra
            problems.append(
                f"duplicate tasks: {len(tasks)} started, {allowed} allowed, "
                f"{wave.ecs.overlaps.get(case.run_id, 0)} while another ran"
            )
        if left_running.get(case.run_id):
            problems.append(f"{left_running[case.run_id]} task(s) still running at the end")
        lag = _final_lag(wave, record, tasks)
        if lag is not None:
            summary.slowest_final = max(summary.slowest_final, lag)
            if case.scenario.drop_all and lag > SLOW_FINAL:
                summary.slow_finals += 1
                problems.append(f"final {lag / 60:.1f} min after its last task stopped")
        if len(case.reports) != 1:
            summary.not_once += 1
            problems.append(f"final reported {len(case.reports)} times: {case.reports}")
        if record is not None:
            wanted = 1 if lifecycle.notice(RULES[case.scenario.job], status or "") else 0
            got = sns.published.get(case.run_id, 0)
            if got != wanted:
                summary.notices_wrong += 1
                problems.append(f"notices published: {got}, expected {wanted}")
        if problems:
            summary.failing.append((case.index, diagnose(wave, case, record, tasks, problems)))


SLOW_FINAL = 4 * 60.0
"""Seconds from a run's last task stopping to its final state, past which a run whose events
were all dropped is later than the README's "about three minutes"."""


def _final_lag(wave: Wave, record: dict[str, Any] | None, tasks: list[str]) -> float | None:
    """Seconds from the run's last task stopping to the write that made the run final."""
    if record is None or record[runs.Record.STATUS] not in runs.FINAL or not tasks:
        return None
    stopped = wave.ecs.tasks[tasks[-1]].get("stoppedAt")
    if stopped is None:
        return None
    final = datetime.fromisoformat(record[runs.Record.UPDATED_AT].replace("Z", "+00:00"))
    return max(0.0, (final - stopped).total_seconds())


def diagnose(
    wave: Wave, case: Case, record: dict[str, Any] | None, tasks: list[str], problems: list[str]
) -> str:
    s = case.scenario
    lines = [
        f"run {case.index} ({case.run_id}): {'; '.join(problems)}",
        f"  scenario: {s.name}, job {s.job}, fates {[(f.kind, f.exit_code) for f in s.fates]}, "
        f"blocked {s.blocked}, refused {s.refused}, stop after {s.stop_after}, "
        f"repeats {s.repeats}, every event dropped: {s.drop_all}",
        f"  requested at {wave.clock_of(case.requested)}",
    ]
    for arn in tasks:
        task = wave.ecs.tasks[arn]
        exit_codes = [c.get("exitCode") for c in task["containers"]]
        lines.append(
            f"  task {arn[-6:]} {task['capacityProviderName']} v{task['version']} "
            f"{task['lastStatus']} stop {task.get('stopCode')} exit {exit_codes}"
        )
    if record is not None:
        lines.append(
            f"  record: {record[runs.Record.STATUS]} attempt {record[runs.Record.ATTEMPT]} "
            f"reason {record.get(runs.Record.REASON)!r}"
        )
        for attempt in record[runs.Record.ATTEMPTS]:
            shown = {k: v for k, v in attempt.items() if k not in ("requestedAt",)}
            if "taskArn" in shown:
                shown["taskArn"] = shown["taskArn"][-6:]
            lines.append(f"    {json.dumps(shown, default=str)[:220]}")
    # The story, with the passes that raised while the run was not final.
    ended = record[runs.Record.UPDATED_AT] if record else None
    end = (
        datetime.fromisoformat(ended.replace("Z", "+00:00"))
        if ended and record and record[runs.Record.STATUS] in runs.FINAL
        else wave.now
    )
    passes = [
        line for when, line in wave.passes if case.requested <= when <= end and "raised" in line
    ]
    story = sorted(case.story + passes, key=lambda line: float(line.split("m", 1)[0][1:]))
    lines += [f"  {line}" for line in story]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wave", type=int, default=50, help="runs sharing one clock and table")
    parser.add_argument(
        "--workers", type=int, default=min(4, os.cpu_count() or 1), help="processes"
    )
    parser.add_argument("--show", type=int, default=3, help="failing runs to describe")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    summary = replay(args.runs, args.seed, args.wave, args.workers)
    seconds = time.perf_counter() - began
    for _, text in summary.failing[: args.show]:
        print(text)
        print()
    if len(summary.failing) > args.show:
        print(f"... and {len(summary.failing) - args.show} more failing runs (--show N)")
    print(f"seed {args.seed}, waves of {args.wave}, {args.workers} processes, {seconds:.1f} s")
    print("scenarios: " + ", ".join(f"{n} {c}" for n, c in sorted(summary.scenarios.items())))
    print("ECS calls: " + ", ".join(f"{n} {c}" for n, c in sorted(summary.calls.items())))
    print(
        f"reconciliation passes that raised: {summary.pass_errors}; invocations given up after "
        f"Lambda's retries: {summary.given_up}; tasks still running at the end: "
        f"{summary.still_running}"
    )
    print(
        f"slowest final state after the last task stopped: {summary.slowest_final / 60:.1f} min; "
        f"runs with every event dropped final over {SLOW_FINAL / 60:.0f} min after it: "
        f"{summary.slow_finals}"
    )
    print(f"runs whose notices were not as their job asks: {summary.notices_wrong}")
    verdict = "goal met" if summary.goal_met else "goal MISSED"
    print(f"{summary.line()} — {verdict}")
    return 0 if summary.goal_met else 1


if __name__ == "__main__":
    sys.exit(main())
