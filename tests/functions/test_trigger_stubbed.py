"""What moto does not model, with the botocore Stubber: failures with HTTP 200, the Spot
fallback, the clientToken, throttling. The expected requests are written out by hand for a
hand-written stack (PROD), and every request the handler sends is checked against botocore's model.
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
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

import handler
from longjobs_contract import run_event
from tests.functions.conftest import PROD

TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/longjobs-prod/0123456789abcdef0123456789abcdef"
SPOT_FULL = {
    "arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/longjobs-prod",
    "reason": "Capacity is unavailable at this time. Please try again later or in a different "
    "availability zone",
}
SPOT_FULL_NO_ARN = {"reason": SPOT_FULL["reason"]}  # as ECS has been seen to answer too
STARTED = {"tasks": [{"taskArn": TASK_ARN}], "failures": []}
# sha256("<cluster ARN>\n<job>\n<key>"), pinned: a change would let a retry straddling a deploy
# start a second task.
NIGHTLY_TOKEN = "ba44f618187066c657655f0b4a18e5eb191f9645226f183d92685d17162e3791"
NIGHTLY_FALLBACK_TOKEN = "ba44f618187066c657655f0b4a18e5eb191f9645226f183d92685d-on-demand"


def spot_request(**changes: Any) -> dict[str, Any]:
    """The exact RunTask request for {"job": "report", "idempotencyKey": "nightly-2026-11-01"}."""
    request = {
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
                {"name": "report", "environment": [{"name": "REPORT_DAY", "value": "2026-11-01"}]}
            ]
        },
        "startedBy": "longjobs/report",
        "tags": [
            {"key": "longjobs:job", "value": "report"},
            {"key": "longjobs:idempotency-key", "value": "nightly-2026-11-01"},
        ],
        "propagateTags": "TASK_DEFINITION",
        "enableECSManagedTags": True,
        "clientToken": NIGHTLY_TOKEN,
    }
    request.update(changes)
    return request


NIGHTLY = {
    "job": "report",
    "environment": {"REPORT_DAY": "2026-11-01"},
    "idempotencyKey": "nightly-2026-11-01",
}
ON_DEMAND = {
    "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
    "clientToken": NIGHTLY_FALLBACK_TOKEN,
}


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


def test_a_spot_run_sends_exactly_one_request(stubbed, context, capsys):
    stubbed.stubber.add_response("run_task", STARTED, spot_request())
    response = handler.handler(NIGHTLY, context)
    assert response == {
        "job": "report",
        "taskArn": TASK_ARN,
        "capacity": "spot",
        "idempotencyKey": "nightly-2026-11-01",
    }
    assert stubbed.operations() == ["RunTask"]
    assert json.loads(capsys.readouterr().out) == {
        "action": "run",
        "capacity": "spot",
        "idempotencyKey": "nightly-2026-11-01",
        "job": "report",
        "outcome": "started",
        "requestId": context.aws_request_id,
        "taskArn": TASK_ARN,
    }


def test_spot_without_capacity_falls_back_to_on_demand_once(stubbed, context, capsys):
    stubbed.stubber.add_response("run_task", {"tasks": [], "failures": [SPOT_FULL]}, spot_request())
    stubbed.stubber.add_response("run_task", STARTED, spot_request(**ON_DEMAND))
    response = handler.handler(NIGHTLY, context)
    assert response["capacity"] == "on-demand"
    assert response["taskArn"] == TASK_ARN
    assert stubbed.operations() == ["RunTask", "RunTask"]
    assert [params for _, params in stubbed.calls] == [spot_request(), spot_request(**ON_DEMAND)]
    log = json.loads(capsys.readouterr().out)
    assert (log["outcome"], log["capacity"]) == ("fallback", "on-demand")


def test_no_capacity_anywhere_is_raised_for_a_retry(stubbed, context):
    stubbed.stubber.add_response("run_task", {"failures": [SPOT_FULL]}, spot_request())
    stubbed.stubber.add_response("run_task", {"failures": [SPOT_FULL]}, spot_request(**ON_DEMAND))
    with pytest.raises(handler.CapacityUnavailable, match="Capacity is unavailable") as raised:
        handler.handler(NIGHTLY, context)
    assert SPOT_FULL["arn"] in str(raised.value)
    assert stubbed.operations() == ["RunTask", "RunTask"]


def test_a_capacity_failure_without_an_arn_still_falls_back(stubbed, context):
    stubbed.stubber.add_response("run_task", {"failures": [SPOT_FULL_NO_ARN]}, spot_request())
    stubbed.stubber.add_response(
        "run_task", {"failures": [SPOT_FULL_NO_ARN]}, spot_request(**ON_DEMAND)
    )
    with pytest.raises(handler.CapacityUnavailable, match=r"zone \(no ARN\)"):
        handler.handler(NIGHTLY, context)
    assert stubbed.operations() == ["RunTask", "RunTask"]


def test_an_on_demand_run_never_tries_spot(stubbed, context):
    on_demand = spot_request(capacityProviderStrategy=ON_DEMAND["capacityProviderStrategy"])
    stubbed.stubber.add_response("run_task", {"failures": [SPOT_FULL]}, on_demand)
    with pytest.raises(handler.CapacityUnavailable):
        handler.handler({**NIGHTLY, "capacity": "on-demand"}, context)
    assert stubbed.operations() == ["RunTask"]
    [(_, params)] = stubbed.calls
    # An on-demand request keeps the key's own token: the same key always names the same run.
    assert params["clientToken"] == NIGHTLY_TOKEN


def test_an_on_demand_job_runs_on_fargate(stubbed, context):
    stubbed.stubber.add_response("run_task", STARTED)
    handler.handler({"job": "import"}, context)
    [(_, params)] = stubbed.calls
    assert params["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1}]
    assert params["overrides"] == {"containerOverrides": [{"name": "importer"}]}
    assert "launchType" not in params


def test_other_failures_with_http_200_are_raised_with_reason_and_arn(stubbed, context):
    failure = {"arn": PROD.jobs["report"].task_definition_arn, "reason": "MISSING"}
    stubbed.stubber.add_response("run_task", {"tasks": [], "failures": [failure]}, spot_request())
    with pytest.raises(handler.RunFailed, match="MISSING") as raised:
        handler.handler(NIGHTLY, context)
    assert failure["arn"] in str(raised.value)
    assert not isinstance(raised.value, handler.CapacityUnavailable)
    assert stubbed.operations() == ["RunTask"]  # not a capacity failure: no fallback


def test_zero_tasks_without_failures_is_not_success(stubbed, context):
    stubbed.stubber.add_response("run_task", {"tasks": [], "failures": []}, spot_request())
    with pytest.raises(handler.RunFailed, match="no reason given"):
        handler.handler(NIGHTLY, context)


def test_the_client_token_is_stable_for_a_key_and_differs_across_keys_and_jobs(stubbed, context):
    for _ in range(4):
        stubbed.stubber.add_response("run_task", STARTED)
    # Same key from two different Lambda requests (a caller's retry), another key, another job.
    handler.handler({"job": "report", "idempotencyKey": "a"}, type(context)("one"))
    handler.handler({"job": "report", "idempotencyKey": "a"}, type(context)("two"))
    handler.handler({"job": "report", "idempotencyKey": "b"}, type(context)("one"))
    handler.handler({"job": "import", "idempotencyKey": "a"}, type(context)("one"))
    first, retried, other_key, other_job = (params["clientToken"] for _, params in stubbed.calls)
    assert first == retried
    assert len({first, other_key, other_job}) == 3
    assert all(len(params["clientToken"]) <= 64 for _, params in stubbed.calls)
    # ECS answers a reused token with the task it started only if every parameter is the same.
    assert stubbed.calls[0] == stubbed.calls[1]


def test_a_key_reused_for_another_run_is_refused_naming_the_task_it_started(
    stubbed, context, capsys
):
    changed = {
        **NIGHTLY,
        "environment": {"REPORT_DAY": "2026-11-02"},
    }
    stubbed.stubber.add_client_error(
        "run_task",
        "ConflictException",
        "The clientToken is already in use with a different RunTask request.",
        400,
        modeled_fields={"resourceIds": [TASK_ARN]},
    )
    response = handler.handler(changed, context)
    assert response["error"]["type"] == "ValidationError"
    assert response["error"]["message"].startswith("idempotencyKey: already used")
    assert TASK_ARN in response["error"]["message"]
    assert stubbed.operations() == ["RunTask"]  # no fallback, no second try
    assert json.loads(capsys.readouterr().out)["outcome"] == "validation-error"


def test_without_a_key_lambda_retries_of_one_request_share_a_token(stubbed, context):
    # The default key is the request id, which Lambda keeps across its own async retries.
    stubbed.stubber.add_response("run_task", STARTED)
    stubbed.stubber.add_response("run_task", STARTED)
    for _ in range(2):
        response = handler.handler({"job": "report"}, context)
        assert response["idempotencyKey"] == context.aws_request_id
    first, retried = (params["clientToken"] for _, params in stubbed.calls)
    assert first == retried == "a39b0c72220775155b44c3e41d6014bcd1bb49264e0c52e8acf84cb14fd21412"


def test_throttling_is_raised_for_lambda_to_retry(stubbed, context, capsys):
    stubbed.stubber.add_client_error("run_task", "ThrottlingException", "Rate exceeded", 400)
    with pytest.raises(ClientError, match="ThrottlingException"):
        handler.handler(NIGHTLY, context)
    assert json.loads(capsys.readouterr().out)["outcome"] == "failed"


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
    # At most two calls on a run's path: RunTask, then RunTask on-demand after a Spot failure.
    assert 2 * worst < TIMEOUT_SECONDS


def test_started_by_and_tags_fit_ecs_limits(prod_config):
    long_job = "j" + "a" * 31  # the longest job name the config allows
    config = dataclasses.replace(PROD, jobs={long_job: PROD.jobs["report"]})
    request = run_event.RunRequest(long_job, PROD.jobs["report"], {}, None, "spot", "k" * 128)
    params = handler.run_task_request(config, request)
    assert params["startedBy"] == long_job  # "longjobs/" would not fit: the name alone
    assert handler.started_by("report") == "longjobs/report"
    assert all(len(tag["value"]) <= 256 for tag in params["tags"])


def test_no_security_groups_lets_ecs_use_the_vpc_default(prod_config):
    config = dataclasses.replace(PROD, security_group_ids=())
    request = run_event.parse_run({"job": "report"}, config.jobs, "r")
    network = handler.run_task_request(config, request)["networkConfiguration"]
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


def test_stop_checks_the_task_before_stopping_it(stubbed, context):
    task = {"taskArn": TASK_ARN, "taskDefinitionArn": PROD.jobs["import"].task_definition_arn}
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
