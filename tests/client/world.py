"""A deployed dev stack in one process, on a virtual clock: the client's Lambda calls reach the
real trigger handler, the run's tasks are the ECS model's (simulation/ecs.py), their "ECS Task
State Change" events reach the real supervisor handler, and their containers' lines land in
moto's CloudWatch Logs under the stream the contract names.

The client's clock is the world's: each `sleep` of the client lets the world's time (tasks,
events, the supervisor's every-minute pass) go on, so a wait of minutes runs in moments.

Lambda's side of Invoke, as the Lambda API reference documents it (POST
/2015-03-31/functions/{FunctionName}/invocations): 200 with the function's JSON as the body; a
function that raised answers 200 too, with the `X-Amz-Function-Error: Unhandled` header and
`{"errorMessage", "errorType", "stackTrace"}`; a service error is its status with
`X-Amzn-ErrorType`. The answer is made as HTTP and botocore parses it by its own model of
Invoke, as it parses AWS's.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import heapq
import io
import itertools
import json
import os
import random
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core.botocore_stubber import MockRawResponse

import longjobs.aws
import longjobs.stack
from functions.common import clock as functions_clock
from functions.common import records
from functions.supervisor import supervisor
from functions.trigger import handler
from longjobs_contract import lifecycle, runs, trigger_config
from offline.program import ProgramRun
from simulation.ecs import EcsModel, Fate
from tests.functions.runs_table import create_runs_table

SAMPLE = json.loads(
    (
        Path(__file__).parent.parent
        / "functions/fixtures/ecs_task_state_change_fargate_running.json"
    ).read_text()
)
EVENT_DELAY = 1.0
"""Seconds from a task's change to its event reaching the supervisor."""


class VirtualClock:
    """Seconds from `start`, and what is due when."""

    def __init__(self, start: datetime):
        self.start = start
        self.t = 0.0
        self._queue: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        """The client's sleep: the world goes on meanwhile."""
        self.sleeps.append(seconds)
        self.advance(seconds)

    def at(self, when: datetime, action: Callable[[], object]) -> None:
        self.after((when - self.now()).total_seconds(), action)

    def after(self, seconds: float, action: Callable[[], object]) -> None:
        heapq.heappush(self._queue, (self.t + max(0.0, seconds), next(self._order), action))

    def advance(self, seconds: float) -> None:
        until = self.t + seconds
        while self._queue and self._queue[0][0] <= until:
            when, _, action = heapq.heappop(self._queue)
            self.t = max(self.t, when)
            action()
        self.t = until


class FunctionsClock:
    """The handlers' view of the world's clock: a backoff of theirs moves time, no world."""

    def __init__(self, world: VirtualClock):
        self.world = world

    def now(self) -> datetime:
        return self.world.now()

    def monotonic(self) -> float:
        return self.world.monotonic()

    def sleep(self, seconds: float) -> None:
        self.world.t += seconds


@dataclass
class Context:
    aws_request_id: str
    invoked_function_arn: str


@dataclass
class Job:
    """What each task of a run does, in start order, and how many lines it logs."""

    fates: list[Fate] = field(default_factory=lambda: [Fate("exit", 0, seconds=60)])
    lines: int = 5
    """Lines each task logs, spread over its running time."""


@dataclass
class World:
    clock: VirtualClock
    config: trigger_config.TriggerConfig
    logs: Any
    function_arn: str
    config_path: Path
    ecs: EcsModel = field(init=False)
    plans: dict[str, Job] = field(default_factory=dict)
    """Job name → what its runs' tasks do (the default Job otherwise)."""
    written: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    """Run id → (attempt, line) each of its tasks logged, in order."""
    invocations: list[dict[str, Any]] = field(default_factory=list)
    """Each event the trigger was invoked with."""
    qualifiers: list[str | None] = field(default_factory=list)
    """The qualifier of each Invoke (`?Qualifier=`), None for the unqualified function."""
    service_errors: list[tuple[int, str, str]] = field(default_factory=list)
    """(HTTP status, error type, message) the next Invoke calls answer, instead of running."""
    raise_next: list[BaseException] = field(default_factory=list)
    """Errors the handler raises on its next invocations (an AWS failure inside it)."""
    on_invoke: Callable[[dict[str, Any]], None] = lambda event: None
    """Told each event before the trigger runs it (where a test presses Ctrl-C)."""
    request_log: io.StringIO = field(default_factory=io.StringIO)
    """The handlers' request log lines (CloudWatch Logs' part, in Lambda)."""
    run_jobs: dict[str, str] = field(default_factory=dict)
    """Run id → its job, as requested."""
    _logging: set[str] = field(default_factory=set)
    _requests: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.ecs = EcsModel(
            now=self.clock.now,
            schedule=self.clock.at,
            emit=self._changed,
            fate_of=self._fate,
            rng=random.Random(7),
        )

    def declare(self, job: str, **rules: Any) -> None:
        """Deploy `job` with other rules (its JobContract's fields): the functions read them."""
        jobs = {**self.config.jobs, job: dataclasses.replace(self.config.jobs[job], **rules)}
        self.config = dataclasses.replace(self.config, jobs=jobs)
        self.config_path.write_text(trigger_config.dumps(self.config))
        handler.load_config.cache_clear()
        supervisor.load_config.cache_clear()

    # --- the tasks ------------------------------------------------------------------------

    def _job_of(self, run_id: str) -> str:
        return self.run_jobs[run_id]

    def _fate(self, run_id: str, index: int) -> Fate:
        fates = self.plans.get(self._job_of(run_id), Job()).fates
        return fates[min(index, len(fates) - 1)]

    def _changed(self, task: dict[str, Any]) -> None:
        event = envelope(task, self.clock.now(), self.config.region)
        self.clock.after(EVENT_DELAY, lambda: self._deliver(event))
        arn = task["taskArn"]
        if task["lastStatus"] == "RUNNING" and arn not in self._logging:
            self._logging.add(arn)
            self._log_lines(task)

    @contextlib.contextmanager
    def _in_lambda(self) -> Iterator[None]:
        """A handler runs on the world's clock; its request log goes to its own log."""
        with (
            functions_clock.use(FunctionsClock(self.clock)),
            contextlib.redirect_stdout(self.request_log),
        ):
            yield

    def _deliver(self, event: dict[str, Any]) -> None:
        with self._in_lambda():
            supervisor.handler(event, self.context())

    def reconcile(self) -> None:
        """The supervisor's every-minute pass, as its schedule invokes it."""
        with self._in_lambda():
            supervisor.handler(lifecycle.RECONCILE_EVENT, self.context())
        self.clock.after(60, self.reconcile)

    def _log_lines(self, task: dict[str, Any]) -> None:
        run_id, arn = task["startedBy"], task["taskArn"]
        job = self._job_of(run_id)
        plan = self.plans.get(job, Job())
        attempt = self.ecs.by_run[run_id].index(arn) + 1
        fate = self._fate(run_id, attempt - 1)
        contract = self.config.jobs[job]
        stream = runs.log_stream(arn, contract.container_name)
        self.logs.create_log_stream(logGroupName=contract.log_group, logStreamName=stream)
        spacing = fate.seconds / (plan.lines + 1)
        batch = max(1, plan.lines // 200)  # a busy job's lines arrive in batches, as awslogs sends

        def write(first: int) -> None:
            now = self.ecs.tasks[arn]
            if (now["lastStatus"], now["desiredStatus"]) != ("RUNNING", "RUNNING"):
                return  # stopping: its container writes no more
            messages = [f"{job} attempt {attempt} line {i}" for i in range(first, first + batch)]
            messages = messages[: plan.lines - first]
            stamp = int(self.clock.now().timestamp() * 1000)
            self.logs.put_log_events(
                logGroupName=contract.log_group,
                logStreamName=stream,
                logEvents=[{"timestamp": stamp, "message": m} for m in messages],
            )
            self.written.setdefault(run_id, []).extend((attempt, m) for m in messages)

        for first in range(0, plan.lines, batch):
            self.clock.after(spacing * (first + 1), lambda first=first: write(first))

    # --- Lambda ---------------------------------------------------------------------------

    def session(self) -> boto3.session.Session:
        """A boto3 session whose Lambda calls reach this world's trigger (before moto sees
        them)."""
        session = boto3.session.Session()
        session.events.register_first("before-send.lambda.Invoke", self.invoke)
        return session

    def context(self, qualifier: str | None = None) -> Context:
        """Lambda's context: the ARN the function was invoked by, qualifier included (Lambda
        developer guide, "Using the Lambda context object in Python": invoked_function_arn)."""
        invoked = f"{self.function_arn}:{qualifier}" if qualifier else self.function_arn
        return Context(f"00000000-0000-4000-8000-{next(self._requests):012x}", invoked)

    def invoke(self, request: Any, **_: Any) -> AWSResponse:
        """Lambda's Invoke of the trigger, answered as HTTP for botocore to parse."""
        name = unquote(request.url.split("/functions/", 1)[1].split("/", 1)[0])
        assert name == self.function_arn, name
        qualifier = parse_qs(urlsplit(request.url).query).get("Qualifier", [None])[0]
        self.qualifiers.append(qualifier)
        assert request.headers.get("X-Amz-Invocation-Type", b"RequestResponse") in (
            b"RequestResponse",
            "RequestResponse",
        )
        if self.service_errors:
            status, kind, message = self.service_errors.pop(0)
            body = json.dumps({"Type": "User", "message": message})
            headers = {"X-Amzn-ErrorType": kind, "Content-Type": "application/json"}
            return AWSResponse(request.url, status, headers, MockRawResponse(body))
        event = json.loads(request.body)
        self.invocations.append(event)
        self.on_invoke(event)
        if isinstance(event.get("job"), str) and isinstance(event.get("idempotencyKey"), str):
            self.run_jobs[runs.run_id(event["job"], event["idempotencyKey"])] = event["job"]
        headers = {"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"}
        try:
            if self.raise_next:
                raise self.raise_next.pop(0)
            with self._in_lambda():
                answer: Any = handler.handler(event, self.context(qualifier))
        except Exception as error:
            headers["X-Amz-Function-Error"] = "Unhandled"
            answer = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
        return AWSResponse(request.url, 200, headers, MockRawResponse(json.dumps(answer)))


def envelope(task: dict[str, Any], now: datetime, region: str) -> dict[str, Any]:
    """The documented sample event carrying `task` as it is now (no tags: events carry none)."""
    event = copy.deepcopy(SAMPLE)
    detail = event["detail"]
    for key in ("startedAt", "stoppedAt", "stoppingAt", "stopCode", "stoppedReason"):
        detail.pop(key, None)
    for key, value in task.items():
        if key != "tags":
            detail[key] = records.timestamp(value) if isinstance(value, datetime) else value
    detail["updatedAt"] = records.timestamp(now)
    event.update(time=records.timestamp(now), region=region, resources=[task["taskArn"]])
    return event


def start_of_world() -> datetime:
    """Now, to the second: CloudWatch Logs takes events from the last 14 days only."""
    return datetime.now(UTC).replace(microsecond=0)


MOTO_CONFIG = {"core": {"reset_boto3_session": False}}


def _answer_at_once(params: dict[str, Any], **_: Any) -> None:
    """A long poll of the failure queue answers at once: the world runs on one thread, so
    nothing can arrive while moto waits its seconds of real time, and moto's short poll answers
    every visible message (it samples no servers), so the answer is the one the wait would give."""
    params["WaitTimeSeconds"] = 0


@contextlib.contextmanager
def open_world(program: ProgramRun, directory: Path) -> Iterator[World]:
    """The program's stack running in process (moto, the ECS model, the real handlers), with
    `longjobs`' sessions and clock the world's while the block runs."""
    config = trigger_config.loads(program.trigger_config)
    region = config.region
    with mock_aws(config=MOTO_CONFIG), contextlib.ExitStack() as patches:
        dynamodb = boto3.client("dynamodb", region_name=region)
        create_runs_table(dynamodb, program)
        logs = boto3.client("logs", region_name=region)
        for group in sorted({job.log_group for job in config.jobs.values()}):
            logs.create_log_group(logGroupName=group)
        sns = boto3.client("sns", region_name=region)
        sns.create_topic(Name=config.notifications_topic.rsplit(":", 1)[-1])
        sqs = boto3.client("sqs", region_name=region)
        sqs.meta.events.register("provide-client-params.sqs.ReceiveMessage", _answer_at_once)
        if config.supervisor_failure_queue:
            sqs.create_queue(QueueName=config.supervisor_failure_queue)
        path = directory / trigger_config.CONFIG_FILE
        path.write_text(program.trigger_config)
        patches.enter_context(
            mock.patch.dict(os.environ, {trigger_config.CONFIG_PATH_VARIABLE: str(path)})
        )
        arn = program.outputs["triggerFunctionArn"]
        world = World(VirtualClock(start_of_world()), config, logs, arn, path)
        clients = {"dynamodb": dynamodb, "ecs": world.ecs, "sns": sns, "sqs": sqs, "logs": logs}
        for module in (handler, supervisor):
            for name, client in clients.items():
                if hasattr(module, name):
                    patches.enter_context(mock.patch.object(module, name, client))
        patches.enter_context(mock.patch.object(longjobs.aws, "session", world.session))
        patches.enter_context(mock.patch.object(longjobs.stack, "SystemClock", lambda: world.clock))
        patches.callback(handler.load_config.cache_clear)
        patches.callback(supervisor.load_config.cache_clear)
        handler.load_config.cache_clear()
        supervisor.load_config.cache_clear()
        world.clock.after(60, world.reconcile)
        yield world
