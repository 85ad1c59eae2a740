"""The control plane trusts only itself: the runs table's resource-based policy, the
notifications topic's policy and the schedules role's trust, each asserted whole."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.sync_await import _sync_await

from offline.program import MOCK_ACCOUNT, ProgramRun, run_program
from tests.unit.helpers import ROLE, dev_config

REGION = "us-east-1"
TABLE = f"arn:aws:dynamodb:{REGION}:{MOCK_ACCOUNT}:table/longjobs-dev-runs"
TOPIC = f"arn:aws:sns:{REGION}:{MOCK_ACCOUNT}:longjobs-dev-notifications"
TABLE_POLICY = "aws:dynamodb/resourcePolicy:ResourcePolicy"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
ITEM_WRITES = [
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
]
ITEM_READS = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:PartiQLSelect",
    "dynamodb:Query",
    "dynamodb:Scan",
]
OWNER_MANAGES = {
    "Sid": "OwnerManages",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{MOCK_ACCOUNT}:root"},
    "Action": [
        "sns:AddPermission",
        "sns:DeleteTopic",
        "sns:GetTopicAttributes",
        "sns:ListSubscriptionsByTopic",
        "sns:RemovePermission",
        "sns:SetTopicAttributes",
        "sns:Subscribe",
    ],
    "Resource": TOPIC,
    # checkov's CKV_AWS_385 fails an account principal allowed without a condition.
    "Condition": {"StringEquals": {"aws:PrincipalAccount": MOCK_ACCOUNT}},
}
THROUGH_TLS_ONLY = {
    "Sid": "PublishThroughTlsOnly",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Resource": TOPIC,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


@pytest.fixture(scope="module")
def keyed() -> ProgramRun:
    config = dev_config()
    config["longjobs:kms"] = "create"
    return run_program(config=config)


def role_arn(run: ProgramRun, name: str) -> str:
    return run.one(ROLE, name).state["arn"]


def document(run: ProgramRun, type_token: str, name: str) -> dict[str, Any]:
    return json.loads(run.one(type_token, name).inputs["policy"])


def test_only_the_functions_read_or_write_the_runs_tables_items(dev):
    functions = [role_arn(dev, "trigger-role"), role_arn(dev, "supervisor-role")]
    assert functions == [
        f"arn:aws:iam::{MOCK_ACCOUNT}:role/longjobs-dev/trigger-role-b146b9f",
        f"arn:aws:iam::{MOCK_ACCOUNT}:role/longjobs-dev/supervisor-role-9a73f43",
    ]
    # On the table and every index, those made later too; denies only, so the deployer keeps
    # every control-plane action and the functions' own roles grant what they use.
    only_the_functions = {"ArnNotEquals": {"aws:PrincipalArn": functions}}
    resources = [TABLE, f"{TABLE}/index/*"]
    policy = dev.one(TABLE_POLICY, "runs-policy")
    # No confirmRemoveSelfResourceAccess: DynamoDB refuses a policy that would lock out the
    # deployer rather than apply it.
    assert policy.inputs == {"resourceArn": TABLE, "policy": policy.inputs["policy"]}
    assert document(dev, TABLE_POLICY, "runs-policy") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyTheFunctionsWriteRuns",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ITEM_WRITES,
                "Resource": resources,
                "Condition": only_the_functions,
            },
            {
                "Sid": "OnlyTheFunctionsReadRuns",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ITEM_READS,
                "Resource": resources,
                "Condition": only_the_functions,
            },
        ],
    }


def test_each_policy_waits_for_the_roles_it_names(monkeypatch):
    """The table and the topic are declared before the functions' roles, which need them: their
    policies still depend on the roles, so Pulumi creates the roles first."""
    documents: dict[str, pulumi.Output[str]] = {}
    for cls in (aws.dynamodb.ResourcePolicy, aws.sns.TopicPolicy):

        def spy(self, name, *args, __init=cls.__init__, **kwargs):
            documents[name] = kwargs["policy"]
            __init(self, name, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", spy)
    run_program("Pulumi.dev.yaml")

    def roles(output: pulumi.Output[str]) -> list[str]:
        depends_on = _sync_await(output.resources())
        return sorted(r._name for r in depends_on if isinstance(r, aws.iam.Role))

    assert roles(documents["runs-policy"]) == ["supervisor-role", "trigger-role"]
    assert roles(documents["notifications-policy"]) == ["alarm-forwarder-role", "supervisor-role"]


def test_without_the_stacks_key_only_the_supervisor_and_the_alarm_forwarder_publish(dev):
    """The alarms invoke the forwarder, which publishes for them: no statement for
    CloudWatch."""
    policy = dev.one(TOPIC_POLICY, "notifications-policy")
    assert policy.inputs == {"arn": TOPIC, "policy": policy.inputs["policy"]}
    assert document(dev, TOPIC_POLICY, "notifications-policy") == {
        "Id": "longjobs-dev-notifications-policy",
        "Version": "2012-10-17",
        "Statement": [
            OWNER_MANAGES,
            {
                "Sid": "OnlyTheStackPublishes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": TOPIC,
                "Condition": {
                    "ArnNotEquals": {
                        "aws:PrincipalArn": [
                            role_arn(dev, "supervisor-role"),
                            role_arn(dev, "alarm-forwarder-role"),
                        ]
                    }
                },
            },
            THROUGH_TLS_ONLY,
        ],
    }


def test_with_the_stacks_key_its_alarms_publish_too_and_no_others(keyed):
    alarms = [
        f"arn:aws:cloudwatch:{REGION}:{MOCK_ACCOUNT}:alarm:longjobs-dev-{name}"
        for name in (
            "refused-requests",
            "refused-records",
            "supervisor-errors",
            "trigger-failures",
            "supervisor-failures",
            "schedules-dead-letters",
        )
    ]
    declared = keyed.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert sorted(alarm.state["arn"] for alarm in declared) == sorted(alarms)
    assert document(keyed, TOPIC_POLICY, "notifications-policy") == {
        "Id": "longjobs-dev-notifications-policy",
        "Version": "2012-10-17",
        "Statement": [
            OWNER_MANAGES,
            {
                "Sid": "OnlyTheStackPublishes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": TOPIC,
                "Condition": {
                    "ArnNotEquals": {"aws:PrincipalArn": [role_arn(keyed, "supervisor-role")]},
                    "StringNotEquals": {"aws:PrincipalServiceName": "cloudwatch.amazonaws.com"},
                },
            },
            THROUGH_TLS_ONLY,
            {
                "Sid": "StackAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": TOPIC,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": alarms},
                    "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT},
                },
            },
        ],
    }


def test_scheduler_assumes_the_schedules_role_for_the_stacks_group_only(dev):
    group = f"arn:aws:scheduler:{REGION}:{MOCK_ACCOUNT}:schedule-group/longjobs-dev"
    declared = dev.one("aws:scheduler/scheduleGroup:ScheduleGroup", "schedules-group")
    assert declared.state["arn"] == group
    role = dev.one(ROLE, "schedules-role")
    assert json.loads(role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT},
                    "ArnEquals": {"aws:SourceArn": group},
                },
            }
        ],
    }
