"""The pack's rules on who may reach what the stack keeps (policy/access.py): each with what it
passes and what it refuses, the whole message stated."""

from __future__ import annotations

import json
from typing import Any

from policy import access
from tests.policy.test_rules import stack_violations, violations
from tools.policy_check import stack_resource

ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/runs"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:notices"
TRIGGER = f"arn:aws:iam::{ACCOUNT}:role/longjobs-dev/trigger-role-1234567"
SUPERVISOR = f"arn:aws:iam::{ACCOUNT}:role/longjobs-dev/supervisor-role-1234567"
GROUP = f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/longjobs-dev"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deny_to_others(actions: Any, resources: Any, *roles: str, **more: Any) -> dict[str, Any]:
    return {
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": resources,
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": list(roles)}, **more},
    }


TABLE = stack_resource(
    access.TABLE,
    "runs-table",
    {"name": "runs", "arn": TABLE_ARN, "globalSecondaryIndexes": [{"name": "byJob"}]},
)
ITEMS_TO_THE_FUNCTIONS = deny_to_others(
    [*access.ITEM_WRITES, *access.ITEM_READS],
    [TABLE_ARN, f"{TABLE_ARN}/index/*"],
    TRIGGER,
    SUPERVISOR,
)


def table_policy(*statements: dict[str, Any]) -> Any:
    return stack_resource(
        access.TABLE_POLICY,
        "runs-policy",
        {"resourceArn": TABLE_ARN, "policy": document(*statements)},
    )


# The runs table's items


def test_items_pass_a_deny_to_all_but_named_roles_on_the_table_and_its_indexes():
    rule = access.dynamodb_items_only_named_roles
    assert stack_violations(rule, [TABLE, table_policy(ITEMS_TO_THE_FUNCTIONS)]) == []
    # Split in two statements, wildcard actions, each index by name: the same.
    split = [
        deny_to_others("dynamodb:*Item", TABLE_ARN, TRIGGER),
        deny_to_others(
            ["dynamodb:PartiQL*", "dynamodb:Query", "dynamodb:Scan"],
            [TABLE_ARN, f"{TABLE_ARN}/index/byJob"],
            TRIGGER,
        ),
    ]
    assert stack_violations(rule, [TABLE, table_policy(*split)]) == []


def test_items_refuse_a_table_without_a_policy():
    assert stack_violations(access.dynamodb_items_only_named_roles, [TABLE]) == [
        (
            "Table 'runs' has no resource-based policy: declare an aws.dynamodb.ResourcePolicy "
            "for it that denies reading and writing its items to every principal "
            '("Principal": "*") but the roles that use them, named by ArnNotEquals '
            "aws:PrincipalArn.",
            TABLE.urn,
        )
    ]


def test_items_refuse_what_is_left_open_an_index_a_pattern_of_roles_or_another_condition():
    rule = access.dynamodb_items_only_named_roles
    on_the_table_only = deny_to_others(
        [*access.ITEM_WRITES, *access.ITEM_READS], TABLE_ARN, TRIGGER
    )
    policy = table_policy(on_the_table_only)
    assert stack_violations(rule, [TABLE, policy]) == [
        (
            "The resource-based policy of table 'runs' leaves to any principal whose own "
            f"policies allow it on {TABLE_ARN}/index/byJob: {', '.join(access.INDEX_READS)}. "
            'Deny these to every principal ("Principal": "*") on the table and '
            "`<table ARN>/index/*`, but the roles that use the items, named one by one by "
            "ArnNotEquals aws:PrincipalArn.",
            policy.urn,
        )
    ]
    # Any role of the account, or every principal outside one network, is exempt too: neither
    # statement counts.
    any_role = deny_to_others(
        [*access.ITEM_WRITES, *access.ITEM_READS],
        [TABLE_ARN, f"{TABLE_ARN}/index/*"],
        f"arn:aws:iam::{ACCOUNT}:role/*",
    )
    inside_only = deny_to_others(
        [*access.ITEM_WRITES, *access.ITEM_READS],
        [TABLE_ARN, f"{TABLE_ARN}/index/*"],
        TRIGGER,
        NotIpAddress={"aws:SourceIp": "10.0.0.0/8"},
    )
    policy = table_policy(any_role, inside_only)
    [(message, _)] = stack_violations(rule, [TABLE, policy])
    assert message.startswith(
        "The resource-based policy of table 'runs' leaves to any principal whose own policies "
        f"allow it on {TABLE_ARN}: {', '.join(access.ITEM_WRITES + access.ITEM_READS)}; "
        f"on {TABLE_ARN}/index/byJob: {', '.join(access.INDEX_READS)}. "
    )


def test_the_policy_passes_item_denies_and_refuses_locking_out_its_owner():
    rule = access.dynamodb_policy_keeps_its_owner
    ours = {"resourceArn": TABLE_ARN, "policy": document(ITEMS_TO_THE_FUNCTIONS)}
    assert violations(rule, access.TABLE_POLICY, ours) == []
    everything = deny_to_others("dynamodb:*", TABLE_ARN, TRIGGER)
    locking = {
        "resourceArn": TABLE_ARN,
        "policy": document(everything),
        "confirmRemoveSelfResourceAccess": True,
    }
    assert violations(rule, access.TABLE_POLICY, locking) == [
        "confirmRemoveSelfResourceAccess is true: DynamoDB would apply a policy that takes away "
        "the deployer's right to change it. Leave it unset, so that DynamoDB refuses such a "
        "policy.",
        "Statement 1 denies dynamodb:PutResourcePolicy, dynamodb:DeleteResourcePolicy: the "
        "deployer could no longer change or remove the policy (only the account's root user "
        "could still delete it). Deny the item actions only.",
    ]


# The notifications topic


TOPIC = stack_resource(access.TOPIC, "notifications-topic", {"name": "notices", "arn": TOPIC_ARN})
OTHERS_MAY_NOT_PUBLISH = deny_to_others("sns:Publish", TOPIC_ARN, SUPERVISOR)
NOT_WITHOUT_TLS = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Resource": TOPIC_ARN,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def topic_policy(*statements: dict[str, Any]) -> Any:
    return stack_resource(
        access.TOPIC_POLICY, "notices-policy", {"arn": TOPIC_ARN, "policy": document(*statements)}
    )


def test_topics_pass_publishers_by_name_tls_only_and_a_service_held_to_its_sources():
    alarms = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": TOPIC_ARN,
        "Condition": {
            "ArnEquals": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:a"},
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        },
    }
    exempting_alarms = deny_to_others(
        "sns:Publish",
        TOPIC_ARN,
        SUPERVISOR,
        StringNotEquals={"aws:PrincipalServiceName": "cloudwatch.amazonaws.com"},
    )
    rule = access.sns_publish_only_named_principals
    policy = topic_policy(OTHERS_MAY_NOT_PUBLISH, NOT_WITHOUT_TLS)
    assert stack_violations(rule, [TOPIC, policy]) == []
    policy = topic_policy(exempting_alarms, NOT_WITHOUT_TLS, alarms)
    assert stack_violations(rule, [TOPIC, policy]) == []


def test_topics_refuse_the_default_policy():
    assert stack_violations(access.sns_publish_only_named_principals, [TOPIC]) == [
        (
            "Topic 'notices' has only SNS's default policy, under which any principal of the "
            "account whose IAM policies allow sns:Publish may publish: declare an "
            "aws.sns.TopicPolicy for it that denies sns:Publish to every principal "
            '("Principal": "*") but the roles that publish (ArnNotEquals aws:PrincipalArn) '
            "and without TLS (Bool aws:SecureTransport false).",
            TOPIC.urn,
        )
    ]


def test_topics_refuse_publish_without_tls_by_anyone_or_by_a_service_for_anyone():
    unheld = {
        "Sid": "Alarms",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": TOPIC_ARN,
    }
    policy = topic_policy(unheld)
    assert stack_violations(access.sns_publish_only_named_principals, [TOPIC, policy]) == [
        (
            "The policy of topic 'notices' lets sns:Publish through without TLS: add a Deny of "
            "sns:Publish to every principal on the condition Bool aws:SecureTransport false.",
            policy.urn,
        ),
        (
            "The policy of topic 'notices' lets any principal whose own policies allow it "
            'publish: add a Deny of sns:Publish to every principal ("Principal": "*") but the '
            "roles that publish, named one by one by ArnNotEquals aws:PrincipalArn.",
            policy.urn,
        ),
        (
            "The policy of topic 'notices' lets cloudwatch.amazonaws.com act for any resource "
            "of any account (Statement 1 (Sid Alarms)): add aws:SourceArn and "
            "aws:SourceAccount conditions.",
            policy.urn,
        ),
    ]


# The schedules' role


def scheduler_trust(condition: dict[str, Any] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "scheduler.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"assumeRolePolicy": document(statement)}


def test_scheduler_roles_pass_their_group_and_account_and_other_roles_pass_as_they_are():
    rule = access.scheduler_role_trusts_its_group
    ours = {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnEquals": {"aws:SourceArn": GROUP}}
    assert violations(rule, access.ROLE, scheduler_trust(ours)) == []
    lambda_role = document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    assert violations(rule, access.ROLE, {"assumeRolePolicy": lambda_role}) == []


def test_scheduler_roles_refuse_no_group_or_a_schedule_in_place_of_the_group():
    rule = access.scheduler_role_trusts_its_group
    account_only = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert violations(rule, access.ROLE, scheduler_trust(account_only)) == [
        "Trust policy, statement 1 lets EventBridge Scheduler assume the role with no "
        "aws:SourceArn condition: add StringEquals aws:SourceAccount (the account) and ArnEquals "
        "aws:SourceArn (the schedule group's ARN, "
        "arn:<partition>:scheduler:<region>:<account>:schedule-group/<group>).",
    ]
    assert violations(rule, access.ROLE, scheduler_trust(None)) == [
        "Trust policy, statement 1 lets EventBridge Scheduler assume the role with no "
        "aws:SourceAccount and no aws:SourceArn condition: add StringEquals aws:SourceAccount "
        "(the account) and ArnEquals aws:SourceArn (the schedule group's ARN, "
        "arn:<partition>:scheduler:<region>:<account>:schedule-group/<group>).",
    ]
    schedules = f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/longjobs-dev/*"
    by_schedule = {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": schedules},
    }
    assert violations(rule, access.ROLE, scheduler_trust(by_schedule)) == [
        f"Trust policy, statement 1 names {schedules} in aws:SourceArn: Scheduler assumes the "
        "role for a schedule group, so name the group's ARN "
        "(arn:<partition>:scheduler:<region>:<account>:schedule-group/<group>), not a "
        "schedule's or a name prefix.",
    ]
