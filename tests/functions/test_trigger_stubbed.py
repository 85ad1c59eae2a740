"""What moto does not model, with the botocore Stubber: failures with HTTP 200, the Spot
fallback, the clientToken, throttling. Every RunTask request is checked against botocore's model.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

import handler

RUN_TASK_MODEL = (
    boto3.client("ecs", region_name="us-east-1")
    .meta.service_model.operation_model("RunTask")
    .input_shape
)
SPOT_FULL = {
    "arn": "arn:aws:ecs:us-east-1:123456789012:container-instance/x",
    "reason": "Capacity is unavailable at this time. Please try again later or in a different "
    "availability zone",
}


@pytest.fixture
def stubbed(config_file, monkeypatch):
    client = boto3.client(
        "ecs",
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    monkeypatch.setattr(handler, "ecs", client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def expected_request(event: dict, capacity: str, request_id: str) -> dict:
    config = handler.load_config()
    request = handler.parse_run(event, config, request_id)
    params = handler.run_task_request(config, request, capacity)
    validate_parameters(params, RUN_TASK_MODEL)
    return params


def started(task_id: str = "0123456789abcdef0123456789abcdef") -> dict:
    cluster = handler.load_config().cluster_arn.rsplit("/", 1)[-1]
    return {"tasks": [{"taskArn": f"arn:aws:ecs:us-east-1:123456789012:task/{cluster}/{task_id}"}]}


def test_a_spot_run_sends_exactly_one_valid_request(stubbed, context):
    event = {"job": "report", "environment": {"REPORT_DAY": "2026-11-01"}}
    request = expected_request(event, "spot", context.aws_request_id)
    assert request["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1}
    ]
    assert "launchType" not in request
    assert request["propagateTags"] == "TASK_DEFINITION"
    assert request["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"
    stubbed.add_response("run_task", started(), request)
    response = handler.handler(event, context)
    assert response["capacity"] == "spot"
    assert response["idempotencyKey"] == context.aws_request_id


def test_spot_without_capacity_falls_back_to_on_demand_once(stubbed, context):
    event = {"job": "report", "idempotencyKey": "nightly-2026-11-01"}
    spot = expected_request(event, "spot", context.aws_request_id)
    on_demand = expected_request(event, "on-demand", context.aws_request_id)
    assert on_demand["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1}]
    assert on_demand["clientToken"] != spot["clientToken"]
    stubbed.add_response("run_task", {"tasks": [], "failures": [SPOT_FULL]}, spot)
    stubbed.add_response("run_task", started(), on_demand)
    response = handler.handler(event, context)
    assert response["capacity"] == "on-demand"
    assert response["taskArn"] == started()["tasks"][0]["taskArn"]


def test_no_capacity_anywhere_is_raised_for_a_retry(stubbed, context):
    event = {"job": "report"}
    stubbed.add_response(
        "run_task", {"failures": [SPOT_FULL]}, expected_request(event, "spot", "r")
    )
    stubbed.add_response(
        "run_task", {"failures": [SPOT_FULL]}, expected_request(event, "on-demand", "r")
    )
    with pytest.raises(handler.CapacityUnavailable, match="Capacity is unavailable"):
        handler.handler(event, type(context)("r"))


def test_an_on_demand_job_never_tries_spot(stubbed, context):
    event = {"job": "hello-world"}
    stubbed.add_response(
        "run_task", {"failures": [SPOT_FULL]}, expected_request(event, "on-demand", "r")
    )
    with pytest.raises(handler.CapacityUnavailable):
        handler.handler(event, type(context)("r"))


def test_other_failures_with_http_200_are_raised_with_their_reason(stubbed, context):
    event = {"job": "hello-world"}
    failure = {"arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/x:1", "reason": "MISSING"}
    stubbed.add_response(
        "run_task", {"tasks": [], "failures": [failure]}, expected_request(event, "on-demand", "r")
    )
    with pytest.raises(handler.RunFailed, match="MISSING") as raised:
        handler.handler(event, type(context)("r"))
    assert not isinstance(raised.value, handler.CapacityUnavailable)


def test_zero_tasks_without_failures_is_not_success(stubbed, context):
    event = {"job": "hello-world"}
    stubbed.add_response(
        "run_task", {"tasks": [], "failures": []}, expected_request(event, "on-demand", "r")
    )
    with pytest.raises(handler.RunFailed, match="no reason given"):
        handler.handler(event, type(context)("r"))


def test_the_client_token_is_stable_for_a_key_and_differs_across_keys(stubbed, context):
    first = expected_request({"job": "report", "idempotencyKey": "a"}, "spot", "one")
    retried = expected_request({"job": "report", "idempotencyKey": "a"}, "spot", "two")
    other = expected_request({"job": "report", "idempotencyKey": "b"}, "spot", "one")
    other_job = expected_request({"job": "hello-world", "idempotencyKey": "a"}, "spot", "one")
    assert first["clientToken"] == retried["clientToken"]
    assert len({first["clientToken"], other["clientToken"], other_job["clientToken"]}) == 3
    assert all(len(r["clientToken"]) <= 64 for r in (first, other, other_job))
    stubbed.add_response("run_task", started(), first)
    stubbed.add_response("run_task", started(), retried)
    handler.handler({"job": "report", "idempotencyKey": "a"}, type(context)("one"))
    handler.handler({"job": "report", "idempotencyKey": "a"}, type(context)("two"))


def test_lambda_retries_of_one_request_share_a_token(stubbed, context):
    # Without a key, the token comes from the request id, which Lambda keeps across retries.
    request = expected_request({"job": "report"}, "spot", "same-request")
    stubbed.add_response("run_task", started(), request)
    stubbed.add_response("run_task", started(), request)
    for _ in range(2):
        handler.handler({"job": "report"}, type(context)("same-request"))


def test_throttling_is_raised_for_lambda_to_retry(stubbed, context):
    stubbed.add_client_error("run_task", "ThrottlingException", "Rate exceeded", 400)
    with pytest.raises(ClientError, match="ThrottlingException"):
        handler.handler({"job": "report"}, context)


def test_the_module_client_retries_with_backoff_before_raising():
    config = handler.ecs.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}


def test_started_by_and_tags_fit_ecs_limits(config_file):
    config = handler.load_config()
    long_job = "j" + "a" * 31
    target = next(iter(config.jobs.values()))
    request = handler.RunRequest(long_job, target, {}, None, "spot", "k" * 128, "r" * 300)
    params = handler.run_task_request(config, request, "spot")
    validate_parameters(params, RUN_TASK_MODEL)
    assert len(params["startedBy"]) <= 36
    assert all(len(tag["value"]) <= 256 for tag in params["tags"])
