"""longjobs trigger: start, inspect and stop this stack's jobs on ECS Fargate.

Events (see the README for the full contract):
  run:    {"job": "report", "environment": {...}?, "command": [...]?, "idempotencyKey": "..."?,
           "capacity": "spot" | "on-demand"?}
  status: {"action": "status", "taskArn": "..."}
  stop:   {"action": "stop", "taskArn": "...", "reason": "..."?}

Bad input returns {"error": {"type": "ValidationError", "message": ...}} and changes nothing: the
event is checked whole before any AWS call, and a stop checks the task's family (DescribeTasks)
before StopTask.
Failures worth a retry (throttling, no capacity at all) and RunTask failures are raised, so an
async invocation is retried by Lambda and then lands in the on-failure queue.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from longjobs_contract import capacity, run_event, tags, trigger_config
from longjobs_contract.errors import ValidationError, listed, shown
from longjobs_contract.run_event import RunRequest

FUNCTION_TIMEOUT_SECONDS = 60
"""The function's timeout, as the JobTrigger component declares it (a test holds them equal)."""
# Created once per execution environment and reused. Every AWS call, its retries included, must
# end well inside the function's timeout, so that a hung call is retried here or raised as a
# failure rather than cut off by Lambda: 2 attempts of at most 2 s to connect and 5 s to read,
# with standard mode's backoff between them (at most 20 s a call; a run makes at most two),
# where botocore's defaults (60 s each) would outlast the function.
CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "total_max_attempts": 2},
)
ecs = boto3.client("ecs", config=CLIENT_CONFIG)

TASK_KEYS = {"status": {"action", "taskArn"}, "stop": {"action", "taskArn", "reason"}}
MAX_STARTED_BY = 36  # letters, digits, - / _ (StartTask's documented limit, safe for RunTask)
STARTED_BY_UNSAFE = re.compile(r"[^A-Za-z0-9/_-]")
MAX_STOP_REASON = 255


class NotFound(Exception):
    """A task ECS does not know (any more: it forgets stopped tasks after about an hour)."""


class RunFailed(Exception):
    """RunTask answered without starting a task. Raised: the invocation fails visibly."""


class CapacityUnavailable(RunFailed):
    """Neither Fargate Spot nor on-demand could place the task now: worth a later retry."""


@cache
def load_config() -> trigger_config.TriggerConfig:
    path = os.environ.get(trigger_config.CONFIG_PATH_VARIABLE) or str(
        Path(__file__).with_name(trigger_config.CONFIG_FILE)
    )
    return trigger_config.loads(Path(path).read_text())


def handler(event: Any, context: Any) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", None) or "local"
    log: dict[str, Any] = {"requestId": request_id}
    try:
        config = load_config()
        action = parse_action(event)
        log["action"] = action
        return ACTIONS[action](event, config, request_id, log)
    except ValidationError as error:
        log.update(outcome="validation-error", error=str(error))
        return {"error": {"type": "ValidationError", "message": str(error)}}
    except NotFound as error:
        log.update(outcome="not-found", error=str(error))
        return {"error": {"type": "NotFound", "message": str(error)}}
    except Exception as error:
        log.update(outcome="failed", error=f"{type(error).__name__}: {error}")
        raise
    finally:
        print(json.dumps(log, sort_keys=True, default=str))


# Each action: validate everything, then act, then answer. A run record (before RunTask) or a
# supervisor hand-off slots in between these steps without reshaping the handler.


def run(
    event: dict, config: trigger_config.TriggerConfig, request_id: str, log: dict[str, Any]
) -> dict[str, Any]:
    request = run_event.parse_run(event, config.jobs, default_key=request_id)
    log.update(job=request.job, idempotencyKey=request.idempotency_key)
    started = start(request, config)
    log.update(
        taskArn=started.task_arn,
        capacity=started.capacity,
        outcome="started" if started.capacity == request.capacity else "fallback",
    )
    return {
        "job": request.job,
        "taskArn": started.task_arn,
        "capacity": started.capacity,
        "idempotencyKey": request.idempotency_key,
    }


def task_status(
    event: dict, config: trigger_config.TriggerConfig, request_id: str, log: dict[str, Any]
) -> dict[str, Any]:
    task_arn = parse_task_arn(event, config, TASK_KEYS["status"])
    log["taskArn"] = task_arn
    response = status(task_arn, config)
    log.update(job=response["job"], outcome="status")
    return response


def task_stop(
    event: dict, config: trigger_config.TriggerConfig, request_id: str, log: dict[str, Any]
) -> dict[str, Any]:
    task_arn = parse_task_arn(event, config, TASK_KEYS["stop"])
    reason = parse_reason(event)
    log["taskArn"] = task_arn
    response = stop(task_arn, reason, config)
    log.update(job=response["job"], outcome="stopped")
    return response


ACTIONS = {"run": run, "status": task_status, "stop": task_stop}


# --- validation: everything is checked before any AWS call ------------------------------------


def parse_action(event: Any) -> str:
    if not isinstance(event, dict):
        raise ValidationError("the event must be a JSON object")
    action = event.get("action", "run")
    if not isinstance(action, str) or action not in ACTIONS:
        raise ValidationError(f"action: {shown(action)} is not allowed; use {', '.join(ACTIONS)}")
    return action


def _unknown_keys(event: dict, allowed: set[str]) -> None:
    unknown = sorted((key for key in event if key not in allowed), key=str)
    if unknown:
        raise ValidationError(
            f"{listed(unknown)}: unknown field(s); allowed: {', '.join(sorted(allowed))}"
        )


def parse_task_arn(event: dict, config: trigger_config.TriggerConfig, allowed: set[str]) -> str:
    _unknown_keys(event, allowed)
    task_arn = event.get("taskArn")
    match = trigger_config.TASK_ARN.fullmatch(task_arn) if isinstance(task_arn, str) else None
    cluster = trigger_config.CLUSTER_ARN.fullmatch(config.cluster_arn)
    if not match:
        raise ValidationError(f"taskArn: {shown(task_arn)} is not an ECS task ARN")
    if cluster is None or any(
        match[part] != cluster[part] for part in ("partition", "region", "account", "cluster")
    ):
        raise ValidationError(
            f"taskArn: {task_arn} is not a task of this stack's cluster {config.cluster_arn}"
        )
    return match.string


def parse_reason(event: dict) -> str:
    reason = event.get("reason", "stopped through the longjobs trigger")
    if not isinstance(reason, str) or not 0 < len(reason) <= MAX_STOP_REASON:
        raise ValidationError(f"reason: must be a string of 1-{MAX_STOP_REASON} characters")
    return reason


# --- RunTask ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    task_arn: str
    capacity: str
    """Where the task actually runs: the requested capacity, or on-demand after a fallback."""


def client_token(config: trigger_config.TriggerConfig, request: RunRequest, fallback: bool) -> str:
    """Same cluster, job and key → same token → ECS starts the task at most once.

    The on-demand retry after a Spot capacity failure needs a token of its own (it is a different
    request); it is derived from the same hash, so it too is stable across Lambda's retries.
    Left open until runs are recorded: a retry of a run that fell back may find Spot capacity
    this time, and the Spot token has not started anything yet.
    """
    seed = "\n".join((config.cluster_arn, request.job, request.idempotency_key))
    digest = hashlib.sha256(seed.encode()).hexdigest()  # 64 characters, RunTask's limit
    return f"{digest[:54]}-on-demand" if fallback else digest


def started_by(job: str) -> str:
    """`longjobs/<job>` when it fits in 36 characters, else the job name alone (still unique)."""
    safe = STARTED_BY_UNSAFE.sub("-", job)
    tagged = f"longjobs/{safe}"
    return tagged if len(tagged) <= MAX_STARTED_BY else safe[:MAX_STARTED_BY]


def run_task_request(
    config: trigger_config.TriggerConfig, request: RunRequest, fallback: bool = False
) -> dict[str, Any]:
    """The RunTask request for a run: on its own capacity, or the on-demand fallback."""
    run_capacity = capacity.ON_DEMAND if fallback else request.capacity
    network: dict[str, Any] = {
        "subnets": list(config.subnet_ids),
        "assignPublicIp": "ENABLED" if config.assign_public_ip else "DISABLED",
    }
    if config.security_group_ids:  # none given: ECS uses the VPC's default security group
        network["securityGroups"] = list(config.security_group_ids)
    return {
        "cluster": config.cluster_arn,
        "taskDefinition": config.jobs[request.job].task_definition_arn,
        "count": 1,
        "capacityProviderStrategy": [
            {"capacityProvider": capacity.PROVIDERS[run_capacity], "weight": 1}
        ],
        "networkConfiguration": {"awsvpcConfiguration": network},
        "overrides": request.overrides(),
        "startedBy": started_by(request.job),
        "tags": [
            {"key": tags.JOB, "value": request.job},
            {"key": tags.IDEMPOTENCY_KEY, "value": request.idempotency_key},
        ],
        "propagateTags": "TASK_DEFINITION",
        "enableECSManagedTags": True,
        "clientToken": client_token(config, request, fallback),
    }


def _run_task(params: dict[str, Any]) -> dict[str, Any]:
    """RunTask; a token ECS already holds for different parameters is the caller's mistake.

    Every parameter is a function of the event, so a retry of the same event sends the same
    request and ECS answers with the task it started. The same idempotency key with another
    job's overrides or capacity gets ConflictException: nothing new was started.
    """
    try:
        return ecs.run_task(**params)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConflictException":
            raise
        # ConflictException carries the tasks the token started (ECS_Idempotency).
        answer: dict[str, Any] = dict(error.response)
        started = ", ".join(map(str, answer.get("resourceIds") or [])) or "a task"
        raise ValidationError(
            f"idempotencyKey: already used within 24 hours with other parameters and started "
            f"{started}; reuse a key only to retry the same run"
        ) from None


def _is_capacity_failure(failure: dict[str, Any]) -> bool:
    return "capacity" in str(failure.get("reason", "")).lower()


def start(request: RunRequest, config: trigger_config.TriggerConfig) -> Started:
    """Start one task; a Spot run Spot cannot place is retried once on on-demand Fargate."""
    run_capacity = request.capacity
    response = _run_task(run_task_request(config, request))
    if (
        not response.get("tasks")
        and run_capacity == capacity.SPOT
        and any(map(_is_capacity_failure, response.get("failures", [])))
    ):
        run_capacity = capacity.ON_DEMAND
        response = _run_task(run_task_request(config, request, fallback=True))
    tasks = response.get("tasks", [])
    if not tasks:
        failures = response.get("failures", [])
        reasons = "; ".join(
            f"{failure.get('reason')} ({failure.get('arn') or 'no ARN'})" for failure in failures
        )
        error = CapacityUnavailable if any(map(_is_capacity_failure, failures)) else RunFailed
        raise error(
            f"RunTask started no task for {request.job} on {run_capacity}: "
            f"{reasons or 'no reason given'}"
        )
    return Started(task_arn=tasks[0]["taskArn"], capacity=run_capacity)


# --- status and stop --------------------------------------------------------------------------


def describe_job_task(
    task_arn: str, config: trigger_config.TriggerConfig
) -> tuple[str, dict[str, Any]]:
    """The task and the job it belongs to; only tasks of this stack's jobs are answered."""
    response = ecs.describe_tasks(cluster=config.cluster_arn, tasks=[task_arn])
    if not response.get("tasks"):
        raise NotFound(
            f"taskArn: {task_arn} is not known to ECS (it forgets stopped tasks after about an "
            "hour)"
        )
    task = response["tasks"][0]
    family = trigger_config.family_of(task.get("taskDefinitionArn", ""))
    for job, target in config.jobs.items():
        if target.family == family:
            return job, task
    raise ValidationError(f"taskArn: {task_arn} is not a task of this stack's jobs")


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def status(task_arn: str, config: trigger_config.TriggerConfig) -> dict[str, Any]:
    job, task = describe_job_task(task_arn, config)
    container_name = config.jobs[job].container_name
    containers: list[dict[str, Any]] = task.get("containers", [])
    container = next((c for c in containers if c.get("name") == container_name), {})
    return {
        "job": job,
        "taskArn": task_arn,
        "lastStatus": task.get("lastStatus"),
        "desiredStatus": task.get("desiredStatus"),
        "capacity": capacity.CAPACITY_OF_PROVIDER.get(task.get("capacityProviderName", "")),
        "exitCode": container.get("exitCode"),
        "stopCode": task.get("stopCode"),
        "stoppedReason": task.get("stoppedReason"),
        "startedAt": _time(task.get("startedAt")),
        "stoppedAt": _time(task.get("stoppedAt")),
    }


def stop(task_arn: str, reason: str, config: trigger_config.TriggerConfig) -> dict[str, Any]:
    job, _ = describe_job_task(task_arn, config)
    task = ecs.stop_task(cluster=config.cluster_arn, task=task_arn, reason=reason)["task"]
    return {
        "job": job,
        "taskArn": task_arn,
        "lastStatus": task.get("lastStatus"),
        "desiredStatus": task.get("desiredStatus"),
    }
