"""The events the supervisor failed to take, taken again from its failure queue (moto's SQS)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.common import clock
from functions.supervisor import failed_events

SAMPLE = json.loads(
    (Path(__file__).parent / "fixtures" / "ecs_task_state_change_fargate_running.json").read_text()
)
QUEUE = "longjobs-dev-supervisor-failures"


def destination_record(event: dict) -> dict:
    """What Lambda's on-failure destination sends (Lambda developer guide, "Capturing records
    of Lambda asynchronous invocations")."""
    return {
        "version": "1.0",
        "timestamp": "2026-11-02T08:00:00.000Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:longjobs-dev-supervisor:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom", "errorType": "RuntimeError"},
    }  # fmt: skip


@pytest.fixture
def sqs():
    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        client.create_queue(QueueName=QUEUE)
        yield client


def send(sqs, body: dict) -> None:
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


def left(sqs) -> int:
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_both_shapes_of_a_failed_event_are_read_and_nothing_else():
    assert failed_events.failed_event(json.dumps(destination_record(SAMPLE))) == SAMPLE
    assert failed_events.failed_event(json.dumps(SAMPLE)) == SAMPLE  # a rule's dead letter
    for other in (
        json.dumps(destination_record({"action": "reconcile"})),
        json.dumps({"source": "aws.cloudwatch", "alarmData": {}}),
        "not json",
        "[" * 100_000,
        None,
    ):
        assert failed_events.failed_event(other) is None


def test_each_task_state_change_is_applied_once_and_deleted(sqs):
    send(sqs, destination_record(SAMPLE))
    send(sqs, SAMPLE)
    send(sqs, destination_record({"action": "reconcile"}))
    applied: list[dict] = []
    taken, drained = failed_events.take_again(
        sqs, QUEUE, applied.append, clock.monotonic() + 60, lambda *a: None
    )
    assert (taken, drained, applied, left(sqs)) == (3, True, [SAMPLE, SAMPLE], 0)


def test_an_event_that_fails_to_apply_stays_for_a_later_pass(sqs):
    send(sqs, SAMPLE)
    caught: list[str] = []

    def fails(event: dict) -> None:
        raise RuntimeError("the table is throttled")

    taken, drained = failed_events.take_again(
        sqs, QUEUE, fails, clock.monotonic() + 60, lambda what, error: caught.append(str(error))
    )
    assert (taken, drained, caught, left(sqs)) == (0, False, ["the table is throttled"], 1)


def test_the_taking_ends_at_its_deadline_and_says_the_queue_was_not_drained(sqs):
    send(sqs, SAMPLE)
    applied: list[dict] = []
    taken, drained = failed_events.take_again(
        sqs, QUEUE, applied.append, clock.monotonic() - 1, lambda *a: None
    )
    assert (taken, drained, applied, left(sqs)) == (0, False, [], 1)
