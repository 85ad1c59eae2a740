"""longjobs supervisor: moves each run along as its tasks change state.

An EventBridge rule sends this stack's cluster's "ECS Task State Change" events here. The event
names the run in `startedBy` (the run id) and the attempt in the task's LONGJOBS_ATTEMPT; the
record is read, `longjobs_contract.lifecycle.decide` says what the task's new state means, the
record is written over the revision read (a concurrent writer makes this one read again), and a
re-run is started when the decision says so: at most three AWS calls an event (GetItem,
UpdateItem, RunTask). Events come at least once and in any order; `decide` makes a repeated or a
late one change nothing. A run whose re-run found no capacity is recorded at its next attempt
and the invocation fails, so that Lambda's retry sends it.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

import attempts
import records
from longjobs_contract import lifecycle, runs, trigger_config

FUNCTION_TIMEOUT_SECONDS = 60
"""The function's timeout, as the JobSupervisor component declares it (a test holds them equal)."""
# As in the trigger: every call, its retries included, ends well inside the function's timeout.
CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "total_max_attempts": 2},
)
ecs = boto3.client("ecs", config=CLIENT_CONFIG)
dynamodb = boto3.client("dynamodb", config=CLIENT_CONFIG)

TASK_STATE_CHANGE = "ECS Task State Change"
MAX_WRITES = 3
"""Reads and writes of one event's run before the invocation fails and is retried."""


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
        answer = supervise(event, load_config(), log)
        log.update(answer)
        return answer
    except Exception as error:
        log.update(outcome="failed", error=f"{type(error).__name__}: {error}")
        raise
    finally:
        print(json.dumps(log, sort_keys=True, default=str))


def supervise(
    event: Any, config: trigger_config.TriggerConfig, log: dict[str, Any]
) -> dict[str, Any]:
    """Apply one task state change event to its run."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if (
        not isinstance(detail, dict)
        or event.get("source") != "aws.ecs"
        or event.get("detail-type") != TASK_STATE_CHANGE
        or detail.get("clusterArn") != config.cluster_arn
    ):
        return {"outcome": "ignored", "why": "not a task state change of this stack's cluster"}
    run_id = detail.get("startedBy")
    log.update(taskArn=detail.get("taskArn"), lastStatus=detail.get("lastStatus"))
    if not runs.is_run_id(run_id):
        return {"outcome": "ignored", "why": "not a task of a run (a service's, or another's)"}
    log["runId"] = run_id
    store = records.RunStore(dynamodb, config.runs_table)
    for _ in range(MAX_WRITES):
        record = store.get(run_id)
        if record is None:
            return {"outcome": "ignored", "why": "no such run (expired, or not this stack's)"}
        target = config.jobs.get(record[runs.Record.JOB])
        if target is None:
            return {"outcome": "ignored", "why": "the run's job is no longer in the stack"}
        observation = lifecycle.observe(detail, target.container_name)
        decision = lifecycle.decide(
            record, observation, target.lifecycle, records.timestamp(records.now())
        )
        if not decision.changes:
            if record[runs.Record.ATTEMPT] > 1 and attempts.resendable(record, records.now()):
                # A retried invocation whose re-run was recorded but maybe never sent.
                outcome = attempts.start_attempts(ecs, config, store, record, log)
                return {"outcome": "rerun", "attempt": outcome.attempt, "taskArn": outcome.task_arn}
            return {"outcome": "unchanged", "status": record[runs.Record.STATUS]}
        if store.update(record, decision.changes):
            break
    else:
        raise RuntimeError(f"run {run_id}: {MAX_WRITES} writers in a row got there first")
    updated = {**record, **decision.changes}
    updated[runs.Record.REVISION] = int(record.get(runs.Record.REVISION, 0)) + 1
    answer: dict[str, Any] = {"outcome": "recorded", "status": updated[runs.Record.STATUS]}
    if decision.final:
        answer["final"] = decision.final
    if decision.retry:
        outcome = attempts.start_attempts(ecs, config, store, updated, log)
        answer.update(outcome="rerun", attempt=outcome.attempt, taskArn=outcome.task_arn)
        answer["status"] = outcome.record[runs.Record.STATUS]
    return answer
