"""The alarm forwarder passes the stack's alarms on to the notifications topic, for a stack whose
topic is encrypted with `alias/aws/sns` (which an alarm cannot publish to). Events are shaped like
the documented Lambda alarm action payload (`fixtures/cloudwatch_alarm_lambda_action.json`, from
the CloudWatch User Guide, "Using Amazon CloudWatch alarms", Lambda alarm action payload), with
the alarm's name set to one of the stack's. No config file is given: it reads none."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.alarms import forwarder
from functions.common import runtime
from longjobs_contract import alarms as stack_alarms
from longjobs_contract import trigger_config

SAMPLE = json.loads(
    (Path(__file__).parent / "fixtures" / "cloudwatch_alarm_lambda_action.json").read_text()
)
REGION = "eu-west-1"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:longjobs-prod-notifications"
ALARM = "longjobs-prod-refused-requests"


@pytest.fixture
def topic(monkeypatch, tmp_path):
    """The forwarder's environment as the component sets it, the notifications topic in moto
    with a queue subscribed to read what was published, and no config file where the other
    functions read theirs."""
    monkeypatch.setenv(stack_alarms.TOPIC_VARIABLE, TOPIC)
    monkeypatch.setenv(stack_alarms.NAMES_VARIABLE, json.dumps(stack_alarms.names("longjobs-prod")))
    monkeypatch.setenv(trigger_config.CONFIG_PATH_VARIABLE, str(tmp_path / "missing.json"))
    runtime.load_config.cache_clear()
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        assert sns.create_topic(Name="longjobs-prod-notifications")["TopicArn"] == TOPIC
        queue = sqs.create_queue(QueueName="published")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
        monkeypatch.setattr(forwarder, "sns", sns)

        def published() -> list[tuple[str, dict]]:
            """(subject, message) of each notification."""
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
            notifications = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
            return [(n["Subject"], json.loads(n["Message"])) for n in notifications]

        yield published


def alarm_event(name: str = ALARM, state: str = "ALARM") -> dict:
    event = copy.deepcopy(SAMPLE)
    event["alarmArn"] = f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{name}"
    event["alarmData"]["alarmName"] = name
    event["alarmData"]["state"]["value"] = state
    event["alarmData"]["configuration"]["description"] = "Requests the trigger refused."
    return event


def test_an_alarm_of_the_stack_is_published_once_with_what_it_says(topic, context, capsys):
    answer = forwarder.handler(alarm_event(), context)
    assert answer == {"outcome": "alarm-published", "alarm": ALARM}
    assert topic() == [
        (
            f"longjobs: alarm {ALARM}",
            {
                "alarm": ALARM,
                "alarmArn": f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{ALARM}",
                "state": "ALARM",
                "reason": "test",
                "at": "2023-08-04T12:36:15.490+0000",
                "what": "Requests the trigger refused.",
            },
        )
    ]
    # One JSON line for the request, as the other functions log theirs.
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [
        {"requestId": context.aws_request_id, **answer}
    ]


def test_the_subject_stays_under_snss_100_characters(topic, context):
    name = "longjobs-" + "x" * 120 + "-refused-requests"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(stack_alarms.NAMES_VARIABLE, json.dumps([name]))
        assert forwarder.handler(alarm_event(name=name), context)["outcome"] == "alarm-published"
    [(subject, _)] = topic()
    assert subject == f"longjobs: alarm {name}"[:99]


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (alarm_event(name="someone-elses-alarm"), "not an alarm of this stack"),
        # A stack whose prefix begins with this one's.
        (alarm_event(name="longjobs-prod-eu-refused-requests"), "not an alarm of this stack"),
        (alarm_event(state="OK"), f"alarm {ALARM} is OK, not ALARM"),
        (alarm_event(state="INSUFFICIENT_DATA"), f"alarm {ALARM} is INSUFFICIENT_DATA, not ALARM"),
        ({**alarm_event(), "source": "aws.ecs"}, "not a CloudWatch alarm action"),
        ({"action": "reconcile"}, "not a CloudWatch alarm action"),
        ({"source": "aws.cloudwatch", "alarmData": "ALARM"}, "not a CloudWatch alarm action"),
        ([], "not a CloudWatch alarm action"),
    ],
)
def test_another_stacks_alarm_a_state_not_alarm_or_another_event_publishes_nothing(
    topic, context, event, why
):
    assert forwarder.handler(event, context) == {"outcome": "ignored", "why": why}
    assert topic() == []


def test_it_forwards_without_ever_loading_the_functions_config(topic, context, monkeypatch):
    """The supervisor's config file unreadable is one of the failures its alarms must tell of."""
    loads = []

    def load_config():
        loads.append(1)
        raise OSError("the functions' config file is unreadable")

    monkeypatch.setattr(runtime, "load_config", load_config)
    answer = forwarder.handler(alarm_event(name="longjobs-prod-supervisor-errors"), context)
    assert answer == {"outcome": "alarm-published", "alarm": "longjobs-prod-supervisor-errors"}
    assert [message["alarm"] for _, message in topic()] == ["longjobs-prod-supervisor-errors"]
    assert loads == []


def test_a_publish_that_fails_fails_the_invocation_for_lambdas_retries(topic, context, capsys):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(stack_alarms.TOPIC_VARIABLE, TOPIC.replace("notifications", "missing"))
        with pytest.raises(Exception, match="NotFound"):
            forwarder.handler(alarm_event(), context)
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["outcome"] == "failed"
    assert topic() == []
