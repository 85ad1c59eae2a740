"""The stack's alarms passed on to the notifications topic by the supervisor, for a stack whose
topic is encrypted with `alias/aws/sns` (which an alarm cannot publish to). Events are shaped like
the documented Lambda alarm action payload (`fixtures/cloudwatch_alarm_lambda_action.json`, from
the CloudWatch User Guide, "Using Amazon CloudWatch alarms", Lambda alarm action payload), with
the alarm's name set to one of the stack's."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.supervisor import supervisor
from longjobs_contract import trigger_config
from tests.functions.conftest import PROD

SAMPLE = json.loads(
    (Path(__file__).parent / "fixtures" / "cloudwatch_alarm_lambda_action.json").read_text()
)
ALARM = "longjobs-prod-refused-requests"


@pytest.fixture
def topic(config_file, monkeypatch):
    """The notifications topic in moto, with a queue subscribed to read what was published."""
    config_file.write_text(trigger_config.dumps(PROD))
    supervisor.load_config.cache_clear()
    with mock_aws():
        sns = boto3.client("sns", region_name="eu-west-1")
        sqs = boto3.client("sqs", region_name="eu-west-1")
        arn = sns.create_topic(Name="longjobs-prod-notifications")["TopicArn"]
        assert arn == PROD.notifications_topic
        queue = sqs.create_queue(QueueName="published")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=arn,
            Protocol="sqs",
            Endpoint=queue_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        monkeypatch.setattr(supervisor, "sns", sns)

        def published() -> list[dict]:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
            return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

        yield published


def alarm_event(name: str = ALARM, state: str = "ALARM") -> dict:
    event = copy.deepcopy(SAMPLE)
    event["alarmArn"] = f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}"
    event["alarmData"]["alarmName"] = name
    event["alarmData"]["state"]["value"] = state
    event["alarmData"]["configuration"]["description"] = "Requests the trigger refused."
    return event


def test_an_alarm_of_the_stack_is_published_once_with_what_it_says(topic, context):
    answer = supervisor.handler(alarm_event(), context)
    assert answer == {"outcome": "alarm-published", "alarm": ALARM}
    assert topic() == [
        {
            "alarm": ALARM,
            "alarmArn": f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{ALARM}",
            "state": "ALARM",
            "reason": "test",
            "at": "2023-08-04T12:36:15.490+0000",
            "what": "Requests the trigger refused.",
        }
    ]


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (alarm_event(name="someone-elses-alarm"), "not an alarm of this stack"),
        # A stack whose prefix begins with this one's.
        (alarm_event(name="longjobs-prod-eu-refused-requests"), "not an alarm of this stack"),
        (alarm_event(state="OK"), f"alarm {ALARM} is OK, not ALARM"),
    ],
)
def test_an_alarm_of_another_stack_or_back_to_ok_publishes_nothing(topic, context, event, why):
    assert supervisor.handler(event, context) == {"outcome": "ignored", "why": why}
    assert topic() == []
