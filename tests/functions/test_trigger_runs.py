"""Runs: recorded before they start, one task per request, a new attempt after a no-task answer.

DynamoDB is moto, with the table the program declares; ECS is the ECS model (`ecs_fixture`),
which keeps the clientToken, failures and ConflictException rules of the ECS API reference.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from dataclasses import replace
from datetime import timedelta

import boto3
import pytest
from moto import mock_aws

from functions.common import attempts, records
from functions.trigger import handler
from longjobs_contract import lifecycle, runs, start_failures, trigger_config
from simulation.ecs_api import CAPACITY_REASON, client_error
from tests.functions.conftest import PROD, another_invocation, scheduler_context
from tests.functions.ecs_fixture import EcsStandIn
from tests.functions.runs_table import create_runs_table, model_runs_table

NIGHTLY = {
    "job": "report",
    "environment": {"REPORT_DAY": "2026-11-01"},
    "idempotencyKey": "nightly-2026-11-01",
}
NIGHTLY_RUN = runs.run_id("report", "nightly-2026-11-01")
NIGHTLY_CHECKPOINTS = f"s3://longjobs-prod-checkpoints-123456789012-eu-west-1/report/{NIGHTLY_RUN}/"


@pytest.fixture
def stack(dev, config_file, monkeypatch):
    """PROD's jobs and network, the program's runs table in moto, ECS as the stand-in."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        table = create_runs_table(dynamodb, dev)
        calls: list[str] = []
        dynamodb.meta.events.register(
            "provide-client-params.dynamodb", lambda model, **_: calls.append(model.name)
        )
        yield _stack(dynamodb, table, calls, config_file, monkeypatch)


@pytest.fixture
def model_stack(dev, config_file, monkeypatch):
    """The same with the runs table in the DynamoDB model, for a run tried hundreds of times;
    the model counts no calls."""
    dynamodb, table = model_runs_table(dev)
    return _stack(dynamodb, table, [], config_file, monkeypatch)


def _stack(dynamodb, table: str, calls: list[str], config_file, monkeypatch):
    config = dataclasses.replace(PROD, runs_table=table)
    config_file.write_text(trigger_config.dumps(config))
    handler.load_config.cache_clear()
    ecs = EcsStandIn()
    ecs.on_call = calls.append
    monkeypatch.setattr(handler, "dynamodb", dynamodb)
    monkeypatch.setattr(handler, "ecs", ecs)
    return ecs, records.RunStore(dynamodb, table), calls


def at(monkeypatch, when) -> None:
    """The functions' clock reads `when`."""
    monkeypatch.setattr(records, "now", lambda: when)


def test_a_run_is_recorded_then_started_in_two_calls(stack, context, monkeypatch):
    ecs, store, calls = stack
    start = records.now().replace(microsecond=0)
    at(monkeypatch, start)
    response = handler.handler(NIGHTLY, context)
    [task] = ecs.started()
    assert response == {
        "runId": NIGHTLY_RUN,
        "job": "report",
        "status": "PENDING",
        "attempt": 1,
        "taskArn": task,
        "capacity": "spot",
        "idempotencyKey": "nightly-2026-11-01",
    }
    assert calls == ["PutItem", "RunTask"]
    [request] = ecs.run_task_calls()
    assert request["startedBy"] == NIGHTLY_RUN
    assert request["clientToken"] == runs.client_token(NIGHTLY_RUN, 1)
    assert request["overrides"]["containerOverrides"][0]["environment"] == [
        {"name": "REPORT_DAY", "value": "2026-11-01"},
        {"name": "LONGJOBS_ATTEMPT", "value": "1"},
        {"name": "LONGJOBS_CHECKPOINT_URI", "value": NIGHTLY_CHECKPOINTS},
        {"name": "LONGJOBS_RUN_ID", "value": NIGHTLY_RUN},
    ]
    record = store.get(NIGHTLY_RUN)
    assert record["status"] == "PENDING"
    assert record["request"] == {
        "environment": {"REPORT_DAY": "2026-11-01"},
        "capacity": "spot",
        "idempotencyKey": "nightly-2026-11-01",
        "source": "caller",
    }
    # Taken to send by this invocation (`sentBy`: Lambda's retry of it may send it again).
    created = records.timestamp(start)
    assert record["attempts"] == [
        {
            "attempt": 1,
            "capacity": "spot",
            "requestedAt": created,
            "sentAt": created,
            "sentBy": context.aws_request_id,
        }
    ]
    assert "expiresAt" not in record  # an open run's record never expires


def test_the_exact_request_of_a_spot_attempt(stack, context):
    ecs, _, _ = stack
    handler.handler(NIGHTLY, context)
    assert ecs.run_task_calls() == [
        {
            "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/longjobs-prod",
            "taskDefinition": (
                "arn:aws:ecs:eu-west-1:123456789012:task-definition/longjobs-prod-report:7"
            ),
            "count": 1,
            "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
                    "securityGroups": ["sg-0123456789abcdef0"],
                    "assignPublicIp": "DISABLED",
                }
            },
            "overrides": {
                "containerOverrides": [
                    {
                        "name": "report",
                        "environment": [
                            {"name": "REPORT_DAY", "value": "2026-11-01"},
                            {"name": "LONGJOBS_ATTEMPT", "value": "1"},
                            {"name": "LONGJOBS_CHECKPOINT_URI", "value": NIGHTLY_CHECKPOINTS},
                            {"name": "LONGJOBS_RUN_ID", "value": NIGHTLY_RUN},
                        ],
                    }
                ]
            },
            "startedBy": NIGHTLY_RUN,
            "tags": [
                {"key": "longjobs:job", "value": "report"},
                {"key": "longjobs:run-id", "value": NIGHTLY_RUN},
                {"key": "longjobs:idempotency-key", "value": "nightly-2026-11-01"},
            ],
            "propagateTags": "TASK_DEFINITION",
            "enableECSManagedTags": True,
            # sha256("<run id>#1"), pinned: a change would let a retry straddling a deploy of
            # the trigger start a second task.
            "clientToken": "b3d7bddb30bf6e7d4fa521ed5e930be576a57d84ef4def4cb985722748f63f74",
        }
    ]


def test_a_repeated_request_starts_nothing_new(stack, context):
    """Repeated by a caller (an invocation of its own) while its first sending may still be
    under way (within SENDER_GONE), a request is answered from the record alone: no RunTask,
    and no task until an event names it."""
    ecs, _, calls = stack
    first = handler.handler(NIGHTLY, context)
    calls.clear()
    again = handler.handler(NIGHTLY, another_invocation())
    assert calls == ["PutItem"]
    assert again == {**first, "taskArn": None, "duplicate": True}
    assert ecs.started() == [first["taskArn"]]


def test_a_repeat_sends_the_same_token_once_the_sender_is_gone(stack, context, monkeypatch):
    """One sender an attempt: a caller's repeat within SENDER_GONE of the attempt's sending
    sends nothing; the first after it takes the attempt (`sentAt`, `sentBy`, the first sending
    kept as `firstSentAt`) and sends the same token, which answers with the task it started; a
    repeat right after that sends nothing again."""
    ecs, store, calls = stack
    start = records.now().replace(microsecond=0)
    at(monkeypatch, start)
    first = handler.handler(NIGHTLY, context)
    at(monkeypatch, start + attempts.SENDER_GONE - timedelta(milliseconds=1))
    calls.clear()
    early = another_invocation()
    assert handler.handler(NIGHTLY, early) == {**first, "taskArn": None, "duplicate": True}
    assert calls == ["PutItem"]
    gone = start + attempts.SENDER_GONE
    at(monkeypatch, gone)
    calls.clear()
    repeat = another_invocation()
    assert handler.handler(NIGHTLY, repeat) == {**first, "duplicate": True}
    assert calls == ["PutItem", "UpdateItem", "RunTask"]
    assert store.get(NIGHTLY_RUN)["attempts"] == [
        {
            "attempt": 1,
            "capacity": "spot",
            "requestedAt": records.timestamp(start),
            "sentAt": records.timestamp(gone),
            "firstSentAt": records.timestamp(start),
            "sentBy": repeat.aws_request_id,
        }
    ]
    at(monkeypatch, gone + timedelta(seconds=1))
    calls.clear()
    again = handler.handler(NIGHTLY, another_invocation())
    assert again == {**first, "taskArn": None, "duplicate": True}
    assert calls == ["PutItem"]
    token = runs.client_token(NIGHTLY_RUN, 1)
    assert [c["clientToken"] for c in ecs.run_task_calls()] == [token, token]
    assert ecs.started() == [first["taskArn"]]


def test_a_repeat_after_the_token_window_is_answered_from_the_record_alone(
    stack, context, monkeypatch
):
    ecs, _, calls = stack
    first = handler.handler(NIGHTLY, context)
    later = records.now() + attempts.RESEND_WINDOW + timedelta(minutes=1)
    monkeypatch.setattr(records, "now", lambda: later)
    calls.clear()
    again = handler.handler(NIGHTLY, context)
    assert calls == ["PutItem"]  # no RunTask: ECS may have forgotten the token by now
    assert again == {**first, "taskArn": None, "duplicate": True}
    assert len(ecs.started()) == 1


def test_a_key_reused_with_another_environment_is_refused_naming_the_run(stack, context):
    ecs, _, _ = stack
    handler.handler(NIGHTLY, context)
    other = {**NIGHTLY, "environment": {"REPORT_DAY": "2026-11-02"}}
    response = handler.handler(other, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": f"idempotencyKey: 'nightly-2026-11-01' already names run {NIGHTLY_RUN} of "
        "report with another environment, command or capacity; reuse a key only to repeat the "
        "same request",
    }
    on_demand = handler.handler({**NIGHTLY, "capacity": "on-demand"}, context)
    assert on_demand["error"]["message"] == response["error"]["message"]
    assert len(ecs.started()) == 1


def test_spot_without_capacity_falls_back_to_on_demand_as_attempt_two(stack, context):
    ecs, _, calls = stack
    ecs.capacity["FARGATE_SPOT"] = False
    response = handler.handler(NIGHTLY, context)
    assert (response["attempt"], response["capacity"]) == (2, "on-demand")
    # The fallback is recorded (UpdateItem) before its own RunTask.
    assert calls == ["PutItem", "RunTask", "UpdateItem", "RunTask"]
    spot, on_demand = ecs.run_task_calls()
    assert spot["clientToken"] == runs.client_token(NIGHTLY_RUN, 1)
    assert on_demand["clientToken"] == runs.client_token(NIGHTLY_RUN, 2)
    assert on_demand["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1}]


def test_the_fallback_is_in_the_record_before_its_runtask(stack, context, monkeypatch):
    """Whatever becomes of the invocation after the on-demand RunTask, the record already
    names the task it may start: Spot's attempt 1 as having found no capacity, and the
    on-demand attempt 2 as current and taken by this sender."""
    ecs, store, _ = stack
    ecs.capacity["FARGATE_SPOT"] = False
    start = records.now().replace(microsecond=0)
    at(monkeypatch, start)
    sent = []
    run_task = ecs.run_task

    def record_then_run_task(**params):
        sent.append((params["clientToken"], store.get(NIGHTLY_RUN)))
        return run_task(**params)

    monkeypatch.setattr(ecs, "run_task", record_then_run_task)
    response = handler.handler(NIGHTLY, context)
    (spot, _), (on_demand, at_on_demand) = sent
    assert (spot, on_demand) == (
        runs.client_token(NIGHTLY_RUN, 1),
        runs.client_token(NIGHTLY_RUN, 2),
    )
    created = records.timestamp(start)
    assert (at_on_demand["status"], at_on_demand["attempt"]) == ("PENDING", 2)
    assert at_on_demand["attempts"] == [
        {
            "attempt": 1,
            "capacity": "spot",
            "requestedAt": created,
            "answeredAt": created,
            "reason": lifecycle.FALLBACK_REASON.format(attempt=2),
            "classification": "capacity",
        },
        {
            "attempt": 2,
            "capacity": "on-demand",
            "requestedAt": created,
            "sentAt": created,
            "sentBy": context.aws_request_id,
        },
    ]
    assert store.get(NIGHTLY_RUN) == at_on_demand  # nothing is written after it
    assert (response["attempt"], response["taskArn"]) == (2, ecs.started()[0])


def test_a_capacity_failure_without_an_arn_still_falls_back(stack, context):
    ecs, _, _ = stack
    ecs.next_failures.append([{"reason": CAPACITY_REASON}])  # as ECS has been seen to answer
    assert handler.handler(NIGHTLY, context)["capacity"] == "on-demand"


def test_an_on_demand_job_never_tries_spot(stack, context):
    ecs, _, _ = stack
    ecs.capacity["FARGATE"] = False
    with pytest.raises(attempts.CapacityUnavailable):
        handler.handler({"job": "import", "idempotencyKey": "i"}, context)
    [request] = ecs.run_task_calls()
    assert request["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1}]


def test_zero_tasks_without_failures_is_not_success(stack, context):
    ecs, _, _ = stack
    ecs.next_failures.append([])
    response = handler.handler(NIGHTLY, context)
    assert (response["status"], response["reason"]) == (
        "FAILED",
        "RunTask started no task and gave no reason",
    )


def test_a_retried_invocation_after_the_fallback_starts_nothing_new(stack, context):
    """The fallback started a task, and Spot has capacity again. The record names the
    on-demand attempt 2 as current, taken by the invocation that sent it: a caller's repeat
    answers from the record, and Lambda's retry of that invocation (its sender, gone) sends
    attempt 2's token alone, at once, which answers with its task. Spot's token is not sent
    again."""
    ecs, _, calls = stack
    ecs.capacity["FARGATE_SPOT"] = False
    first = handler.handler(NIGHTLY, context)
    ecs.capacity["FARGATE_SPOT"] = True
    calls.clear()
    again = handler.handler(NIGHTLY, another_invocation())
    assert calls == ["PutItem"]
    assert again == {**first, "taskArn": None, "duplicate": True}
    calls.clear()
    after = handler.handler(NIGHTLY, context)
    assert calls == ["PutItem", "UpdateItem", "RunTask"]
    assert after == {**first, "duplicate": True}
    assert [c["clientToken"] for c in ecs.run_task_calls()] == [
        runs.client_token(NIGHTLY_RUN, n) for n in (1, 2, 2)
    ]
    assert ecs.started() == [first["taskArn"]]


def test_no_capacity_anywhere_is_recorded_and_the_retry_is_a_new_attempt(stack, context):
    ecs, store, _ = stack
    ecs.capacity.update(FARGATE=False, FARGATE_SPOT=False)
    with pytest.raises(attempts.CapacityUnavailable, match="attempt 3 is recorded"):
        handler.handler(NIGHTLY, context)
    record = store.get(NIGHTLY_RUN)
    assert (record["status"], record["attempt"]) == ("PENDING", 3)
    # Spot's and on-demand's no are one entry: the last try's number and capacity, both tries.
    assert [(a["attempt"], a["capacity"], a.get("tries"), a.get("classification"))
            for a in record["attempts"]] == [
        (2, "on-demand", 2, "capacity"),
        (3, "spot", None, None),
    ]  # fmt: skip
    assert record["attempts"][0]["reason"] == CAPACITY_REASON
    # Capacity is back when Lambda retries: attempt 3 is a new request to ECS, and starts.
    ecs.capacity.update(FARGATE=True, FARGATE_SPOT=True)
    response = handler.handler(NIGHTLY, context)
    assert (response["attempt"], response["capacity"], response["status"]) == (3, "spot", "PENDING")
    assert len(ecs.started()) == 1
    assert ecs.run_task_calls()[-1]["clientToken"] == runs.client_token(NIGHTLY_RUN, 3)


def deploy_a_new_revision(config_file) -> None:
    """A deploy between two sendings: the report job's task definition is at revision 8."""
    deployed = trigger_config.loads(config_file.read_text())
    report = dataclasses.replace(
        deployed.jobs["report"],
        task_definition_arn=deployed.jobs["report"].task_definition_arn.replace(":7", ":8"),
    )
    config_file.write_text(
        trigger_config.dumps(
            dataclasses.replace(deployed, jobs={**deployed.jobs, "report": report})
        )
    )
    handler.load_config.cache_clear()


def test_a_retry_after_a_deploy_is_resolved_from_the_conflict(
    stack, context, config_file, monkeypatch
):
    """A new task definition revision between an attempt and its sending again (a caller's
    repeat, once the first sender is gone): ECS refuses the token with ConflictException and
    names the task it started, which is this attempt's."""
    ecs, _, _ = stack
    start = records.now()
    first = handler.handler(NIGHTLY, context)
    deploy_a_new_revision(config_file)
    at(monkeypatch, start + attempts.SENDER_GONE + timedelta(seconds=1))
    again = handler.handler(NIGHTLY, another_invocation())  # a caller's repeat
    assert again == {**first, "duplicate": True}
    assert ecs.calls[-1] == ("RunTask ConflictException", {})
    assert len(ecs.started()) == 1


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ({"failures": [{"arn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/x:1",
                        "reason": "MISSING"}]}, "MISSING"),
        ({"error": ("AccessDeniedException", "User is not authorized to perform ecs:RunTask")},
         "AccessDeniedException: User is not authorized to perform ecs:RunTask"),
        ({"error": ("InvalidParameterException", "No Container Instances were found in your "
                    "cluster.")},
         "InvalidParameterException: No Container Instances were found in your cluster."),
    ],
)  # fmt: skip
def test_a_start_no_attempt_can_fix_ends_the_run_failed_answered_not_raised(
    stack, context, failure, reason
):
    ecs, store, _ = stack
    if "failures" in failure:
        ecs.next_failures.append(failure["failures"])
    else:
        ecs.next_errors.append(client_error(*failure["error"], "RunTask"))
    response = handler.handler(NIGHTLY, context)
    assert (response["status"], response["reason"], response["taskArn"]) == ("FAILED", reason, None)
    record = store.get(NIGHTLY_RUN)
    assert (record["status"], record["reason"]) == ("FAILED", reason)
    # Final: a repeat answers it and sends nothing.
    calls_before = len(ecs.calls)
    assert handler.handler(NIGHTLY, context) == {**response, "duplicate": True}
    assert len(ecs.calls) == calls_before


THROTTLED = {
    "ThrottlingException": "Rate exceeded",
    # dagster-io/dagster#33439: throttling of the EC2 call RunTask makes, under another code.
    "InvalidParameterException": (
        "Error retrieving subnet information for [subnet-0123456789abcdef0]: Rate exceeded "
        "(Service: Ec2, Status Code: 400, Request ID: 0) (ErrorCode: Throttling)"
    ),
}


@pytest.mark.parametrize("code", THROTTLED)
def test_throttling_is_raised_and_lambdas_retry_sends_the_same_attempt_at_once(
    stack, context, code, monkeypatch
):
    """The throttled invocation took attempt 1 (`sentAt`, `sentBy` its request id) and raised;
    Lambda's retry of it, the same request id a moment later, is that sender, gone: it sends
    attempt 1's token again at once, which starts its task."""
    ecs, store, calls = stack
    start = records.now().replace(microsecond=0)
    at(monkeypatch, start)
    ecs.next_errors.append(client_error(code, THROTTLED[code], "RunTask"))
    with pytest.raises(Exception, match="Rate exceeded"):
        handler.handler(NIGHTLY, context)
    assert ecs.started() == []
    retried = start + timedelta(seconds=1)
    at(monkeypatch, retried)
    calls.clear()
    response = handler.handler(NIGHTLY, context)
    assert calls == ["PutItem", "UpdateItem", "RunTask"]
    assert (response["attempt"], response["taskArn"]) == (1, ecs.started()[0])
    assert store.get(NIGHTLY_RUN)["attempts"] == [
        {
            "attempt": 1,
            "capacity": "spot",
            "requestedAt": records.timestamp(start),
            "sentAt": records.timestamp(retried),
            "firstSentAt": records.timestamp(start),
            "sentBy": context.aws_request_id,
        }
    ]
    assert [c["clientToken"] for c in ecs.run_task_calls()] == [
        runs.client_token(NIGHTLY_RUN, 1)
    ] * 2


def test_after_throttling_another_invocation_sends_the_attempt_only_once_its_sender_is_gone(
    stack, context, monkeypatch
):
    """The throttled invocation took attempt 1 and raised; an invocation of its own (a
    caller's repeat) is not its sender: it answers from the record until SENDER_GONE after
    the sending, and sends attempt 1's token after it."""
    ecs, store, calls = stack
    start = records.now().replace(microsecond=0)
    at(monkeypatch, start)
    ecs.next_errors.append(client_error("ThrottlingException", "Rate exceeded", "RunTask"))
    with pytest.raises(Exception, match="Rate exceeded"):
        handler.handler(NIGHTLY, context)
    at(monkeypatch, start + attempts.SENDER_GONE - timedelta(milliseconds=1))
    calls.clear()
    early = handler.handler(NIGHTLY, another_invocation())
    assert (early["attempt"], early["taskArn"], calls) == (1, None, ["PutItem"])
    at(monkeypatch, start + attempts.SENDER_GONE)
    calls.clear()
    repeat = another_invocation()
    response = handler.handler(NIGHTLY, repeat)
    assert calls == ["PutItem", "UpdateItem", "RunTask"]
    assert (response["attempt"], response["taskArn"]) == (1, ecs.started()[0])
    assert records.current_attempt(store.get(NIGHTLY_RUN))["sentBy"] == repeat.aws_request_id
    assert [c["clientToken"] for c in ecs.run_task_calls()] == [
        runs.client_token(NIGHTLY_RUN, 1)
    ] * 2


def test_status_answers_from_the_record(stack, context):
    handler.handler(NIGHTLY, context)
    status = handler.handler({"action": "status", "runId": NIGHTLY_RUN}, context)
    assert (status["runId"], status["job"], status["status"], status["attempt"]) == (
        NIGHTLY_RUN,
        "report",
        "PENDING",
        1,
    )
    assert status["request"]["idempotencyKey"] == "nightly-2026-11-01"
    assert set(status) == {
        "runId", "job", "status", "attempt", "attempts", "request", "createdAt", "updatedAt",
        "caller",
    }  # fmt: skip
    assert status["caller"] == "account"


def test_status_of_an_unknown_or_malformed_run(stack, context):
    unknown = handler.handler({"action": "status", "runId": "0" * 32}, context)
    assert unknown["error"]["type"] == "NotFound"
    bad = handler.handler({"action": "status", "runId": "nope"}, context)
    assert bad["error"] == {
        "type": "ValidationError",
        "message": "runId: 'nope' is not a run id (32 hex characters)",
    }


def test_list_answers_newest_first_a_page_at_a_time(stack, context, monkeypatch):
    start = records.now()
    for day in range(5):
        monkeypatch.setattr(records, "now", lambda day=day: start + timedelta(minutes=day))
        job = "report" if day % 2 == 0 else "import"
        event = {"job": job, "idempotencyKey": f"day-{day}"}
        handler.handler(event, context)
    everything = handler.handler({"action": "list"}, context)
    assert [r["request"]["idempotencyKey"] for r in everything["runs"]] == [
        "day-4", "day-3", "day-2", "day-1", "day-0",
    ]  # fmt: skip
    assert everything["nextToken"] is None
    first = handler.handler({"action": "list", "job": "report", "limit": 2}, context)
    assert [r["request"]["idempotencyKey"] for r in first["runs"]] == ["day-4", "day-2"]
    rest = handler.handler(
        {"action": "list", "job": "report", "limit": 2, "nextToken": first["nextToken"]}, context
    )
    assert [r["request"]["idempotencyKey"] for r in rest["runs"]] == ["day-0"]
    pending = handler.handler({"action": "list", "status": "PENDING", "limit": 1}, context)
    assert [r["request"]["idempotencyKey"] for r in pending["runs"]] == ["day-4"]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"job": "nope"}, "job: 'nope' is not a job of this stack; allowed: import, report"),
        ({"status": "DONE"}, "status: 'DONE' is not allowed; allowed: PENDING, RUNNING, "
         "SUCCEEDED, FAILED, TIMED_OUT, STOPPED"),
        ({"limit": 0}, "limit: 0 is not allowed; allowed: 1 to 100"),
        ({"limit": True}, "limit: True is not allowed; allowed: 1 to 100"),
        ({"nextToken": "garbage!"}, "nextToken: 'garbage!' is not a nextToken this trigger gave"),
        ({"nextToken": "e30="}, "nextToken: 'e30=' was given for another job or status filter"),
    ],
)  # fmt: skip
def test_list_refuses_bad_filters(stack, context, event, message):
    response = handler.handler({"action": "list", **event}, context)
    if message is None:
        assert "runs" in response
    else:
        assert response["error"] == {"type": "ValidationError", "message": message}


def test_the_record_holds_what_the_contract_names(stack, context):
    _, store, _ = stack
    handler.handler(NIGHTLY, context)
    record = store.get(NIGHTLY_RUN)
    assert set(record) == {
        runs.Record.RUN_ID, runs.Record.JOB, runs.Record.STATUS, runs.Record.REQUEST,
        runs.Record.ATTEMPT, runs.Record.ATTEMPTS, runs.Record.CREATED_AT,
        runs.Record.UPDATED_AT, runs.Record.LIST_KEY, runs.Record.REVISION,
        runs.Record.JOB_CONTRACT, runs.Record.SENDINGS, runs.Record.CALLER,
    }  # fmt: skip
    assert json.loads(json.dumps(record)) == record
    # The contract it was accepted under, whole: it supervises the run if its job leaves.
    config = handler.load_config()
    assert records.job_of(record, replace(config, jobs={})) == config.jobs["report"]


def test_a_run_that_finds_no_capacity_for_its_wait_ends_failed(stack, context, monkeypatch):
    ecs, store, _ = stack
    ecs.capacity.update(FARGATE=False, FARGATE_SPOT=False)
    with pytest.raises(attempts.CapacityUnavailable):
        handler.handler(NIGHTLY, context)
    start = records.now()
    for minutes in (5, 10):  # Lambda's retries, and a caller's, within the wait
        monkeypatch.setattr(
            records, "now", lambda minutes=minutes: start + timedelta(minutes=minutes)
        )
        with pytest.raises(attempts.CapacityUnavailable):
            handler.handler(NIGHTLY, context)
    monkeypatch.setattr(records, "now", lambda: start + timedelta(minutes=16))
    response = handler.handler(NIGHTLY, context)
    assert response["status"] == "FAILED"
    assert response["reason"].startswith("no Fargate capacity for 16 minutes")
    assert store.get(NIGHTLY_RUN)["notifyDue"] == "due"
    assert ecs.started() == []


def test_a_next_token_of_another_filter_is_refused(stack, context):
    for day in range(3):
        handler.handler({"job": "report", "idempotencyKey": f"day-{day}"}, context)
    first = handler.handler({"action": "list", "job": "report", "limit": 1}, context)
    other = handler.handler(
        {"action": "list", "status": "PENDING", "limit": 1, "nextToken": first["nextToken"]},
        context,
    )
    assert other["error"]["type"] == "ValidationError"
    assert other["error"]["message"].endswith("was given for another job or status filter")


def test_a_retry_after_a_deploy_of_a_run_that_fell_back_finds_its_task(
    stack, context, config_file, monkeypatch
):
    """Spot was full, the on-demand fallback started; a deploy; the request again once the
    fallback's sender is gone: the record names the fallback as current, and its token
    answers ConflictException naming its task."""
    ecs, _, _ = stack
    ecs.capacity["FARGATE_SPOT"] = False
    start = records.now()
    first = handler.handler(NIGHTLY, context)
    deploy_a_new_revision(config_file)
    at(monkeypatch, start + attempts.SENDER_GONE + timedelta(seconds=1))
    again = handler.handler(NIGHTLY, another_invocation())  # a caller's repeat
    assert again == {**first, "duplicate": True}
    assert ecs.run_task_calls()[-1]["clientToken"] == runs.client_token(NIGHTLY_RUN, 2)
    assert ecs.calls[-1] == ("RunTask ConflictException", {})
    assert len(ecs.started()) == 1


def test_tries_without_capacity_are_one_attempt_entry_and_the_record_stays_small(
    model_stack, context, monkeypatch, config_file
):
    """A run that keeps finding no capacity for a day (maxWaitForCapacity at its maximum) is
    tried on every retry: its record holds one entry for all those tries, not two a try, so it
    stays far from DynamoDB's 400 KB an item."""
    ecs, store, _ = model_stack
    config = trigger_config.loads(config_file.read_text())
    report = dataclasses.replace(config.jobs["report"], max_wait_for_capacity_seconds=24 * 3600)
    config_file.write_text(
        trigger_config.dumps(dataclasses.replace(config, jobs={**config.jobs, "report": report}))
    )
    handler.load_config.cache_clear()
    ecs.capacity.update(FARGATE=False, FARGATE_SPOT=False)
    start = records.now()
    sizes = []
    for minute in range(0, 24 * 60, 3):  # a try every 3 minutes, as the pass makes them
        monkeypatch.setattr(records, "now", lambda minute=minute: start + timedelta(minutes=minute))
        with pytest.raises(attempts.CapacityUnavailable):
            handler.handler(NIGHTLY, context)
        sizes.append(len(json.dumps(store.get(NIGHTLY_RUN))))
    record = store.get(NIGHTLY_RUN)
    tries = 2 * 24 * 60 // 3
    assert record["attempt"] == tries + 1
    last = records.timestamp(start + timedelta(minutes=24 * 60 - 3))
    assert record["attempts"] == [
        {
            "attempt": tries,
            "firstAttempt": 1,
            "tries": tries,
            "capacity": "on-demand",
            "requestedAt": records.timestamp(start),
            "answeredAt": records.timestamp(start),
            "lastRequestedAt": last,
            "reason": CAPACITY_REASON,
            "classification": "capacity",
        },
        {"attempt": tries + 1, "capacity": "spot", "requestedAt": last},
    ]
    assert max(sizes) - sizes[1] < 20  # only the numbers grow
    status = handler.handler({"action": "status", "runId": NIGHTLY_RUN}, context)
    assert status["attempts"] == record["attempts"]


def test_a_capacity_failure_after_an_attempt_that_ran_is_an_entry_of_its_own(stack, context):
    ecs, store, _ = stack
    handler.handler(NIGHTLY, context)
    record = store.get(NIGHTLY_RUN)
    when = record["createdAt"]
    # Attempt 1 found no Spot capacity; attempt 2 ran and was interrupted; 3 is to be sent.
    entries = [
        {"attempt": 1, "capacity": "spot", "requestedAt": when, "reason": CAPACITY_REASON,
         "classification": "capacity"},
        {"attempt": 2, "capacity": "on-demand", "requestedAt": when,
         "taskArn": ecs.started()[0], "classification": "interrupted"},
        {"attempt": 3, "capacity": "spot", "requestedAt": when},
    ]  # fmt: skip
    store.update(record, {"attempt": 3, "attempts": entries})
    ecs.capacity.update(FARGATE=False, FARGATE_SPOT=False)
    with pytest.raises(attempts.CapacityUnavailable):
        handler.handler(NIGHTLY, context)
    record = store.get(NIGHTLY_RUN)
    assert [
        (a["attempt"], a.get("tries"), a.get("classification")) for a in record["attempts"]
    ] == [
        (1, None, "capacity"),
        (2, None, "interrupted"),
        (4, 2, "capacity"),
        (5, None, None),
    ]


def test_attempt_numbers_stop_at_the_bound_the_overrides_are_counted_with(stack, context):
    """LONGJOBS_ATTEMPT is counted at runs.MAX_ATTEMPT when a request's overrides are checked:
    no attempt past it is ever sent; a run that gets there ends FAILED, saying so."""
    ecs, store, _ = stack
    ecs.capacity.update(FARGATE=False, FARGATE_SPOT=False)
    with pytest.raises(attempts.CapacityUnavailable):
        handler.handler(NIGHTLY, context)
    record = store.get(NIGHTLY_RUN)
    last = runs.MAX_ATTEMPT - 1
    merged = {**record["attempts"][0], "attempt": last - 1, "tries": last - 1}
    pending = {"attempt": last, "capacity": "spot", "requestedAt": record["createdAt"]}
    store.update(record, {"attempt": last, "attempts": [merged, pending]})
    response = handler.handler(NIGHTLY, context)
    assert response["status"] == "FAILED"
    assert response["reason"].startswith(f"no attempt after attempt {runs.MAX_ATTEMPT}")
    tokens = [call["clientToken"] for call in ecs.run_task_calls()]
    assert tokens[-2:] == [runs.client_token(NIGHTLY_RUN, n) for n in (last, runs.MAX_ATTEMPT)]
    assert store.get(NIGHTLY_RUN)["attempts"][-1]["attempt"] == runs.MAX_ATTEMPT


FIRING = {
    "job": "report",
    "environment": {},
    "idempotencyKey": "schedule:report/nightly:2026-11-02T02:00:00Z",
}


def test_a_caller_cannot_send_a_schedules_key_and_take_its_firing(stack, context):
    ecs, store, _ = stack
    response = handler.handler(FIRING, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": "idempotencyKey: 'schedule:report/nightly:2026-11-02T02:00:00Z' has the form "
        "of a schedule's firing; a caller's key may not start with 'schedule:'",
    }
    assert ecs.started() == []
    # The firing itself, through the schedules' alias, then starts its run as the schedule's.
    fired = handler.handler(FIRING, scheduler_context())
    assert fired["status"] == "PENDING" and not fired.get("duplicate")
    assert store.get(fired["runId"])["request"]["source"] == "schedule report.nightly"


def test_the_schedules_alias_takes_schedule_firings_only(stack, context):
    ecs, _, _ = stack
    response = handler.handler(NIGHTLY, scheduler_context())
    assert response["error"] == {
        "type": "ValidationError",
        "message": "idempotencyKey: 'nightly-2026-11-01' is not a schedule's firing, and only "
        "schedules invoke the trigger's 'schedules' alias",
    }
    assert ecs.started() == []


def test_a_record_from_before_sendings_were_recorded_counts_its_attempt_as_sent(stack, context):
    """A run recorded by an earlier version (no `sendingsRecorded`, no `sentAt`): its attempt was
    sent as it was recorded, so a stop records itself and leaves the task to the supervisor
    rather than ending the run at once, and no repeat within SENDER_GONE sends it again."""
    ecs, store, _ = stack
    handler.handler(NIGHTLY, context)
    record = store.get(NIGHTLY_RUN)
    legacy = [
        {k: v for k, v in a.items() if k not in ("sentAt", "sentBy")} for a in record["attempts"]
    ]
    store.client.update_item(
        TableName=store.table,
        Key={"runId": {"S": NIGHTLY_RUN}},
        UpdateExpression="REMOVE sendingsRecorded",
    )
    assert store.update(store.get(NIGHTLY_RUN), {"attempts": legacy})
    assert attempts.sent_at(store.get(NIGHTLY_RUN), legacy[0]) == legacy[0]["requestedAt"]
    sent = len(ecs.run_task_calls())
    assert handler.handler(NIGHTLY, another_invocation())["duplicate"] is True
    assert len(ecs.run_task_calls()) == sent
    answer = handler.handler({"action": "stop", "runId": NIGHTLY_RUN}, context)
    assert answer["status"] != "STOPPED" and "stopRequested" in answer


@pytest.mark.parametrize("replayed, status", [(False, "FAILED"), (True, "PENDING")])
def test_a_replayed_capacity_failure_does_not_end_the_wait_for_capacity(
    stack, context, monkeypatch, replayed, status
):
    """Past `maxWaitForCapacity` from the first "no capacity", a fresh one ends the run FAILED;
    the same answer to a token sent again may be its first answer replayed (ECS_Idempotency),
    which says nothing of the capacity now: the run goes on with its next attempt, a new
    token."""
    _, store, _ = stack
    start = records.now()
    handler.handler(NIGHTLY, context)
    reason = "Capacity is unavailable at this time. Please try again later"
    rules = handler.load_config().jobs["report"]
    for minutes, number, replay in ((0, 1, False), (20, 2, replayed)):
        monkeypatch.setattr(records, "now", lambda m=minutes: start + timedelta(minutes=m))
        no_capacity = attempts.NotStarted(start_failures.CAPACITY, reason)
        tried = [(attempts.Attempt(number, "spot"), no_capacity)]
        with contextlib.suppress(attempts.CapacityUnavailable):
            attempts.record_no_start(
                store, store.get(NIGHTLY_RUN), tried, rules=rules, replayed=replay
            )
    assert store.get(NIGHTLY_RUN)["status"] == status


def test_the_wait_for_capacity_counts_from_the_first_no_capacity_answer(
    stack, context, monkeypatch
):
    """An attempt whose sending was throttled for 20 minutes (its sender gone, sent again) and
    then found no capacity has waited for capacity from that answer on, not from its request."""
    _, store, _ = stack
    start = records.now()
    handler.handler(NIGHTLY, context)
    monkeypatch.setattr(records, "now", lambda: start + timedelta(minutes=20))
    reason = "Capacity is unavailable at this time. Please try again later"
    tried = [(attempts.Attempt(1, "spot"), attempts.NotStarted(start_failures.CAPACITY, reason))]
    rules = handler.load_config().jobs["report"]
    assert rules.max_wait_for_capacity_seconds < 20 * 60
    with pytest.raises(attempts.CapacityUnavailable):
        attempts.record_no_start(store, store.get(NIGHTLY_RUN), tried, rules=rules)
    record = store.get(NIGHTLY_RUN)
    assert (record["status"], record["attempt"]) == ("PENDING", 2)
    assert record["attempts"][0]["answeredAt"] == records.timestamp(records.now())
