"""longjobs supervisor: moves each run along as its tasks change state.

An EventBridge rule sends this stack's cluster's "ECS Task State Change" events here. The event
names the run in `startedBy` (the run id) and the attempt in the task's LONGJOBS_ATTEMPT; the
record is read, `longjobs_contract.lifecycle.decide` says what the task's new state means, the
record is written over the revision read (a concurrent writer makes this one read again), and a
re-run is started when the decision says so: two AWS calls an event on the usual path (GetItem,
UpdateItem), three with a re-run (RunTask), more when a write must be read again, a Spot re-run
falls back to on-demand, or a re-run finds no capacity. Events come at least once and in any
order; `decide` makes a repeated or a late one change nothing. A run whose re-run found no
capacity is recorded at its next attempt and the invocation fails, so that Lambda's retry sends
it.
"""

from __future__ import annotations

from typing import Any

import boto3

from functions.common import attempts, records, request_log, runtime
from functions.supervisor import reconcile
from longjobs_contract import lifecycle, runs, trigger_config

FUNCTION_TIMEOUT_SECONDS = 300
"""The function's timeout, as the JobSupervisor component declares it (a test holds them equal)."""
# Created once per execution environment, each call within 20 s (runtime.py).
ecs = boto3.client("ecs", config=runtime.CLIENT_CONFIG)
dynamodb = boto3.client("dynamodb", config=runtime.CLIENT_CONFIG)
logs = boto3.client("logs", config=runtime.CLIENT_CONFIG)
sns = boto3.client("sns", config=runtime.CLIENT_CONFIG)
sqs = boto3.client("sqs", config=runtime.CLIENT_CONFIG)

TASK_STATE_CHANGE = "ECS Task State Change"
STOPPED_TASK = "STOPPED"
STRAY = "longjobs: the run was already final"
RECONCILE = lifecycle.RECONCILE_EVENT
MAX_WRITES = 3
"""Reads and writes of one event's run before the invocation fails and is retried."""


load_config = runtime.load_config


def handler(event: Any, context: Any) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", None) or "local"
    with request_log.request(request_id):
        try:
            config = load_config()
            if event == RECONCILE:
                answer = reconcile.reconcile(config, request_id)
            else:
                answer = supervise(event, config)
            request_log.bind(**answer)
            return answer
        except attempts.CapacityUnavailable as error:
            # Handled: the next attempt is recorded and Lambda's retry sends it. The line keeps
            # its outcome ("no-capacity"), which the errors alarm does not count.
            request_log.bind(error=f"{type(error).__name__}: {error}")
            raise
        except Exception as error:
            request_log.bind(outcome="failed", error=f"{type(error).__name__}: {error}")
            raise


def supervise(event: Any, config: trigger_config.TriggerConfig) -> dict[str, Any]:
    """Apply one task state change event to its run."""
    detail = event.get("detail") if isinstance(event, dict) else None
    # EventBridge sets `source`, `account` and `region` to the sending service's own: ECS's event
    # for this cluster carries the cluster's account and region (EventBridge user guide, "Amazon
    # EventBridge events"); a sender's content beyond that is held by the queue's and the
    # function's policies (docs/security.md, "The supervisor's inputs").
    _, _, _, region, account, _ = config.cluster_arn.split(":", 5)
    if (
        not isinstance(detail, dict)
        or event.get("source") != "aws.ecs"
        or event.get("detail-type") != TASK_STATE_CHANGE
        or event.get("account") != account
        or event.get("region") != region
        or detail.get("clusterArn") != config.cluster_arn
    ):
        return {"outcome": "ignored", "why": "not a task state change of this stack's cluster"}
    run_id = detail.get("startedBy")
    request_log.bind(taskArn=detail.get("taskArn"), lastStatus=detail.get("lastStatus"))
    if not runs.is_run_id(run_id):
        return {"outcome": "ignored", "why": "not a task of a run (a service's, or another's)"}
    request_log.bind(runId=run_id)
    return apply(
        config,
        records.RunStore(dynamodb, config.runs_table, config.run_retention_days),
        run_id,
        detail,
    )


def apply(
    config: trigger_config.TriggerConfig,
    store: records.RunStore,
    run_id: str,
    task: dict[str, Any],
) -> dict[str, Any]:
    """Apply one task's state (an event's detail, or DescribeTasks' answer) to its run: only a
    task the run started (`startedBy`, which RunTask sets and nothing changes after) is the
    run's, whatever its record names (a record can be written around the functions)."""
    if task.get("startedBy") != run_id:
        return {"outcome": "ignored", "why": "not a task the run started"}
    for _ in range(MAX_WRITES):
        record = store.get(run_id)
        if record is None:
            return {"outcome": "ignored", "why": "no such run (expired, or not this stack's)"}
        target = records.job_of(record, config)
        if target is None:
            return {"outcome": "ignored", "why": "the run's job is no longer in the stack"}
        observation = lifecycle.observe(task, target.container_name)
        stopping = STOPPED_TASK in (observation.last_status, observation.desired_status)
        stale = _recorded_version(record, observation.task_arn) >= observation.version
        if not (stopping or stale) and record[runs.Record.STATUS] in runs.FINAL:
            # The run ended (stopped, or lost track of) before this task was seen: it must
            # not run on.
            ecs.stop_task(cluster=config.cluster_arn, task=observation.task_arn, reason=STRAY)
            return {"outcome": "stopped-stray", "status": record[runs.Record.STATUS]}
        if not (stopping or stale) and runs.Record.STOP_REQUESTED in record:
            # Its caller stopped the run before this task was seen, or StopTask did not reach
            # it (not visible yet): the stop is sent again.
            ecs.stop_task(
                cluster=config.cluster_arn,
                task=observation.task_arn,
                reason=str(record[runs.Record.STOP_REQUESTED]),
            )
        decision = lifecycle.decide(record, observation, target, records.timestamp(records.now()))
        if not decision.changes:
            if record[runs.Record.ATTEMPT] > 1 and attempts.resendable(record, records.now()):
                # A retried invocation whose re-run was recorded but maybe never sent.
                outcome = attempts.start_attempts(ecs, config, store, record, resend=True)
                return _rerun_answer(outcome)
            return {"outcome": "unchanged", "status": record[runs.Record.STATUS]}
        if decision.retry:
            _sent_by_me(decision.changes, decision.retry[0])
        if store.update(record, decision.changes, final_ok=decision.after_final):
            break
    else:
        raise RuntimeError(f"run {run_id}: {MAX_WRITES} writers in a row got there first")
    updated = {**record, **decision.changes}
    updated[runs.Record.REVISION] = int(record.get(runs.Record.REVISION, 0)) + 1
    answer: dict[str, Any] = {"outcome": "recorded", "status": updated[runs.Record.STATUS]}
    if decision.final:
        answer["final"] = decision.final
    if decision.retry:
        answer.update(_rerun_answer(attempts.start_attempts(ecs, config, store, updated)))
    return answer


def _sent_by_me(changes: dict[str, Any], attempt: int) -> None:
    """Mark the re-run this invocation records, and sends next, as its own (`sentBy`): Lambda's
    retry of this invocation may send it again at once."""
    sender = request_log.request_id()
    if sender is None:
        return
    changes[runs.Record.ATTEMPTS] = [
        {**a, "sentBy": sender} if a["attempt"] == attempt else a
        for a in changes[runs.Record.ATTEMPTS]
    ]


def _recorded_version(record: dict[str, Any], task_arn: str) -> int:
    """The version of the task the record last saw (0: never): older news is not acted on."""
    return max(
        (
            int(a.get("version", 0))
            for a in record[runs.Record.ATTEMPTS]
            if a.get("taskArn") == task_arn
        ),
        default=0,
    )


def _rerun_answer(outcome: attempts.Outcome) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "outcome": "rerun",
        "attempt": outcome.attempt,
        "taskArn": outcome.task_arn,
        "status": outcome.record[runs.Record.STATUS],
    }
    if outcome.final:
        answer["final"] = outcome.final
    return answer
