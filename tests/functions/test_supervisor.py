"""The supervisor against the trigger's runs: moto's DynamoDB with the program's runs table, the
ECS stand-in, and "ECS Task State Change" events shaped like the documented sample
(`fixtures/ecs_task_state_change_fargate_running.json`, from the ECS developer guide page
"Amazon ECS task state change events"), with the task's own fields and its state set on it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.common import attempts, records
from functions.supervisor import supervisor
from functions.trigger import handler
from longjobs_contract import lifecycle, runs, trigger_config
from tests.functions.conftest import PROD
from tests.functions.ecs_fixture import EcsStandIn
from tests.functions.runs_table import create_runs_table

SAMPLE = json.loads(
    (Path(__file__).parent / "fixtures" / "ecs_task_state_change_fargate_running.json").read_text()
)
NIGHTLY = {"job": "report", "idempotencyKey": "nightly-2026-11-01"}
RUN = runs.run_id("report", "nightly-2026-11-01")
RULES = {"retries": 1, "interruption_retries": 1, "on_interruption": "on-demand"}


@pytest.fixture
def stack(dev, config_file, monkeypatch):
    """PROD with lifecycle rules for its report job, the runs table in moto, ECS as stand-in;
    the trigger and the supervisor share them, as they share the config file in AWS."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        table = create_runs_table(dynamodb, dev)
        report = dataclasses.replace(PROD.jobs["report"], **RULES)
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
        sns = boto3.client("sns", region_name="eu-west-1")
        topic = sns.create_topic(Name="longjobs-prod-notifications")["TopicArn"]
        assert topic == config.notifications_topic
        monkeypatch.setattr(supervisor, "sns", sns)
        monkeypatch.setattr(supervisor, "logs", boto3.client("logs", region_name="eu-west-1"))
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
    from simulation.ecs_api import client_error

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


# --- stop by run id -----------------------------------------------------------------------------


def test_stop_by_run_ends_it_stopped_and_stops_its_task(stack, context):
    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    answer = handler.handler({"action": "stop", "runId": RUN, "reason": "not needed"}, context)
    assert (answer["status"], answer["reason"]) == ("STOPPED", "stopped: not needed")
    assert ecs.tasks[task["taskArn"]]["stopCode"] == "UserInitiated"
    # The task's own STOPPED event changes nothing: the run is final, and never re-run.
    assert supervisor.handler(stopped(task, stopCode="UserInitiated"), context)["outcome"] == (
        "unchanged"
    )
    assert len(ecs.started()) == 1
    again = handler.handler({"action": "stop", "runId": RUN}, context)
    assert again["status"] == "STOPPED"


def test_a_task_first_seen_after_its_run_was_stopped_is_stopped(stack, context):
    ecs, store, _ = stack
    task = start(ecs, context)  # started, but no event recorded its task yet
    # Stopped by a writer that did not find the task (its attempt past ECS's token window, say).
    store.update(store.get(RUN), {"status": "STOPPED", "reason": "stopped"})
    assert ecs.tasks[task["taskArn"]]["desiredStatus"] == "RUNNING"
    answer = supervisor.handler(running(task), context)
    assert answer == {"outcome": "stopped-stray", "status": "STOPPED"}
    assert ecs.tasks[task["taskArn"]]["stoppedReason"] == supervisor.STRAY


def test_stop_of_an_unknown_run(stack, context):
    answer = handler.handler({"action": "stop", "runId": "0" * 32}, context)
    assert answer["error"]["type"] == "NotFound"


# --- reconciliation and timeouts ----------------------------------------------------------------


def later(monkeypatch, minutes: float) -> None:
    """Move every clock the functions read `minutes` on from now."""
    moved = records.now() + timedelta(minutes=minutes)
    monkeypatch.setattr(records, "now", lambda: moved)


def advance(ecs, task: dict, **state) -> None:
    """The task changes state in ECS (its version grows), and the event is lost."""
    stored = ecs.tasks[task["taskArn"]]
    exit_code = state.pop("exitCode", None)
    stored.update({"version": stored["version"] + 1, **state})
    if exit_code is not None:
        stored["containers"][0]["exitCode"] = exit_code


def test_a_run_whose_every_event_was_lost_reaches_its_end(stack, context, monkeypatch):
    ecs, store, _ = stack
    task = start(ecs, context)
    advance(ecs, task, lastStatus="RUNNING", startedAt=records.now())
    advance(
        ecs,
        task,
        lastStatus="STOPPED",
        desiredStatus="STOPPED",
        stopCode="EssentialContainerExited",
        exitCode=0,
    )
    # Before the record is RECONCILE_AFTER old the pass leaves it to its events.
    assert supervisor.handler(supervisor.RECONCILE, context)["looked"] == 0
    later(monkeypatch, 3)
    answer = supervisor.handler(supervisor.RECONCILE, context)
    assert (answer["looked"], answer["resent"], answer["applied"]) == (1, 1, 1)
    record = store.get(RUN)
    assert record["status"] == "SUCCEEDED"
    assert record["attempts"][0]["taskArn"] == task["taskArn"]
    assert len(ecs.started()) == 1  # the resent attempt named its task; nothing new started


def test_a_lost_interruption_is_rerun_by_the_pass(stack, context, monkeypatch):
    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    advance(
        ecs,
        task,
        lastStatus="STOPPED",
        desiredStatus="STOPPED",
        stopCode="SpotInterruption",
        version=6,  # newer than the RUNNING event's
    )
    later(monkeypatch, 3)
    supervisor.handler(supervisor.RECONCILE, context)
    record = store.get(RUN)
    assert (record["status"], record["attempt"]) == ("PENDING", 2)
    assert len(ecs.started()) == 2


def test_an_attempt_never_seen_for_an_hour_ends_the_run_failed(stack, context, monkeypatch):
    ecs, store, _ = stack
    ecs.next_errors.append(Exception("the invocation died before RunTask answered"))
    with pytest.raises(Exception, match="died"):
        handler.handler(NIGHTLY, context)
    later(monkeypatch, 61)
    answer = supervisor.handler(supervisor.RECONCILE, context)
    assert answer["lost"] == 1
    record = store.get(RUN)
    assert record["status"] == "FAILED"
    assert record["reason"].startswith("attempt 1: no task of it was ever seen")


def test_an_attempt_past_its_timeout_is_stopped_and_the_run_times_out(
    stack, context, monkeypatch, config_file
):
    ecs, store, _ = stack
    config = trigger_config.loads(config_file.read_text())
    report = dataclasses.replace(config.jobs["report"], **RULES, timeout_seconds=600)
    config_file.write_text(
        trigger_config.dumps(dataclasses.replace(config, jobs={**config.jobs, "report": report}))
    )
    handler.load_config.cache_clear()
    supervisor.load_config.cache_clear()
    task = start(ecs, context)
    begun = records.timestamp(records.now())
    supervisor.handler(event_for(task, lastStatus="RUNNING", version=3, startedAt=begun), context)
    later(monkeypatch, 9)
    assert supervisor.handler(supervisor.RECONCILE, context)["timedOut"] == 0
    later(monkeypatch, 11)
    assert supervisor.handler(supervisor.RECONCILE, context)["timedOut"] == 1
    stopped_task = ecs.tasks[task["taskArn"]]
    assert (stopped_task["stopCode"], stopped_task["stoppedReason"]) == (
        "UserInitiated",
        lifecycle.TIMEOUT_REASON,
    )
    answer = supervisor.handler(
        stopped(task, stopCode="UserInitiated", stoppedReason=lifecycle.TIMEOUT_REASON), context
    )
    assert answer["final"] == "TIMED_OUT"
    assert len(ecs.started()) == 1  # a timeout is never re-run


# --- notices ------------------------------------------------------------------------------------


def subscribe_queue(sns_topic: str) -> tuple:
    """An SQS queue subscribed to the topic (raw delivery): what a subscriber receives."""
    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = sqs.create_queue(QueueName="notices")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns", region_name="eu-west-1").subscribe(
        TopicArn=sns_topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return sqs, url


def received(sqs, url) -> list[dict]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_failure_is_published_once_with_its_last_log_lines(stack, context, config_file):
    ecs, store, _ = stack
    config = trigger_config.loads(config_file.read_text())
    sqs, url = subscribe_queue(config.notifications_topic)
    task = start(ecs, context)
    group = config.jobs["report"].log_group
    stream = f"job/report/{task['taskArn'].rsplit('/', 1)[-1]}"
    logs = boto3.client("logs", region_name="eu-west-1")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        # PutLogEvents refuses events older than 14 days: stamp them now.
        logEvents=[
            {"timestamp": int(time.time() * 1000) + i, "message": f"line {i}"} for i in range(30)
        ],  # fmt: skip
    )
    supervisor.handler(stopped(task, stopCode="EssentialContainerExited", exitCode=1), context)
    second = ecs.tasks[ecs.started()[-1]]
    supervisor.handler(stopped(second, stopCode="TaskFailedToStart",
                               stoppedReason="CannotPullContainerError: not found"), context)  # fmt: skip
    assert store.get(RUN)["notifyDue"] == "due"
    assert received(sqs, url) == []  # published by the pass, not on the event's path
    answer = supervisor.handler(supervisor.RECONCILE, context)
    assert answer["notified"] == 1
    [notice] = received(sqs, url)
    assert (notice["runId"], notice["job"], notice["status"], notice["attempts"]) == (
        RUN,
        "report",
        "FAILED",
        2,
    )
    assert notice["classification"] == "start-permanent"
    assert notice["reason"] == "attempt 2: start-permanent: CannotPullContainerError: not found"
    assert notice["logLines"] == []  # the second attempt never started its container
    record = store.get(RUN)
    assert "notifyDue" not in record and "notifiedAt" in record
    assert supervisor.handler(supervisor.RECONCILE, context)["notified"] == 0
    assert received(sqs, url) == []
    # The first attempt's lines, as a notice of it would carry them: the last 20, in order.
    from functions.supervisor import notices

    lines = notices.last_lines(logs, group, stream)
    assert lines == [f"line {i}" for i in range(10, 30)]
    assert notices.console_link("eu-west-1", group, stream).endswith(
        "#logsV2:log-groups/log-group/$252Flongjobs$252Fprod$252Fjobs/log-events/"
        f"job$252Freport$252F{task['taskArn'].rsplit('/', 1)[-1]}"
    )


def test_a_success_is_published_only_when_the_job_asks_for_all(stack, context, config_file):
    ecs, store, _ = stack
    config = trigger_config.loads(config_file.read_text())
    sqs, url = subscribe_queue(config.notifications_topic)
    task = start(ecs, context)
    supervisor.handler(stopped(task, stopCode="EssentialContainerExited", exitCode=0), context)
    assert "notifyDue" not in store.get(RUN)
    assert supervisor.handler(supervisor.RECONCILE, context)["notified"] == 0
    report = dataclasses.replace(config.jobs["report"], **RULES, notify="all")
    config_file.write_text(
        trigger_config.dumps(dataclasses.replace(config, jobs={**config.jobs, "report": report}))
    )
    handler.load_config.cache_clear()
    supervisor.load_config.cache_clear()
    handler.handler({"job": "report", "idempotencyKey": "second"}, context)
    task = ecs.tasks[ecs.started()[-1]]
    supervisor.handler(stopped(task, stopCode="EssentialContainerExited", exitCode=0), context)
    supervisor.handler(supervisor.RECONCILE, context)
    [notice] = received(sqs, url)
    assert (notice["status"], notice["exitCode"]) == ("SUCCEEDED", 0)


def test_a_stopped_run_is_published(stack, context, config_file):
    ecs, _, _ = stack
    sqs, url = subscribe_queue(trigger_config.loads(config_file.read_text()).notifications_topic)
    start(ecs, context)
    handler.handler({"action": "stop", "runId": RUN, "reason": "superseded"}, context)
    supervisor.handler(supervisor.RECONCILE, context)
    [notice] = received(sqs, url)
    assert (notice["status"], notice["reason"]) == ("STOPPED", "stopped: superseded")


def test_one_runs_trouble_does_not_stop_the_pass_for_the_others(stack, context, monkeypatch):
    ecs, store, _ = stack
    from simulation.ecs_api import client_error

    # Run A: sent, but its task never seen; run B: succeeded, its events lost.
    ecs.next_errors.append(Exception("the invocation died before RunTask answered"))
    with pytest.raises(Exception, match="died"):
        handler.handler({"job": "report", "idempotencyKey": "a"}, context)
    task = start(ecs, context)
    advance(ecs, task, lastStatus="STOPPED", desiredStatus="STOPPED",
            stopCode="EssentialContainerExited", exitCode=0)  # fmt: skip
    later(monkeypatch, 3)
    ecs.next_errors.append(client_error("ThrottlingException", "Rate exceeded", "RunTask"))
    answer = supervisor.handler(supervisor.RECONCILE, context)
    assert answer["errors"] == 1
    assert store.get(RUN)["status"] == "SUCCEEDED"


def test_a_stop_whose_stoptask_fails_leaves_the_run_for_stop_again(stack, context, monkeypatch):
    from simulation.ecs_api import client_error

    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    real_stop = ecs.stop_task

    def throttled(**params):
        raise client_error("ThrottlingException", "Rate exceeded", "StopTask")

    monkeypatch.setattr(ecs, "stop_task", throttled)
    with pytest.raises(Exception, match="Rate exceeded"):
        handler.handler({"action": "stop", "runId": RUN}, context)
    assert store.get(RUN)["status"] == "RUNNING"
    monkeypatch.setattr(ecs, "stop_task", real_stop)
    assert handler.handler({"action": "stop", "runId": RUN}, context)["status"] == "STOPPED"
    assert ecs.tasks[task["taskArn"]]["desiredStatus"] == "STOPPED"


def test_a_throttled_describe_does_not_stop_the_pass(stack, context, monkeypatch):
    from simulation.ecs_api import client_error

    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    later(monkeypatch, 3)

    def throttled(**params):
        raise client_error("ThrottlingException", "Rate exceeded", "DescribeTasks")

    monkeypatch.setattr(ecs, "describe_tasks", throttled)
    answer = supervisor.handler(supervisor.RECONCILE, context)
    assert (answer["errors"], answer["notified"]) == (1, 0)


def test_every_change_keeps_the_record_for_the_retention_from_then(stack, context, monkeypatch):
    ecs, store, _ = stack
    fixed = records.now()  # one clock for both stamps, so no second passes between them
    monkeypatch.setattr(records, "now", lambda: fixed)
    task = start(ecs, context)
    created = store.get(RUN)["expiresAt"]
    later(monkeypatch, 60 * 24 * 2)  # a run two days long
    supervisor.handler(running(task), context)
    assert store.get(RUN)["expiresAt"] - created == 2 * 24 * 3600


# --- the record after an on-demand fallback -----------------------------------------------------


def test_the_first_event_of_a_fallback_records_that_spot_started_nothing(stack, context):
    """The trigger answers the on-demand attempt 2 after Spot found no capacity, in three calls
    and with no write after RunTask: until a task of attempt 2 is seen, status shows attempt 1
    as sent. The first event of attempt 2 (only a no-task answer makes the trigger send it) then
    records attempt 1 as having found no Spot capacity."""
    ecs, store, calls = stack
    ecs.capacity["FARGATE_SPOT"] = False
    answer = handler.handler(NIGHTLY, context)
    assert (answer["attempt"], answer["capacity"]) == (2, "on-demand")
    meanwhile = handler.handler({"action": "status", "runId": RUN}, context)
    assert (meanwhile["status"], meanwhile["attempt"]) == ("PENDING", 1)
    assert meanwhile["attempts"] == [
        {"attempt": 1, "capacity": "spot", "requestedAt": meanwhile["createdAt"]}
    ]
    task = ecs.tasks[answer["taskArn"]]
    calls.clear()
    supervisor.handler(running(task), context)
    assert calls == ["GetItem", "UpdateItem"]
    record = store.get(RUN)
    assert (record["status"], record["attempt"]) == ("RUNNING", 2)
    first, second = record["attempts"]
    assert first == {
        "attempt": 1,
        "capacity": "spot",
        "requestedAt": record["createdAt"],
        "reason": supervisor.lifecycle.FALLBACK_REASON.format(attempt=2),
        "classification": "capacity",
    }
    assert (second["attempt"], second["capacity"], second["taskArn"]) == (
        2,
        "on-demand",
        task["taskArn"],
    )


def test_a_fallback_whose_every_event_was_lost_is_recorded_by_the_pass(stack, context, monkeypatch):
    ecs, store, _ = stack
    ecs.capacity["FARGATE_SPOT"] = False
    task = ecs.tasks[handler.handler(NIGHTLY, context)["taskArn"]]
    advance(ecs, task, lastStatus="RUNNING")
    ecs.capacity["FARGATE_SPOT"] = True  # the Spot token still answers its first no
    later(monkeypatch, 3)
    supervisor.handler(supervisor.RECONCILE, context)
    record = store.get(RUN)
    assert (record["status"], record["attempt"]) == ("RUNNING", 2)
    assert [a.get("classification") for a in record["attempts"]] == ["capacity", None]
    assert len(ecs.started()) == 1


def test_a_rerun_starting_as_its_run_is_stopped_is_stopped_even_if_its_events_are_lost(
    stack, context
):
    """The supervisor records attempt 2 and starts its task; the stop reads the run before any
    event names that task. The stop asks ECS by attempt 2's token, and stops what it started."""
    ecs, store, calls = stack
    task = start(ecs, context)
    supervisor.handler(stopped(task, stopCode="SpotInterruption"), context)
    rerun = ecs.started()[-1]
    assert "taskArn" not in records.current_attempt(store.get(RUN))
    calls.clear()
    answer = handler.handler({"action": "stop", "runId": RUN, "reason": "superseded"}, context)
    assert answer["status"] == "STOPPED"
    assert ecs.tasks[rerun]["desiredStatus"] == "STOPPED"
    assert calls == ["GetItem", "RunTask", "StopTask", "UpdateItem"]
    assert ecs.started() == [task["taskArn"], rerun]  # the token answered; nothing new started


def test_a_stop_leaves_alone_an_attempt_only_a_retry_would_send(stack, context):
    """Attempt 3 is recorded after attempts 1 and 2 found no capacity: only a retry of the
    invocation sends it, and a stop must not start it."""
    ecs, store, calls = stack
    ecs.capacity.update(FARGATE=False, FARGATE_SPOT=False)
    with pytest.raises(attempts.CapacityUnavailable):
        handler.handler(NIGHTLY, context)
    ecs.capacity.update(FARGATE=True, FARGATE_SPOT=True)
    calls.clear()
    assert handler.handler({"action": "stop", "runId": RUN}, context)["status"] == "STOPPED"
    assert calls == ["GetItem", "UpdateItem"]
    assert ecs.started() == []
