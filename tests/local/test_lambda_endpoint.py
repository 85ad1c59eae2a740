"""The local Lambda endpoint as boto3 sees it (AWS Lambda API reference, "Invoke"): a result,
a raised error as `Unhandled` with its message and type, an unknown function or alias as
ResourceNotFoundException, an async invocation accepted (202), retried on a raised error with
the same request id, then its record to the on-failure destination."""

from __future__ import annotations

import json
import threading

import boto3
import pytest
from botocore.exceptions import ClientError

from local.endpoint import Endpoint
from local.lambdas import Declared, LocalFunctions
from local.timers import Timers

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:longjobs-test-trigger"
seen: list[tuple[object, str, str]] = []
done = threading.Event()


def handler(event, context):
    seen.append((event, context.aws_request_id, context.invoked_function_arn))
    if isinstance(event, dict) and event.get("fail"):
        done.set()
        raise ValueError("bad things")
    return {"echo": event}


@pytest.fixture
def lambda_client(monkeypatch):
    monkeypatch.setattr("local.lambdas.RETRY_PAUSES", (0.05, 0.05))
    seen.clear()
    done.clear()
    timers = Timers()
    failures: list[tuple[str, dict]] = []
    function = Declared(
        name="longjobs-test-trigger",
        arn=ARN,
        handler=f"{__name__}.handler",
        timeout=10,
        environment={},
        aliases=frozenset({"schedules"}),
        retries=2,
        on_failure="arn:aws:sqs:eu-west-1:123456789012:failures",
    )
    functions = LocalFunctions(
        {function.name: function}, timers, lambda arn, record: failures.append((arn, record))
    )
    endpoint = Endpoint(functions, lambda op, params: (400, {}), lambda run: (404, {}), "127.0.0.1")
    endpoint.start()
    client = boto3.client(
        "lambda",
        endpoint_url=endpoint.url,
        region_name="eu-west-1",
        aws_access_key_id="placeholder",
        aws_secret_access_key="placeholder",
    )
    client.failures = failures
    yield client
    timers.close()
    timers.join()
    endpoint.stop()


def test_a_result_comes_back_as_the_payload(lambda_client):
    answer = lambda_client.invoke(FunctionName="longjobs-test-trigger", Payload=b'{"a": 1}')
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"echo": {"a": 1}}
    assert seen[0][2] == ARN


def test_an_alias_by_qualifier_or_arn_is_the_arn_the_handler_sees(lambda_client):
    lambda_client.invoke(FunctionName="longjobs-test-trigger", Qualifier="schedules", Payload=b"{}")
    lambda_client.invoke(FunctionName=f"{ARN}:schedules", Payload=b"{}")
    assert [arn for _, _, arn in seen] == [f"{ARN}:schedules", f"{ARN}:schedules"]


def test_a_raised_error_is_unhandled_with_its_message_and_type(lambda_client):
    answer = lambda_client.invoke(FunctionName="longjobs-test-trigger", Payload=b'{"fail": true}')
    assert (answer["StatusCode"], answer["FunctionError"]) == (200, "Unhandled")
    body = json.loads(answer["Payload"].read())
    assert (body["errorMessage"], body["errorType"]) == ("bad things", "ValueError")
    assert isinstance(body["stackTrace"], list)


@pytest.mark.parametrize("name", ["longjobs-test-other", "longjobs-test-trigger:nosuch"])
def test_an_unknown_function_or_alias_is_resource_not_found(lambda_client, name):
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_payload_that_is_not_json_is_refused(lambda_client):
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName="longjobs-test-trigger", Payload=b"{not json")
    assert raised.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_an_async_invocation_is_retried_twice_with_its_request_id_then_recorded(lambda_client):
    answer = lambda_client.invoke(
        FunctionName="longjobs-test-trigger", InvocationType="Event", Payload=b'{"fail": true}'
    )
    assert answer["StatusCode"] == 202
    deadline = threading.Event()
    for _ in range(100):
        if lambda_client.failures:
            break
        deadline.wait(0.05)
    assert len(seen) == 3
    assert len({request_id for _, request_id, _ in seen}) == 1
    [(destination, record)] = lambda_client.failures
    assert destination == "arn:aws:sqs:eu-west-1:123456789012:failures"
    assert record["requestPayload"] == {"fail": True}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorMessage"] == "bad things"
