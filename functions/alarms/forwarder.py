"""longjobs alarm forwarder: passes the stack's CloudWatch alarms on to the notifications topic.

An alarm cannot publish to a topic encrypted with the AWS managed key `alias/aws/sns` (its key
policy cannot let CloudWatch use it), which is how the topic is encrypted when the stack has no
key of its own (`kms`). Such a stack's alarms invoke this function instead (a Lambda alarm
action), and it publishes what the alarm says; with `kms` the alarms publish to the topic
themselves and there is no forwarder.

It is kept apart from the supervisor so that a broken supervisor (its config file unreadable, its
code failing) does not also silence the alarm that says so: it reads no config file and imports
nothing of the other functions but the clients' settings and the request's log line; the topic
and the stack's alarm names come from its environment, which the component sets.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import boto3

from functions.common import request_log, runtime
from longjobs_contract import alarms as stack_alarms

# Created once per execution environment, each call within 20 s (runtime.py).
sns = boto3.client("sns", config=runtime.CLIENT_CONFIG)

ALARM_SOURCE = "aws.cloudwatch"
ALARM = "ALARM"
MAX_SUBJECT = 99  # SNS takes a subject "less than 100 characters long" (Publish)


@dataclass(frozen=True)
class Settings:
    """What the component told the function, in its environment."""

    topic_arn: str
    """The notifications topic."""
    alarm_names: frozenset[str]
    """The stack's alarms: the only ones passed on."""

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            topic_arn=os.environ[stack_alarms.TOPIC_VARIABLE],
            alarm_names=frozenset(json.loads(os.environ[stack_alarms.NAMES_VARIABLE])),
        )


@dataclass(frozen=True)
class AlarmChange:
    """A Lambda alarm action's payload (CloudWatch User Guide, "Lambda alarm actions":
    `source`, `alarmArn`, `alarmData` with the alarm's name, its new state and its
    configuration)."""

    name: str | None
    arn: str | None
    state: str | None
    reason: str | None
    at: str | None
    description: str | None

    @classmethod
    def parse(cls, event: Any) -> AlarmChange | None:
        """The alarm's change, or None for anything that is not such a payload."""
        if not isinstance(event, dict) or event.get("source") != ALARM_SOURCE:
            return None
        data = event.get("alarmData")
        if not isinstance(data, dict):
            return None
        state = _object(data.get("state"))
        return cls(
            name=_text(data.get("alarmName")),
            arn=_text(event.get("alarmArn")),
            state=_text(state.get("value")),
            reason=_text(state.get("reason")),
            at=_text(state.get("timestamp")),
            description=_text(_object(data.get("configuration")).get("description")),
        )


def handler(event: Any, context: Any) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", None) or "local"
    with request_log.request(request_id):
        try:
            answer = forward(AlarmChange.parse(event), Settings.from_environment())
            request_log.bind(**answer)
            return answer
        except Exception as error:
            request_log.bind(outcome="failed", error=f"{type(error).__name__}: {error}")
            raise


def forward(change: AlarmChange | None, settings: Settings) -> dict[str, Any]:
    """Publish one alarm of this stack that went into ALARM; ignore anything else."""
    if change is None:
        return {"outcome": "ignored", "why": "not a CloudWatch alarm action"}
    if change.name not in settings.alarm_names:
        return {"outcome": "ignored", "why": "not an alarm of this stack"}
    if change.state != ALARM:
        return {"outcome": "ignored", "why": f"alarm {change.name} is {change.state}, not ALARM"}
    publish(settings.topic_arn, change)
    return {"outcome": "alarm-published", "alarm": change.name}


def publish(topic_arn: str, change: AlarmChange) -> None:
    """The SNS call: the alarm's name, state, reason, time and description, as JSON."""
    message = {
        "alarm": change.name,
        "alarmArn": change.arn,
        "state": ALARM,
        "reason": change.reason,
        "at": change.at,
        "what": change.description,
    }
    sns.publish(
        TopicArn=topic_arn,
        Subject=f"longjobs: alarm {change.name}"[:MAX_SUBJECT],
        Message=json.dumps(message, indent=2),
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
