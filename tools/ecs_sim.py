"""A simulated ECS for the replay: RunTask's documented rules, and tasks that live on a clock.

What it keeps of the ECS API reference and developer guide (the same pages the function tests'
stand-in, tests/functions/ecs_standin.py, cites; both keep RunTask's tokens in `ClientTokens`):
- ECS_Idempotency: see `ClientTokens`.
- RunTask answers HTTP 200 with `failures` and no task when nothing is placed: Fargate without
  capacity answers "Capacity is unavailable at this time. ..." (AWS Knowledge Center,
  ecs-fargate-runtask-capacity); throttling raises `ThrottlingException`.
- A Fargate task goes PROVISIONING → PENDING → RUNNING → DEPROVISIONING → STOPPED, its `version`
  growing with every change, and ECS sends an "ECS Task State Change" event for each change
  ("Amazon ECS task state change events"). A task that is to stop first gets its
  `desiredStatus` STOPPED with its `stopCode` and `stoppedReason` (TaskStopCode in the API
  reference: `TaskFailedToStart`, `EssentialContainerExited`, `UserInitiated`,
  `SpotInterruption`, `TerminationNotice`, ...).
- DescribeTasks answers an unknown task, or one stopped over an hour ago (ECS forgets it), as a
  `failures` entry with reason `MISSING`; StopTask sets `desiredStatus` STOPPED and the stop code
  `UserInitiated`, and leaves a task already stopping as it is.
Every request is first checked against botocore's own model of the operation.

What each task does (run to an exit code, get interrupted, fail to start, run until stopped) is
its `Fate`, asked of the replay when the task starts.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

CAPACITY_REASON = (
    "Capacity is unavailable at this time. Please try again later or in a different "
    "availability zone"
)
ESSENTIAL_EXITED = "Essential container in task exited"
TOKEN_DAY = timedelta(hours=24)
TOKEN_AFTER_TASK = timedelta(hours=1)
FORGET_AFTER = timedelta(hours=1)
_MODEL = boto3.client("ecs", region_name="us-east-1").meta.service_model


def client_error(code: str, message: str, operation: str, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": message}, **extra}
    return ClientError(response, operation)


def check_request(operation: str, params: dict[str, Any]) -> None:
    """Raise as botocore would on a request its model of the operation refuses."""
    validate_parameters(params, _MODEL.operation_model(operation).input_shape)


def new_task(params: dict[str, Any], provider: str, serial: int) -> dict[str, Any]:
    """The task a RunTask request places, as the answer shows it: PROVISIONING, version 1.
    `serial` (how many tasks the cluster started before) makes its id."""
    cluster = params["cluster"]
    head, name = cluster.split(":cluster/")
    task_id = hashlib.sha256(f"{serial}:{cluster}".encode()).hexdigest()[:32]
    family = params["taskDefinition"].rsplit("/", 1)[-1].rsplit(":", 1)[0]
    overrides = params.get("overrides", {})
    return {
        "taskArn": f"{head}:task/{name}/{task_id}",
        "clusterArn": cluster,
        "taskDefinitionArn": params["taskDefinition"],
        "startedBy": params.get("startedBy"),
        "group": f"family:{family}",
        "lastStatus": "PROVISIONING",
        "desiredStatus": "RUNNING",
        "capacityProviderName": provider,
        "launchType": "FARGATE",
        "overrides": copy.deepcopy(overrides),
        "tags": copy.deepcopy(params.get("tags", [])),
        "containers": [
            {"name": c["name"], "lastStatus": "PENDING"}
            for c in overrides.get("containerOverrides", [])
        ],
        "version": 1,
    }


def described(task: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A task as DescribeTasks shows it: its tags only when asked for with include=["TAGS"]
    (ECS API reference, DescribeTasks: "If this field is omitted, tags aren't included")."""
    shown = copy.deepcopy(task)
    if "TAGS" not in (params.get("include") or []):
        shown.pop("tags", None)
    return shown


@dataclass(frozen=True)
class Fate:
    """What one task does once started."""

    kind: str
    """"exit" (the job ends with `exit_code`), "interrupt" (the platform stops it),
    "start-transient" / "start-permanent" (TaskFailedToStart), "hang" (runs until stopped)."""
    exit_code: int = 0
    seconds: float = 120.0
    """How long it runs before it exits or is interrupted."""


# TaskFailedToStart reasons from the developer guide's "Amazon ECS stopped task errors" and
# "CannotPullContainer task errors" pages.
TRANSIENT_START_REASONS = (
    "Timeout waiting for network interface provisioning to complete.",
    "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to do "
    "request: Head https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/report/manifests/"
    "sha256:0: dial tcp 52.95.0.1:443: i/o timeout",
)
PERMANENT_START_REASONS = (
    "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to "
    "resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/report@sha256:0: not found",
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve secret from asm: service call has been retried 1 "
    "time(s): AccessDeniedException: User is not authorized to perform "
    "secretsmanager:GetSecretValue",
)
SPOT_REASON = "Your Spot Task was interrupted."
MAINTENANCE_REASON = (
    "Task stopped because ECS is performing maintenance on the underlying infrastructure "
    "hosting the task."
)


@dataclass
class _Kept:
    fingerprint: str
    answer: dict[str, Any]
    until: datetime
    """When ECS forgets the token and takes it as a new request."""


class ClientTokens:
    """RunTask's `clientToken`s, as "Ensuring idempotency" (ECS_Idempotency in the ECS API
    reference) documents them.

    A token is scoped to the cluster. The same token with the same parameters answers the
    original result, a no-task answer's `failures` too (the page's example); the same token with
    other parameters raises `ConflictException` carrying the `resourceIds` it started. A token is
    kept for 24 hours or the task's lifetime plus one hour, whichever is shorter.
    """

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], _Kept] = {}
        self._by_task: dict[str, _Kept] = {}

    def replay(self, params: dict[str, Any], now: datetime) -> dict[str, Any] | None:
        """The first answer to this request's token, or None when ECS takes the request as new."""
        token = params.get("clientToken")
        kept = self._kept.get((params["cluster"], token)) if token is not None else None
        if kept is None or now >= kept.until:
            return None
        if kept.fingerprint != _fingerprint(params):
            raise client_error(
                "ConflictException",
                "The request uses the same client token as a previous, but non-identical request.",
                "RunTask",
                resourceIds=[task["taskArn"] for task in kept.answer["tasks"]],
            )
        return copy.deepcopy(kept.answer)

    def record(self, params: dict[str, Any], answer: dict[str, Any], now: datetime) -> None:
        """Keep a new request's answer, as it is now, under its token (if it has one)."""
        token = params.get("clientToken")
        if token is None:
            return
        kept = _Kept(_fingerprint(params), copy.deepcopy(answer), now + TOKEN_DAY)
        self._kept[(params["cluster"], token)] = kept
        for task in answer["tasks"]:
            self._by_task[task["taskArn"]] = kept

    def task_stopped(self, arn: str, when: datetime) -> None:
        """The token that started the task is kept one hour more, if that is sooner."""
        kept = self._by_task.get(arn)
        if kept is not None:
            kept.until = min(kept.until, when + TOKEN_AFTER_TASK)


def _fingerprint(params: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in params.items() if k != "clientToken"}, sort_keys=True)


@dataclass
class EcsSim:
    """ECS for one cluster, on the replay's clock.

    `schedule(when, action)` queues an action on the replay's clock; `emit(task)` is called with
    the task (as DescribeTasks shows it) after every change, for the replay to deliver as an
    event, or not.
    """

    now: Callable[[], datetime]
    schedule: Callable[[datetime, Callable[[], None]], None]
    emit: Callable[[dict[str, Any]], None]
    fate_of: Callable[[str, int], Fate]
    """(run id, index of the run's task, from 0) → what the task does."""
    placeable: Callable[[str, int, str], bool] = lambda run_id, index, provider: True
    """(run id, index of the task it would start, capacity provider) → whether there is room."""
    refused: Callable[[str, int], ClientError | None] = lambda run_id, index: None
    """(run id, index of the task it would start) → an error RunTask raises instead."""
    rng: random.Random = field(default_factory=random.Random)
    throttle_rate: float = 0.0
    """Share of new RunTask requests answered with ThrottlingException."""
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_run: dict[str, list[str]] = field(default_factory=dict)
    """Run id (startedBy) → its tasks' ARNs, in the order they started."""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    overlaps: dict[str, int] = field(default_factory=dict)
    """Run id → how many times one of its tasks started while another was not stopped."""
    _tokens: ClientTokens = field(default_factory=ClientTokens)
    _plans: dict[str, int] = field(default_factory=dict)
    """Task ARN → generation of its scheduled changes (a stop cancels what was planned)."""

    def _record(self, operation: str, params: dict[str, Any]) -> None:
        check_request(operation, params)
        self.calls.append((operation, {"cluster": params.get("cluster")}))

    # --- RunTask -----------------------------------------------------------------------------

    def run_task(self, **params: Any) -> dict[str, Any]:
        self._record("RunTask", params)
        cluster = params["cluster"]
        now = self.now()
        try:
            replayed = self._tokens.replay(params, now)
        except ClientError:
            self.calls.append(("RunTask ConflictException", {}))
            raise
        if replayed is not None:
            self.calls.append(("RunTask token replayed", {}))
            return replayed
        if self.throttle_rate and self.rng.random() < self.throttle_rate:
            self.calls.append(("RunTask throttled", {}))
            raise client_error("ThrottlingException", "Rate exceeded", "RunTask")
        run_id = str(params.get("startedBy"))
        index = len(self.by_run.get(run_id, []))
        error = self.refused(run_id, index)
        if error is not None:
            raise error
        provider = params["capacityProviderStrategy"][0]["capacityProvider"]
        if not self.placeable(run_id, index, provider):
            answer: dict[str, Any] = {
                "tasks": [],
                "failures": [{"arn": cluster, "reason": CAPACITY_REASON}],
            }
        else:
            answer = {"tasks": [self._start(params, provider)], "failures": []}
        self._tokens.record(params, answer, now)
        return copy.deepcopy(answer)

    def _start(self, params: dict[str, Any], provider: str) -> dict[str, Any]:
        task = {**new_task(params, provider, len(self.tasks)), "createdAt": self.now()}
        run_id = str(params.get("startedBy"))
        arn = task["taskArn"]
        running = [a for a in self.by_run.get(run_id, []) if not self._stopped(a)]
        if running:
            self.overlaps[run_id] = self.overlaps.get(run_id, 0) + 1
        index = len(self.by_run.get(run_id, []))
        self.by_run.setdefault(run_id, []).append(arn)
        self.tasks[arn] = task
        self._plan(arn, self.fate_of(run_id, index))
        self.emit(copy.deepcopy(task))
        return copy.deepcopy(task)

    def _stopped(self, arn: str) -> bool:
        return self.tasks[arn]["lastStatus"] == "STOPPED"

    # --- a task's life -----------------------------------------------------------------------

    def _later(self, arn: str, seconds: float, change: Callable[[], None]) -> None:
        generation = self._plans.get(arn, 0)

        def step() -> None:
            if self._plans.get(arn, 0) == generation:
                change()

        self.schedule(self.now() + timedelta(seconds=seconds), step)

    def _change(self, arn: str, **fields: Any) -> None:
        task = self.tasks[arn]
        containers = fields.pop("containers", None)
        task.update(fields)
        if containers is not None:
            for container in task["containers"]:
                container.update(containers)
        task["version"] += 1
        self.emit(copy.deepcopy(task))

    def _plan(self, arn: str, fate: Fate) -> None:
        rng = self.rng
        pending = rng.uniform(3, 20)
        self._later(arn, pending, lambda: self._change(arn, lastStatus="PENDING"))
        if fate.kind in ("start-transient", "start-permanent"):
            reasons = (
                TRANSIENT_START_REASONS
                if fate.kind == "start-transient"
                else PERMANENT_START_REASONS
            )
            reason = rng.choice(reasons)
            failing = pending + rng.uniform(20, 90)
            self._later(arn, failing, lambda: self._stopping(arn, "TaskFailedToStart", reason))
            return
        started = pending + rng.uniform(15, 60)
        self._later(
            arn,
            started,
            lambda: self._change(
                arn,
                lastStatus="RUNNING",
                startedAt=self.now(),
                containers={"lastStatus": "RUNNING"},
            ),
        )
        if fate.kind == "exit":
            self._later(
                arn,
                started + fate.seconds,
                lambda: self._stopping(
                    arn, "EssentialContainerExited", ESSENTIAL_EXITED, exit_code=fate.exit_code
                ),  # fmt: skip
            )
        elif fate.kind == "interrupt":
            self._later(arn, started + fate.seconds, lambda: self._interrupt(arn))

    def _interrupt(self, arn: str) -> None:
        task = self.tasks[arn]
        if task["capacityProviderName"] == "FARGATE_SPOT":
            code, reason = "SpotInterruption", SPOT_REASON
        else:
            code, reason = self.rng.choice(
                [
                    ("TerminationNotice", MAINTENANCE_REASON),
                    ("InfrastructureHealth", "Task stopped due to an infrastructure issue."),
                ]
            )
        # SIGTERM now; the job may exit within the two minutes (0 after a checkpoint, 143 on
        # the signal) or be killed (no exit code: an unknown code must not look like a failure).
        exit_code = None if code == "InfrastructureHealth" else self.rng.choice([None, 0, 143])
        self._stopping(arn, code, reason, exit_code=exit_code, grace=self.rng.uniform(5, 120))

    def _stopping(
        self,
        arn: str,
        code: str,
        reason: str,
        *,
        exit_code: int | None = None,
        grace: float = 0.0,
    ) -> None:
        """The task is to stop: desiredStatus STOPPED with its code, then DEPROVISIONING (the
        container's exit code known), then STOPPED."""
        task = self.tasks[arn]
        if task["lastStatus"] == "STOPPED" or task["desiredStatus"] == "STOPPED":
            return
        self._plans[arn] = self._plans.get(arn, 0) + 1  # what was planned will not happen
        was_running = task["lastStatus"] == "RUNNING"
        self._change(
            arn,
            desiredStatus="STOPPED",
            stopCode=code,
            stoppedReason=reason,
            stoppingAt=self.now(),
        )
        container: dict[str, Any] = {"lastStatus": "STOPPED"}
        if was_running and exit_code is not None:
            container["exitCode"] = exit_code
        deprovision = grace + self.rng.uniform(2, 30)
        self._later(
            arn,
            deprovision,
            lambda: self._change(arn, lastStatus="DEPROVISIONING", containers=container),
        )
        self._later(
            arn,
            deprovision + self.rng.uniform(5, 40),
            lambda: self._becomes_stopped(arn),
        )

    def _becomes_stopped(self, arn: str) -> None:
        now = self.now()
        self._change(arn, lastStatus="STOPPED", stoppedAt=now)
        self._tokens.task_stopped(arn, now)

    # --- DescribeTasks, StopTask -------------------------------------------------------------

    def describe_tasks(self, **params: Any) -> dict[str, Any]:
        self._record("DescribeTasks", params)
        now = self.now()
        known, missing = [], []
        for arn in params["tasks"]:
            task = self.tasks.get(arn)
            if task is None or (
                task.get("stoppedAt") is not None and now - task["stoppedAt"] >= FORGET_AFTER
            ):
                missing.append({"arn": arn, "reason": "MISSING"})
            else:
                known.append(described(task, params))
        return {"tasks": known, "failures": missing}

    def stop_task(self, **params: Any) -> dict[str, Any]:
        self._record("StopTask", params)
        task = self.tasks.get(params["task"])
        if task is None:
            raise client_error(
                "InvalidParameterException", "The referenced task was not found.", "StopTask"
            )
        code_reason = params.get("reason", "Task stopped by user")
        exit_code = 143 if task["lastStatus"] == "RUNNING" else None
        self._stopping(
            task["taskArn"], "UserInitiated", code_reason, exit_code=exit_code, grace=1.0
        )
        return {"task": copy.deepcopy(task)}

    # --- what the replay reads ---------------------------------------------------------------

    def running(self) -> list[dict[str, Any]]:
        """Tasks not stopped."""
        return [t for t in self.tasks.values() if t["lastStatus"] != "STOPPED"]

    def operations(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for operation, _ in self.calls:
            counts[operation] = counts.get(operation, 0) + 1
        return counts
