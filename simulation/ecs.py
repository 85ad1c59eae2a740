"""ECS's documented rules on a clock: the one model of ECS that the replay, the functions' tests
and the benchmarks drive (later the simulation, and the local runtime with Docker).

What it keeps of the ECS API reference and developer guide:
- ECS_Idempotency: RunTask's tokens, kept by `ClientTokens` (simulation/ecs_tokens.py).
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

Everything it does not decide itself is injected: the clock (`now`, `schedule`), where each
change goes (`emit`), what each task does (its `Fate`), whether there is room (`placeable`),
which requests are refused (`refused`), and the random draws (`rng`). It reads no wall clock and
no global random: one seed, one story.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from simulation.ecs_api import (
    CAPACITY_REASON,
    ESSENTIAL_EXITED,
    MAINTENANCE_REASON,
    PERMANENT_START_REASONS,
    SPOT_REASON,
    TRANSIENT_START_REASONS,
    check_request,
    client_error,
    described,
    new_task,
)
from simulation.ecs_tokens import ClientTokens

FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Fate:
    """What one task does once started."""

    kind: str
    """"exit" (the job ends with `exit_code`), "interrupt" (the platform stops it),
    "start-transient" / "start-permanent" (TaskFailedToStart), "hang" (runs until stopped)."""
    exit_code: int = 0
    seconds: float = 120.0
    """How long it runs before it exits or is interrupted."""


@dataclass
class EcsModel:
    """ECS for one cluster, on an injected clock.

    `schedule(when, action)` queues an action on that clock; `emit(task)` is called with the task
    (as DescribeTasks shows it) after every change, for the caller to deliver as an event, or not.
    """

    now: Callable[[], datetime]
    schedule: Callable[[datetime, Callable[[], None]], None]
    emit: Callable[[dict[str, Any]], None]
    fate_of: Callable[[str, int], Fate]
    """(run id, index of the run's task, from 0) → what the task does."""
    placeable: Callable[[str, int, str], bool | list[dict[str, str]]] = (
        lambda run_id, index, provider: True
    )
    """(run id, index of the task it would start, capacity provider) → True when there is room;
    False for Fargate's answer without capacity; or the `failures` to answer with, no task
    placed (ECS has been seen to answer a capacity failure without `arn`)."""
    refused: Callable[[str, int], Exception | None] = lambda run_id, index: None
    """(run id, index of the task it would start) → an error RunTask raises instead."""
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    throttle_rate: float = 0.0
    """Share of new RunTask requests answered with ThrottlingException."""
    on_call: Callable[[str], None] = lambda operation: None
    """Told each operation called, as it is called (to count calls beside other services')."""
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Task ARN → the task as it truly is now, in the order they started."""
    by_run: dict[str, list[str]] = field(default_factory=dict)
    """Run id (startedBy) → its tasks' ARNs, in the order they started."""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(operation, request) for each call, and ("RunTask throttled", {}) and the like for what
    ECS made of some."""
    overlaps: dict[str, int] = field(default_factory=dict)
    """Run id → how many times one of its tasks started while another was not stopped."""
    _tokens: ClientTokens = field(default_factory=ClientTokens)
    _plans: dict[str, int] = field(default_factory=dict)
    """Task ARN → generation of its scheduled changes (a stop cancels what was planned)."""

    def _record(self, operation: str, params: dict[str, Any]) -> None:
        check_request(operation, params)
        self.calls.append((operation, copy.deepcopy(params)))
        self.on_call(operation)

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
        room = self.placeable(run_id, index, provider)
        if room is True:
            answer: dict[str, Any] = {"tasks": [self._start(params, provider)], "failures": []}
        else:
            failures = [{"arn": cluster, "reason": CAPACITY_REASON}] if room is False else room
            answer = {"tasks": [], "failures": copy.deepcopy(failures)}
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

    # --- what the caller reads ---------------------------------------------------------------

    def running(self) -> list[dict[str, Any]]:
        """Tasks not stopped."""
        return [t for t in self.tasks.values() if t["lastStatus"] != "STOPPED"]

    def requests(self, operation: str) -> list[dict[str, Any]]:
        """The requests of one operation, in the order they came."""
        return [params for name, params in self.calls if name == operation]

    def operations(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for operation, _ in self.calls:
            counts[operation] = counts.get(operation, 0) + 1
        return counts
