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
from functions.supervisor.reconcile import _lost
from functions.trigger import handler
from longjobs_contract import alarms as stack_alarms
from longjobs_contract import callers, lifecycle, runs, trigger_config
from tests.functions.conftest import PROD, another_invocation
from tests.functions.ecs_fixture import EcsStandIn
from tests.functions.runs_table import create_runs_table, model_runs_table

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
        yield from _stack(dynamodb, table, config_file, monkeypatch)


@pytest.fixture
def model_stack(dev, config_file, monkeypatch):
    """The same stack with the runs table in the DynamoDB model (SNS and Logs still in moto),
    for tests that write runs by the thousand."""
    with mock_aws():
        dynamodb, table = model_runs_table(dev)
        yield from _stack(dynamodb, table, config_file, monkeypatch)


def _stack(dynamodb, table: str, config_file, monkeypatch):
    """The handlers share `dynamodb` (its table `table`), the ECS stand-in and moto's SNS."""
    report = dataclasses.replace(PROD.jobs["report"], **RULES)
    config = dataclasses.replace(PROD, runs_table=table, jobs={**PROD.jobs, "report": report})
    config_file.write_text(trigger_config.dumps(config))
    handler.load_config.cache_clear()
    supervisor.load_config.cache_clear()
    ecs = EcsStandIn()
    calls: list[str] = []
    if hasattr(dynamodb, "meta"):  # moto's client; the model's counts nothing
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


def reconcile() -> dict:
    """A reconciliation pass: each minute's is an invocation of its own (its own request id)."""
    return supervisor.handler(supervisor.RECONCILE, another_invocation())


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
    # With where its container logged: the job's group, awslogs' prefix/container/task id.
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    assert (status["attempts"][0]["logGroup"], status["attempts"][0]["logStream"]) == (
        "/longjobs/prod/jobs",
        f"job/report/{task_id}",
    )


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
    """Each delivery an invocation of its own: the re-run's sender is the first, and the
    others send nothing."""
    ecs, store, _ = stack
    task = start(ecs, context)
    interrupted = stopped(task, stopCode="SpotInterruption")
    for event in (interrupted, interrupted, running(task), interrupted):
        supervisor.handler(event, another_invocation())
    assert len(ecs.started()) == 2
    assert len(ecs.run_task_calls()) == 2
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


def test_a_rerun_without_capacity_logs_the_outcome_the_errors_alarm_leaves_out(
    stack, context, capsys, monkeypatch
):
    """The supervisor-errors alarm counts Lambda's Errors less the lines whose outcome is
    no-capacity (components/alarms.py): a failure on purpose says so, any other says failed."""
    ecs, store, _ = stack
    task = start(ecs, context)
    ecs.capacity.update(FARGATE=False, FARGATE_SPOT=False)
    capsys.readouterr()
    with pytest.raises(attempts.CapacityUnavailable):
        supervisor.handler(stopped(task, stopCode="SpotInterruption"), context)
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (line["outcome"], line["error"].split(":")[0]) == (
        stack_alarms.NO_CAPACITY,
        "CapacityUnavailable",
    )
    monkeypatch.setattr(supervisor, "supervise", lambda event, config: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        supervisor.handler(stopped(task, stopCode="SpotInterruption"), context)
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["outcome"] == "failed"


def test_a_rerun_lost_between_the_record_and_runtask_is_sent_by_the_events_retry_at_once(
    stack, context, monkeypatch
):
    """The supervisor that recorded attempt 2 took it (`sentAt`, `sentBy` its request id),
    and its RunTask was throttled. Another invocation (the event delivered again) leaves it to
    that sender; Lambda's retry of the invocation, its sender gone, sends attempt 2's token at
    once; once that sender is gone too, another invocation sends it again, and the token
    answers with the same task."""
    from simulation.ecs_api import client_error

    ecs, store, calls = stack
    task = start(ecs, context)
    later(monkeypatch, 0)  # one clock for the stamps below
    ecs.next_errors.append(client_error("ThrottlingException", "Rate exceeded", "RunTask"))
    event = stopped(task, stopCode="SpotInterruption")
    invocation = another_invocation()
    with pytest.raises(Exception, match="Rate exceeded"):
        supervisor.handler(event, invocation)
    recorded = records.timestamp(records.now())
    assert store.get(RUN)["attempts"][1] == {
        "attempt": 2,
        "capacity": "on-demand",
        "requestedAt": recorded,
        "sentAt": recorded,
        "sentBy": invocation.aws_request_id,
    }
    calls.clear()
    duplicate = supervisor.handler(event, another_invocation())
    assert (duplicate, calls) == ({"outcome": "unchanged", "status": "PENDING"}, ["GetItem"])
    assert len(ecs.started()) == 1
    later(monkeypatch, 1)
    calls.clear()
    answer = supervisor.handler(event, invocation)
    assert answer == {
        "outcome": "rerun",
        "attempt": 2,
        "taskArn": ecs.started()[-1],
        "status": "PENDING",
    }
    assert calls == ["GetItem", "UpdateItem", "RunTask"]
    assert len(ecs.started()) == 2
    later(monkeypatch, 7)
    assert supervisor.handler(event, another_invocation()) == answer
    assert len(ecs.started()) == 2
    assert [c["clientToken"] for c in ecs.run_task_calls()] == [
        runs.client_token(RUN, n) for n in (1, 2, 2, 2)
    ]


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


def test_stop_by_run_stops_its_task_and_the_run_ends_stopped_with_it(stack, context):
    """The stop is recorded (`stopRequested`) and the task asked to stop; the run keeps its
    status until the task's STOPPED event ends it STOPPED, never re-run."""
    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    answer = handler.handler({"action": "stop", "runId": RUN, "reason": "not needed"}, context)
    stopping = store.get(RUN)
    assert (stopping["status"], stopping["stopRequested"]) == ("RUNNING", "not needed")
    assert answer == handler.view(stopping, handler.load_config(), callers.ACCOUNT)
    told = ecs.tasks[task["taskArn"]]
    assert (told["desiredStatus"], told["stopCode"], told["stoppedReason"]) == (
        "STOPPED",
        "UserInitiated",
        "not needed",
    )
    assert supervisor.handler(stopped(task, exitCode=143), context) == {
        "outcome": "recorded",
        "status": "STOPPED",
        "final": "STOPPED",
    }
    record = store.get(RUN)
    assert (record["status"], record["reason"]) == (
        "STOPPED",
        "attempt 1: user-stopped: not needed",
    )
    assert len(ecs.started()) == 1
    again = handler.handler({"action": "stop", "runId": RUN}, context)
    assert again == handler.view(record, handler.load_config(), callers.ACCOUNT)


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


@pytest.mark.parametrize(("minutes", "resent"), [(3, 0), (7, 1)])
def test_a_run_whose_every_event_was_lost_reaches_its_end(
    stack, context, monkeypatch, minutes, resent
):
    """The pass (an invocation of its own, not the attempt's sender) finds the task: within
    SENDER_GONE of the attempt's sending by ListTasks (the run's id as startedBy), after it by
    sending the attempt again (its token names the task)."""
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
    assert reconcile()["looked"] == 0
    later(monkeypatch, minutes)
    answer = reconcile()
    assert answer == {
        "outcome": "reconciled",
        "read": 1,
        "looked": 1,
        "timedOut": 0,
        "notOwned": 0,
        "resent": resent,
        "lost": 0,
        "applied": 1,
        "final": 1,
        "errors": 0,
        "forgotten": 0,
        "takenAgain": 0,
        "notified": 0,
    }
    record = store.get(RUN)
    assert record["status"] == "SUCCEEDED"
    assert record["attempts"][0]["taskArn"] == task["taskArn"]
    assert len(ecs.run_task_calls()) == 1 + resent
    assert len(ecs.requests("ListTasks")) == 2 * (1 - resent)  # RUNNING, then STOPPED
    assert len(ecs.started()) == 1  # nothing new started


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
    reconcile()
    record = store.get(RUN)
    assert (record["status"], record["attempt"]) == ("PENDING", 2)
    assert len(ecs.started()) == 2


def test_an_attempt_that_started_nothing_goes_on_as_an_interruption_then_fails(
    stack, context, monkeypatch
):
    """An attempt whose sender died before RunTask answered, that ECS shows no task of (ListTasks
    by the run's id) an hour on: it started nothing, so the run goes on with its next attempt,
    counted as an interruption, and ends FAILED once those are spent."""
    ecs, store, _ = stack
    ecs.next_errors.append(Exception("the invocation died before RunTask answered"))
    with pytest.raises(Exception, match="died"):
        handler.handler(NIGHTLY, context)
    ecs.tasks.clear()  # the sending ECS got placed nothing
    lost = (
        "attempt {n}: ECS shows no task of it (ListTasks by the run's id), and no longer answers "
        "its token (1 h after it was sent)"
    )
    later(monkeypatch, 61)
    assert reconcile()["lost"] == 1
    record = store.get(RUN)
    assert (record["status"], record["attempt"]) == ("PENDING", 2)
    assert record["attempts"][0] | {"reason": None} == {
        **record["attempts"][0],
        "reason": None,
        "classification": lifecycle.START_TRANSIENT,
    }
    assert record["attempts"][0]["reason"] == lost.format(n=1)
    assert "sentAt" not in record["attempts"][1]  # for the pass to send
    assert [r["startedBy"] for r in ecs.requests("ListTasks")] == [RUN, RUN]
    # With no interruption left, the next lost attempt ends the run FAILED.
    spent = dataclasses.replace(handler.load_config().jobs["report"], interruption_retries=0)
    _lost(store, store.get(RUN), records.now(), spent)
    record = store.get(RUN)
    assert (record["status"], record["reason"]) == ("FAILED", lost.format(n=2))


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
    assert reconcile()["timedOut"] == 0
    later(monkeypatch, 11)
    assert reconcile()["timedOut"] == 1
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


def never_started(task: dict, **state) -> dict:
    """The event of a task that never reached RUNNING: without the sample's times of a start."""
    event = event_for(task, containers=task["containers"], **state)
    for started in ("connectivityAt", "pullStartedAt", "pullStoppedAt", "startedAt"):
        event["detail"].pop(started)
    return event


def provisioning(task: dict) -> None:
    """The task's first event, PROVISIONING (a start held for capacity stays so), recorded."""
    event = never_started(task, lastStatus="PROVISIONING")
    assert supervisor.handler(event, another_invocation())["outcome"] == "recorded"


def test_a_task_held_in_provisioning_past_its_start_timeout_is_stopped_and_its_run_rerun(
    stack, context, monkeypatch
):
    """A start held for capacity stays PROVISIONING (ECS itself gives up after about 30
    minutes): the pass stops it once it has not reached RUNNING within the job's startTimeout
    (15 minutes by default) from its sending, and its STOPPED event re-runs the run as an
    interruption does (interruptionRetries, onInterruption: on-demand)."""
    ecs, store, _ = stack
    sent = records.now().replace(microsecond=0)  # whole seconds: the record keeps milliseconds
    monkeypatch.setattr(records, "now", lambda: sent)
    task = start(ecs, context)
    provisioning(task)
    later(monkeypatch, 15)
    assert reconcile()["timedOut"] == 0  # not past it yet
    later(monkeypatch, 1 / 60)
    assert reconcile()["timedOut"] == 1
    assert ecs.requests("StopTask") == [
        {
            "cluster": PROD.cluster_arn,
            "task": task["taskArn"],
            "reason": lifecycle.START_TIMEOUT_REASON,
        }
    ]
    advance(ecs, task, lastStatus="STOPPED")
    end = never_started(ecs.tasks[task["taskArn"]])
    answer = supervisor.handler(end, another_invocation())
    rerun = ecs.started()[-1]
    assert answer == {"outcome": "rerun", "attempt": 2, "taskArn": rerun, "status": "PENDING"}
    record = store.get(RUN)
    assert [(a["attempt"], a.get("classification"), a.get("stoppedReason"))
            for a in record["attempts"]] == [
        (1, "start-transient", lifecycle.START_TIMEOUT_REASON),
        (2, None, None),
    ]  # fmt: skip
    assert ecs.tasks[rerun]["capacityProviderName"] == "FARGATE"
    assert ecs.run_task_calls()[-1]["clientToken"] == runs.client_token(RUN, 2)


def test_a_task_running_though_its_record_says_provisioning_is_not_stopped_for_its_start(
    stack, context, monkeypatch
):
    """Its RUNNING event is late or lost: DescribeTasks shows it RUNNING, so it did start, and
    the pass leaves it to its job's own timeout, and records it RUNNING."""
    ecs, store, _ = stack
    later(monkeypatch, 0)
    task = start(ecs, context)
    provisioning(task)
    advance(ecs, task, lastStatus="RUNNING", startedAt=records.now() + timedelta(minutes=14))
    later(monkeypatch, 16)
    answer = reconcile()
    assert (answer["timedOut"], answer["applied"], answer["errors"]) == (0, 1, 0)
    assert ecs.requests("StopTask") == []
    assert ecs.tasks[task["taskArn"]]["desiredStatus"] == "RUNNING"
    assert store.get(RUN)["status"] == "RUNNING"


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
    answer = reconcile()
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
    assert reconcile()["notified"] == 0
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
    assert reconcile()["notified"] == 0
    report = dataclasses.replace(config.jobs["report"], **RULES, notify="all")
    config_file.write_text(
        trigger_config.dumps(dataclasses.replace(config, jobs={**config.jobs, "report": report}))
    )
    handler.load_config.cache_clear()
    supervisor.load_config.cache_clear()
    handler.handler({"job": "report", "idempotencyKey": "second"}, context)
    task = ecs.tasks[ecs.started()[-1]]
    supervisor.handler(stopped(task, stopCode="EssentialContainerExited", exitCode=0), context)
    reconcile()
    [notice] = received(sqs, url)
    assert (notice["status"], notice["exitCode"]) == ("SUCCEEDED", 0)


def test_a_stopped_run_is_published(stack, context, config_file):
    """Once its task's STOPPED event ends it: a run being stopped is not final yet."""
    ecs, _, _ = stack
    sqs, url = subscribe_queue(trigger_config.loads(config_file.read_text()).notifications_topic)
    task = start(ecs, context)
    handler.handler({"action": "stop", "runId": RUN, "reason": "superseded"}, context)
    assert reconcile()["notified"] == 0
    # Its first event shows the task to the supervisor, which stops it for the recorded stop.
    supervisor.handler(running(task), context)
    assert (
        ecs.tasks[task["taskArn"]]["stopCode"],
        ecs.tasks[task["taskArn"]]["stoppedReason"],
    ) == (
        "UserInitiated",
        "superseded",
    )
    supervisor.handler(stopped(task, stopCode="UserInitiated", stoppedReason="superseded"), context)
    assert reconcile()["notified"] == 1
    [notice] = received(sqs, url)
    assert (notice["status"], notice["reason"]) == (
        "STOPPED",
        "attempt 1: user-stopped: superseded",
    )


def test_one_runs_trouble_does_not_stop_the_pass_for_the_others(
    stack, context, monkeypatch, capsys
):
    ecs, store, _ = stack
    from simulation.ecs_api import client_error

    # Run A: sent, but its task never seen; run B: succeeded, its events lost.
    ecs.next_errors.append(Exception("the invocation died before RunTask answered"))
    with pytest.raises(Exception, match="died"):
        handler.handler({"job": "report", "idempotencyKey": "a"}, context)
    task = start(ecs, context)
    advance(ecs, task, lastStatus="STOPPED", desiredStatus="STOPPED",
            stopCode="EssentialContainerExited", exitCode=0)  # fmt: skip
    later(monkeypatch, 7)  # A's sender is gone: the pass sends A again, and is throttled
    ecs.next_errors.append(client_error("ThrottlingException", "Rate exceeded", "RunTask"))
    capsys.readouterr()
    answer = reconcile()
    assert answer["errors"] == 1
    assert store.get(RUN)["status"] == "SUCCEEDED"
    # The log line keeps what was caught beside the count.
    [line] = capsys.readouterr().out.splitlines()
    logged = json.loads(line)
    assert (logged["errors"], logged["caught"]) == (
        1,
        [
            f"{runs.run_id('report', 'a')}: ClientError: An error occurred (ThrottlingException) "
            "when calling the RunTask operation: Rate exceeded"
        ],
    )


def test_a_stop_whose_stoptask_fails_is_kept_and_its_task_is_stopped_by_the_pass(
    stack, context, monkeypatch
):
    """The stop is recorded before StopTask: a StopTask that fails is raised to the caller,
    and the pass stops the task it finds still running; a stop sent again asks again."""
    from simulation.ecs_api import client_error

    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    real_stop = ecs.stop_task

    def throttled(**params):
        raise client_error("ThrottlingException", "Rate exceeded", "StopTask")

    monkeypatch.setattr(ecs, "stop_task", throttled)
    with pytest.raises(Exception, match="Rate exceeded"):
        handler.handler({"action": "stop", "runId": RUN, "reason": "superseded"}, context)
    record = store.get(RUN)
    assert (record["status"], record["stopRequested"]) == ("RUNNING", "superseded")
    monkeypatch.setattr(ecs, "stop_task", real_stop)
    later(monkeypatch, 3)
    reconcile()
    told = ecs.tasks[task["taskArn"]]
    assert (told["desiredStatus"], told.get("stoppedReason")) == ("STOPPED", "superseded")
    assert [r["task"] for r in ecs.requests("StopTask")] == [task["taskArn"]]
    again = handler.handler({"action": "stop", "runId": RUN, "reason": "superseded"}, context)
    assert again == handler.view(store.get(RUN), handler.load_config(), callers.ACCOUNT)
    assert (again["status"], again["stopRequested"]) == ("RUNNING", "superseded")
    assert len(ecs.requests("StopTask")) == 2


def test_a_throttled_describe_does_not_stop_the_pass(stack, context, monkeypatch):
    from simulation.ecs_api import client_error

    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    later(monkeypatch, 3)

    def throttled(**params):
        raise client_error("ThrottlingException", "Rate exceeded", "DescribeTasks")

    monkeypatch.setattr(ecs, "describe_tasks", throttled)
    answer = reconcile()
    assert (answer["errors"], answer["notified"]) == (1, 0)


def test_an_open_runs_record_never_expires_and_a_final_ones_the_retention_after_it_ended(
    stack, context, monkeypatch
):
    """A run longer than the retention keeps its record while it is open; once final, its
    record is kept `runRetentionDays` from then."""
    ecs, store, _ = stack
    later(monkeypatch, 0)  # one clock for the stamps below
    task = start(ecs, context)
    assert "expiresAt" not in store.get(RUN)
    later(monkeypatch, 60 * 24 * (PROD.run_retention_days + 1))  # open past the retention
    supervisor.handler(running(task), context)
    assert "expiresAt" not in store.get(RUN)
    later(monkeypatch, 60 * 24 * 2)
    ended = records.now()
    end = stopped(task, stopCode="EssentialContainerExited", exitCode=0)
    assert supervisor.handler(end, context)["final"] == "SUCCEEDED"
    expires = int((ended + timedelta(days=PROD.run_retention_days)).timestamp())
    assert store.get(RUN)["expiresAt"] == expires


# --- the record after an on-demand fallback -----------------------------------------------------


def test_a_fallback_shows_in_status_at_once_and_its_first_event_names_its_task(stack, context):
    """The trigger answers the on-demand attempt 2 after Spot found no capacity, in four calls,
    the fallback recorded before its RunTask: status shows at once attempt 1 as having found no
    Spot capacity and attempt 2 as current. The first event of attempt 2 names its task."""
    ecs, store, calls = stack
    ecs.capacity["FARGATE_SPOT"] = False
    answer = handler.handler(NIGHTLY, context)
    assert (answer["attempt"], answer["capacity"]) == (2, "on-demand")
    assert calls == ["PutItem", "RunTask", "UpdateItem", "RunTask"]
    meanwhile = handler.handler({"action": "status", "runId": RUN}, context)
    assert (meanwhile["status"], meanwhile["attempt"]) == ("PENDING", 2)
    spot = {
        "attempt": 1,
        "capacity": "spot",
        "requestedAt": meanwhile["createdAt"],
        "answeredAt": meanwhile["updatedAt"],
        "reason": supervisor.lifecycle.FALLBACK_REASON.format(attempt=2),
        "classification": "capacity",
    }
    fallback = {
        "attempt": 2,
        "capacity": "on-demand",
        "requestedAt": meanwhile["updatedAt"],
        "sentAt": meanwhile["updatedAt"],
        "sentBy": context.aws_request_id,
    }
    assert meanwhile["attempts"] == [spot, fallback]
    task = ecs.tasks[answer["taskArn"]]
    calls.clear()
    supervisor.handler(running(task), context)
    assert calls == ["GetItem", "UpdateItem"]
    record = store.get(RUN)
    assert (record["status"], record["attempt"]) == ("RUNNING", 2)
    assert record["attempts"] == [
        spot,
        {
            **fallback,
            "taskArn": task["taskArn"],
            "version": 3,
            "lastStatus": "RUNNING",
            "startedAt": SAMPLE["detail"]["startedAt"],
        },
    ]


def test_a_fallback_whose_every_event_was_lost_is_recorded_by_the_pass(stack, context, monkeypatch):
    ecs, store, _ = stack
    ecs.capacity["FARGATE_SPOT"] = False
    task = ecs.tasks[handler.handler(NIGHTLY, context)["taskArn"]]
    advance(ecs, task, lastStatus="RUNNING")
    ecs.capacity["FARGATE_SPOT"] = True  # the Spot token still answers its first no
    later(monkeypatch, 3)
    reconcile()
    record = store.get(RUN)
    assert (record["status"], record["attempt"]) == ("RUNNING", 2)
    assert [a.get("classification") for a in record["attempts"]] == ["capacity", None]
    assert len(ecs.started()) == 1


def test_a_rerun_starting_as_its_run_is_stopped_is_stopped_even_if_its_events_are_lost(
    stack, context, monkeypatch
):
    """The supervisor records attempt 2 and starts its task; the stop reads the run before any
    event names that task. The stop sends no RunTask (an attempt has one sender): it records the
    stop, and with every event of the task lost, the pass finds it (ListTasks by the run's id),
    stops it, and ends the run STOPPED by its end."""
    ecs, store, calls = stack
    task = start(ecs, context)
    advance(ecs, task, lastStatus="STOPPED", desiredStatus="STOPPED", stopCode="SpotInterruption")
    supervisor.handler(stopped(task, stopCode="SpotInterruption"), context)
    rerun = ecs.started()[-1]
    assert "taskArn" not in records.current_attempt(store.get(RUN))
    calls.clear()
    answer = handler.handler({"action": "stop", "runId": RUN, "reason": "superseded"}, context)
    assert (answer["status"], answer["attempt"], answer["stopRequested"]) == (
        "PENDING",
        2,
        "superseded",
    )
    assert calls == ["GetItem", "UpdateItem"]
    later(monkeypatch, 3)
    reconcile()
    assert ecs.tasks[rerun]["desiredStatus"] == "STOPPED"
    assert ecs.started() == [task["taskArn"], rerun]  # nothing new started
    advance(ecs, ecs.tasks[rerun], lastStatus="STOPPED")
    later(monkeypatch, 6)
    reconcile()
    record = store.get(RUN)
    assert (record["status"], record["reason"]) == (
        "STOPPED",
        "attempt 2: user-stopped: superseded",
    )
    assert ecs.started() == [task["taskArn"], rerun]


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


# --- a stop racing its task's own end -----------------------------------------------------------


def job_exits(ecs, task: dict, exit_code: int) -> None:
    """The job exits: ECS is stopping its task (EssentialContainerExited), and no event of it
    has come yet."""
    advance(
        ecs,
        task,
        desiredStatus="STOPPED",
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
        exitCode=exit_code,
    )


def test_a_stop_racing_a_job_that_already_exited_0_ends_the_run_succeeded(stack, context):
    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    job_exits(ecs, task, 0)
    answer = handler.handler({"action": "stop", "runId": RUN, "reason": "not needed"}, context)
    assert answer == handler.view(store.get(RUN), handler.load_config(), callers.ACCOUNT)
    assert (answer["status"], answer["stopRequested"]) == ("RUNNING", "not needed")
    # ECS answers StopTask of a task already stopping as it is: the job's own end stands.
    told = ecs.tasks[task["taskArn"]]
    assert (told["stopCode"], told["containers"][0]["exitCode"]) == ("EssentialContainerExited", 0)
    assert supervisor.handler(stopped(task, exitCode=0), context) == {
        "outcome": "recorded",
        "status": "SUCCEEDED",
        "final": "SUCCEEDED",
    }
    record = store.get(RUN)
    assert (record["status"], record.get("reason")) == ("SUCCEEDED", None)
    assert [(a["attempt"], a["classification"]) for a in record["attempts"]] == [(1, "succeeded")]
    assert len(ecs.run_task_calls()) == 1


def test_a_stop_racing_a_job_that_exited_1_with_retries_left_ends_stopped_and_is_never_rerun(
    stack, context, monkeypatch
):
    """The job's rules would re-run a failure (retries: 1); the stop came first, so the run
    ends STOPPED, saying how its task ended, and no attempt follows."""
    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    job_exits(ecs, task, 1)
    handler.handler({"action": "stop", "runId": RUN, "reason": "not needed"}, context)
    end = stopped(task, exitCode=1)
    assert supervisor.handler(end, context) == {
        "outcome": "recorded",
        "status": "STOPPED",
        "final": "STOPPED",
    }
    record = store.get(RUN)
    assert (record["status"], record["attempt"], record["reason"]) == (
        "STOPPED",
        1,
        "stopped: not needed (as Essential container in task exited)",
    )
    assert [(a["attempt"], a["classification"]) for a in record["attempts"]] == [(1, "job-failed")]
    # Neither the event retried nor a later pass sends anything.
    assert supervisor.handler(end, context) == {"outcome": "unchanged", "status": "STOPPED"}
    later(monkeypatch, 7)
    reconcile()
    assert len(ecs.run_task_calls()) == 1
    assert ecs.started() == [task["taskArn"]]


# --- a run whose job left the stack, and a final run's late news ---------------------------------


def without_the_report_job(config_file) -> None:
    """A deploy that removes the report job from the stack."""
    config = trigger_config.loads(config_file.read_text())
    kept = {name: job for name, job in config.jobs.items() if name != "report"}
    config_file.write_text(trigger_config.dumps(dataclasses.replace(config, jobs=kept)))
    handler.load_config.cache_clear()
    supervisor.load_config.cache_clear()


def test_a_run_whose_job_left_the_stack_is_supervised_to_its_end_by_its_recorded_contract(
    stack, context, monkeypatch, config_file
):
    """Accepted with a 10-minute timeout, then the job is removed: the pass still stops the
    task past the timeout the run was accepted under, and its events end it TIMED_OUT."""
    ecs, store, _ = stack
    config = trigger_config.loads(config_file.read_text())
    report = dataclasses.replace(config.jobs["report"], timeout_seconds=600)
    config_file.write_text(
        trigger_config.dumps(dataclasses.replace(config, jobs={**config.jobs, "report": report}))
    )
    handler.load_config.cache_clear()
    supervisor.load_config.cache_clear()
    task = start(ecs, context)
    without_the_report_job(config_file)
    begun = records.timestamp(records.now())
    running_event = event_for(task, lastStatus="RUNNING", version=3, startedAt=begun)
    assert supervisor.handler(running_event, context) == {
        "outcome": "recorded",
        "status": "RUNNING",
    }
    later(monkeypatch, 11)
    assert reconcile()["timedOut"] == 1
    told = ecs.tasks[task["taskArn"]]
    assert (told["stopCode"], told["stoppedReason"]) == ("UserInitiated", lifecycle.TIMEOUT_REASON)
    assert supervisor.handler(stopped(task), context) == {
        "outcome": "recorded",
        "status": "TIMED_OUT",
        "final": "TIMED_OUT",
    }
    record = store.get(RUN)
    assert (record["status"], record["reason"], record["notifyDue"]) == (
        "TIMED_OUT",
        f"attempt 1: timed-out: {lifecycle.TIMEOUT_REASON}",
        "due",
    )
    assert len(ecs.started()) == 1


def test_a_final_runs_attempt_records_its_tasks_stopped_news_and_the_run_stays_as_it_ended(
    stack, context, monkeypatch
):
    """Stopped at once (its attempt's record says nothing of a sending: as if recorded for a
    retry to send, never taken), the run is final; its task shows up running and is stopped as a
    stray, and its STOPPED event is recorded on its attempt: the run's status, reason, notice and
    expiry stay as they were."""
    ecs, store, _ = stack
    later(monkeypatch, 0)  # one clock for the stamps below
    task = start(ecs, context)
    record = store.get(RUN)
    unsent = [
        {k: v for k, v in a.items() if k not in ("sentAt", "sentBy")} for a in record["attempts"]
    ]
    assert store.update(record, {"attempts": unsent})
    later(monkeypatch, 61)
    stop = handler.handler({"action": "stop", "runId": RUN, "reason": "superseded"}, context)
    assert (stop["status"], stop["reason"]) == ("STOPPED", "stopped: superseded")
    final = store.get(RUN)
    retention = timedelta(days=PROD.run_retention_days)
    assert final["expiresAt"] == int((records.now() + retention).timestamp())
    assert supervisor.handler(running(task), context) == {
        "outcome": "stopped-stray",
        "status": "STOPPED",
    }
    assert ecs.tasks[task["taskArn"]]["stoppedReason"] == supervisor.STRAY
    later(monkeypatch, 1)
    answer = supervisor.handler(stopped(task, exitCode=143), context)
    assert answer == {"outcome": "recorded", "status": "STOPPED"}  # no "final": it was already
    now = records.now()
    assert store.get(RUN) == {
        **final,
        "attempts": [
            {
                **final["attempts"][0],
                "taskArn": task["taskArn"],
                "version": 5,
                "lastStatus": "STOPPED",
                "capacity": "spot",
                "startedAt": SAMPLE["detail"]["startedAt"],
                "exitCode": 143,
                "stopCode": "UserInitiated",
                "stoppedReason": supervisor.STRAY,
                "classification": "user-stopped",
            }
        ],
        "updatedAt": records.timestamp(now),
        "revision": final["revision"] + 1,
    }
    assert len(ecs.started()) == 1


# --- eventual consistency ------------------------------------------------------------------------


def test_a_task_not_visible_yet_is_not_taken_for_forgotten_when_its_attempt_was_sent_late(
    stack, context, monkeypatch
):
    """The trigger's RunTask was throttled; the pass sends attempt 1 once its sender is gone
    (6 minutes after it was recorded). The task's first event names it, and DescribeTasks
    does not show it yet: RunTask is eventually consistent, and AWS advises describing with
    backoff for up to five minutes (`reconcile.VISIBLE_WITHIN`). Two minutes after its
    sending the task is not forgotten: the run waits on it."""
    from simulation.ecs_api import client_error

    ecs, store, _ = stack
    ecs.now = lambda: records.now()  # ECS on the functions' clock
    ecs.visible_after = lambda: 180.0
    ecs.next_errors.append(client_error("ThrottlingException", "Rate exceeded", "RunTask"))
    with pytest.raises(Exception, match="Rate exceeded"):
        handler.handler(NIGHTLY, context)
    later(monkeypatch, 6)
    assert reconcile()["resent"] == 1
    [task_arn] = ecs.started()
    supervisor.handler(event_for(ecs.tasks[task_arn], lastStatus="PROVISIONING"), context)
    later(monkeypatch, 2)
    answer = reconcile()
    assert (answer["forgotten"], store.get(RUN)["status"]) == (0, "PENDING")


def test_a_stop_of_a_task_ecs_does_not_show_yet_is_sent_again_when_its_event_shows_it(
    stack, context, monkeypatch
):
    """StopTask refuses a task it does not know yet (InvalidParameterException): the stop is
    recorded and answered all the same, and the supervisor stops the task when its first
    event shows it running."""
    ecs, store, _ = stack
    ecs.now = lambda: records.now()  # ECS on the functions' clock
    ecs.visible_after = lambda: 60.0
    task = start(ecs, context)
    answer = handler.handler({"action": "stop", "runId": RUN, "reason": "superseded"}, context)
    assert answer == handler.view(store.get(RUN), handler.load_config(), callers.ACCOUNT)
    assert (answer["status"], answer["stopRequested"]) == ("PENDING", "superseded")
    assert ecs.tasks[task["taskArn"]]["desiredStatus"] == "RUNNING"  # StopTask did not reach it
    later(monkeypatch, 2)
    assert supervisor.handler(running(task), context) == {
        "outcome": "recorded",
        "status": "RUNNING",
    }
    told = ecs.tasks[task["taskArn"]]
    assert (told["desiredStatus"], told.get("stoppedReason")) == ("STOPPED", "superseded")
    assert len(ecs.started()) == 1


def test_a_task_ecs_forgot_before_its_end_was_seen_ends_the_run_failed_its_outcome_unknown(
    stack, context, monkeypatch
):
    """The task stopped, every event of it was lost, and no pass looked before ECS forgot it
    (an hour after it stopped): DescribeTasks answers MISSING, and nothing can tell how it
    ended."""
    ecs, store, _ = stack
    ecs.now = lambda: records.now()  # ECS on the functions' clock
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    advance(ecs, task, lastStatus="STOPPED", desiredStatus="STOPPED", stoppedAt=records.now())
    later(monkeypatch, 61)
    answer = reconcile()
    assert (answer["forgotten"], answer["errors"], answer["notified"]) == (1, 0, 1)
    record = store.get(RUN)
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    assert (record["status"], record["reason"]) == (
        "FAILED",
        f"attempt 1: ECS no longer knows task {task_id} (it forgets a task about an hour after "
        "it stops) and its end was never seen: the run's outcome is unknown",
    )
    assert len(ecs.started()) == 1


def test_a_task_ecs_forgot_after_its_stop_was_seen_ends_the_run_as_its_stop_told(
    stack, context, monkeypatch
):
    """The job exited 0 and its task's stop was seen (DEPROVISIONING: the stop code and the
    container's exit code), its STOPPED event lost, and ECS forgot the task before a pass
    looked: the end it was told is its end, SUCCEEDED."""
    ecs, store, _ = stack
    ecs.now = lambda: records.now()  # ECS on the functions' clock
    task = start(ecs, context)
    supervisor.handler(running(task), another_invocation())
    advance(
        ecs,
        task,
        lastStatus="DEPROVISIONING",
        desiredStatus="STOPPED",
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
        exitCode=0,
        version=4,
    )
    seen = event_for(
        ecs.tasks[task["taskArn"]], containers=ecs.tasks[task["taskArn"]]["containers"]
    )
    assert supervisor.handler(seen, another_invocation()) == {
        "outcome": "recorded",
        "status": "RUNNING",
    }
    advance(ecs, task, lastStatus="STOPPED", stoppedAt=records.now())
    later(monkeypatch, 61)
    answer = reconcile()
    assert (answer["forgotten"], answer["final"], answer["errors"]) == (1, 0, 0)
    record = store.get(RUN)
    assert (record["status"], record.get("reason")) == ("SUCCEEDED", None)
    [attempt] = record["attempts"]
    assert (attempt["lastStatus"], attempt["exitCode"], attempt["classification"]) == (
        "STOPPED",
        0,
        "succeeded",
    )


def test_a_task_ecs_forgot_after_its_run_was_stopped_ends_the_run_stopped(
    stack, context, monkeypatch
):
    """Stopped by its run id, the task stopped, every event of it was lost, and ECS forgot it:
    how it ended is unknown, but the run was being stopped, so it ends STOPPED, saying both."""
    ecs, store, _ = stack
    ecs.now = lambda: records.now()  # ECS on the functions' clock
    task = start(ecs, context)
    supervisor.handler(running(task), another_invocation())
    handler.handler({"action": "stop", "runId": RUN, "reason": "superseded"}, another_invocation())
    advance(ecs, task, lastStatus="STOPPED", stoppedAt=records.now())
    later(monkeypatch, 61)
    answer = reconcile()
    assert (answer["forgotten"], answer["errors"], answer["notified"]) == (1, 0, 1)
    record = store.get(RUN)
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    assert (record["status"], record["reason"]) == (
        "STOPPED",
        f"stopped: superseded (attempt 1: ECS no longer knows task {task_id} (it forgets a task "
        "about an hour after it stops) and its end was never seen: the run's outcome is unknown)",
    )


@pytest.mark.parametrize(
    "envelope",
    [{"account": "999988887777"}, {"region": "us-east-1"}, {"source": "my.app"}],
    ids=["another-account", "another-region", "another-source"],
)
def test_an_event_not_from_the_clusters_account_and_region_moves_nothing(stack, context, envelope):
    """EventBridge puts the account and region of the event's source on it: an event that names
    the stack's cluster but another account or region was not sent by ECS for it."""
    ecs, store, _ = stack
    task = start(ecs, context)
    forged = {**stopped(task, stopCode="EssentialContainerExited", exitCode=0), **envelope}
    answer = supervisor.handler(forged, another_invocation())
    assert answer == {
        "outcome": "ignored",
        "why": "not a task state change of this stack's cluster",
    }
    assert store.get(RUN)["status"] == "PENDING"
