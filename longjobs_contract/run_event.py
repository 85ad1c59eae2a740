"""The run event: what a caller, a schedule or the client sends the trigger to start a job.

One builder (`schedule_event`) and one validator (`parse_run`): the components build schedule
events with the first and check them with the second at config time, the trigger checks every
event it receives with the second. A field added to one is seen by the other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from longjobs_contract import callers, capacity, environment, runs
from longjobs_contract.errors import ValidationError, listed, shown
from longjobs_contract.jobs import RunRules

ACTION = "action"
JOB = "job"
ENVIRONMENT = "environment"
COMMAND = "command"
IDEMPOTENCY_KEY = "idempotencyKey"
CAPACITY = "capacity"
RUN_KEYS = (ACTION, JOB, ENVIRONMENT, COMMAND, IDEMPOTENCY_KEY, CAPACITY)

MAX_OVERRIDES_CHARS = 8192
"""RunTask: all overrides together, JSON punctuation included."""
MAX_IDEMPOTENCY_KEY = 128
# The key becomes a tag value: ECS allows letters, digits, spaces and + - = . _ : / @, up to 256
# characters; 128 leaves room and fits every schedule key (schedule:<job>/<schedule>:<time>).
_IDEMPOTENCY_KEY = re.compile(rf"[A-Za-z0-9_+\-=.:/@ ]{{1,{MAX_IDEMPOTENCY_KEY}}}")

# What the platform adds to every attempt's environment, at its longest: counted in the
# overrides limit before a run is accepted. The checkpoint URI is s3://<bucket>/<job>/<run id>/
# with a bucket name of S3's 63 characters at most and a job name of 32.
LONGEST_PLATFORM_ENVIRONMENT = {
    runs.RUN_ID_VARIABLE: "0" * runs.RUN_ID_LENGTH,
    runs.ATTEMPT_VARIABLE: str(runs.MAX_ATTEMPT),
    runs.CHECKPOINT_URI_VARIABLE: f"s3://{'b' * 63}/{'j' * 32}/{'0' * runs.RUN_ID_LENGTH}/",
}

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
"""EventBridge Scheduler's context attribute: replaced by each firing's scheduled time."""
SAMPLE_SCHEDULED_TIME = "2026-01-01T00:00:00Z"
"""What Scheduler puts in its place (ISO 8601, UTC): how a schedule event is checked in advance."""


@dataclass(frozen=True)
class RunRequest:
    """A run event that passed every check."""

    job: str
    rules: RunRules
    environment: dict[str, str]
    command: list[str] | None
    capacity: str
    idempotency_key: str

    def overrides(self, platform: Mapping[str, str] | None = None) -> dict[str, Any]:
        """RunTask `overrides`: the job's container, with this run's environment and command,
        and the `platform` variables of the attempt (LONGJOBS_RUN_ID, ...) after them."""
        container: dict[str, Any] = {"name": self.rules.container_name}
        variables = [*sorted(self.environment.items()), *sorted((platform or {}).items())]
        if variables:
            container["environment"] = [{"name": name, "value": value} for name, value in variables]
        if self.command is not None:
            container["command"] = list(self.command)
        return {"containerOverrides": [container]}


def overrides_size(overrides: Mapping[str, Any]) -> int:
    """Compact JSON with non-ASCII escaped: the longest count ECS could make of the overrides."""
    return len(json.dumps(overrides, separators=(",", ":")))


SCHEDULE_KEY_PREFIX = "schedule:"
"""How a schedule's firing keys begin; a caller's key may not."""
SCHEDULES_ALIAS = callers.SCHEDULES_ALIAS
"""The trigger's alias that schedules, and only they, invoke (`longjobs_contract.callers`)."""


def schedule_key(job: str, schedule: str, scheduled_time: str = SCHEDULED_TIME) -> str:
    """A firing's idempotency key: a redelivered firing carries the same one."""
    return f"{SCHEDULE_KEY_PREFIX}{job}/{schedule}:{scheduled_time}"


def check_key_source(request: RunRequest, scheduled: bool) -> None:
    """A schedule's key form from a schedule only, and a schedule sends nothing else: a caller
    who could send a future firing's key would take that firing's place."""
    if request.idempotency_key.startswith(SCHEDULE_KEY_PREFIX) and not scheduled:
        raise ValidationError(
            f"{IDEMPOTENCY_KEY}: {shown(request.idempotency_key)} has the form of a schedule's "
            f"firing; a caller's key may not start with {SCHEDULE_KEY_PREFIX!r}"
        )
    if scheduled and not request.idempotency_key.startswith(SCHEDULE_KEY_PREFIX):
        raise ValidationError(
            f"{IDEMPOTENCY_KEY}: {shown(request.idempotency_key)} is not a schedule's firing, "
            f"and only schedules invoke the trigger's {SCHEDULES_ALIAS!r} alias"
        )


def schedule_event(
    job: str,
    schedule: str,
    environment: Mapping[str, str],
    scheduled_time: str = SCHEDULED_TIME,
) -> dict[str, Any]:
    """The run event a schedule sends: the same shape as an ad-hoc run."""
    return {
        JOB: job,
        ENVIRONMENT: dict(sorted(environment.items())),
        IDEMPOTENCY_KEY: schedule_key(job, schedule, scheduled_time),
    }


def parse_run(
    event: Mapping[str, Any], jobs: Mapping[str, RunRules], default_key: str
) -> RunRequest:
    """Check a run event whole; raise ValidationError naming the first bad field.

    `default_key` is the idempotency key of an event that brings none (the trigger passes the
    Lambda request id, which Lambda keeps across its own retries).
    """
    unknown = [key for key in event if key not in RUN_KEYS]
    if unknown:
        raise ValidationError(
            f"{listed(sorted(unknown, key=str))}: unknown field(s); "
            f"allowed: {', '.join(sorted(RUN_KEYS))}"
        )
    job = event.get(JOB)
    if not isinstance(job, str) or job not in jobs:
        raise ValidationError(
            f"{JOB}: {shown(job)} is not a job of this stack; allowed: {', '.join(sorted(jobs))}"
        )
    rules = jobs[job]
    variables = _environment(event.get(ENVIRONMENT, {}), rules)
    command = _command(event.get(COMMAND), rules)
    run_capacity = event.get(CAPACITY, rules.capacity)
    if not isinstance(run_capacity, str) or run_capacity not in capacity.CAPACITIES:
        raise ValidationError(
            f"{CAPACITY}: {shown(run_capacity)} is not allowed; "
            f"use {' or '.join(capacity.CAPACITIES)}"
        )
    if run_capacity != rules.capacity and not rules.allow_capacity_override:
        raise ValidationError(
            f"{CAPACITY}: this job runs on {rules.capacity} only; a run may not choose "
            f"{run_capacity} (allowCapacityOverride)"
        )
    key = event.get(IDEMPOTENCY_KEY, default_key)
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationError(
            f"{IDEMPOTENCY_KEY}: {shown(key)} is not allowed; use 1-{MAX_IDEMPOTENCY_KEY} "
            "letters, digits, spaces or + - = . _ : / @"
        )
    request = RunRequest(job, rules, variables, command, run_capacity, key)
    size = overrides_size(request.overrides(LONGEST_PLATFORM_ENVIRONMENT))
    if size > MAX_OVERRIDES_CHARS:
        raise ValidationError(
            f"{ENVIRONMENT} and {COMMAND}: {size} characters of overrides with the LONGJOBS_ "
            f"variables every attempt gets; RunTask allows {MAX_OVERRIDES_CHARS}"
        )
    return request


def _environment(variables: Any, rules: RunRules) -> dict[str, str]:
    if not isinstance(variables, dict):
        raise ValidationError(f"{ENVIRONMENT}: must be an object of name to string value")
    for name, value in variables.items():
        problem = environment.name_problem(name)
        if problem:
            raise ValidationError(f"{ENVIRONMENT}: {problem}")
        if name in rules.reserved_environment:
            raise ValidationError(
                f"{ENVIRONMENT}: {shown(name)} is one of the job's secrets; a run may not set it"
            )
        problem = environment.loader_problem(name)
        if problem:
            raise ValidationError(f"{ENVIRONMENT}: {problem}; a run may never set it")
        if name not in rules.overridable_environment:
            allowed = listed(rules.overridable_environment, show=str) or "none"
            raise ValidationError(
                f"{ENVIRONMENT}: {shown(name)} is not a variable this job lets a run set; "
                f"allowed: {allowed}"
            )
        if not isinstance(value, str):
            raise ValidationError(f"{ENVIRONMENT}.{name}: must be a string, not {shown(value)}")
        problem = environment.text_problem(value)
        if problem:
            raise ValidationError(f"{ENVIRONMENT}.{name}: {problem}")
    return dict(variables)


def _command(command: Any, rules: RunRules) -> list[str] | None:
    if command is None:
        return None
    if not rules.allow_command_override:
        raise ValidationError(
            f"{COMMAND}: this job does not let a run change its command (allowCommandOverride)"
        )
    if not isinstance(command, list) or not command:
        raise ValidationError(f"{COMMAND}: must be a non-empty list of strings")
    for index, part in enumerate(command):
        if not isinstance(part, str):
            raise ValidationError(f"{COMMAND}[{index}]: must be a string, not {shown(part)}")
        problem = environment.text_problem(part)
        if problem:
            raise ValidationError(f"{COMMAND}[{index}]: {problem}")
    return list(command)
