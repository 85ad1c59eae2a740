"""The policy pack's rules: each with a resource it passes and one it refuses (the whole message
stated), then every rule over every resource the dev stack declares."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from longjobs_contract import control_plane, iam_escalation
from offline.program import ProgramRun, run_program
from policy import ecs, iam, resources, stack
from policy.pack import POLICIES, enforcement_level
from tests.unit.helpers import dev_config
from tools.policy_check import Report, check, resource_args, stack_resource

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCOUNT = "123456789012"
JOB_ROLE = f"arn:aws:iam::{ACCOUNT}:role/longjobs-dev/report-task-role"


def violations(rule: Callable[..., None], resource_type: str, props: dict[str, Any]) -> list[str]:
    """The messages `rule` reports for one resource, given to it as the SDK gives it."""
    found: list[str] = []
    rule(resource_args(resource_type, "r", props), lambda message, urn=None: found.append(message))
    return found


def stack_violations(
    rule: Callable[..., None], stack_resources: list[PolicyResource]
) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    rule(StackValidationArgs(stack_resources), lambda m, urn=None: found.append((m, urn)))
    return found


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


PASSED_TO_ECS = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}


# IAM: wildcard actions


def test_wildcards_pass_named_actions_and_deny_statements():
    props = policy(
        allow(["s3:GetObject", "s3:List*"], "arn:aws:s3:::inputs/*"),
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    )
    assert violations(iam.no_wildcard_actions, ROLE_POLICY, props) == []


def test_wildcards_refuse_star_service_star_and_not_action():
    props = policy(
        allow("*"),
        allow(["s3:GetObject", "s3:*"], Sid="AllOfS3"),
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
    )
    assert violations(iam.no_wildcard_actions, ROLE_POLICY, props) == [
        "Statement 1 allows every action of every service ('*'): list the actions the role needs instead.",
        "Statement 2 (Sid AllOfS3) allows every s3 action ('s3:*'): list the s3 actions the role needs instead.",
        "Statement 3 allows every action but its NotAction: list the actions the role needs in Action instead.",
    ]


def test_wildcards_read_role_inline_policies_and_managed_policy_documents():
    inline = {"inlinePolicies": [{"name": "jobs", **policy(allow("ecs:*"))}]}
    assert violations(iam.no_wildcard_actions, "aws:iam/role:Role", inline) == [
        "Inline policy 'jobs', statement 1 allows every ecs action ('ecs:*'): list the ecs actions the role needs instead."
    ]
    assert violations(iam.no_wildcard_actions, "aws:iam/policy:Policy", policy(allow("*"))) == [
        "Statement 1 allows every action of every service ('*'): list the actions the role needs instead."
    ]


def test_wildcards_report_a_document_that_is_not_json():
    assert violations(iam.no_wildcard_actions, ROLE_POLICY, {"policy": "{nope"}) == [
        "Policy cannot be read as an IAM policy: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1): write valid policy JSON so it can be checked."
    ]


# IAM: iam:PassRole


def test_pass_role_passes_named_roles_passed_to_a_named_service():
    props = policy(allow("iam:PassRole", [JOB_ROLE], Condition=PASSED_TO_ECS))
    assert violations(iam.pass_role_scoped, ROLE_POLICY, props) == []


def test_pass_role_refuses_any_role_and_any_service():
    props = policy(
        allow("iam:PassRole", "*", Sid="PassAnything"),
        allow("iam:Pass*", f"arn:aws:iam::{ACCOUNT}:role/longjobs-dev/*", Condition=PASSED_TO_ECS),
    )
    assert violations(iam.pass_role_scoped, ROLE_POLICY, props) == [
        "Statement 1 (Sid PassAnything) lets iam:PassRole pass any role ('*'): name each role in "
        "Resource (arn:aws:iam::<account>:role/<path>/<name>), no wildcard in the name.",
        'Statement 1 (Sid PassAnything) lets iam:PassRole pass roles to any service: add "Condition": '
        '{"StringEquals": {"iam:PassedToService": "<service>.amazonaws.com"}} naming the service that uses the roles.',
        "Statement 2 lets iam:PassRole pass any role ('arn:aws:iam::123456789012:role/longjobs-dev/*'): "
        "name each role in Resource (arn:aws:iam::<account>:role/<path>/<name>), no wildcard in the name.",
    ]


# IAM: privilege escalation


def test_escalation_passes_the_trigger_s_grants():
    props = policy(
        allow(
            "ecs:RunTask", f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/longjobs-dev-report:*"
        ),
        allow("iam:PassRole", [JOB_ROLE], Condition=PASSED_TO_ECS),
        allow("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"),
        allow("ec2:RunInstances"),  # with PassRole only to ECS: Rhino's method 3 does not apply
        allow("sts:AssumeRole", JOB_ROLE),
    )
    assert violations(iam.no_privilege_escalation, ROLE_POLICY, props) == []


def test_escalation_refuses_catalogue_actions_wildcards_included():
    props = policy(
        allow("iam:PutRolePolicy", JOB_ROLE, Sid="SelfGrant"),
        allow("iam:Attach*Policy", JOB_ROLE),
        allow("lambda:updatefunctioncode", "*"),
    )
    assert violations(iam.no_privilege_escalation, ROLE_POLICY, props) == [
        "Statement 1 (Sid SelfGrant) allows privilege escalation: iam:PutRolePolicy (method 12): "
        "remove these actions; change IAM and function code from a deployment pipeline, not from a workload's role.",
        "Statement 2 allows privilege escalation: iam:AttachUserPolicy (method 7), iam:AttachGroupPolicy (method 8), "
        "iam:AttachRolePolicy (method 9): remove these actions; change IAM and function code from a deployment "
        "pipeline, not from a workload's role.",
        "Statement 3 allows privilege escalation: lambda:UpdateFunctionCode (method 18): remove these actions; "
        "change IAM and function code from a deployment pipeline, not from a workload's role.",
    ]


def test_escalation_refuses_assume_role_on_any_role():
    props = policy(allow("sts:AssumeRole", "*"))
    assert violations(iam.no_privilege_escalation, ROLE_POLICY, props) == [
        "Statement 1 allows sts:AssumeRole on any role: name each role it may assume in Resource "
        "(arn:aws:iam::<account>:role/<path>/<name>)."
    ]


def test_escalation_refuses_pass_role_combined_with_a_service_that_runs_it():
    props = policy(
        allow("iam:PassRole", [JOB_ROLE]),
        allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
    )
    assert violations(iam.no_privilege_escalation, ROLE_POLICY, props) == [
        "Policy allows iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction, privilege escalation "
        "method 15: limit iam:PassedToService to services other than lambda.amazonaws.com, or drop one of them."
    ]


# IAM: administrator managed policies


def test_administrator_policies_pass_a_narrow_managed_policy():
    props = {"policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "role": "r"}
    rule = iam.no_administrator_policies
    assert violations(rule, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", props) == []


def test_administrator_policies_refuse_attachments_and_role_managed_policy_arns():
    attachment = {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess", "role": "r"}
    role = {"managedPolicyArns": ["arn:aws:iam::aws:policy/IAMFullAccess"]}
    rule = iam.no_administrator_policies
    assert violations(rule, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", attachment) == [
        "Attaches the managed policy arn:aws:iam::aws:policy/AdministratorAccess allows every "
        "action on every resource, the stack's own included; name the actions on the job's own "
        "resources in policyStatements instead (for a longjobs job: its policyStatements)."
    ]
    assert violations(rule, "aws:iam/role:Role", role) == [
        "Attaches the managed policy arn:aws:iam::aws:policy/IAMFullAccess changes every role of "
        "the account, the stack's and the jobs' included; name the actions on the job's own "
        "resources in policyStatements instead (for a longjobs job: its policyStatements)."
    ]


@pytest.mark.parametrize("name", sorted(control_plane.MANAGED_POLICIES))
def test_every_managed_policy_that_reaches_the_control_plane_is_refused_by_pack_and_config(name):
    from components.config import ConfigError, parse
    from tests.unit.test_config import with_job

    arn = f"arn:aws:iam::aws:policy/{name}"
    rule = iam.no_administrator_policies
    props = {"policyArn": arn, "role": "r"}
    [found] = violations(rule, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", props)
    assert control_plane.MANAGED_POLICIES[name] in found
    with pytest.raises(ConfigError) as caught:
        parse(with_job(managedPolicyArns=[arn]))
    assert caught.value.problems == [
        f"longjobs:jobs.report.managedPolicyArns: {control_plane.managed_policy_problem(arn)}"
    ]


# ECS task definitions

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"


def task(*containers: dict[str, Any], tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {"containerDefinitions": json.dumps(list(containers)), "tags": tags or {}}


def test_privileged_passes_a_plain_container():
    props = task({"name": "report", "privileged": False})
    assert violations(ecs.no_privileged_containers, TASK_DEFINITION, props) == []


def test_privileged_refuses_a_privileged_container():
    props = task({"name": "report", "privileged": True})
    assert violations(ecs.no_privileged_containers, TASK_DEFINITION, props) == [
        "Container 'report' is privileged: remove privileged: true and add only the Linux "
        "capabilities it needs with linuxParameters.capabilities.add."
    ]


def test_readonly_root_passes_a_readonly_root_or_an_opt_out():
    rule = ecs.readonly_root_filesystem
    readonly = task({"name": "report", "readonlyRootFilesystem": True})
    opted_out = task({"name": "report"}, tags={"longjobs:readonly-root": "opt-out"})
    assert violations(rule, TASK_DEFINITION, readonly) == []
    assert violations(rule, TASK_DEFINITION, opted_out) == []


WRITABLE_ROOT = (
    "Container 'report' can write to its root filesystem: set readonlyRootFilesystem: true and "
    "mount a volume where the job writes (for a longjobs job: list the paths in scratchPaths), or "
    "opt out with the task definition tag longjobs:readonly-root=opt-out (for a longjobs job: "
    "readonlyRootFilesystem: false)."
)


@pytest.mark.parametrize(
    ("container", "tags"),
    [
        ({"name": "report", "readonlyRootFilesystem": False}, {"team": "platform"}),
        ({"name": "report"}, {}),  # ECS's default: writable
        ({"name": "report"}, {"longjobs:readonly-root": "yes"}),  # not the opt-out value
    ],
)
def test_readonly_root_refuses_a_writable_root(container, tags):
    props = task(container, tags=tags)
    assert violations(ecs.readonly_root_filesystem, TASK_DEFINITION, props) == [WRITABLE_ROOT]


def test_every_rule_is_mandatory_the_read_only_root_included():
    assert {p.name: enforcement_level(p) for p in POLICIES} == {
        p.name: EnforcementLevel.MANDATORY for p in POLICIES
    }
    assert "ecs-readonly-root-filesystem" in {p.name for p in POLICIES}


def test_the_opt_out_tag_is_the_one_the_component_writes():
    # One home for the name: the contract's, used by the component and the pack.
    from longjobs_contract import tags

    assert (tags.READONLY_ROOT, tags.READONLY_ROOT_OPT_OUT) == ("longjobs:readonly-root", "opt-out")
    assert ecs.READONLY_ROOT is tags.READONLY_ROOT


NOT_SECRET = [
    ("REPORT_ROWS", "5000"),
    ("MAX_TOKENS", "4096"),
    ("TOKENIZER", "bpe"),
    ("GIT_SHA", "0123456789abcdef0123456789abcdef01234567"),  # 40 hex characters, no upper case
    ("DB_PASSWORD", ""),  # nothing to leak
]
SECRET = [
    ("DB_PASSWORD", "hunter2", "its name says it is a secret"),
    ("GITHUB_TOKEN", "ghp_x", "its name says it is a secret"),
    ("STRIPE_API_KEY", "sk_x", "its name says it is a secret"),
    ("UPSTREAM", "AKIAIOSFODNN7EXAMPLE", "its value looks like an AWS access key id"),
    (
        "UPSTREAM",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "its value looks like an AWS secret access key",
    ),
    ("TLS", "-----BEGIN RSA PRIVATE KEY-----\nMIIB", "its value holds a private key"),
]


@pytest.mark.parametrize(("name", "value"), NOT_SECRET)
def test_secrets_pass_values_that_are_not_secrets(name: str, value: str):
    props = task({"name": "report", "environment": [{"name": name, "value": value}]})
    assert violations(ecs.no_secrets_in_environment, TASK_DEFINITION, props) == []


@pytest.mark.parametrize(("name", "value", "why"), SECRET)
def test_secrets_refuse_secret_names_and_values_without_quoting_them(name, value, why):
    props = task({"name": "report", "environment": [{"name": name, "value": value}]})
    found = violations(ecs.no_secrets_in_environment, TASK_DEFINITION, props)
    assert found == [
        f"Container 'report' sets {name} in plain text and {why}: store it in SSM Parameter Store "
        "or Secrets Manager and pass its ARN in secrets (for a longjobs job: its secrets), not in "
        "environment."
    ]
    assert value.splitlines()[-1] not in found[0]


# Logs, ECR, Lambda function URLs


def test_log_retention_passes_a_period_and_refuses_none_or_zero():
    rule, log_group = resources.log_retention, "aws:cloudwatch/logGroup:LogGroup"
    message = (
        "The log group keeps its events forever: set retentionInDays (for a longjobs job: "
        "logRetentionDays), e.g. 30."
    )
    assert (
        violations(rule, log_group, {"name": "/longjobs/dev/report", "retentionInDays": 30}) == []
    )
    assert violations(rule, log_group, {"name": "/longjobs/dev/report"}) == [message]
    assert violations(rule, log_group, {"retentionInDays": 0}) == [message]


REPOSITORY = "aws:ecr/repository:Repository"
GOOD_REPOSITORY = {
    "imageScanningConfiguration": {"scanOnPush": True},
    "imageTagMutability": "IMMUTABLE",
}


def test_ecr_scan_on_push_passes_and_refuses():
    assert violations(resources.ecr_scan_on_push, REPOSITORY, GOOD_REPOSITORY) == []
    assert violations(resources.ecr_scan_on_push, REPOSITORY, {"name": "r"}) == [
        "The repository does not scan images on push: set imageScanningConfiguration: {scanOnPush: true}."
    ]


def test_ecr_immutable_tags_passes_and_refuses():
    assert violations(resources.ecr_immutable_tags, REPOSITORY, GOOD_REPOSITORY) == []
    assert violations(resources.ecr_immutable_tags, REPOSITORY, {"name": "r"}) == [
        "The repository's tags are MUTABLE: set imageTagMutability: IMMUTABLE so that a tag always "
        "names the image that was scanned and deployed."
    ]


def test_lambda_url_passes_iam_auth_and_refuses_none():
    rule, url = resources.lambda_url_authorized, "aws:lambda/functionUrl:FunctionUrl"
    assert violations(rule, url, {"functionName": "f", "authorizationType": "AWS_IAM"}) == []
    assert violations(rule, url, {"functionName": "f", "authorizationType": "NONE"}) == [
        "The function URL lets anyone on the internet invoke the function (authorizationType: NONE): "
        "set authorizationType: AWS_IAM and sign requests, or put the function behind an API Gateway "
        "route with an authorizer."
    ]


# Lambda async invocations (a stack rule)

FUNCTION = "aws:lambda/function:Function"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:longjobs-dev-trigger-failures"
ON_FAILURE = {"onFailure": {"destination": QUEUE_ARN}}


def test_async_failures_pass_a_dead_letter_queue_or_an_on_failure_destination():
    with_dlq = stack_resource(
        FUNCTION, "a", {"name": "a", "deadLetterConfig": {"targetArn": QUEUE_ARN}}
    )
    by_name = stack_resource(FUNCTION, "b", {"name": "b"})
    by_arn = stack_resource(FUNCTION, "c", {"name": "c"})
    configs = [
        stack_resource(
            INVOKE_CONFIG, "b-async", {"functionName": "b", "destinationConfig": ON_FAILURE}
        ),
        stack_resource(
            INVOKE_CONFIG,
            "c-async",
            {
                "functionName": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:c",
                "destinationConfig": ON_FAILURE,
            },
        ),
    ]
    rule = stack.lambda_async_failure_destination
    assert stack_violations(rule, [with_dlq, by_name, by_arn, *configs]) == []


def test_async_failures_pass_a_config_found_by_dependency_while_its_values_are_unknown():
    function = stack_resource(FUNCTION, "f", {"name": "f"})
    config = stack_resource(
        INVOKE_CONFIG,
        "f-async",
        {
            "functionName": UNKNOWN_STRING_VALUE,
            "destinationConfig": {"onFailure": {"destination": UNKNOWN_STRING_VALUE}},
        },
    )
    config.property_dependencies["functionName"] = [function]
    assert stack_violations(stack.lambda_async_failure_destination, [function, config]) == []


def test_async_failures_refuse_a_function_without_one_or_with_one_for_an_alias_only():
    bare = stack_resource(FUNCTION, "bare", {"name": "longjobs-dev-bare"})
    aliased = stack_resource(FUNCTION, "aliased", {"name": "aliased"})
    alias_config = stack_resource(
        INVOKE_CONFIG,
        "aliased-live",
        {"functionName": "aliased", "qualifier": "live", "destinationConfig": ON_FAILURE},
    )
    found = stack_violations(stack.lambda_async_failure_destination, [bare, aliased, alias_config])
    assert found == [
        (
            "Function 'longjobs-dev-bare' drops failed async invocations: set deadLetterConfig.targetArn to an "
            "SQS queue or SNS topic, or declare an aws.lambda_.FunctionEventInvokeConfig for it with "
            "destinationConfig.onFailure.destination.",
            bare.urn,
        ),
        (
            "Function 'aliased' drops failed async invocations: set deadLetterConfig.targetArn to an "
            "SQS queue or SNS topic, or declare an aws.lambda_.FunctionEventInvokeConfig for it with "
            "destinationConfig.onFailure.destination.",
            aliased.urn,
        ),
    ]


# Queues, topics, tables


def test_sqs_passes_sse_sqs_or_kms_even_unknown_and_refuses_neither():
    rule, queue = resources.sqs_encrypted, "aws:sqs/queue:Queue"
    assert violations(rule, queue, {"sqsManagedSseEnabled": True}) == []
    assert violations(rule, queue, {"kmsMasterKeyId": "alias/aws/sqs"}) == []
    assert violations(rule, queue, {"kmsMasterKeyId": UNKNOWN_STRING_VALUE}) == []
    assert violations(rule, queue, {"sqsManagedSseEnabled": False}) == [
        "The queue is not encrypted at rest: set sqsManagedSseEnabled: true, or kmsMasterKeyId for a KMS key."
    ]


def test_sns_passes_kms_and_refuses_none():
    rule, topic = resources.sns_encrypted, "aws:sns/topic:Topic"
    assert violations(rule, topic, {"kmsMasterKeyId": "alias/aws/sns"}) == []
    assert violations(rule, topic, {"name": "runs"}) == [
        "The topic is not encrypted at rest: set kmsMasterKeyId (alias/aws/sns, or a customer "
        "managed key that the publishers may use)."
    ]


def test_dynamodb_passes_the_default_or_enabled_and_refuses_explicitly_disabled():
    rule, table = resources.dynamodb_encryption, "aws:dynamodb/table:Table"
    assert violations(rule, table, {"name": "runs"}) == []
    assert violations(rule, table, {"serverSideEncryption": {"enabled": True}}) == []
    assert violations(rule, table, {"serverSideEncryption": {"enabled": False}}) == [
        "serverSideEncryption.enabled is false: remove serverSideEncryption to keep the default "
        "encryption with an AWS owned key, or set enabled: true (with kmsKeyArn for a customer managed key)."
    ]


# S3 buckets (a stack rule)

BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ALL_BLOCKED = {
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}


def test_s3_passes_a_bucket_with_its_block_or_an_account_block():
    bucket = stack_resource(
        "aws:s3/bucket:Bucket", "checkpoints", {"bucket": "longjobs-dev-checkpoints"}
    )
    own = stack_resource(
        BLOCK, "checkpoints", {"bucket": "longjobs-dev-checkpoints", **ALL_BLOCKED}
    )
    account = stack_resource(
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", ALL_BLOCKED
    )
    rule = stack.s3_public_access_blocked
    assert stack_violations(rule, [bucket, own]) == []
    assert stack_violations(rule, [bucket, account]) == []


def test_s3_refuses_a_bucket_without_a_block_or_with_one_left_open():
    bare = stack_resource("aws:s3/bucketV2:BucketV2", "bare", {"bucket": "bare"})
    leaky = stack_resource("aws:s3/bucket:Bucket", "leaky", {"bucket": "leaky"})
    open_block = stack_resource(
        BLOCK, "leaky", {"bucket": "leaky", **ALL_BLOCKED, "ignorePublicAcls": False}
    )
    found = stack_violations(stack.s3_public_access_blocked, [bare, leaky, open_block])
    assert found == [
        (
            "Bucket 'bare' does not block public access: declare an aws.s3.BucketPublicAccessBlock for it "
            "with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets set to true.",
            bare.urn,
        ),
        (
            "The public access block of bucket 'leaky' leaves ignorePublicAcls off: set all four settings to true.",
            open_block.urn,
        ),
    ]


# Schedules


def test_schedules_pass_retries_and_a_dead_letter_queue_and_refuse_neither():
    rule, schedule = resources.schedule_retries_and_dead_letters, "aws:scheduler/schedule:Schedule"
    good = {
        "target": {
            "arn": "arn:aws:lambda:us-east-1:123456789012:function:longjobs-dev-trigger",
            "retryPolicy": {"maximumRetryAttempts": 3},
            "deadLetterConfig": {"arn": QUEUE_ARN},
        }
    }
    assert violations(rule, schedule, good) == []
    assert violations(rule, schedule, {"target": {"arn": "arn:aws:lambda:x"}}) == [
        "The schedule's target has no retryPolicy: set target.retryPolicy (maximumRetryAttempts, "
        "maximumEventAgeInSeconds) so that a failed delivery is retried for a bounded time.",
        "The schedule's target has no deadLetterConfig: set target.deadLetterConfig.arn to an SQS "
        "queue so that a firing that could not be delivered is kept, not lost.",
    ]


# Every rule over the dev stack


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return run_program("Pulumi.dev.yaml")


@pytest.fixture(scope="module")
def dev_report(dev: ProgramRun) -> Report:
    return check(dev)


def test_the_dev_stack_violates_no_mandatory_rule(dev_report: Report):
    assert [str(v) for v in dev_report.mandatory] == []


def test_the_dev_stack_has_no_advisory_violation_either(dev_report: Report):
    assert [str(v) for v in dev_report.advisory] == []


def test_a_job_that_opts_out_of_the_read_only_root_passes_the_rule():
    config = dev_config()
    config["longjobs:jobs"]["report"]["readonlyRootFilesystem"] = False
    assert [str(v) for v in check(run_program(config=config)).violations] == []


def test_every_rule_runs_over_every_dev_resource(dev: ProgramRun, dev_report: Report):
    assert dev_report.rules == len(POLICIES) == len({p.name for p in POLICIES})
    assert dev_report.resources == len(dev.resources)


# The catalogue the pack and the stack config share (longjobs_contract.iam_escalation)


def test_the_pack_and_the_config_read_one_catalogue():
    from components.config import models

    assert iam.ESCALATION_ACTIONS is iam_escalation.ESCALATION_ACTIONS
    assert iam.ESCALATION_COMBINATIONS is iam_escalation.ESCALATION_COMBINATIONS
    assert models.iam_escalation is iam_escalation
    assert iam_escalation.IDENTITY_ESCALATION_ACTIONS == (
        "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:CreateAccessKey",
        "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:AttachUserPolicy",
        "iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:PutUserPolicy",
        "iam:PutGroupPolicy", "iam:PutRolePolicy", "iam:AddUserToGroup",
        "iam:UpdateAssumeRolePolicy", "iam:PassRole", "sts:AssumeRole",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("resource", "could"),
    [
        ("*", True),
        ("arn:aws:iam::*:role/*", True),
        (f"arn:aws:iam::{ACCOUNT}:role/longjobs-dev/*", True),  # the job's own role's path
        (f"arn:aws:iam::{ACCOUNT}:role/report-*", True),
        ("arn:aws:iam::*:role/report-helper", True),  # that name in any account: a wildcard
        (f"arn:aws:iam::{ACCOUNT}:role/report-?elper", True),
        (f"arn:aws:iam::{ACCOUNT}:policy/p*", True),
        (f"arn:aws:iam::{ACCOUNT}:user/*", True),
        ("arn:aws-cn:iam::*:group/*", True),
        (f"arn:aws:iam::{ACCOUNT}:*", True),
        (f"arn:aws:iam::{ACCOUNT}:r*", True),
        ("arn:*:iam::*:*", True),
        ("arn:aws:*", True),  # a `*` runs across colons
        ("*:role/*", True),
        (f"arn:aws:iam::{ACCOUNT}:role/report-helper", False),  # named: matches no other
        (JOB_ROLE, False),
        ("arn:aws:s3:::longjobs-dev-report-inputs/*", False),
        ("arn:aws:s3:::*", False),
        ("arn:aws:lambda:*:*:function:*", False),
        (f"arn:aws:iam::{ACCOUNT}:instance-profile/*", False),
        (f"arn:aws:iam::{ACCOUNT}:oidc-provider/*", False),
        ("arn:aws:iam::aws:policy/*", False),  # AWS's managed policies: no account of ours
        ("arn:aws:sts::*:assumed-role/*", False),
    ],
)
def test_which_resource_patterns_could_match_an_identity_of_the_account(resource, could):
    assert iam_escalation.could_match_identity(resource) is could


@pytest.mark.parametrize(
    ("action", "covered"),
    [
        ("iam:PutRolePolicy", ["iam:PutRolePolicy"]),
        ("iam:put*", ["iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:PutRolePolicy"]),
        ("iam:Pass?ole", ["iam:PassRole"]),
        ("sts:Assume*", ["sts:AssumeRole"]),
        ("iam:GetRole", []),
        ("iam:DeleteRolePolicy", []),  # not in the catalogue
        ("lambda:UpdateFunctionCode", []),  # in the catalogue, but not on an IAM identity
    ],
)
def test_which_catalogue_actions_an_action_pattern_covers(action, covered):
    assert iam_escalation.identity_escalations(action) == covered


def test_the_config_keeps_reads_and_escalation_actions_on_named_identities():
    from components.config import parse
    from tests.unit.test_config import dev_values, statement

    values = dev_values()
    # Named, and outside the stack's IAM path: a role the job manages itself (the stack's own
    # roles, the job's task role among them, are out of its reach: test_config_control_plane).
    helper = f"arn:aws:iam::{ACCOUNT}:role/report-helper"
    values["jobs"]["report"]["policyStatements"] = [
        statement(["iam:GetRole", "iam:ListRoles"], "*"),
        statement(["iam:PutRolePolicy", "iam:PassRole", "sts:AssumeRole"], helper),
        statement("iam:PutRolePolicy", "*", effect="Deny"),
    ]
    assert len(parse(values).jobs["report"].policy_statements) == 3


# One customer-managed key


KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_customer_key_passes_a_stack_with_none_and_one_with_it_everywhere():
    without = [
        stack_resource("aws:cloudwatch/logGroup:LogGroup", "logs", {"name": "/a/b"}),
        stack_resource("aws:sns/topic:Topic", "topic", {"kmsMasterKeyId": "alias/aws/sns"}),
        stack_resource("aws:sqs/queue:Queue", "queue", {"sqsManagedSseEnabled": True}),
    ]
    assert stack_violations(stack.customer_key_everywhere, without) == []
    everywhere = [
        stack_resource("aws:cloudwatch/logGroup:LogGroup", "logs", {"kmsKeyId": KEY}),
        stack_resource("aws:sns/topic:Topic", "topic", {"kmsMasterKeyId": KEY}),
        stack_resource(
            "aws:ecr/repository:Repository",
            "repository",
            {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}]},
        ),
        stack_resource(
            "aws:ecs/cluster:Cluster",
            "cluster",
            {
                "configuration": {
                    "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": KEY}
                }
            },
        ),
        # A key the stack creates is unknown in preview: it is named all the same.
        stack_resource("aws:sqs/queue:Queue", "queue", {"kmsMasterKeyId": UNKNOWN_STRING_VALUE}),
    ]
    assert stack_violations(stack.customer_key_everywhere, everywhere) == []


def test_customer_key_refuses_what_is_left_to_its_services_own_key():
    keyed = stack_resource("aws:dynamodb/table:Table", "runs", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY}})  # fmt: skip
    topic = stack_resource("aws:sns/topic:Topic", "topic", {"kmsMasterKeyId": "alias/aws/sns"})
    repository = stack_resource(
        "aws:ecr/repository:Repository",
        "repository",
        {"encryptionConfigurations": [{"encryptionType": "AES256"}]},
    )
    assert stack_violations(stack.customer_key_everywhere, [keyed, topic, repository]) == [
        (
            "Topic 'topic' is not encrypted with a customer-managed key while the stack's other "
            "resources are: set kmsMasterKeyId to the stack's key (the components do when the "
            "stack config sets kms).",
            topic.urn,
        ),
        (
            "Repository 'repository' is not encrypted with a customer-managed key while the "
            "stack's other resources are: set encryptionConfigurations.0.kmsKey to the stack's "
            "key (the components do when the stack config sets kms).",
            repository.urn,
        ),
    ]


BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
SSE_S3 = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}


def test_customer_key_leaves_a_server_access_log_bucket_to_sse_s3_and_no_other():
    """S3 delivers server access logs to a bucket whose default encryption is SSE-S3, not
    SSE-KMS (Amazon S3 User Guide, "Enabling Amazon S3 server access logging")."""
    keyed = stack_resource("aws:sns/topic:Topic", "topic", {"kmsMasterKeyId": KEY})
    logs = stack_resource(BUCKET_ENCRYPTION, "logs-encryption", {"bucket": "logs", **SSE_S3})
    data = stack_resource(BUCKET_ENCRYPTION, "data-encryption", {"bucket": "data", **SSE_S3})
    logging = stack_resource(
        "aws:s3/bucketLogging:BucketLogging",
        "data-logging",
        {"bucket": "data", "targetBucket": "logs", "targetPrefix": "data/"},
    )
    assert stack_violations(stack.customer_key_everywhere, [keyed, logs, data, logging]) == [
        (
            "BucketServerSideEncryptionConfiguration 'data-encryption' is not encrypted with a "
            "customer-managed key while the stack's other resources are: set "
            "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId to the stack's key (the "
            "components do when the stack config sets kms).",
            data.urn,
        )
    ]


def test_customer_key_finds_a_log_bucket_by_dependency_while_names_are_unknown():
    keyed = stack_resource("aws:sns/topic:Topic", "topic", {"kmsMasterKeyId": KEY})
    bucket = stack_resource("aws:s3/bucket:Bucket", "logs", {"bucket": "logs"})
    logs = stack_resource(
        BUCKET_ENCRYPTION, "logs-encryption", {"bucket": UNKNOWN_STRING_VALUE, **SSE_S3}
    )
    logs.property_dependencies["bucket"] = [bucket]
    logging = stack_resource(
        "aws:s3/bucketLogging:BucketLogging",
        "data-logging",
        {"bucket": UNKNOWN_STRING_VALUE, "targetBucket": UNKNOWN_STRING_VALUE},
    )
    logging.property_dependencies["targetBucket"] = [bucket]
    assert stack_violations(stack.customer_key_everywhere, [keyed, bucket, logs, logging]) == []


def test_a_stack_with_kms_passes_every_rule():
    config = dev_config()
    config["longjobs:kms"] = "create"
    report = check(run_program(config=config))
    assert report.violations == []
    assert report.rules == len(POLICIES)
