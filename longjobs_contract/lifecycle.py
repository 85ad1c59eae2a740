"""What happens to a run when one of its tasks changes state: one pure function, `decide`.

The supervisor applies it to every "ECS Task State Change" event, and a reconciliation pass to
what DescribeTasks answers, so both reach the same state. ECS delivers those events at least
once and in any order, and each task's `version` grows with every change (ECS developer guide,
"Amazon ECS task state change events"): an observation no newer than the one recorded for its
attempt changes nothing, an older attempt's never moves the run, and a final run never changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from longjobs_contract import capacity, runs, start_failures
from longjobs_contract.jobs import LifecycleRules

# How a stopped task is classified.
SUCCEEDED: Final = "succeeded"
JOB_FAILED: Final = "job-failed"
"""The job's code failed: a non-zero exit, out of memory. Re-run while `retries` remain."""
INTERRUPTED: Final = "interrupted"
"""The platform stopped it: Spot interruption, Fargate maintenance. Re-run regardless of
`retries`, at most `interruptionRetries` times, on the job's `onInterruption` capacity."""
START_TRANSIENT: Final = "start-transient"
"""It failed to start for a reason that passes (a network or storage provisioning timeout, an
image pull i/o timeout): handled as an interruption."""
START_PERMANENT: Final = "start-permanent"
"""It failed to start for a reason that stays (image not found, access denied to a secret)."""
USER_STOPPED: Final = "user-stopped"
USER_STOP_CODE: Final = "UserInitiated"
TIMED_OUT: Final = "timed-out"

TIMEOUT_REASON: Final = "longjobs: the attempt ran past the job's timeout"
"""The StopTask reason the supervisor gives a task it stops for its timeout."""
START_TIMEOUT_REASON: Final = "longjobs: the attempt did not start within the job's startTimeout"
"""The StopTask reason the supervisor gives a task that never reached RUNNING in time: handled
as a start that passes (re-run while interruptionRetries last)."""
MAINTENANCE_REASON: Final = (
    "ECS is performing maintenance on the underlying infrastructure hosting the task"
)
"""Fargate task retirement (developer guide, "Task retirement and maintenance for AWS
Fargate"): a standalone task is stopped and not replaced."""
# TaskFailedToStart reasons that a later attempt gets past: provisioning timeouts and network
# errors while pulling the image or the secrets (developer guide, "Amazon ECS stopped task
# errors" and "CannotPullContainer task errors").
TRANSIENT_START_MARKERS: Final = (
    "Timeout waiting for network interface provisioning to complete",
    "Timeout waiting for EphemeralStorage provisioning to complete",
    "i/o timeout",
    "context canceled",
    "connection reset by peer",
    "TLS handshake timeout",
    "toomanyrequests",
    "InternalError",
    # A start held in PROVISIONING for want of Fargate capacity, stopped by ECS after about
    # 30 minutes with no container (PrefectHQ/prefect#22410: "RESOURCE:FARGATE").
    "RESOURCE:FARGATE",
    # The task's subnet had no free address for its network interface (EC2's
    # InsufficientFreeAddressesInSubnet; paradisec-archive/nabu#1259): another attempt later,
    # once addresses are freed, starts.
    "InsufficientFreeAddressesInSubnet",
)
OUT_OF_MEMORY_MARKER: Final = "OutOfMemoryError"
STOPPED: Final = "STOPPED"
RECONCILE_EVENT: Final = {"action": "reconcile"}
"""What the every-minute schedule sends the supervisor: the reconciliation pass."""
RECONCILE_EVERY: Final = "rate(1 minute)"
SUPERVISOR_EVENT_AGE_SECONDS: Final = 30 * 60
"""How long Lambda keeps a task state change event in the supervisor's asynchronous queue, its
retries included, before it gives the event to the failure queue (MaximumEventAgeInSeconds,
60 to 21,600, PutFunctionEventInvokeConfig in the Lambda API reference; its default is 6 hours).
Shorter than the hour after which the pass presumes an attempt lost and than the hour ECS
remembers a stopped task: by the time the pass may give either verdict, every event of the task
has been applied or waits in the failure queue, which the pass drains first."""


def notice(rules: LifecycleRules, final: str) -> dict[str, Any]:
    """The record fields that put a run's final state up for publishing, if its job wants it."""
    wanted = rules.notify == "all" or (rules.notify == "failures" and final != runs.SUCCEEDED)
    return {runs.Record.NOTIFY_DUE: runs.NOTIFY_DUE_VALUE} if wanted else {}


@dataclass(frozen=True)
class Observation:
    """One task's state, from a task state change event or from DescribeTasks."""

    task_arn: str
    run_id: str | None
    attempt: int | None
    version: int
    last_status: str
    desired_status: str | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    exit_code: int | None = None
    container_reason: str | None = None
    capacity: str | None = None
    started_at: str | None = None
    stopped_at: str | None = None


def _time(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def observe(task: Mapping[str, Any], container_name: str) -> Observation:
    """An Observation of a task as ECS describes it: an event's `detail` or a DescribeTasks
    task (the same field names; times are ISO strings in one and datetimes in the other)."""
    containers: list[Mapping[str, Any]] = task.get("containers") or []
    container: Mapping[str, Any] = next(
        (c for c in containers if c.get("name") == container_name), {}
    )
    overrides = (task.get("overrides") or {}).get("containerOverrides") or []
    variables = {
        variable.get("name"): variable.get("value")
        for override in overrides
        if override.get("name") == container_name
        for variable in override.get("environment") or []
    }
    attempt_text = variables.get(runs.ATTEMPT_VARIABLE)
    started_by = task.get("startedBy")
    return Observation(
        task_arn=str(task.get("taskArn")),
        run_id=started_by if runs.is_run_id(started_by) else None,
        attempt=int(attempt_text)
        if isinstance(attempt_text, str) and attempt_text.isdigit()
        else None,
        version=int(task.get("version") or 0),
        last_status=str(task.get("lastStatus")),
        desired_status=task.get("desiredStatus"),
        stop_code=task.get("stopCode"),
        stopped_reason=task.get("stoppedReason"),
        exit_code=container.get("exitCode"),
        container_reason=container.get("reason"),
        capacity=capacity.CAPACITY_OF_PROVIDER.get(str(task.get("capacityProviderName"))),
        started_at=_time(task.get("startedAt")),
        stopped_at=_time(task.get("stoppedAt")),
    )


def classify(observation: Observation) -> str:
    """How a stopped task ended, by its documented stop code (TaskStopCode in the ECS API
    reference) and reasons; a stop code not known today falls to its exit code."""
    code, reason = observation.stop_code, observation.stopped_reason or ""
    exit_code = observation.exit_code
    if code == USER_STOP_CODE:
        if reason.startswith(START_TIMEOUT_REASON):
            return START_TRANSIENT
        return TIMED_OUT if reason.startswith(TIMEOUT_REASON) else USER_STOPPED
    if code in ("SpotInterruption", "TerminationNotice") or MAINTENANCE_REASON in reason:
        return INTERRUPTED
    if code == "TaskFailedToStart":
        text = f"{reason} {observation.container_reason or ''}"
        if any(marker in text for marker in TRANSIENT_START_MARKERS):
            return START_TRANSIENT
        return START_PERMANENT
    if OUT_OF_MEMORY_MARKER in (observation.container_reason or ""):
        return JOB_FAILED
    if exit_code == 0:
        return SUCCEEDED
    if exit_code is None:
        # Stopped before the job's container ended (InfrastructureHealth, a code added after
        # this was written, ...): the platform's doing, not the job's.
        return INTERRUPTED
    return JOB_FAILED


@dataclass
class Decision:
    """What to write to the record, and whether to start another attempt."""

    changes: dict[str, Any] = field(default_factory=dict)
    """Record fields to set; empty when the observation changes nothing."""
    retry: tuple[int, str] | None = None
    """(attempt, capacity) to start now."""
    final: str | None = None
    """The final status the run reached with this observation."""
    after_final: bool = False
    """The run was final already: `changes` record its attempt's news, and nothing else."""


def add_attempt(attempts: list[dict[str, Any]], entry: dict[str, Any]) -> None:
    """Append an attempt's entry; one that found no capacity right after others that found
    none is merged into theirs, so that a run's record stays small however long it waits:
    `attempt` and `capacity` of the last, `firstAttempt`, `tries`, `requestedAt` and
    `answeredAt` of the first, `lastRequestedAt` and the last `reason`."""
    previous = attempts[-1] if attempts else None
    if (
        previous is None
        or entry.get("classification") != start_failures.CAPACITY
        or previous.get("classification") != start_failures.CAPACITY
        or previous["attempt"] != entry.get("firstAttempt", entry["attempt"]) - 1
    ):
        attempts.append(entry)
        return
    attempts[-1] = {
        "attempt": entry["attempt"],
        "firstAttempt": previous.get("firstAttempt", previous["attempt"]),
        "tries": int(previous.get("tries", 1)) + int(entry.get("tries", 1)),
        "capacity": entry["capacity"],
        "requestedAt": previous["requestedAt"],
        **_first_answered(previous),
        "lastRequestedAt": entry.get("lastRequestedAt", entry["requestedAt"]),
        "reason": entry["reason"],
        "classification": start_failures.CAPACITY,
    }


def _first_answered(entry: dict[str, Any]) -> dict[str, Any]:
    """When the first of merged attempts was answered with no task, if its record says."""
    return {"answeredAt": entry["answeredAt"]} if "answeredAt" in entry else {}


FALLBACK_REASON: Final = (
    "no Fargate Spot capacity; the on-demand attempt {attempt} was sent at once"
)
"""What a Spot attempt that the trigger followed with its on-demand fallback is recorded with."""


def _sent_in_vain(attempts: list[dict[str, Any]], current: int, seen: int) -> list[dict[str, Any]]:
    """The entries, with those of attempts before `seen` (from `current`) that are recorded as
    sent but neither started a task nor failed marked as having found no capacity: a task of
    a later attempt is seen, and a later attempt is sent unrecorded only as the on-demand
    fallback of a Spot attempt that Fargate Spot could not place (`attempts.start_attempts`)."""
    fixed: list[dict[str, Any]] = []
    for entry in attempts:
        unanswered = not ({"taskArn", "reason", "classification"} & set(entry))
        if current <= entry["attempt"] < seen and unanswered:
            entry = {
                **entry,
                "reason": FALLBACK_REASON.format(attempt=entry["attempt"] + 1),
                "classification": start_failures.CAPACITY,
            }
        add_attempt(fixed, entry)
    return fixed


def _entry(record: Mapping[str, Any], attempt: int) -> dict[str, Any] | None:
    return next((dict(a) for a in record[runs.Record.ATTEMPTS] if a["attempt"] == attempt), None)


def _count(attempts: list[dict[str, Any]], kinds: tuple[str, ...]) -> int:
    return sum(1 for a in attempts if a.get("classification") in kinds)


def decide(
    record: Mapping[str, Any], observation: Observation, rules: LifecycleRules, now: str
) -> Decision:
    """Apply one observation of one of the run's tasks to the run's record. A final run's
    state never changes, but what its attempts' tasks did is still recorded (`after_final`)."""
    if observation.attempt is None:
        return Decision()
    final_run = record[runs.Record.STATUS] in runs.FINAL
    if final_run and _entry(record, observation.attempt) is None:
        return Decision()  # a task no attempt of the final run knows: nothing to record of it
    current = int(record[runs.Record.ATTEMPT])
    attempt = observation.attempt
    entry = _entry(record, attempt) or {
        "attempt": attempt,
        "capacity": observation.capacity,
        "requestedAt": now,
    }
    if int(entry.get("version", 0)) >= observation.version:
        return Decision()  # a duplicate, or older than what is recorded
    entry.update(
        {
            "taskArn": observation.task_arn,
            "version": observation.version,
            "lastStatus": observation.last_status,
        }
    )
    for key, value in (
        ("capacity", observation.capacity),
        ("startedAt", observation.started_at),
        ("stoppedAt", observation.stopped_at),
        ("exitCode", observation.exit_code),
        ("stopCode", observation.stop_code),
        ("stoppedReason", observation.stopped_reason),
    ):
        if value is not None:
            entry[key] = value
    stopped = observation.last_status == STOPPED
    if stopped:
        entry["classification"] = classify(observation)
        entry.pop("reason", None)
    attempts = [a for a in record[runs.Record.ATTEMPTS] if a["attempt"] != attempt]
    if attempt > current:
        attempts = _sent_in_vain(attempts, current, attempt)
    attempts = sorted([*attempts, entry], key=lambda a: a["attempt"])
    changes: dict[str, Any] = {runs.Record.ATTEMPTS: attempts, runs.Record.UPDATED_AT: now}
    if final_run:
        return Decision(changes, after_final=True)
    if attempt < current:
        return Decision(changes)  # an earlier attempt's late news: kept, but it moves nothing
    changes[runs.Record.ATTEMPT] = attempt
    if not stopped:
        if observation.last_status == "RUNNING":
            changes[runs.Record.STATUS] = runs.RUNNING
        return Decision(changes)
    return _after_stop(record, entry, attempts, changes, rules, now)


def _after_stop(
    record: Mapping[str, Any],
    entry: dict[str, Any],
    attempts: list[dict[str, Any]],
    changes: dict[str, Any],
    rules: LifecycleRules,
    now: str,
) -> Decision:
    kind = entry["classification"]
    final = {
        SUCCEEDED: runs.SUCCEEDED,
        USER_STOPPED: runs.STOPPED,
        TIMED_OUT: runs.TIMED_OUT,
        START_PERMANENT: runs.FAILED,
    }.get(kind)
    exit_code = entry.get("exitCode")
    reason = (
        entry.get("stoppedReason")
        or (f"exit code {exit_code}" if exit_code is not None else None)
        or entry.get("stopCode")
        or kind
    )
    retry: tuple[int, str] | None = None
    if kind in (JOB_FAILED, INTERRUPTED, START_TRANSIENT) and entry["attempt"] >= runs.MAX_ATTEMPT:
        final = runs.FAILED
        reason = f"no attempt after attempt {runs.MAX_ATTEMPT}, the most a run makes; {reason}"
    elif kind == JOB_FAILED:
        if _count(attempts, (JOB_FAILED,)) <= rules.retries:
            retry = (entry["attempt"] + 1, record[runs.Record.REQUEST]["capacity"])
        else:
            final = runs.FAILED
    elif kind in (INTERRUPTED, START_TRANSIENT):
        if _count(attempts, (INTERRUPTED, START_TRANSIENT)) <= rules.interruption_retries:
            retry = (entry["attempt"] + 1, rules.on_interruption)
        else:
            final = runs.FAILED
    stop = record.get(runs.Record.STOP_REQUESTED)
    if stop is not None and final is None:
        # Its caller stopped the run as this task was ending: no attempt follows it.
        final, reason = runs.STOPPED, f"stopped: {stop} (as {reason})"
        changes[runs.Record.STATUS] = final
        changes.update(notice(rules, final))
        changes[runs.Record.REASON] = reason
        return Decision(changes, final=final)
    if final is not None:
        changes[runs.Record.STATUS] = final
        changes.update(notice(rules, final))
        if final != runs.SUCCEEDED:
            changes[runs.Record.REASON] = f"attempt {entry['attempt']}: {kind}: {reason}"
        return Decision(changes, final=final)
    assert retry is not None
    entry["retryReason"] = kind
    # Sent by the supervisor that decided it, right after: `sentAt` says it is taken.
    attempts.append({"attempt": retry[0], "capacity": retry[1], "requestedAt": now, "sentAt": now})
    changes[runs.Record.ATTEMPT] = retry[0]
    changes[runs.Record.STATUS] = runs.PENDING
    return Decision(changes, retry=retry)
