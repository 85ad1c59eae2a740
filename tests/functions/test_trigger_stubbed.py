"""With the botocore Stubber: status and stop of a task by its ARN, and the shape and budget of
the handler's requests. Every request is checked against botocore's model of the operation.
Runs themselves (records, attempts, tokens, failures) are in test_trigger_runs.py.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from functions.common import attempts, records
from functions.trigger import handler
from longjobs_contract import run_event, runs
from tests.functions.conftest import PROD

RUN_ID = "0123456789abcdef0123456789abcdef"
TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/longjobs-prod/0123456789abcdef0123456789abcdef"


@dataclass
class Stubbed:
    stubber: Stubber
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(operation, params) of every call the handler made, in order."""

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.calls]


@pytest.fixture
def stubbed(prod_config, monkeypatch):
    client = boto3.client(
        "ecs",
        region_name="eu-west-1",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    stubbed = Stubbed(Stubber(client))

    def record(params, model, **_):
        # botocore's own model, offline: shapes, types, required members, unknown keys.
        validate_parameters(params, model.input_shape)
        stubbed.calls.append((model.name, json.loads(json.dumps(params))))

    client.meta.events.register("provide-client-params.ecs", record)
    monkeypatch.setattr(handler, "ecs", client)
    with stubbed.stubber:
        yield stubbed
        stubbed.stubber.assert_no_pending_responses()


def test_the_module_client_retries_with_backoff_before_raising():
    config = handler.ecs.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}


def test_every_aws_call_with_its_retries_ends_inside_the_function_timeout():
    from components.trigger import TIMEOUT_SECONDS

    config = handler.ecs.meta.config
    attempts = config.retries["total_max_attempts"]
    # botocore's standard mode (botocore/retries/standard.py, ExponentialBackoff) sleeps
    # rand * min(2 ** i, 20) s before retry i (1 s base for throttling), plus up to 5 s more
    # when the service sends x-amz-retry-after.
    sleeps = sum(min(2 ** (i - 1), 20) + 5 for i in range(1, attempts))
    worst = attempts * (config.connect_timeout + config.read_timeout) + sleeps
    assert (attempts, worst) == (2, 20)
    assert handler.FUNCTION_TIMEOUT_SECONDS == TIMEOUT_SECONDS
    # At most five calls on a run's path: PutItem, RunTask, RunTask on-demand, UpdateItem, GetItem.
    assert 5 * worst < TIMEOUT_SECONDS


def record_of(config, event: dict) -> dict:
    request = run_event.parse_run(event, config.jobs, "r")
    run_id = runs.run_id(request.job, request.idempotency_key)
    return records.new_record(run_id, request, records.now())


def test_started_by_and_tags_fit_ecs_limits(prod_config):
    long_job = "j" + "a" * 31  # the longest job name the config allows
    config = dataclasses.replace(PROD, jobs={long_job: PROD.jobs["report"]})
    record = record_of(config, {"job": long_job, "idempotencyKey": "k" * 128})
    params = attempts.run_task_request(config, record, attempts.Attempt(99, "spot"))
    # startedBy: at most 36 letters, digits, - / _ (StartTask's documented limit).
    assert params["startedBy"] == record["runId"] and len(params["startedBy"]) <= 36
    assert all(len(tag["value"]) <= 256 for tag in params["tags"])
    assert len(params["clientToken"]) <= 64


def test_no_security_groups_lets_ecs_use_the_vpc_default(prod_config):
    config = dataclasses.replace(PROD, security_group_ids=())
    record = record_of(config, {"job": "report"})
    network = attempts.run_task_request(config, record, attempts.Attempt(1, "spot"))[
        "networkConfiguration"
    ]
    assert network == {
        "awsvpcConfiguration": {
            "subnets": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
            "assignPublicIp": "DISABLED",
        }
    }


def test_status_reports_the_job_container_and_iso_times(stubbed, context):
    started_at = datetime(2026, 11, 1, 2, 30, 5, tzinfo=UTC)
    stopped_at = datetime(2026, 11, 1, 3, 12, 40, tzinfo=UTC)
    task = {
        "taskArn": TASK_ARN,
        "taskDefinitionArn": PROD.jobs["report"].task_definition_arn,
        "startedBy": RUN_ID,
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "capacityProviderName": "FARGATE_SPOT",
        "stopCode": "SpotInterruption",
        "stoppedReason": "Your Spot Task was interrupted.",
        "startedAt": started_at,
        "stoppedAt": stopped_at,
        "containers": [
            {"name": "log-router", "exitCode": 0},  # a sidecar must not hide the job's result
            {"name": "report", "exitCode": 143},
        ],
    }
    stubbed.stubber.add_response(
        "describe_tasks",
        {"tasks": [task], "failures": []},
        {"cluster": PROD.cluster_arn, "tasks": [TASK_ARN]},
    )
    assert handler.handler({"action": "status", "taskArn": TASK_ARN}, context) == {
        "job": "report",
        "taskArn": TASK_ARN,
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "capacity": "spot",
        "exitCode": 143,
        "stopCode": "SpotInterruption",
        "stoppedReason": "Your Spot Task was interrupted.",
        "startedAt": "2026-11-01T02:30:05+00:00",
        "stoppedAt": "2026-11-01T03:12:40+00:00",
    }
    assert stubbed.operations() == ["DescribeTasks"]


def test_a_task_ecs_forgot_is_not_found_and_nothing_is_stopped(stubbed, context):
    forgotten = {"tasks": [], "failures": [{"arn": TASK_ARN, "reason": "MISSING"}]}
    stubbed.stubber.add_response("describe_tasks", forgotten)
    stubbed.stubber.add_response("describe_tasks", forgotten)
    for event in (
        {"action": "status", "taskArn": TASK_ARN},
        {"action": "stop", "taskArn": TASK_ARN, "reason": "superseded"},
    ):
        response = handler.handler(event, context)
        assert response["error"]["type"] == "NotFound"
        assert TASK_ARN in response["error"]["message"]
    assert stubbed.operations() == ["DescribeTasks", "DescribeTasks"]


@pytest.mark.parametrize("action", ["status", "stop"])
def test_a_task_its_service_started_is_neither_described_nor_stopped(stubbed, context, action):
    # A service's tasks carry the stack's tag (propagated from the task definition) but were
    # not started by RunTask for a run: ECS sets their startedBy to "ecs-svc/<deployment>".
    task = {
        "taskArn": TASK_ARN,
        "taskDefinitionArn": PROD.jobs["import"].task_definition_arn,
        "startedBy": "ecs-svc/1234567890123456789",
        "group": "service:import",
    }
    stubbed.stubber.add_response("describe_tasks", {"tasks": [task]})
    response = handler.handler({"action": action, "taskArn": TASK_ARN}, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": f"taskArn: {TASK_ARN} is not a task of a run (its job's service started it, "
        "and only the service stops its tasks)",
    }
    assert stubbed.operations() == ["DescribeTasks"]


@pytest.mark.parametrize("action", ["status", "stop"])
def test_a_task_iam_will_not_let_it_describe_is_refused_and_nothing_is_stopped(
    stubbed, context, action
):
    # The role's DescribeTasks and StopTask are conditioned on the task's tags (this stack's,
    # and a run id): any other task of the cluster is an AccessDeniedException.
    stubbed.stubber.add_client_error(
        "describe_tasks", "AccessDeniedException", "not authorized to perform: ecs:DescribeTasks"
    )
    response = handler.handler({"action": action, "taskArn": TASK_ARN}, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": f"taskArn: {TASK_ARN} is not a task of a run (a task its job's service "
        "started), or ECS no longer knows it",
    }
    assert stubbed.operations() == ["DescribeTasks"]


def test_stop_checks_the_task_before_stopping_it(stubbed, context):
    task = {
        "taskArn": TASK_ARN,
        "taskDefinitionArn": PROD.jobs["import"].task_definition_arn,
        "startedBy": RUN_ID,
    }
    stubbed.stubber.add_response("describe_tasks", {"tasks": [task]})
    stubbed.stubber.add_response(
        "stop_task",
        {"task": {**task, "lastStatus": "RUNNING", "desiredStatus": "STOPPED"}},
        {"cluster": PROD.cluster_arn, "task": TASK_ARN, "reason": "superseded"},
    )
    response = handler.handler(
        {"action": "stop", "taskArn": TASK_ARN, "reason": "superseded"}, context
    )
    assert response == {
        "job": "import",
        "taskArn": TASK_ARN,
        "lastStatus": "RUNNING",
        "desiredStatus": "STOPPED",
    }
    assert stubbed.operations() == ["DescribeTasks", "StopTask"]


@pytest.mark.parametrize("job", ["hello-world", "report"])
def test_a_runs_task_carries_the_tags_its_describe_and_stop_are_conditioned_on(
    dev, dev_trigger_config, job
):
    """What `aws:ResourceTag` reads on a task: RunTask's `tags` and, with propagateTags
    TASK_DEFINITION, the task definition's. A run's task must hold the stack's tag and a run id
    (the trigger's and the supervisor's DescribeTasks and StopTask conditions); a task the job's
    service starts gets the task definition's alone, and no run id."""
    [statement] = [
        s
        for s in json.loads(dev.one("aws:iam/rolePolicy:RolePolicy", "trigger-policy").inputs["policy"])["Statement"]
        if s["Sid"] == "InspectAndStopRuns"
    ]  # fmt: skip
    definition = dev.one("aws:ecs/taskDefinition:TaskDefinition", f"{job}-task").inputs["tags"]
    record = record_of(dev_trigger_config, {"job": job, "idempotencyKey": "k"})
    params = attempts.run_task_request(dev_trigger_config, record, attempts.Attempt(1, "spot"))
    assert params["propagateTags"] == "TASK_DEFINITION"
    run_task = {**definition, **{t["key"]: t["value"] for t in params["tags"]}}

    def allowed(tags: dict[str, str]) -> bool:
        ((key, value),) = statement["Condition"]["StringEquals"].items()
        ((null_key, must_be_null),) = statement["Condition"]["Null"].items()
        present = null_key.removeprefix("aws:ResourceTag/") in tags
        return tags.get(key.removeprefix("aws:ResourceTag/")) == value and present == (
            must_be_null == "false"
        )

    assert allowed(run_task)
    assert not allowed(dict(definition))
