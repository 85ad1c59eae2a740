"""StackAlarms: a refused request and a message left in a queue of what failed each reach the
notifications topic: through the supervisor without the stack's key, directly with it."""

from __future__ import annotations

import pytest

from offline.program import MOCK_ACCOUNT, ProgramRun, run_program
from tests.unit.helpers import dev_config

REGION = "us-east-1"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SUPERVISOR = f"arn:aws:lambda:{REGION}:{MOCK_ACCOUNT}:function:longjobs-dev-supervisor"
TOPIC = f"arn:aws:sns:{REGION}:{MOCK_ACCOUNT}:longjobs-dev-notifications"
ALARMS = [
    "longjobs-dev-refused-requests",
    "longjobs-dev-refused-records",
    "longjobs-dev-trigger-failures",
    "longjobs-dev-supervisor-failures",
    "longjobs-dev-schedules-dead-letters",
]


@pytest.fixture(scope="module")
def keyed() -> ProgramRun:
    config = dev_config()
    config["longjobs:kms"] = "create"
    return run_program(config=config)


def alarms(run: ProgramRun) -> dict[str, dict]:
    return {a.inputs["name"]: a.inputs for a in run.by_type(ALARM)}


def test_refused_requests_are_counted_from_the_triggers_log_lines(dev):
    metric_filter = dev.one(
        "aws:cloudwatch/logMetricFilter:LogMetricFilter", "alarms-refused-requests"
    )
    assert metric_filter.inputs == {
        "name": "longjobs-dev-refused-requests",
        "logGroupName": "/longjobs/dev/lambda/trigger",
        # handler.py logs one JSON line per request, outcome "validation-error" when refused.
        "pattern": '{ $.outcome = "validation-error" }',
        "metricTransformation": {
            "name": "RefusedRequests",
            "namespace": "longjobs/longjobs-dev",
            "value": "1",
            "unit": "Count",
        },
    }
    refused = alarms(dev)["longjobs-dev-refused-requests"]
    assert (refused["namespace"], refused["metricName"], refused["statistic"]) == (
        "longjobs/longjobs-dev",
        "RefusedRequests",
        "Sum",
    )


def test_refused_records_are_counted_from_both_functions_log_lines(dev):
    filters = {
        f.inputs["name"]: f.inputs
        for f in dev.by_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
        if f.name != "alarms-refused-requests"
    }
    assert filters == {
        f"longjobs-dev-{function}-refused-records": {
            "name": f"longjobs-dev-{function}-refused-records",
            "logGroupName": f"/longjobs/dev/lambda/{function}",
            # attempts.py prints one JSON line per run it refuses, in whichever function.
            "pattern": '{ $.outcome = "refused-record" }',
            "metricTransformation": {
                "name": "RefusedRecords",
                "namespace": "longjobs/longjobs-dev",
                "value": "1",
                "unit": "Count",
            },
        }
        for function in ("trigger", "supervisor")
    }
    refused = alarms(dev)["longjobs-dev-refused-records"]
    assert (refused["namespace"], refused["metricName"], refused["statistic"]) == (
        "longjobs/longjobs-dev",
        "RefusedRecords",
        "Sum",
    )


def test_each_queue_of_what_failed_has_an_alarm_on_its_first_message(dev):
    found = alarms(dev)
    assert list(found) == ALARMS
    for name in ALARMS[2:]:
        queue = name.removeprefix("longjobs-dev-")
        assert found[name]["namespace"] == "AWS/SQS"
        assert found[name]["metricName"] == "ApproximateNumberOfMessagesVisible"
        assert found[name]["statistic"] == "Maximum"
        assert found[name]["dimensions"] == {"QueueName": f"longjobs-dev-{queue}"}
    for alarm in found.values():
        assert (alarm["period"], alarm["evaluationPeriods"], alarm["threshold"]) == (300, 1, 1)
        assert alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["treatMissingData"] == "notBreaching"
        assert alarm["alarmDescription"]


def test_without_the_stacks_key_alarms_reach_the_topic_through_the_supervisor(dev):
    # The topic is encrypted with alias/aws/sns, whose key policy CloudWatch cannot use.
    assert {a["alarmActions"][0] for a in alarms(dev).values()} == {SUPERVISOR}
    permissions = {
        p.inputs["statementId"]: p.inputs
        for p in dev.by_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
    }
    assert permissions == {
        f"alarm-{name.removeprefix('longjobs-dev-')}": {
            "statementId": f"alarm-{name.removeprefix('longjobs-dev-')}",
            "action": "lambda:InvokeFunction",
            "function": "longjobs-dev-supervisor",
            "principal": "lambda.alarms.cloudwatch.amazonaws.com",
            "sourceAccount": MOCK_ACCOUNT,
            "sourceArn": f"arn:aws:cloudwatch:{REGION}:{MOCK_ACCOUNT}:alarm:{name}",
        }
        for name in ALARMS
    }


def test_with_the_stacks_key_alarms_publish_to_the_topic_themselves(keyed):
    assert {a["alarmActions"][0] for a in alarms(keyed).values()} == {TOPIC}
    assert not [
        p
        for p in keyed.by_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
    ]


def test_a_stack_without_schedules_has_no_dead_letters_alarm():
    config = dev_config()
    for job in config["longjobs:jobs"].values():
        job.pop("schedules", None)
    run = run_program(config=config)
    assert list(alarms(run)) == ALARMS[:4]
