"""longjobs trigger: start, inspect and stop this stack's jobs on ECS Fargate.

Events (docs/trigger.md has the full contract):
  run:    {"job": "report", "environment": {...}?, "command": [...]?, "idempotencyKey": "..."?,
           "capacity": "spot" | "on-demand"?}
  status: {"action": "status", "runId": "..."} or {"action": "status", "taskArn": "..."}
  list:   {"action": "list", "job"?: ..., "status"?: ..., "limit"?: 1-100, "nextToken"?: ...}
  stop:   {"action": "stop", "runId": "...", "reason": "..."?} or {"action": "stop", "taskArn": ...}

Bad input returns {"error": {"type": "ValidationError", "message": ...}} and changes nothing: the
event is checked whole before any AWS call. A run is recorded (DynamoDB, conditional on its id,
which the job and the idempotency key make) before RunTask: a repeated request finds its run and
starts nothing new. Failures worth a retry are raised, so that Lambda retries an async
invocation: throttling with nothing recorded (the retry, the same request id, sends the same
attempt again at once), no capacity at all with the next attempt recorded (the retry sends it);
a start that can never succeed ends the run FAILED, with ECS's reason, and is answered, not
raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import boto3
from botocore.exceptions import ClientError

from functions.common import records, request_log, runtime
from longjobs_contract import callers, capacity, jobs, runs, trigger_config
from longjobs_contract.errors import ValidationError, listed, shown

if TYPE_CHECKING:
    from longjobs_contract.run_event import RunRequest

# The modules only some actions need (starting attempts, validating a run event, a stopped
# run's notice) are imported by those actions at their first request, not at a cold start.

FUNCTION_TIMEOUT_SECONDS = 120
"""The function's timeout, as the JobTrigger component declares it (a test holds them equal)."""
# Created once per execution environment and reused, each call within 20 s (runtime.py); a run
# makes at most six: PutItem, RunTask, UpdateItem and the on-demand RunTask when Spot is full,
# then UpdateItem and GetItem when none started.
ecs = boto3.client("ecs", config=runtime.CLIENT_CONFIG)
dynamodb = boto3.client("dynamodb", config=runtime.CLIENT_CONFIG)

TASK_KEYS = {"status": {"action", "taskArn"}, "stop": {"action", "taskArn", "reason"}}
RUN_STATUS_KEYS = {"action", "runId"}
RUN_STOP_KEYS = {"action", "runId", "reason"}
MAX_STOP_TRIES = 3
LIST_KEYS = {"action", "job", "status", "limit", "nextToken"}
DEFAULT_LIST_LIMIT = 20
MAX_STOP_REASON = 255


class NotFound(Exception):
    """A task ECS does not know (any more: it forgets stopped tasks after about an hour)."""


load_config = runtime.load_config


class Invocation(NamedTuple):
    """What Lambda tells of one invocation (a named tuple: cheaper to make at a cold start than
    a dataclass)."""

    request_id: str
    """Lambda keeps it across its own retries of an async invocation."""
    caller: str
    """Who asked, by the qualifier the trigger was invoked through (`longjobs_contract.callers`):
    `account`, `schedule`, or an `allowedCallers` entry."""

    @property
    def scheduled(self) -> bool:
        """Invoked through the schedules' alias, which only the stack's schedules may invoke."""
        return self.caller == callers.SCHEDULE


def handler(event: Any, context: Any) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", None) or "local"
    with request_log.request(request_id):
        try:
            config = load_config()
            invocation = Invocation(request_id, caller_of(context, config))
            request_log.bind(caller=invocation.caller)
            action = parse_action(event)
            request_log.bind(action=action)
            return ACTIONS[action](event, config, invocation)
        except ValidationError as error:
            request_log.bind(outcome="validation-error", error=str(error))
            return {"error": {"type": "ValidationError", "message": str(error)}}
        except NotFound as error:
            request_log.bind(outcome="not-found", error=str(error))
            return {"error": {"type": "NotFound", "message": str(error)}}
        except Exception as error:
            request_log.bind(outcome="failed", error=f"{type(error).__name__}: {error}")
            raise


def caller_of(context: Any, config: trigger_config.TriggerConfig) -> str:
    """Who invoked the trigger; an alias that names no caller of the stack is refused."""
    invoked = getattr(context, "invoked_function_arn", None)
    caller = callers.caller_of(invoked, config.callers, callers.SCHEDULES_ALIAS)
    if caller is None:
        raise ValidationError(
            f"invoked through {shown(callers.qualifier(invoked))}, which names no caller of "
            "this stack; invoke the qualifier the stack's triggerCallerQualifiers output gives"
        )
    return caller


def _check_job_caller(job: str, rules: jobs.RunRules | None, caller: str) -> None:
    """A job whose `allowedCallers` leaves out the caller is not run for it."""
    if rules is not None and not callers.may_use_job(caller, rules.allowed_callers):
        raise ValidationError(
            f"job: this caller ({caller}) may not run, read or stop runs of {job} "
            "(the job's allowedCallers)"
        )


def _visible_run(
    record: dict[str, Any] | None, config: trigger_config.TriggerConfig, run_id: str, caller: str
) -> dict[str, Any]:
    """The run's record, when it exists and its job's rules let the caller see it; a run the
    caller may not see is answered as one that does not exist."""
    if record is not None:
        rules = records.job_of(record, config)
        if rules is None or callers.may_use_job(caller, rules.allowed_callers):
            return record
    raise NotFound(f"runId: no run {run_id} (records are kept {config.run_retention_days} days)")


# Each action: validate everything, then act, then answer.


def run(
    event: dict, config: trigger_config.TriggerConfig, invocation: Invocation
) -> dict[str, Any]:
    """Record the run, then start its current attempt (and the on-demand fallback)."""
    from functions.common import attempts
    from longjobs_contract import run_event

    request = run_event.parse_run(event, config.jobs, default_key=invocation.request_id)
    run_event.check_key_source(request, invocation.scheduled)
    _check_job_caller(request.job, request.rules, invocation.caller)
    run_id = runs.run_id(request.job, request.idempotency_key)
    request_log.bind(job=request.job, runId=run_id, idempotencyKey=request.idempotency_key)
    store = records.RunStore(dynamodb, config.runs_table, config.run_retention_days)
    when = records.now()
    record, created = store.create(
        records.new_record(
            run_id, request, when, config.jobs[request.job], caller=invocation.caller
        )
    )
    if not created:
        _same_request(record, request, invocation.caller)
        if not attempts.resendable(record, when):
            request_log.bind(outcome="duplicate", status=record[runs.Record.STATUS])
            return answer(record, duplicate=True)
    outcome = attempts.start_attempts(ecs, config, store, record, resend=not created)
    if outcome.task_arn is not None:
        request_log.bind(outcome="started" if created else "duplicate")
    return answer(
        outcome.record,
        task_arn=outcome.task_arn,
        attempt=outcome.attempt,
        capacity_used=outcome.capacity,
        duplicate=not created or outcome.superseded,
    )


def _same_request(record: dict[str, Any], request: RunRequest, caller: str) -> None:
    if record.get(runs.Record.CALLER, callers.ACCOUNT) != caller:
        raise ValidationError(
            f"idempotencyKey: {shown(request.idempotency_key)} already names run "
            f"{record[runs.Record.RUN_ID]} of {request.job}, which another caller asked for; "
            "choose another key"
        )
    kept = record[runs.Record.REQUEST]
    if (
        kept.get("environment", {}) != request.environment
        or kept.get("command") != request.command
        or kept.get("capacity") != request.capacity
    ):
        raise ValidationError(
            f"idempotencyKey: {shown(request.idempotency_key)} already names run "
            f"{record[runs.Record.RUN_ID]} of {request.job} with another environment, command "
            "or capacity; reuse a key only to repeat the same request"
        )


def answer(
    record: dict[str, Any],
    *,
    task_arn: str | None = None,
    attempt: int | None = None,
    capacity_used: str | None = None,
    duplicate: bool = False,
) -> dict[str, Any]:
    """What `run` answers: the run, and the task its current attempt started, when known."""
    current = records.current_attempt(record)
    response = {
        "runId": record[runs.Record.RUN_ID],
        "job": record[runs.Record.JOB],
        "status": record[runs.Record.STATUS],
        "attempt": attempt or current["attempt"],
        "taskArn": task_arn or current.get("taskArn"),
        "capacity": capacity_used or current["capacity"],
        "idempotencyKey": record[runs.Record.REQUEST]["idempotencyKey"],
    }
    if record.get(runs.Record.REASON):
        response["reason"] = record[runs.Record.REASON]
    if duplicate:
        response["duplicate"] = True
    return response


def any_status(
    event: dict, config: trigger_config.TriggerConfig, invocation: Invocation
) -> dict[str, Any]:
    """A run's status from its record, or a task's from ECS (while ECS remembers it)."""
    if "runId" in event:
        return run_status(event, config, invocation.caller)
    return task_status(event, config, invocation.caller)


def run_status(event: dict, config: trigger_config.TriggerConfig, caller: str) -> dict[str, Any]:
    _unknown_keys(event, RUN_STATUS_KEYS)
    run_id = _parse_run_id(event)
    request_log.bind(runId=run_id)
    store = records.RunStore(dynamodb, config.runs_table, config.run_retention_days)
    record = _visible_run(store.get(run_id), config, run_id, caller)
    request_log.bind(job=record[runs.Record.JOB], outcome="status")
    return view(record, config, caller)


def _parse_run_id(event: dict) -> str:
    run_id = event["runId"]
    if not runs.is_run_id(run_id):
        raise ValidationError(
            f"runId: {shown(run_id)} is not a run id ({runs.RUN_ID_LENGTH} hex characters)"
        )
    return run_id


def view(
    record: dict[str, Any], config: trigger_config.TriggerConfig, caller: str
) -> dict[str, Any]:
    """A run as `status` answers it: its record, in the contract's field names, each attempt
    that has a task with the log group and stream its container writes to. Who asked, the
    environment values and the command are shown to that caller and to the stack's own account
    only: a value one caller sends is not another's to read."""
    shown_keys = (
        runs.Record.RUN_ID,
        runs.Record.JOB,
        runs.Record.STATUS,
        runs.Record.REASON,
        runs.Record.ATTEMPT,
        runs.Record.ATTEMPTS,
        runs.Record.REQUEST,
        runs.Record.CREATED_AT,
        runs.Record.UPDATED_AT,
        runs.Record.STOP_REQUESTED,
        runs.Record.CALLER,
    )
    shown = {key: record[key] for key in shown_keys if key in record}
    if not callers.may_see_values(caller, record):
        shown.pop(runs.Record.CALLER, None)
        request = shown.get(runs.Record.REQUEST)
        if isinstance(request, dict):
            hidden = ("environment", "command")
            shown[runs.Record.REQUEST] = {k: v for k, v in request.items() if k not in hidden}
    target = records.job_of(record, config)
    if target is not None and runs.Record.ATTEMPTS in shown:
        shown[runs.Record.ATTEMPTS] = [_with_logs(a, target) for a in shown[runs.Record.ATTEMPTS]]
    return shown


def _with_logs(attempt: dict[str, Any], target: jobs.JobContract) -> dict[str, Any]:
    task_arn = attempt.get("taskArn")
    if not task_arn:
        return attempt
    stream = runs.log_stream(task_arn, target.container_name)
    return {**attempt, "logGroup": target.log_group, "logStream": stream}


def task_status(event: dict, config: trigger_config.TriggerConfig, caller: str) -> dict[str, Any]:
    task_arn = parse_task_arn(event, config, TASK_KEYS["status"])
    request_log.bind(taskArn=task_arn)
    response = status(task_arn, config, caller)
    request_log.bind(job=response["job"], outcome="status")
    return response


def list_runs(
    event: dict, config: trigger_config.TriggerConfig, invocation: Invocation
) -> dict[str, Any]:
    """Runs newest first, a page at a time, optionally of one job and in one status."""
    _unknown_keys(event, LIST_KEYS)
    job = event.get("job")
    if job is not None and (not isinstance(job, str) or job not in config.jobs):
        allowed = ", ".join(sorted(config.jobs))
        raise ValidationError(f"job: {shown(job)} is not a job of this stack; allowed: {allowed}")
    if job is not None:
        _check_job_caller(job, config.jobs[job], invocation.caller)
    status_filter = event.get("status")
    if status_filter is not None and status_filter not in runs.STATUSES:
        raise ValidationError(
            f"status: {shown(status_filter)} is not allowed; allowed: {', '.join(runs.STATUSES)}"
        )
    limit = event.get("limit", DEFAULT_LIST_LIMIT)
    if type(limit) is not int or not 1 <= limit <= records.MAX_LIST_LIMIT:
        raise ValidationError(
            f"limit: {shown(limit)} is not allowed; allowed: 1 to {records.MAX_LIST_LIMIT}"
        )
    token = event.get("nextToken")
    if token is not None:
        try:
            if not isinstance(token, str) or len(token) > 2048:
                raise ValueError("not a string")
            records.decode_token(token)
        except ValueError:
            raise ValidationError(
                f"nextToken: {shown(token)} is not a nextToken this trigger gave"
            ) from None
    try:
        page, next_token = records.RunStore(
            dynamodb, config.runs_table, config.run_retention_days
        ).page(job=job, status=status_filter, limit=limit, next_token=token)
    except ValueError:
        raise ValidationError(
            f"nextToken: {shown(token)} was given for another job or status filter"
        ) from None
    # A page keeps its place in the table: runs of jobs the caller may not see are left out of
    # it, and the page may hold fewer than `limit` runs.
    visible = [r for r in page if _may_see_run(r, config, invocation.caller)]
    request_log.bind(outcome="list", count=len(visible))
    return {"runs": [view(r, config, invocation.caller) for r in visible], "nextToken": next_token}


def _may_see_run(record: dict[str, Any], config: trigger_config.TriggerConfig, caller: str) -> bool:
    rules = records.job_of(record, config)
    return rules is None or callers.may_use_job(caller, rules.allowed_callers)


def any_stop(
    event: dict, config: trigger_config.TriggerConfig, invocation: Invocation
) -> dict[str, Any]:
    """Stop a run (its current attempt, and no attempt after it), or one task by its ARN."""
    if "runId" in event:
        return run_stop(event, config, invocation.caller)
    return task_stop(event, config, invocation.caller)


def run_stop(event: dict, config: trigger_config.TriggerConfig, caller: str) -> dict:
    """Stop a run: no attempt is started after this, and its current task is stopped.

    A run with a task ends when ECS reports that task stopped, by what the task did: STOPPED,
    or SUCCEEDED when its job had already completed as the stop came (`stopRequested` is kept
    on the record until then). A run without a task ends STOPPED at once. The stop is recorded
    before StopTask, so that nothing re-runs the run whatever StopTask answers."""
    from longjobs_contract import lifecycle

    _unknown_keys(event, RUN_STOP_KEYS)
    run_id = _parse_run_id(event)
    reason = parse_reason(event)
    request_log.bind(runId=run_id)
    store = records.RunStore(dynamodb, config.runs_table, config.run_retention_days)
    for _ in range(MAX_STOP_TRIES):
        record = _visible_run(store.get(run_id), config, run_id, caller)
        request_log.bind(job=record[runs.Record.JOB])
        _check_stopper(record, caller)
        if record[runs.Record.STATUS] in runs.FINAL:
            request_log.bind(outcome="already-final")
            return view(record, config, caller)
        may_run, task_arn = _task_to_stop(record, config)
        changes: dict[str, Any] = {runs.Record.UPDATED_AT: records.timestamp(records.now())}
        if not may_run:
            changes[runs.Record.STATUS] = runs.STOPPED
            changes[runs.Record.REASON] = f"stopped: {reason}"
            target = records.job_of(record, config)
            if target is not None:
                changes.update(lifecycle.notice(target, runs.STOPPED))
        else:
            changes[runs.Record.STOP_REQUESTED] = reason
        if not store.update(record, changes):
            continue  # its task's events moved it on meanwhile: read it again
        if task_arn is not None:
            _stop_task(config, task_arn, reason)
        request_log.bind(outcome="stopping" if may_run else "stopped", taskArn=task_arn)
        return view({**record, **changes}, config, caller)
    raise RuntimeError(f"run {run_id} kept changing while it was being stopped; send stop again")


def _check_stopper(record: dict[str, Any], caller: str) -> None:
    """A run is stopped by the caller that asked for it, or by the stack's own account."""
    if not callers.may_see_values(caller, record):
        raise ValidationError(
            f"runId: run {record[runs.Record.RUN_ID]} was asked for by another caller; only it "
            "and the stack's own account may stop it"
        )


def _task_to_stop(
    record: dict[str, Any], config: trigger_config.TriggerConfig
) -> tuple[bool, str | None]:
    """Whether a task of the run's current attempt may be running, and the one to stop now.

    A recorded task is stopped once ECS shows it is the run's; one ECS no longer shows, or an
    attempt sent whose task no event has named yet, is left to the supervisor, which stops any
    task of a run whose stop is recorded when its event or the pass (ListTasks by the run's id)
    shows it, and ends the run by that task's end. The stop sends no RunTask: an attempt has one
    sender. An attempt never sent, or recorded as having started nothing, has no task."""
    from functions.common import attempts

    current = records.current_attempt(record)
    recorded = current.get("taskArn")
    if recorded is not None:
        owned = attempts.owns(ecs, config, recorded, record[runs.Record.RUN_ID])
        return True, str(recorded) if owned else None
    return "reason" not in current and attempts.sent_at(record, current) is not None, None


def _stop_task(config: trigger_config.TriggerConfig, task_arn: str, reason: str) -> None:
    """StopTask; a task ECS does not show yet (RunTask is eventually consistent) is stopped by
    the supervisor when its first event or the pass shows it, as for any stopped run's task."""
    try:
        ecs.stop_task(cluster=config.cluster_arn, task=task_arn, reason=reason)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "InvalidParameterException":
            raise
        request_log.bind(stopTask="not visible yet: the supervisor stops it when it is")


def task_stop(event: dict, config: trigger_config.TriggerConfig, caller: str) -> dict[str, Any]:
    task_arn = parse_task_arn(event, config, TASK_KEYS["stop"])
    reason = parse_reason(event)
    request_log.bind(taskArn=task_arn)
    response = stop(task_arn, reason, config, caller)
    request_log.bind(job=response["job"], outcome="stopped")
    return response


ACTIONS = {"run": run, "status": any_status, "list": list_runs, "stop": any_stop}


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
            f"taskArn: {shown(task_arn)} is not a task of this stack's cluster {config.cluster_arn}"
        )
    return match.string


def parse_reason(event: dict) -> str:
    """The stop reason: ECS keeps it as the task's stoppedReason and the record shows it, so it
    is one line of printable text."""
    allowed = f"a reason is one line of printable text, 1-{MAX_STOP_REASON} characters"
    reason = event.get("reason", "stopped through the longjobs trigger")
    if not isinstance(reason, str) or not 0 < len(reason) <= MAX_STOP_REASON:
        raise ValidationError(f"reason: must be a string of 1-{MAX_STOP_REASON} characters")
    bad = next((i for i, c in enumerate(reason) if not c.isprintable()), None)
    if bad is not None:
        raise ValidationError(f"reason: holds {reason[bad]!r} at position {bad}; {allowed}")
    return reason


# --- status and stop --------------------------------------------------------------------------


def describe_job_task(
    task_arn: str, config: trigger_config.TriggerConfig
) -> tuple[str, dict[str, Any]]:
    """The task and the job it belongs to; only tasks of this stack's runs are answered.

    The role may describe and stop only tasks tagged with this stack and a run id: any other
    task of the cluster (a job's service's) is refused by IAM, and by the check below too.
    """
    try:
        response = ecs.describe_tasks(cluster=config.cluster_arn, tasks=[task_arn])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "AccessDeniedException":
            raise
        # IAM lets the role see only tasks tagged as runs of this stack; a task ECS has
        # forgotten has no tags left to show it either.
        raise ValidationError(
            f"taskArn: {task_arn} is not a task of a run (a task its job's service started), "
            "or ECS no longer knows it"
        ) from None
    if not response.get("tasks"):
        raise NotFound(
            f"taskArn: {task_arn} is not known to ECS (it forgets stopped tasks after about an "
            "hour)"
        )
    task = response["tasks"][0]
    family = jobs.family_of(task.get("taskDefinitionArn", ""))
    job = next((job for job, target in config.jobs.items() if target.family == family), None)
    if job is None:
        raise ValidationError(f"taskArn: {task_arn} is not a task of this stack's jobs")
    if not runs.is_run_id(task.get("startedBy")):
        raise ValidationError(_not_a_run(task_arn))
    return job, task


def _not_a_run(task_arn: str) -> str:
    return (
        f"taskArn: {task_arn} is not a task of a run (its job's service started it, and only "
        "the service stops its tasks)"
    )


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def status(task_arn: str, config: trigger_config.TriggerConfig, caller: str) -> dict[str, Any]:
    job, task = describe_job_task(task_arn, config)
    _check_job_caller(job, config.jobs[job], caller)
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


def stop(
    task_arn: str, reason: str, config: trigger_config.TriggerConfig, caller: str
) -> dict[str, Any]:
    job, task = describe_job_task(task_arn, config)
    _check_job_caller(job, config.jobs[job], caller)
    if caller != callers.ACCOUNT:
        # Whose run the task is: its record, by the run id ECS holds as startedBy.
        run_id = str(task["startedBy"])
        store = records.RunStore(dynamodb, config.runs_table, config.run_retention_days)
        _check_stopper(_visible_run(store.get(run_id), config, run_id, caller), caller)
    task = ecs.stop_task(cluster=config.cluster_arn, task=task_arn, reason=reason)["task"]
    return {
        "job": job,
        "taskArn": task_arn,
        "lastStatus": task.get("lastStatus"),
        "desiredStatus": task.get("desiredStatus"),
    }
