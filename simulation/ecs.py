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
- Eventual consistency (RunTask in the API reference: "the result of an API command ... might
  not be immediately visible"; AWS advises DescribeTasks with backoff for up to five minutes):
  for `visible_after()` seconds after its start, DescribeTasks, StopTask and ListTasks do not
  know a task yet.
- DescribeTasks answers a task it does not know (unknown, not visible yet, or stopped over an
  hour ago: ECS forgets it) as a `failures` entry with reason `MISSING`; StopTask raises
  InvalidParameterException for it. StopTask sets `desiredStatus` STOPPED and the stop code
  `UserInitiated`, and answers a task already stopping or stopped as it is.
- ListTasks by `startedBy` and `desiredStatus` (RUNNING by default, or STOPPED: recently stopped
  tasks, until forgotten), paginated.
- Starts that never run (`Fate` "held", "no-ip") and Fargate Spot taking capacity back from many
  tasks at once (`reclaim_spot`).
Every request is first checked against botocore's own model of the operation.

What the model knows that ECS would not tell (for a simulation's invariants): `tasks_of`,
`live`, `task` and `end` answer the truth now, never lagging, never forgotten.

Everything it does not decide itself is injected: the clock (`now`, `schedule`), where each
change goes (`emit`), what each task does (its `Fate`), whether there is room (`placeable`),
which requests are refused (`refused`), and the random draws (`rng`). It reads no wall clock and
no global random: one seed, one story.

A task whose fate is "driven" does what something outside the model says: the local runtime
runs it as a Docker container and tells the model when the container starts (`container_started`),
exits (`container_exited`) or cannot start (`failed_to_start`); the model tells it, through
`on_stop`, when ECS would stop the task (StopTask, a Spot interruption: `interrupt`).
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
    HELD_REASON,
    MAINTENANCE_REASON,
    NO_IP_REASON,
    PERMANENT_START_REASONS,
    SPOT_REASON,
    TASK_NOT_FOUND,
    TRANSIENT_START_REASONS,
    USER_REASON,
    check_request,
    client_error,
    described,
    new_task,
)
from simulation.ecs_tokens import ClientTokens

# ECS forgets a stopped task: it "can still be described ... for a short period of time after it
# has been stopped" (an ECS maintainer, aws/amazon-ecs-cli#332), and ListTasks shows stopped
# tasks "for at least one hour" (ListTasks in the API reference, earlier editions). Forgotten,
# DescribeTasks answers it as `failures` MISSING, StopTask as a task it does not know.
FORGET_AFTER = timedelta(hours=1)
# A task waiting for capacity stays PROVISIONING, then stops TaskFailedToStart: after about 30
# minutes in PrefectHQ/prefect#22410; "between 10 and 30 minutes" says AWS's "Deep dive on
# Amazon ECS cluster auto scaling" (quoted in aws/containers-roadmap#2381).
HELD_SECONDS = (25 * 60.0, 30 * 60.0)
# A subnet without a free address stops the task soon after PROVISIONING
# (paradisec-archive/nabu#1259); how soon is not documented.
NO_IP_SECONDS = (5.0, 60.0)
DRIVEN = "driven"
NEVER_RUN = {"held": (HELD_REASON, HELD_SECONDS), "no-ip": (NO_IP_REASON, NO_IP_SECONDS)}
"""Fate kind → (stoppedReason, seconds from RunTask to the stop) of a start that never runs."""
# ListTasks' maxResults: "between 1 and 100"; without it, up to 100 (ListTasks, API reference).
LIST_PAGE = 100
LIST_PARAMETERS = frozenset({"cluster", "startedBy", "desiredStatus", "nextToken", "maxResults"})
"""What the model's ListTasks answers by; it refuses to guess at the others (family, ...)."""


@dataclass(frozen=True)
class Fate:
    """What one task does once started."""

    kind: str
    """"exit" (the job ends with `exit_code`), "interrupt" (the platform stops it),
    "driven" (a driver outside the model runs it and reports its changes),
    "start-transient" / "start-permanent" (TaskFailedToStart after PENDING), "held" (never
    placed: PROVISIONING about 30 minutes, then TaskFailedToStart with no containers), "no-ip"
    (TaskFailedToStart soon after PROVISIONING: its subnet has no free address), "hang" (runs
    until stopped)."""
    exit_code: int = 0
    seconds: float = 120.0
    """How long it runs before it exits or is interrupted."""


@dataclass(frozen=True)
class TaskEnd:
    """How a task truly ended, once it is STOPPED."""

    stop_code: str
    stopped_reason: str
    exit_code: int | None
    """Its container's exit code; None when it never ran or was killed without one."""
    stopped_at: datetime


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
    visible_after: Callable[[], float] = lambda: 0.0
    """Seconds, drawn for each task as it starts, before DescribeTasks, StopTask and ListTasks
    know it (eventual consistency)."""
    no_task_replay: str = "replay"
    """What a token whose first request placed no task does: "replay" or "new" (`ClientTokens`)."""
    throttle_rate: float = 0.0
    """Share of new RunTask requests answered with ThrottlingException."""
    checked: bool = True
    """Check each request against botocore's model and keep it in `calls`; the simulation,
    whose request shapes the function tests check, runs without (most of a call's cost)."""
    on_call: Callable[[str], None] = lambda operation: None
    """Told each operation called, as it is called (to count calls beside other services')."""
    on_stop: Callable[[str], None] = lambda arn: None
    """Told the ARN of each "driven" task that is to stop, once: its driver stops it (SIGTERM,
    then SIGKILL after the container's stopTimeout) and reports the exit."""
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Task ARN → the task as it truly is now, in the order they started."""
    by_run: dict[str, list[str]] = field(default_factory=dict)
    """Run id (startedBy) → its tasks' ARNs, in the order they started."""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(operation, request) for each call, and ("RunTask throttled", {}) and the like for what
    ECS made of some."""
    overlaps: dict[str, int] = field(default_factory=dict)
    """Run id → how many times one of its tasks started while another was not stopped."""
    _tokens: ClientTokens = field(init=False)
    _plans: dict[str, int] = field(default_factory=dict)
    """Task ARN → generation of its scheduled changes (a stop cancels what was planned)."""
    _visible_at: dict[str, datetime] = field(default_factory=dict)
    """Task ARN → when reads first know it (a task put straight into `tasks` is known at once)."""
    _driven: set[str] = field(default_factory=set)
    """The tasks whose changes a driver reports."""

    def __post_init__(self) -> None:
        self._tokens = ClientTokens(self.no_task_replay)

    def _record(self, operation: str, params: dict[str, Any]) -> None:
        if self.checked:
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
        now = self.now()
        task = {**new_task(params, provider, len(self.tasks)), "createdAt": now}
        run_id = str(params.get("startedBy"))
        arn = task["taskArn"]
        if self.live(run_id):
            self.overlaps[run_id] = self.overlaps.get(run_id, 0) + 1
        fate = self.fate_of(run_id, len(self.tasks_of(run_id)))
        if fate.kind == "held":
            # A task waiting for capacity shows no containers (reproio/wrapbox#46), and stops
            # with none (PrefectHQ/prefect#22410).
            task["containers"] = []
        self.by_run.setdefault(run_id, []).append(arn)
        self.tasks[arn] = task
        # "The Amazon ECS API follows an eventual consistency model" (RunTask, ECS API
        # reference): reads may not know a task RunTask just started; AWS advises DescribeTasks
        # with backoff "up to five minutes of wait time".
        self._visible_at[arn] = now + timedelta(seconds=self.visible_after())
        self._plan(arn, fate)
        self.emit(copy.deepcopy(task))
        return copy.deepcopy(task)

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
        if fate.kind == DRIVEN:
            self._driven.add(arn)
            return
        if fate.kind in NEVER_RUN:
            reason, (soonest, latest) = NEVER_RUN[fate.kind]
            failing = rng.uniform(soonest, latest)
            self._later(arn, failing, lambda: self._stopping(arn, "TaskFailedToStart", reason))
            return
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
        if self.tasks[arn]["capacityProviderName"] == "FARGATE_SPOT":
            self._spot_interruption(arn)
            return
        code, reason = self.rng.choice(
            [
                ("TerminationNotice", MAINTENANCE_REASON),
                ("InfrastructureHealth", "Task stopped due to an infrastructure issue."),
            ]
        )
        # As for Spot, but an unknown code must not look like a failure: no exit code.
        exit_code = None if code == "InfrastructureHealth" else self.rng.choice([None, 0, 143])
        self._stopping(arn, code, reason, exit_code=exit_code, grace=self.rng.uniform(5, 120))

    def _spot_interruption(self, arn: str) -> None:
        """Fargate Spot's two-minute warning ("AWS Fargate capacity providers"; Knowledge Center,
        fargate-spot-termination-notice): the task state change and SIGTERM now; the job may
        exit within the two minutes (0 after a checkpoint, 143 on the signal) or be killed at
        its stopTimeout, at most 120 s (no exit code)."""
        exit_code = self.rng.choice([None, 0, 143])
        grace = self.rng.uniform(5, 120)
        self._stopping(arn, "SpotInterruption", SPOT_REASON, exit_code=exit_code, grace=grace)

    def reclaim_spot(self, count: int) -> list[str]:
        """Fargate Spot takes capacity back from up to `count` running Spot tasks at once, each
        with the two-minute warning; the ARNs interrupted, in start order."""
        running = [
            arn
            for arn, task in self.tasks.items()
            if task["capacityProviderName"] == "FARGATE_SPOT"
            and (task["lastStatus"], task["desiredStatus"]) == ("RUNNING", "RUNNING")
        ]
        chosen = set(self.rng.sample(running, min(count, len(running))))
        reclaimed = [arn for arn in running if arn in chosen]
        for arn in reclaimed:
            self._spot_interruption(arn)
        return reclaimed

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
        if arn in self._driven:
            self.on_stop(arn)  # its driver reports the exit: `container_exited`
            return
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

    # --- a driven task's life, as its driver reports it --------------------------------------

    def container_created(self, arn: str) -> None:
        """The driver has the task's container (its image pulled): PENDING."""
        if self.tasks[arn]["lastStatus"] == "PROVISIONING":
            self._change(arn, lastStatus="PENDING")

    def container_started(self, arn: str) -> None:
        """The task's container runs: RUNNING, unless the task is already to stop."""
        task = self.tasks[arn]
        if task["lastStatus"] in ("PROVISIONING", "PENDING"):
            running = {"lastStatus": "RUNNING"}
            self._change(arn, lastStatus="RUNNING", startedAt=self.now(), containers=running)

    def container_exited(self, arn: str, exit_code: int | None) -> None:
        """The task's container exited with `exit_code` (None: it never ran): a task not already
        stopping stops as EssentialContainerExited, then DEPROVISIONING (with the container's exit
        code) and STOPPED."""
        task = self.tasks[arn]
        if task["lastStatus"] in ("DEPROVISIONING", "STOPPED"):
            return
        was_running = task["lastStatus"] == "RUNNING"
        self._stopping(arn, "EssentialContainerExited", ESSENTIAL_EXITED)
        container: dict[str, Any] = {"lastStatus": "STOPPED"}
        if was_running and exit_code is not None:
            container["exitCode"] = exit_code
        self._change(arn, lastStatus="DEPROVISIONING", containers=container)
        self._becomes_stopped(arn)

    def failed_to_start(self, arn: str, reason: str) -> None:
        """The driver could not start the task's container (no image, a secret without a
        value): TaskFailedToStart with `reason`, then STOPPED without an exit code."""
        self._stopping(arn, "TaskFailedToStart", reason)
        self.container_exited(arn, None)

    def interrupt(self, arn: str) -> None:
        """The platform takes the task back: a Spot task gets Spot's two-minute warning
        (SpotInterruption), an on-demand one a maintenance stop (TerminationNotice, "Task
        maintenance on AWS Fargate"); a driven task's driver sends SIGTERM and waits up to its
        stopTimeout."""
        if self.tasks[arn]["capacityProviderName"] == "FARGATE_SPOT":
            self._stopping(arn, "SpotInterruption", SPOT_REASON)
        else:
            self._stopping(arn, "TerminationNotice", MAINTENANCE_REASON)

    def _becomes_stopped(self, arn: str) -> None:
        now = self.now()
        self._change(arn, lastStatus="STOPPED", stoppedAt=now)
        self._tokens.task_stopped(arn, now)

    # --- DescribeTasks, StopTask, ListTasks: what ECS answers ---------------------------------

    def _known(self, arn: str, now: datetime) -> dict[str, Any] | None:
        """The task as reads find it now: None before its start is visible to them (eventual
        consistency, RunTask in the API reference) and once ECS has forgotten it (an hour after
        it stopped: `FORGET_AFTER`)."""
        task = self.tasks.get(arn)
        if task is None or now < self._visible_at.get(arn, now):
            return None
        stopped = task.get("stoppedAt")
        return None if stopped is not None and now - stopped >= FORGET_AFTER else task

    def describe_tasks(self, **params: Any) -> dict[str, Any]:
        self._record("DescribeTasks", params)
        now = self.now()
        known, missing = [], []
        for arn in params["tasks"]:
            task = self._known(arn, now)
            if task is None:
                missing.append({"arn": arn, "reason": "MISSING"})
            else:
                known.append(described(task, params))
        return {"tasks": known, "failures": missing}

    def stop_task(self, **params: Any) -> dict[str, Any]:
        self._record("StopTask", params)
        task = self._known(params["task"], self.now())
        if task is None:
            raise client_error("InvalidParameterException", TASK_NOT_FOUND, "StopTask")
        exit_code = 143 if task["lastStatus"] == "RUNNING" else None
        reason = params.get("reason", USER_REASON)
        # A task already stopping keeps its own stop code and reason (`_stopping`).
        self._stopping(task["taskArn"], "UserInitiated", reason, exit_code=exit_code, grace=1.0)
        return {"task": copy.deepcopy(task)}

    def list_tasks(self, **params: Any) -> dict[str, Any]:
        """ListTasks (ECS API reference): by `startedBy` and `desiredStatus` (RUNNING unless
        asked for STOPPED; PENDING finds nothing, as ECS never desires it; "Recently stopped
        tasks might appear"), at most `maxResults` (1 to 100, default 100) a page, then a
        `nextToken`. Eventually consistent, and forgetful, as DescribeTasks."""
        self._record("ListTasks", params)
        unmodelled = sorted(set(params) - LIST_PARAMETERS)
        if unmodelled:
            raise NotImplementedError(f"ListTasks: the model does not filter by {unmodelled}")
        size = params.get("maxResults", LIST_PAGE)
        token = params.get("nextToken", "0")
        if not 1 <= size <= LIST_PAGE or not token.isdigit():
            message = f"maxResults {size} or nextToken {token!r} is not valid"
            raise client_error("InvalidParameterException", message, "ListTasks")
        now = self.now()
        found = [
            (serial, arn)
            for serial, arn in enumerate(self.tasks)
            if serial >= int(token) and self._listed(arn, params, now)
        ]
        answer: dict[str, Any] = {"taskArns": [arn for _, arn in found[:size]]}
        if len(found) > size:
            answer["nextToken"] = str(found[size][0])
        return answer

    def _listed(self, arn: str, params: dict[str, Any], now: datetime) -> bool:
        task = self._known(arn, now)
        cluster = params.get("cluster", "default")
        return (
            task is not None
            and cluster in (task["clusterArn"], task["clusterArn"].rsplit("/", 1)[-1])
            and params.get("startedBy", task["startedBy"]) == task["startedBy"]
            and task["desiredStatus"] == params.get("desiredStatus", "RUNNING")
        )

    # --- the truth, for a simulation's invariants ---------------------------------------------

    def tasks_of(self, run_id: str) -> list[str]:
        """The run's tasks (by startedBy), in the order they started."""
        return list(self.by_run.get(run_id, []))

    def live(self, run_id: str) -> list[str]:
        """The run's tasks not STOPPED, in the order they started."""
        return [arn for arn in self.tasks_of(run_id) if self.tasks[arn]["lastStatus"] != "STOPPED"]

    def task(self, arn: str) -> dict[str, Any]:
        """The task as it truly is now: not lagging, never forgotten."""
        return copy.deepcopy(self.tasks[arn])

    def end(self, arn: str) -> TaskEnd | None:
        """How the task truly ended; None until it is STOPPED."""
        task = self.tasks[arn]
        if task["lastStatus"] != "STOPPED":
            return None
        codes = [c["exitCode"] for c in task["containers"] if c.get("exitCode") is not None]
        return TaskEnd(
            stop_code=task["stopCode"],
            stopped_reason=task["stoppedReason"],
            exit_code=codes[0] if codes else None,
            stopped_at=task["stoppedAt"],
        )

    # --- what the replay reads ----------------------------------------------------------------

    def running(self) -> list[dict[str, Any]]:
        """Tasks not stopped, of every run."""
        return [t for t in self.tasks.values() if t["lastStatus"] != "STOPPED"]

    def requests(self, operation: str) -> list[dict[str, Any]]:
        """The requests of one operation, in the order they came."""
        return [params for name, params in self.calls if name == operation]

    def operations(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for operation, _ in self.calls:
            counts[operation] = counts.get(operation, 0) + 1
        return counts
