"""StackAlarms: a refused request, the supervisor failing and a message left in a queue of what
failed each reach the notifications topic: through the alarm forwarder without the stack's key,
directly with it."""

from __future__ import annotations

import pytest

from offline.program import MOCK_ACCOUNT, ProgramRun, run_program
from tests.unit.helpers import dev_config

REGION = "us-east-1"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
FORWARDER = f"arn:aws:lambda:{REGION}:{MOCK_ACCOUNT}:function:longjobs-dev-alarms"
TOPIC = f"arn:aws:sns:{REGION}:{MOCK_ACCOUNT}:longjobs-dev-notifications"
ALARMS = [
    "longjobs-dev-refused-requests",
    "longjobs-dev-refused-records",
    "longjobs-dev-supervisor-errors",
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
        if f.name not in ("alarms-refused-requests", "alarms-supervisor-no-capacity")
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
    assert sorted(found) == sorted(ALARMS)
    for name in ALARMS[3:]:
        queue = name.removeprefix("longjobs-dev-")
        assert found[name]["namespace"] == "AWS/SQS"
        assert found[name]["metricName"] == "ApproximateNumberOfMessagesVisible"
        assert found[name]["statistic"] == "Maximum"
        assert found[name]["dimensions"] == {"QueueName": f"longjobs-dev-{queue}"}
    for alarm in found.values():
        period = alarm.get("period") or alarm["metricQueries"][0]["metric"]["period"]
        assert (period, alarm["evaluationPeriods"], alarm["threshold"]) == (300, 1, 1)
        assert alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["treatMissingData"] == "notBreaching"
        assert alarm["alarmDescription"]


def test_the_supervisor_failing_has_an_alarm_on_its_first_error(dev):
    errors = dict(alarms(dev)["longjobs-dev-supervisor-errors"])
    description = errors.pop("alarmDescription")
    assert errors == {
        "name": "longjobs-dev-supervisor-errors",
        # Lambda's Errors less the invocations that failed on purpose (no capacity: Lambda's
        # retry sends the next attempt), counted from the supervisor's log lines.
        "metricQueries": [
            {
                "id": "errors",
                "metric": {
                    "namespace": "AWS/Lambda",
                    "metricName": "Errors",
                    "dimensions": {"FunctionName": "longjobs-dev-supervisor"},
                    "stat": "Sum",
                    "period": 300,
                },
                "returnData": False,
            },
            {
                "id": "handled",
                "metric": {
                    "namespace": "longjobs/longjobs-dev",
                    "metricName": "SupervisorNoCapacity",
                    "stat": "Sum",
                    "period": 300,
                },
                "returnData": False,
            },
            {
                "id": "real",
                "expression": "errors - FILL(handled, 0)",
                "label": "Failed invocations, less those without capacity",
                "returnData": True,
            },
        ],
        "evaluationPeriods": 1,
        "threshold": 1,
        "comparisonOperator": "GreaterThanOrEqualToThreshold",
        "treatMissingData": "notBreaching",
        "alarmActions": [FORWARDER],
        "tags": errors["tags"],
    }
    # What to do: where to read why, and that the pass catches up by itself once it works.
    assert "/longjobs/dev/lambda/supervisor" in description
    assert '{ $.outcome = "failed" }' in description
    assert "takes the failed events again" in description


def test_the_supervisors_failure_queue_alarm_says_its_pass_takes_the_events_again(dev):
    descriptions = {name: a["alarmDescription"] for name, a in alarms(dev).items()}
    supervisor = descriptions.pop("longjobs-dev-supervisor-failures")
    assert "the supervisor has been failing for a while" in supervisor
    assert "pass takes these events again by itself" in supervisor
    assert "delete" not in supervisor
    # The trigger's queue and the schedules' dead letters: read, act, delete, as before.
    for queue in ("trigger-failures", "schedules-dead-letters"):
        assert descriptions[f"longjobs-dev-{queue}"] == (
            f"A message waits in longjobs-dev-{queue}: what a function or a schedule could not "
            "deliver after its retries. Read it from the queue (its URL is a stack output), act, "
            "then delete it."
        )


def test_every_alarm_description_fits_cloudwatchs_1024_characters(dev):
    # PutMetricAlarm, AlarmDescription: 0 to 1024 characters.
    assert {name: len(a["alarmDescription"]) <= 1024 for name, a in alarms(dev).items()} == {
        name: True for name in ALARMS
    }


def test_without_the_stacks_key_alarms_reach_the_topic_through_the_forwarder(dev):
    # The topic is encrypted with alias/aws/sns, whose key policy CloudWatch cannot use.
    assert {name: a["alarmActions"] for name, a in alarms(dev).items()} == {
        name: [FORWARDER] for name in ALARMS
    }
    permissions = {
        p.inputs["statementId"]: p.inputs
        for p in dev.by_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
    }
    assert permissions == {
        f"alarm-{name.removeprefix('longjobs-dev-')}": {
            "statementId": f"alarm-{name.removeprefix('longjobs-dev-')}",
            "action": "lambda:InvokeFunction",
            "function": "longjobs-dev-alarms",
            "principal": "lambda.alarms.cloudwatch.amazonaws.com",
            "sourceAccount": MOCK_ACCOUNT,
            "sourceArn": f"arn:aws:cloudwatch:{REGION}:{MOCK_ACCOUNT}:alarm:{name}",
        }
        for name in ALARMS
    }


def test_with_the_stacks_key_alarms_publish_to_the_topic_themselves(keyed):
    assert {name: a["alarmActions"] for name, a in alarms(keyed).items()} == {
        name: [TOPIC] for name in ALARMS
    }
    assert not [
        p
        for p in keyed.by_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
    ]
    # No forwarder: nothing of it is declared.
    assert keyed.outputs["alarmForwarderFunctionName"] is None
    assert keyed.by_type("longjobs:index:AlarmForwarder") == []
    assert sorted(f.inputs["name"] for f in keyed.by_type("aws:lambda/function:Function")) == [
        "longjobs-dev-supervisor",
        "longjobs-dev-trigger",
    ]
    assert not [r for r in keyed.resources if r.name.startswith("alarm-forwarder")]


def test_a_stack_without_schedules_has_no_dead_letters_alarm():
    config = dev_config()
    for job in config["longjobs:jobs"].values():
        job.pop("schedules", None)
    run = run_program(config=config)
    assert sorted(alarms(run)) == sorted(ALARMS[:5])


def test_invocations_without_capacity_are_counted_from_the_supervisors_log_lines(dev):
    metric_filter = dev.one(
        "aws:cloudwatch/logMetricFilter:LogMetricFilter", "alarms-supervisor-no-capacity"
    )
    assert metric_filter.inputs["logGroupName"] == "/longjobs/dev/lambda/supervisor"
    assert metric_filter.inputs["pattern"] == '{ $.outcome = "no-capacity" }'
    assert metric_filter.inputs["metricTransformation"] == {
        "name": "SupervisorNoCapacity",
        "namespace": "longjobs/longjobs-dev",
        "value": "1",
        "unit": "Count",
    }
