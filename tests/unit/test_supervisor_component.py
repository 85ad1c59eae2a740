"""The JobSupervisor component: the rule, its delivery, the function and its exact permissions."""

from __future__ import annotations

import json

import pytest

from offline.program import MOCK_ACCOUNT, run_program
from tests.unit.helpers import dev_config, statements, trust

ACCOUNT = MOCK_ACCOUNT
REGION = "us-east-1"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/longjobs-dev"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:longjobs-dev-supervisor-failures"
RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/longjobs-dev-task-state-changes"


def test_the_rule_takes_this_clusters_task_state_changes_only(dev):
    rule = dev.one("aws:cloudwatch/eventRule:EventRule", "task-state-changes")
    assert rule.inputs["name"] == "longjobs-dev-task-state-changes"
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {"clusterArn": [CLUSTER]},
    }


def test_events_reach_the_function_with_retries_and_a_dead_letter_queue(dev):
    function = dev.one("aws:lambda/function:Function", "supervisor-function")
    assert function.inputs["name"] == "longjobs-dev-supervisor"
    assert function.inputs["handler"] == "functions.supervisor.supervisor.handler"
    assert function.inputs["timeout"] == 300
    target = dev.one("aws:cloudwatch/eventTarget:EventTarget", "supervisor-target")
    assert target.inputs["arn"] == function.state["arn"]
    assert target.inputs["rule"] == "longjobs-dev-task-state-changes"
    assert target.inputs["retryPolicy"] == {
        "maximumEventAgeInSeconds": 86400,
        "maximumRetryAttempts": 185,
    }
    assert target.inputs["deadLetterConfig"] == {"arn": QUEUE}
    permission = dev.one("aws:lambda/permission:Permission", "supervisor-invoked-by-rule")
    assert (permission.inputs["principal"], permission.inputs["sourceArn"]) == (
        "events.amazonaws.com",
        RULE,
    )
    invoke = dev.one(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "supervisor-async"
    )
    assert invoke.inputs["destinationConfig"] == {"onFailure": {"destination": QUEUE}}
    # Events wait in Lambda's queue at most half an hour, then go to the failure queue.
    assert (invoke.inputs["maximumRetryAttempts"], invoke.inputs["maximumEventAgeInSeconds"]) == (
        2,
        1800,
    )
    queue_policy = json.loads(
        dev.one("aws:sqs/queuePolicy:QueuePolicy", "supervisor-failures-policy").inputs["policy"]
    )
    assert queue_policy["Statement"] == [
        DENY_INSECURE_TRANSPORT,
        {
            "Sid": "TaskStateChangesDeadLetters",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": QUEUE,
            "Condition": {"ArnEquals": {"aws:SourceArn": RULE}},
        },
        # Anyone else's SendMessage is denied: only the rule and Lambda's on-failure
        # destination (the supervisor's role) may hand the pass an event to take again.
        {
            "Sid": "OnlyTheRuleAndTheSupervisorSend",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Resource": QUEUE,
            "Condition": {
                "ArnNotEquals": {
                    "aws:SourceArn": RULE,
                    "aws:PrincipalArn": dev.one("aws:iam/role:Role", "supervisor-role").state[
                        "arn"
                    ],
                }
            },
        },
    ]


DENY_INSECURE_TRANSPORT = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sqs:*",
    "Resource": QUEUE,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


@pytest.mark.parametrize(
    "queue", ["trigger-failures", "supervisor-failures", "schedules-dead-letters"]
)
def test_every_queue_of_what_failed_takes_requests_over_tls_only(dev, queue):
    # They hold whole events, callers' environment values included.
    policy = json.loads(
        dev.one("aws:sqs/queuePolicy:QueuePolicy", f"{queue}-policy").inputs["policy"]
    )
    assert policy["Statement"][0] == {
        **DENY_INSECURE_TRANSPORT,
        "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:longjobs-dev-{queue}",
    }


def test_the_pass_knows_the_queue_its_failed_events_land_in(dev):
    """The queue the function's on-failure destination and the rule's dead letters name is the
    one the functions' config tells the pass to take events from again."""
    queue = dev.one("aws:sqs/queue:Queue", "supervisor-failures")
    assert json.loads(dev.trigger_config)["supervisorFailureQueue"] == queue.inputs["name"]
    destination = dev.one(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "supervisor-async"
    )
    assert destination.inputs["destinationConfig"]["onFailure"]["destination"] == QUEUE


def test_the_package_is_the_supervisor_the_shared_files_and_the_config(dev):
    import longjobs_contract

    function = dev.one("aws:lambda/function:Function", "supervisor-function")
    assets = function.inputs["code"].assets
    assert sorted(assets) == sorted(
        [
            "functions/supervisor/__init__.py",
            "functions/supervisor/supervisor.py",
            "functions/supervisor/reconcile.py",
            "functions/supervisor/publishing.py",
            "functions/supervisor/concurrency.py",
            "functions/supervisor/failed_events.py",
            "functions/supervisor/notices.py",
            "functions/__init__.py",
            "functions/common/__init__.py",
            "functions/common/attempts.py",
            "functions/common/clock.py",
            "functions/common/records.py",
            "functions/common/request_log.py",
            "functions/common/runtime.py",
            *(f"longjobs_contract/{module}" for module in longjobs_contract.MODULES),
            "longjobs-trigger.json",
        ]
    )
    trigger = dev.one("aws:lambda/function:Function", "trigger-function")
    config = "longjobs-trigger.json"
    assert assets[config].text == trigger.inputs["code"].assets[config].text


def test_the_supervisor_may_do_exactly_this(dev):
    jobs = dev.outputs["jobs"]
    table = dev.one("aws:dynamodb/table:Table", "runs-table").state["arn"]
    assert trust(dev, "supervisor-role")["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statements(dev, "supervisor-policy") == [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/longjobs/dev/lambda/"
            "supervisor:log-stream:*",
        },
        {"Sid": "FailureQueue", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE},
        {
            "Sid": "RecordRuns",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            "Resource": table,
        },
        {
            "Sid": "FindWaitingRuns",
            "Effect": "Allow",
            "Action": "dynamodb:Query",
            "Resource": [f"{table}/index/byStatus", f"{table}/index/toNotify"],
        },
        {
            "Sid": "PublishFinalStates",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": f"arn:aws:sns:{REGION}:{ACCOUNT}:longjobs-dev-notifications",
        },
        {
            "Sid": "ReadJobLogs",
            "Effect": "Allow",
            "Action": "logs:GetLogEvents",
            "Resource": [
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/longjobs/dev/hello-world:log-stream:*",
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/longjobs/dev/report:log-stream:*",
            ],
        },
        {
            # Read-only, a hundred tasks a call: a task ECS forgot shows no tags, and a tag
            # condition would deny its whole page of the pass.
            "Sid": "InspectTasks",
            "Effect": "Allow",
            "Action": "ecs:DescribeTasks",
            "Resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/longjobs-dev/*",
            "Condition": {"ArnEquals": {"ecs:cluster": CLUSTER}},
        },
        {
            # Asked before a run's task is presumed gone: the tasks it started, on the cluster.
            "Sid": "ListRunTasks",
            "Effect": "Allow",
            "Action": "ecs:ListTasks",
            "Resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/longjobs-dev/*",
            "Condition": {"ArnEquals": {"ecs:cluster": CLUSTER}},
        },
        {
            # Its pass takes again the events it failed to take.
            "Sid": "TakeFailedEventsAgain",
            "Effect": "Allow",
            "Action": ["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
            "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:longjobs-dev-supervisor-failures",
        },
        {
            "Sid": "StopRuns",
            "Effect": "Allow",
            "Action": "ecs:StopTask",
            "Resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/longjobs-dev/*",
            # Tasks of runs only: RunTask tags them with the stack and a run id; a service's
            # tasks carry the stack's tag but no run id.
            "Condition": {
                "ArnEquals": {"ecs:cluster": CLUSTER},
                "StringEquals": {"aws:ResourceTag/longjobs:stack": "dev"},
                "Null": {"aws:ResourceTag/longjobs:run-id": "false"},
            },
        },
        {
            "Sid": "RunJobs",
            "Effect": "Allow",
            "Action": "ecs:RunTask",
            "Resource": [
                f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/longjobs-dev-hello-world:*",
                f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/longjobs-dev-report:*",
            ],
            "Condition": {"ArnEquals": {"ecs:cluster": CLUSTER}},
        },
        {
            "Sid": "TagJobsAtStart",
            "Effect": "Allow",
            "Action": "ecs:TagResource",
            "Resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/longjobs-dev/*",
            "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
        },
        {
            "Sid": "PassJobRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [
                jobs["hello-world"]["executionRoleArn"],
                jobs["hello-world"]["taskRoleArn"],
                jobs["report"]["executionRoleArn"],
                jobs["report"]["taskRoleArn"],
            ],
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
    ]


def test_the_reconciliation_pass_runs_every_minute(dev):
    rule = dev.one("aws:cloudwatch/eventRule:EventRule", "reconcile")
    assert (rule.inputs["name"], rule.inputs["scheduleExpression"]) == (
        "longjobs-dev-reconcile",
        "rate(1 minute)",
    )
    target = dev.one("aws:cloudwatch/eventTarget:EventTarget", "supervisor-reconcile-target")
    assert json.loads(target.inputs["input"]) == {"action": "reconcile"}
    assert (
        target.inputs["arn"]
        == dev.one("aws:lambda/function:Function", "supervisor-function").state["arn"]
    )
    permission = dev.one("aws:lambda/permission:Permission", "supervisor-invoked-by-reconcile")
    assert permission.inputs["sourceArn"] == (
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/longjobs-dev-reconcile"
    )


@pytest.mark.parametrize(
    ("run_retention_days", "log_retention_days"), [(90, 365), (365, 365), (366, 400), (3000, 3288)]
)
def test_the_functions_keep_their_logs_a_year_or_as_long_as_the_run_records(
    run_retention_days, log_retention_days
):
    config = dev_config()
    config["longjobs:runRetentionDays"] = run_retention_days
    run = run_program(config=config)
    for group in ("trigger-logs", "supervisor-logs", "alarm-forwarder-logs"):
        logs = run.one("aws:cloudwatch/logGroup:LogGroup", group)
        assert logs.inputs["retentionInDays"] == log_retention_days
