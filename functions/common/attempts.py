"""Attempts: sending one try at a run to ECS, and recording what became of it.

Shared by the trigger (a run's first attempts) and the supervisor (re-runs). Every attempt is a
function of the run's record alone (`run_task_request`), so sending it again is the same
request to ECS, which answers it from its clientToken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from functions.common import records, request_log
from longjobs_contract import (
    capacity,
    lifecycle,
    run_event,
    runs,
    start_failures,
    tags,
    trigger_config,
)
from longjobs_contract.alarms import REFUSED_RECORD
from longjobs_contract.errors import ValidationError
from longjobs_contract.jobs import LifecycleRules
from longjobs_contract.run_event import RunRequest

# ECS keeps a clientToken for the task's lifetime plus an hour, at most 24 hours
# (ECS_Idempotency): an attempt is sent again, by a retried invocation or a repeated request, only
# within an hour of its first sending, while ECS is sure to answer with the task it started.
RESEND_WINDOW = timedelta(hours=1)


def resendable(record: dict[str, Any], when: datetime) -> bool:
    """Whether the run's current attempt may be sent (again): the run waits on it, nothing is
    known of its task yet, and ECS still answers it by its token."""
    if record[runs.Record.STATUS] != runs.PENDING:
        return False
    current = records.current_attempt(record)
    if "reason" in current or "taskArn" in current:
        return False
    sent = datetime.fromisoformat(current["requestedAt"].replace("Z", "+00:00"))
    return when - sent < RESEND_WINDOW


class CapacityUnavailable(Exception):
    """No attempt could start now (no capacity, or ECS failed inside): recorded, then raised
    so that Lambda retries the invocation, which sends the next attempt."""


@dataclass(frozen=True)
class Outcome:
    """What sending a run's current attempt came to."""

    record: dict[str, Any]
    """The run as it now stands (the record read, or the one written after a failure)."""
    task_arn: str | None
    attempt: int
    capacity: str
    superseded: bool = False
    """Another invocation recorded this run's next step first: `record` is what it wrote."""
    final: str | None = None
    """The final status this start ended the run in (FAILED, for a start no attempt can fix)."""


@dataclass(frozen=True)
class Attempt:
    number: int
    capacity: str


@dataclass(frozen=True)
class Started:
    task_arn: str


@dataclass(frozen=True)
class NotStarted:
    kind: str
    """start_failures.CAPACITY or PERMANENT."""
    reason: str


class RefusedRecord(Exception):
    """A run's recorded request that the job's rules refuse: written around the trigger (the
    table is writable by more than the functions), or made under rules since tightened."""


def stored_request(record: dict[str, Any], config: trigger_config.TriggerConfig) -> RunRequest:
    """The request as the run recorded it, held to the rules a caller's request is held to,
    by the job's contract as the stack now declares it: every attempt sends the same one, and
    none sends what a caller could not have asked for."""
    kept = record.get(runs.Record.REQUEST)
    if not isinstance(kept, dict):
        raise RefusedRecord("the run's record holds no request")
    event = {
        run_event.JOB: record.get(runs.Record.JOB),
        run_event.ENVIRONMENT: kept.get("environment", {}),
        run_event.CAPACITY: kept.get("capacity"),
        run_event.IDEMPOTENCY_KEY: kept.get("idempotencyKey"),
    }
    if kept.get("command") is not None:
        event[run_event.COMMAND] = kept["command"]
    try:
        return run_event.parse_run(event, config.jobs, default_key="")
    except ValidationError as error:
        raise RefusedRecord(f"the job's rules refuse the run's recorded request: {error}") from None


def run_task_request(
    config: trigger_config.TriggerConfig, record: dict[str, Any], attempt: Attempt
) -> dict[str, Any]:
    """The RunTask request of one attempt of a run: a function of the record alone, so that
    sending it again is the same request to ECS."""
    request = stored_request(record, config)
    run_id = record[runs.Record.RUN_ID]
    network: dict[str, Any] = {
        "subnets": list(config.subnet_ids),
        "assignPublicIp": "ENABLED" if config.assign_public_ip else "DISABLED",
    }
    if config.security_group_ids:  # none given: ECS uses the VPC's default security group
        network["securityGroups"] = list(config.security_group_ids)
    platform = {
        runs.RUN_ID_VARIABLE: run_id,
        runs.ATTEMPT_VARIABLE: str(attempt.number),
        runs.CHECKPOINT_URI_VARIABLE: config.checkpoint_uri(request.job, run_id),
    }
    return {
        "cluster": config.cluster_arn,
        "taskDefinition": config.jobs[request.job].task_definition_arn,
        "count": 1,
        "capacityProviderStrategy": [
            {"capacityProvider": capacity.PROVIDERS[attempt.capacity], "weight": 1}
        ],
        "networkConfiguration": {"awsvpcConfiguration": network},
        "overrides": request.overrides(platform),
        # Task state change events carry startedBy, not tags: the run id finds the run.
        "startedBy": run_id,
        "tags": [
            {"key": tags.JOB, "value": request.job},
            {"key": tags.RUN_ID, "value": run_id},
            {"key": tags.IDEMPOTENCY_KEY, "value": request.idempotency_key},
        ],
        "propagateTags": "TASK_DEFINITION",
        "enableECSManagedTags": True,
        "clientToken": runs.client_token(run_id, attempt.number),
    }


def owns(ecs: Any, config: trigger_config.TriggerConfig, task_arn: str, run_id: str) -> bool:
    """Whether ECS shows the task as the run's own: started by the run (startedBy) and tagged
    with its id. A record names its tasks, and a record can be written around the functions:
    a task is stopped for a run only once ECS shows it is that run's."""
    try:
        answer = ecs.describe_tasks(cluster=config.cluster_arn, tasks=[task_arn], include=["TAGS"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "AccessDeniedException":
            raise
        # The trigger may describe only tasks tagged as this stack's runs (its role's
        # condition): a task it may not see is no run's of this stack.
        return False
    tasks = answer.get("tasks") or []
    if not tasks:
        return False  # ECS no longer knows it: nothing of it is left to stop
    tagged = {tag.get("key"): tag.get("value") for tag in tasks[0].get("tags") or []}
    return bool(tasks[0].get("startedBy") == run_id and tagged.get(tags.RUN_ID) == run_id)


def send(
    ecs: Any, config: trigger_config.TriggerConfig, record: dict[str, Any], attempt: Attempt
) -> Started | NotStarted:
    """One RunTask. Errors worth sending the same attempt again are raised; a record the job's
    rules refuse sends nothing and is not started, for good."""
    try:
        request = run_task_request(config, record, attempt)
    except RefusedRecord as refused:
        # Its own line, whatever the invocation logs: the refused-records alarm counts these.
        print(
            json.dumps(
                {
                    "outcome": REFUSED_RECORD,
                    "runId": str(record.get(runs.Record.RUN_ID))[:64],
                    "reason": str(refused),
                },
                sort_keys=True,
            )
        )
        return NotStarted(start_failures.PERMANENT, str(refused))
    try:
        response = ecs.run_task(**request)
    except ClientError as error:
        details: dict[str, Any] = dict(error.response)
        code = str(details.get("Error", {}).get("Code", ""))
        message = str(details.get("Error", {}).get("Message", ""))
        if code == "ConflictException":
            # This attempt's token started a task with other parameters (a deploy came between
            # the first sending and this one): ECS names it, and it is this attempt's task.
            started = [str(arn) for arn in details.get("resourceIds") or []]
            if started:
                return Started(started[0])
            # Its first sending started nothing (a Spot attempt without capacity, say): this
            # attempt is spent, and the next one (the on-demand fallback) is a request of its own.
            return NotStarted(
                start_failures.CAPACITY,
                f"{code}: this attempt's first sending started no task; {message}",
            )
        if start_failures.of_error(code) == start_failures.TRANSIENT:
            raise
        return NotStarted(start_failures.PERMANENT, f"{code}: {message}")
    tasks = response.get("tasks") or []
    if tasks:
        return Started(tasks[0]["taskArn"])
    reasons = [str(f.get("reason")) for f in response.get("failures") or [] if f.get("reason")]
    kinds = {start_failures.of_failure(reason) for reason in reasons}
    kind = (
        start_failures.CAPACITY if kinds == {start_failures.CAPACITY} else start_failures.PERMANENT
    )
    return NotStarted(kind, "; ".join(reasons) or "RunTask started no task and gave no reason")


def start_attempts(
    ecs: Any,
    config: trigger_config.TriggerConfig,
    store: records.RunStore,
    record: dict[str, Any],
) -> Outcome:
    """Send the run's current attempt; a Spot attempt Spot cannot place is followed at once by
    an on-demand one. A start that fails is recorded before anything is answered or raised."""
    current = records.current_attempt(record)
    attempt = Attempt(current["attempt"], current["capacity"])
    tried: list[tuple[Attempt, NotStarted]] = []
    while True:
        outcome = send(ecs, config, record, attempt)
        if isinstance(outcome, Started):
            request_log.bind(
                taskArn=outcome.task_arn, attempt=attempt.number, capacity=attempt.capacity
            )
            return Outcome(record, outcome.task_arn, attempt.number, attempt.capacity)
        tried.append((attempt, outcome))
        spot_full = outcome.kind == start_failures.CAPACITY and attempt.capacity == capacity.SPOT
        if not (spot_full and len(tried) == 1) or attempt.number >= runs.MAX_ATTEMPT:
            break
        attempt = Attempt(attempt.number + 1, capacity.ON_DEMAND)
    rules = config.jobs[record[runs.Record.JOB]]
    return record_no_start(store, record, tried, rules=rules)


def task_sent(
    ecs: Any, config: trigger_config.TriggerConfig, record: dict[str, Any], when: datetime
) -> str | None:
    """The task the run's current attempt started, when it is sent right after it was recorded
    (the first attempt by the trigger, a re-run by the supervisor) and no event named its task
    yet: sent again, as its sender sends it (Spot, then the on-demand fallback), ECS answers with
    the task its token started. An attempt recorded after one that found no capacity is sent
    only by a retry, so it is left alone: sending it could start what would never run."""
    if not resendable(record, when):
        return None
    number = record[runs.Record.ATTEMPT]
    before = [a for a in record[runs.Record.ATTEMPTS] if a["attempt"] < number]
    if before and before[-1].get("classification") == start_failures.CAPACITY:
        return None
    current = records.current_attempt(record)
    attempt = Attempt(number, current["capacity"])
    outcome = send(ecs, config, record, attempt)
    if (
        isinstance(outcome, NotStarted)
        and outcome.kind == start_failures.CAPACITY
        and attempt.capacity == capacity.SPOT
        and attempt.number < runs.MAX_ATTEMPT
    ):
        outcome = send(ecs, config, record, Attempt(number + 1, capacity.ON_DEMAND))
    return outcome.task_arn if isinstance(outcome, Started) else None


def _waiting_for_capacity(attempts: list[dict[str, Any]], now: str) -> int:
    """Seconds since the first of the run's latest attempts that all found no capacity."""
    since = now
    for attempt in reversed(attempts):
        if attempt.get("classification") != start_failures.CAPACITY:
            break
        since = attempt["requestedAt"]
    started = datetime.fromisoformat(since.replace("Z", "+00:00"))
    return int((datetime.fromisoformat(now.replace("Z", "+00:00")) - started).total_seconds())


def record_no_start(
    store: records.RunStore,
    record: dict[str, Any],
    tried: list[tuple[Attempt, NotStarted]],
    *,
    rules: LifecycleRules,
) -> Outcome:
    """Record attempts that started nothing. A permanent reason ends the run FAILED (answered);
    no capacity records the next attempt and raises, so that Lambda's retry sends it."""
    when = records.timestamp(records.now())
    run_id = record[runs.Record.RUN_ID]
    first = tried[0][0].number
    attempts = [a for a in record[runs.Record.ATTEMPTS] if a["attempt"] < first]
    sent = {a["attempt"]: a.get("requestedAt", when) for a in record[runs.Record.ATTEMPTS]}
    for attempt, outcome in tried:
        lifecycle.add_attempt(
            attempts,
            {
                "attempt": attempt.number,
                "capacity": attempt.capacity,
                "requestedAt": sent.get(attempt.number, when),
                "reason": outcome.reason,
                "classification": outcome.kind,
            },
        )
    last, outcome = tried[-1]
    changes: dict[str, Any] = {runs.Record.ATTEMPTS: attempts, runs.Record.UPDATED_AT: when}
    waited = _waiting_for_capacity(attempts, when)
    if outcome.kind == start_failures.CAPACITY and waited >= rules.max_wait_for_capacity_seconds:
        outcome = NotStarted(
            start_failures.PERMANENT,
            f"no Fargate capacity for {waited // 60} minutes ({len(tried)} last tries: "
            f"{outcome.reason})",
        )
    if outcome.kind == start_failures.CAPACITY and last.number >= runs.MAX_ATTEMPT:
        outcome = NotStarted(
            start_failures.PERMANENT,
            f"no attempt after attempt {runs.MAX_ATTEMPT}, the most a run makes "
            f"(the last: {outcome.reason})",
        )
    if outcome.kind == start_failures.PERMANENT:
        changes.update(
            {
                runs.Record.STATUS: runs.FAILED,
                runs.Record.REASON: outcome.reason,
                runs.Record.ATTEMPT: last.number,
                **lifecycle.notice(rules, runs.FAILED),
            }
        )
    else:
        attempts.append(
            {
                "attempt": last.number + 1,
                "capacity": record[runs.Record.REQUEST]["capacity"],
                "requestedAt": when,
            }
        )
        changes[runs.Record.ATTEMPT] = last.number + 1
    if not store.update(record, changes):
        # Another invocation of this run moved it on first: answer what it recorded.
        fresh = store.get(run_id) or record
        request_log.bind(outcome="superseded", status=fresh[runs.Record.STATUS])
        return Outcome(fresh, None, fresh[runs.Record.ATTEMPT], last.capacity, superseded=True)
    reasons = "; ".join(f"attempt {a.number} on {a.capacity}: {o.reason}" for a, o in tried)
    if outcome.kind == start_failures.PERMANENT:
        request_log.bind(outcome="failed-to-start", reason=outcome.reason)
        return Outcome({**record, **changes}, None, last.number, last.capacity, final=runs.FAILED)
    request_log.bind(outcome="no-capacity", reason=reasons)
    raise CapacityUnavailable(
        f"run {run_id} of {record[runs.Record.JOB]} started no task ({reasons}); attempt "
        f"{last.number + 1} is recorded and is sent when this invocation is retried"
    )
