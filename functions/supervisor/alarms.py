"""The stack's CloudWatch alarms, passed on to the notifications topic.

An alarm cannot publish to a topic encrypted with the AWS managed key `alias/aws/sns` (its key
policy cannot let CloudWatch use it), which is how the topic is encrypted when the stack has no
key of its own (`kms`). Such a stack's alarms invoke this function instead (a Lambda alarm
action), and it publishes what the alarm says; with `kms`, the alarms publish to the topic
themselves and never come here.
"""

from __future__ import annotations

import json
from typing import Any

from functions.supervisor import notices
from longjobs_contract import alarms as stack_alarms
from longjobs_contract import trigger_config

ALARM_SOURCE = "aws.cloudwatch"
ALARM = "ALARM"


def is_alarm(event: Any) -> bool:
    """Whether the event is a Lambda alarm action's payload (CloudWatch User Guide, "Lambda
    alarm actions": `source`, `alarmArn`, `alarmData` with the state and the configuration)."""
    return (
        isinstance(event, dict)
        and event.get("source") == ALARM_SOURCE
        and isinstance(event.get("alarmData"), dict)
    )


def forward(
    event: dict[str, Any], config: trigger_config.TriggerConfig, sns: Any
) -> dict[str, Any]:
    """Publish one alarm of this stack that went into ALARM; ignore anything else."""
    data = event["alarmData"]
    name = data.get("alarmName")
    state = data.get("state") if isinstance(data.get("state"), dict) else {}
    prefix = config.cluster_arn.rsplit("/", 1)[-1]  # the cluster is named after the stack
    if name not in stack_alarms.names(prefix):
        return {"outcome": "ignored", "why": "not an alarm of this stack"}
    if state.get("value") != ALARM:
        return {"outcome": "ignored", "why": f"alarm {name} is {state.get('value')}, not ALARM"}
    configuration = data.get("configuration") if isinstance(data.get("configuration"), dict) else {}
    message = {
        "alarm": name,
        "alarmArn": event.get("alarmArn"),
        "state": ALARM,
        "reason": state.get("reason"),
        "at": state.get("timestamp"),
        "what": configuration.get("description"),
    }
    sns.publish(
        TopicArn=config.notifications_topic,
        Subject=f"longjobs: alarm {name}"[: notices.MAX_SUBJECT],
        Message=json.dumps(message, indent=2),
    )
    return {"outcome": "alarm-published", "alarm": name}
