"""The supervisor against the trigger's runs: moto's DynamoDB with the program's runs table, the
ECS stand-in, and "ECS Task State Change" events shaped like the documented sample
(`fixtures/ecs_task_state_change_fargate_running.json`, from the ECS developer guide page
"Amazon ECS task state change events"), with the task's own fields and its state set on it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

import attempts
import handler
import records
import supervisor
from longjobs_contract import lifecycle, runs, trigger_config
from tests.functions.conftest import PROD
from tests.functions.ecs_standin import EcsStandIn
from tests.functions.runs_table import create_runs_table

SAMPLE = json.loads(
    (Path(__file__).parent / "fixtures" / "ecs_task_state_change_fargate_running.json").read_text()
)
NIGHTLY = {"job": "report", "idempotencyKey": "nightly-2026-11-01"}
RUN = runs.run_id("report", "nightly-2026-11-01")
RULES = lifecycle.JobRules(retries=1, interruption_retries=1, on_interruption="on-demand")


@pytest.fixture
def stack(dev, config_file, monkeypatch):
    """PROD with lifecycle rules for its report job, the runs table in moto, ECS as stand-in;
    the trigger and the supervisor share them, as they share the config file in AWS."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        table = create_runs_table(dynamodb, dev)
        report = dataclasses.replace(PROD.jobs["report"], lifecycle=RULES)
        config = dataclasses.replace(PROD, runs_table=table, jobs={**PROD.jobs, "report": report})
        config_file.write_text(trigger_config.dumps(config))
        handler.load_config.cache_clear()
        supervisor.load_config.cache_clear()
        ecs = EcsStandIn()
        calls: list[str] = []
        dynamodb.meta.events.register(
            "provide-client-params.dynamodb", lambda model, **_: calls.append(model.name)
        )
        ecs.on_call = calls.append
        for module in (handler, supervisor):
            monkeypatch.setattr(module, "dynamodb", dynamodb)
            monkeypatch.setattr(module, "ecs", ecs)
        yield ecs, records.RunStore(dynamodb, table), calls
        supervisor.load_config.cache_clear()


def event_for(task: dict, **state) -> dict:
    """The documented event, carrying `task` (as ECS describes it) in `state`."""
    envelope = copy.deepcopy(SAMPLE)
    detail = envelope["detail"]
    detail.update(copy.deepcopy(task))
    detail["containers"] = [{"name": "report", "lastStatus": state.get("lastStatus", "RUNNING")}]
    exit_code = state.pop("exitCode", None)
    if exit_code is not None:
        detail["containers"][0]["exitCode"] = exit_code
    detail.update(state)
    envelope["resources"] = [detail["taskArn"]]
    envelope["region"] = "eu-west-1"
    return envelope


def running(task: dict) -> dict:
    return event_for(task, lastStatus="RUNNING", version=3)


def stopped(task: dict, **how) -> dict:
    return event_for(task, lastStatus="STOPPED", desiredStatus="STOPPED", version=5, **how)


def start(ecs, context) -> dict:
    handler.handler(NIGHTLY, context)
    return ecs.tasks[ecs.started()[-1]]


def test_running_then_success_in_at_most_three_calls_an_event(stack, context):
    ecs, store, calls = stack
    task = start(ecs, context)
    calls.clear()
    assert supervisor.handler(running(task), context)["status"] == "RUNNING"
    assert calls == ["GetItem", "UpdateItem"]
    calls.clear()
    answer = supervisor.handler(
        stopped(task, stopCode="EssentialContainerExited", exitCode=0), context
    )
    assert answer == {"outcome": "recorded", "status": "SUCCEEDED", "final": "SUCCEEDED"}
    assert calls == ["GetItem", "UpdateItem"]
    record = store.get(RUN)
    assert record["status"] == "SUCCEEDED"
    [attempt] = record["attempts"]
    assert (attempt["taskArn"], attempt["exitCode"], attempt["classification"]) == (
        task["taskArn"],
        0,
        "succeeded",
    )
    # Status answers the whole story from the record.
    status = handler.handler({"action": "status", "runId": RUN}, context)
    assert status["status"] == "SUCCEEDED" and status["attempts"][0]["taskArn"] == task["taskArn"]


def test_a_spot_interruption_is_rerun_on_demand_then_succeeds(stack, context):
    ecs, store, calls = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    calls.clear()
    answer = supervisor.handler(stopped(task, stopCode="SpotInterruption"), context)
    assert (answer["outcome"], answer["attempt"], answer["status"]) == ("rerun", 2, "PENDING")
    assert calls == ["GetItem", "UpdateItem", "RunTask"]
    rerun = ecs.tasks[ecs.started()[-1]]
    assert rerun["capacityProviderName"] == "FARGATE"
    assert ecs.run_task_calls()[-1]["clientToken"] == runs.client_token(RUN, 2)
    supervisor.handler(stopped(rerun, stopCode="EssentialContainerExited", exitCode=0), context)
    record = store.get(RUN)
    assert record["status"] == "SUCCEEDED"
    assert [(a["attempt"], a["classification"]) for a in record["attempts"]] == [
        (1, "interrupted"),
        (2, "succeeded"),
    ]


def test_failures_are_rerun_until_retries_run_out(stack, context):
    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(stopped(task, stopCode="EssentialContainerExited", exitCode=1), context)
    second = ecs.tasks[ecs.started()[-1]]
    assert second["capacityProviderName"] == "FARGATE_SPOT"  # a failure reruns where it ran
    answer = supervisor.handler(
        stopped(second, stopCode="EssentialContainerExited", exitCode=1), context
    )
    assert answer["final"] == "FAILED"
    assert store.get(RUN)["reason"] == "attempt 2: job-failed: exit code 1"
    assert len(ecs.started()) == 2


def test_duplicate_and_reordered_events_start_no_second_rerun(stack, context):
    ecs, store, _ = stack
    task = start(ecs, context)
    interrupted = stopped(task, stopCode="SpotInterruption")
    for event in (interrupted, interrupted, running(task), interrupted):
        supervisor.handler(event, context)
    assert len(ecs.started()) == 2
    record = store.get(RUN)
    assert (record["status"], record["attempt"]) == ("PENDING", 2)


def test_a_rerun_without_capacity_is_recorded_and_the_retried_event_sends_the_next(stack, context):
    ecs, store, _ = stack
    task = start(ecs, context)
    ecs.capacity.update(FARGATE=False, FARGATE_SPOT=False)
    event = stopped(task, stopCode="SpotInterruption")
    with pytest.raises(attempts.CapacityUnavailable, match="attempt 3 is recorded"):
        supervisor.handler(event, context)
    assert store.get(RUN)["attempt"] == 3
    # Lambda retries the same event once capacity is back: attempt 3 is sent, and starts.
    ecs.capacity.update(FARGATE=True, FARGATE_SPOT=True)
    answer = supervisor.handler(event, context)
    assert (answer["outcome"], answer["attempt"]) == ("rerun", 3)
    assert len(ecs.started()) == 2
    assert ecs.run_task_calls()[-1]["clientToken"] == runs.client_token(RUN, 3)


def test_a_rerun_lost_between_the_record_and_runtask_is_sent_by_the_retried_event(stack, context):
    from tests.functions.ecs_standin import client_error

    ecs, store, _ = stack
    task = start(ecs, context)
    ecs.next_errors.append(client_error("ThrottlingException", "Rate exceeded", "RunTask"))
    event = stopped(task, stopCode="SpotInterruption")
    with pytest.raises(Exception, match="Rate exceeded"):
        supervisor.handler(event, context)
    assert store.get(RUN)["attempt"] == 2
    assert supervisor.handler(event, context)["outcome"] == "rerun"
    assert len(ecs.started()) == 2
    # And again: the token answers with the same task.
    supervisor.handler(event, context)
    assert len(ecs.started()) == 2


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/other"}, "not a task state"),
        ({"startedBy": "ecs-svc/1234567890"}, "not a task of a run"),
        ({"startedBy": "0" * 32}, "no such run"),
    ],
)
def test_events_of_other_tasks_are_ignored(stack, context, change, why):
    ecs, _, calls = stack
    task = start(ecs, context)
    calls.clear()
    answer = supervisor.handler(event_for({**task, **change}, lastStatus="RUNNING"), context)
    assert answer["outcome"] == "ignored" and answer["why"].startswith(why)
    assert calls in ([], ["GetItem"])
