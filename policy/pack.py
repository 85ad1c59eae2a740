"""The pack's policies: each rule with its name, what it asks for and its enforcement level.

Every level can be changed per stack without touching this file: `pulumi preview --policy-pack
policy --policy-pack-config levels.json` with, for example,
`{"ecs-no-secrets-in-environment": "advisory"}` (or `"all": "advisory"` for every policy).
`python -m tools.policy_check --policy-pack-config levels.json` reads the same file.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from . import access, control_plane, ecs, iam, resources, stack

PACK_NAME = "longjobs-guardrails"
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY
"""The level of every policy that does not set its own."""

POLICIES: list[Policy] = [
    ResourceValidationPolicy(
        name="iam-no-wildcard-actions",
        description="IAM policies allow no '*' or 'service:*' action, nor every action but some.",
        validate=iam.no_wildcard_actions,
    ),
    ResourceValidationPolicy(
        name="iam-pass-role-scoped",
        description="iam:PassRole names its roles and the service they are passed to.",
        validate=iam.pass_role_scoped,
    ),
    ResourceValidationPolicy(
        name="iam-no-privilege-escalation",
        description="IAM policies grant none of Rhino Security Labs' privilege-escalation methods.",
        validate=iam.no_privilege_escalation,
    ),
    StackValidationPolicy(
        name="iam-task-roles-stay-in-their-job",
        description="Roles of ECS tasks reach none of the stack's own resources, nor another "
        "job's checkpoints or logs.",
        validate=control_plane.task_roles_stay_in_their_job,
    ),
    ResourceValidationPolicy(
        name="iam-no-administrator-policies",
        description="No AWS managed policy whose grants reach the stack's own resources "
        "(AdministratorAccess, AmazonECS_FullAccess, ...) is attached.",
        validate=iam.no_administrator_policies,
    ),
    ResourceValidationPolicy(
        name="ecs-no-privileged-containers",
        description="ECS containers are not privileged.",
        validate=ecs.no_privileged_containers,
    ),
    ResourceValidationPolicy(
        name="ecs-readonly-root-filesystem",
        description="ECS containers have a read-only root filesystem unless the job opted out.",
        validate=ecs.readonly_root_filesystem,
    ),
    ResourceValidationPolicy(
        name="ecs-no-secrets-in-environment",
        description="ECS container environments hold no secrets; those go in secrets.",
        validate=ecs.no_secrets_in_environment,
    ),
    ResourceValidationPolicy(
        name="logs-retention-set",
        description="CloudWatch log groups have a retention period.",
        validate=resources.log_retention,
    ),
    ResourceValidationPolicy(
        name="ecr-scan-on-push",
        description="ECR repositories scan images on push.",
        validate=resources.ecr_scan_on_push,
    ),
    ResourceValidationPolicy(
        name="ecr-immutable-tags",
        description="ECR repositories have immutable tags.",
        validate=resources.ecr_immutable_tags,
    ),
    ResourceValidationPolicy(
        name="lambda-url-authorized",
        description="Lambda function URLs require IAM authorization.",
        validate=resources.lambda_url_authorized,
    ),
    StackValidationPolicy(
        name="lambda-async-failure-destination",
        description="Lambda functions keep failed async invocations (a DLQ or on-failure).",
        validate=stack.lambda_async_failure_destination,
    ),
    ResourceValidationPolicy(
        name="sqs-encrypted",
        description="SQS queues are encrypted at rest.",
        validate=resources.sqs_encrypted,
    ),
    ResourceValidationPolicy(
        name="sns-encrypted",
        description="SNS topics are encrypted with KMS.",
        validate=resources.sns_encrypted,
    ),
    ResourceValidationPolicy(
        name="dynamodb-encryption-not-disabled",
        description="DynamoDB tables do not declare server-side encryption disabled.",
        validate=resources.dynamodb_encryption,
    ),
    StackValidationPolicy(
        name="s3-public-access-blocked",
        description="S3 buckets block public access.",
        validate=stack.s3_public_access_blocked,
    ),
    StackValidationPolicy(
        name="kms-customer-key-everywhere",
        description="With a customer-managed key, all that keeps data is encrypted with one.",
        validate=stack.customer_key_everywhere,
    ),
    ResourceValidationPolicy(
        name="scheduler-retries-and-dead-letters",
        description="EventBridge Scheduler targets retry and keep what they could not deliver.",
        validate=resources.schedule_retries_and_dead_letters,
    ),
    StackValidationPolicy(
        name="dynamodb-items-only-named-roles",
        description="DynamoDB tables deny their items, read or written, to all but named roles.",
        validate=access.dynamodb_items_only_named_roles,
    ),
    ResourceValidationPolicy(
        name="dynamodb-policy-keeps-its-owner",
        description="A DynamoDB resource policy never takes the deployer's right to change it.",
        validate=access.dynamodb_policy_keeps_its_owner,
    ),
    StackValidationPolicy(
        name="sns-publish-only-named-principals",
        description="SNS topics deny Publish without TLS and to all but named publishers.",
        validate=access.sns_publish_only_named_principals,
    ),
    ResourceValidationPolicy(
        name="scheduler-role-trusts-its-group",
        description="A role Scheduler assumes names its schedule group and account.",
        validate=access.scheduler_role_trusts_its_group,
    ),
]


def enforcement_level(policy: Policy) -> EnforcementLevel:
    """The level the pack gives `policy` before any policy pack config."""
    return policy.enforcement_level or PACK_ENFORCEMENT_LEVEL
