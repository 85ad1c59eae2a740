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
from longjobs_contract.alarms import NO_CAPACITY, REFUSED_RECORD
from longjobs_contract.errors import ValidationError
from longjobs_contract.jobs import LifecycleRules
from longjobs_contract.run_event import RunRequest

# ECS keeps a clientToken for the task's lifetime plus an hour, at most 24 hours
# (ECS_Idempotency): an attempt is sent again, by a retried invocation or a repeated request, only
# within an hour of its first sending, while ECS is sure to answer with the task it started.
RESEND_WINDOW = timedelta(hours=1)
SENDER_GONE = timedelta(minutes=6)
"""How long after an invocation took an attempt to send (`sentAt`) it is surely gone: the
functions' longest timeout (the supervisor's, 300 s) and a minute more. Until then nobody else
sends it: a token whose first request placed no task may start one when sent again (ECS's
idempotency page speaks only of requests that completed), so an attempt has one sender at a
time."""


def resendable(record: dict[str, Any], when: datetime) -> bool:
    """Whether the run's current attempt may be sent (again): the run waits on it and was not
    stopped, nothing is known of its task yet, and either it was never sent (recorded for a
    retry to send), or its sender is gone and ECS still answers its token."""
    if runs.Record.STOP_REQUESTED in record or not _unanswered(record, when):
        return False
    current = records.current_attempt(record)
    taken = sent_at(record, current)
    if taken is None:
        return True
    if when - first_sent(current) >= RESEND_WINDOW:
        return False
    # Lambda's retry of its sender's invocation (the same request id): that sender is gone.
    retried = current.get("sentBy") is not None and current["sentBy"] == request_log.request_id()
    return retried or when - _parse(taken) >= SENDER_GONE


def sent_at(record: dict[str, Any], entry: dict[str, Any]) -> str | None:
    """When the attempt was last taken to be sent; None if it never was. A record written before
    sendings were recorded had each attempt sent as it was recorded."""
    if "sentAt" in entry:
        return str(entry["sentAt"])
    return None if runs.Record.SENDINGS in record else str(entry["requestedAt"])


def first_sent(entry: dict[str, Any]) -> datetime:
    """When an attempt's token was first sent: its creator sends it as it records it; an
    attempt recorded for a retry, when it was first taken."""
    return _parse(entry.get("firstSentAt") or entry["requestedAt"])


def _unanswered(record: dict[str, Any], when: datetime) -> bool:
    if record[runs.Record.STATUS] != runs.PENDING:
        return False
    current = records.current_attempt(record)
    if "reason" in current or "taskArn" in current:
        return False
    return sent_at(record, current) is None or when - first_sent(current) < RESEND_WINDOW


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def take(store: records.RunStore, record: dict[str, Any]) -> dict[str, Any] | None:
    """Take the run's current attempt to send it (`sentAt`, a write over the revision read):
    the run as written, or None when another invocation wrote it first."""
    when = records.timestamp(records.now())
    number = record[runs.Record.ATTEMPT]
    attempts = [
        _taken(a, when, sent_at(record, a) is not None) if a["attempt"] == number else a
        for a in record[runs.Record.ATTEMPTS]
    ]
    changes = {runs.Record.ATTEMPTS: attempts, runs.Record.UPDATED_AT: when}
    if not store.update(record, changes):
        return None
    return {
        **record,
        **changes,
        runs.Record.REVISION: int(record.get(runs.Record.REVISION, 0)) + 1,
    }


def _taken(entry: dict[str, Any], when: str, sent: bool) -> dict[str, Any]:
    """An attempt's entry as taken to send now; its first sending is kept (`first_sent`): its
    creator's (`requestedAt`) when it was `sent`, or the first taker's."""
    first = entry.get("firstSentAt") or (entry["requestedAt"] if sent else when)
    return {**entry, "sentAt": when, "firstSentAt": first, **_sender()}


def _sender() -> dict[str, str]:
    """Who takes an attempt to send it: the invocation's request id, which Lambda keeps when it
    retries the invocation, so that its retry may send it again at once."""
    sender = request_log.request_id()
    return {"sentBy": sender} if sender else {}


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
    return described(ecs, config, task_arn, run_id) is not None


def described(
    ecs: Any, config: trigger_config.TriggerConfig, task_arn: str, run_id: str
) -> dict[str, Any] | None:
    """The task as ECS describes it, if it shows the task as the run's own (`owns`)."""
    try:
        answer = ecs.describe_tasks(cluster=config.cluster_arn, tasks=[task_arn], include=["TAGS"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "AccessDeniedException":
            raise
        # The trigger may describe only tasks tagged as this stack's runs (its role's
        # condition): a task it may not see is no run's of this stack.
        return None
    tasks = answer.get("tasks") or []
    if not tasks:
        return None  # ECS no longer knows it: nothing of it is left to stop
    return dict(tasks[0]) if run_owns(tasks[0], run_id) else None


def run_owns(task: dict[str, Any], run_id: str) -> bool:
    """Whether a task ECS described (with its tags) is the run's own: started by the run and
    tagged with its id."""
    tagged = {tag.get("key"): tag.get("value") for tag in task.get("tags") or []}
    return task.get("startedBy") == run_id and tagged.get(tags.RUN_ID) == run_id


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
        if start_failures.of_error(code, message) == start_failures.TRANSIENT:
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
    *,
    resend: bool = False,
) -> Outcome:
    """Send the run's current attempt; a Spot attempt Spot cannot place is followed at once by
    an on-demand one, recorded before its token is sent. A start that fails is recorded
    before anything is answered or raised. `resend`: the attempt was recorded by another
    invocation, and is taken (`take`) before it is sent."""
    if resend:
        taken = take(store, record)
        if taken is None:
            return _superseded(store, record)
        record = taken
    current = records.current_attempt(record)
    attempt = Attempt(current["attempt"], current["capacity"])
    rules = records.job_of(record, config) or LifecycleRules()
    outcome = send(ecs, config, record, attempt)
    # A token sent again may be answered with its first answer (ECS_Idempotency): a capacity
    # failure then says nothing of the capacity now.
    replayed = resend
    if isinstance(outcome, NotStarted) and _falls_back(attempt, outcome):
        fallback = _record_fallback(store, record, attempt)
        if fallback is None:
            return _superseded(store, record)
        record, attempt = fallback, Attempt(attempt.number + 1, capacity.ON_DEMAND)
        outcome, replayed = send(ecs, config, record, attempt), False
    if isinstance(outcome, Started):
        request_log.bind(
            taskArn=outcome.task_arn, attempt=attempt.number, capacity=attempt.capacity
        )
        return Outcome(record, outcome.task_arn, attempt.number, attempt.capacity)
    return record_no_start(store, record, [(attempt, outcome)], rules=rules, replayed=replayed)


def _superseded(store: records.RunStore, record: dict[str, Any]) -> Outcome:
    """Another invocation moved the run on first: its record stands."""
    fresh = store.get(record[runs.Record.RUN_ID]) or record
    request_log.bind(outcome="superseded", status=fresh[runs.Record.STATUS])
    current = records.current_attempt(fresh)
    return Outcome(fresh, None, fresh[runs.Record.ATTEMPT], current["capacity"], True)


def _falls_back(attempt: Attempt, outcome: NotStarted) -> bool:
    return (
        outcome.kind == start_failures.CAPACITY
        and attempt.capacity == capacity.SPOT
        and attempt.number < runs.MAX_ATTEMPT
    )


def _record_fallback(
    store: records.RunStore, record: dict[str, Any], spot: Attempt
) -> dict[str, Any] | None:
    """Record that the Spot attempt found no capacity and the on-demand attempt after it is
    sent now (the record knows every attempt before its token is sent); the run as written,
    or None when another writer got there first."""
    when = records.timestamp(records.now())
    attempts = [a for a in record[runs.Record.ATTEMPTS] if a["attempt"] < spot.number]
    sent = next(
        (a["requestedAt"] for a in record[runs.Record.ATTEMPTS] if a["attempt"] == spot.number),
        when,
    )
    lifecycle.add_attempt(
        attempts,
        {
            "attempt": spot.number,
            "capacity": spot.capacity,
            "requestedAt": sent,
            "answeredAt": when,
            "reason": lifecycle.FALLBACK_REASON.format(attempt=spot.number + 1),
            "classification": start_failures.CAPACITY,
        },
    )
    attempts.append(
        {
            "attempt": spot.number + 1,
            "capacity": capacity.ON_DEMAND,
            "requestedAt": when,
            "sentAt": when,
            **_sender(),
        }
    )
    changes = {
        runs.Record.ATTEMPTS: attempts,
        runs.Record.ATTEMPT: spot.number + 1,
        runs.Record.UPDATED_AT: when,
    }
    if not store.update(record, changes):
        return None
    return {
        **record,
        **changes,
        runs.Record.REVISION: int(record.get(runs.Record.REVISION, 0)) + 1,
    }


def _waiting_for_capacity(attempts: list[dict[str, Any]], now: str) -> int:
    """Seconds since the first of the run's latest attempts that all found no capacity was
    answered so: the time its sending was throttled or its sender died is no wait for capacity."""
    since = now
    for attempt in reversed(attempts):
        if attempt.get("classification") != start_failures.CAPACITY:
            break
        since = attempt.get("answeredAt") or attempt["requestedAt"]
    started = datetime.fromisoformat(since.replace("Z", "+00:00"))
    return int((datetime.fromisoformat(now.replace("Z", "+00:00")) - started).total_seconds())


def record_no_start(
    store: records.RunStore,
    record: dict[str, Any],
    tried: list[tuple[Attempt, NotStarted]],
    *,
    rules: LifecycleRules,
    replayed: bool = False,
) -> Outcome:
    """Record attempts that started nothing. A permanent reason ends the run FAILED (answered);
    no capacity records the next attempt and raises, so that Lambda's retry sends it. An answer
    that may be a token's first answer again (`replayed`) does not end the wait for capacity:
    the next attempt, a new token, asks ECS afresh."""
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
                "answeredAt": when,
                "reason": outcome.reason,
                "classification": outcome.kind,
            },
        )
    last, outcome = tried[-1]
    changes: dict[str, Any] = {runs.Record.ATTEMPTS: attempts, runs.Record.UPDATED_AT: when}
    waited = _waiting_for_capacity(attempts, when)
    if (
        outcome.kind == start_failures.CAPACITY
        and waited >= rules.max_wait_for_capacity_seconds
        and not replayed
    ):
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
    request_log.bind(outcome=NO_CAPACITY, reason=reasons)
    raise CapacityUnavailable(
        f"run {run_id} of {record[runs.Record.JOB]} started no task ({reasons}); attempt "
        f"{last.number + 1} is recorded and is sent when this invocation is retried"
    )
