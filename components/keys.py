"""StackKey: the customer-managed KMS key a stack makes for itself when its config says
`kms: create`, with the key policy that lets each service of the stack use it, and no other."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import policies
from components.context import StackContext
from components.supervisor import TASK_STATE_CHANGES
from longjobs_contract import alarms as stack_alarms

# Every KMS action that applies to a symmetric encryption key, by name: the account's IAM
# policies decide who may use them (the default key policy's purpose), without a wildcard.
# From the Service Authorization Reference for AWS KMS (actions with the `key` resource type),
# less the ones for asymmetric, HMAC and imported keys, which this key is not.
ACCOUNT_ACTIONS = (
    "kms:CancelKeyDeletion",
    # Alias operations are authorized on the key as well as the alias ("Controlling access to
    # aliases"): without them the stack could not make, rename or remove its own alias.
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
DELETION_WINDOW_DAYS = 30  # the longest KMS allows: time to notice a mistaken destroy


def key_policy(context: StackContext) -> dict[str, Any]:
    """The key policy: the account (through IAM policies), then each AWS service that uses the
    key on the stack's behalf, each limited to this stack's resources by the condition its
    documentation gives."""
    ctx = context
    return policies.document(
        [
            {
                "Sid": "AccountThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{ctx.partition}:iam::{ctx.account_id}:root"},
                "Action": list(ACCOUNT_ACTIONS),
                "Resource": "*",
            },
            *service_statements(ctx),
        ]
    )


def service_statements(context: StackContext) -> list[policies.Statement]:
    """The statements a key needs for the services of this stack: the whole policy of a key the
    stack creates, less the account's statement; what the policy of a key the config names
    must hold."""
    ctx = context
    cluster_context = {
        "kms:EncryptionContext:aws:ecs:clusterAccount": ctx.account_id,
        "kms:EncryptionContext:aws:ecs:clusterName": ctx.cluster_name,
    }
    # In a key policy, "Resource": "*" means this key (AWS KMS key policies documentation).
    return [
        {
            "Sid": "CloudWatchLogs",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{ctx.region}.amazonaws.com"},
            # The CloudWatch Logs guide's statement grants kms:Describe* under the same
            # condition too; DescribeKey carries no encryption context, so it never matched.
            "Action": [
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            ],
            "Resource": "*",
            # An encryption context key is a String condition key (AWS KMS condition keys).
            "Condition": {
                "StringLike": {
                    "kms:EncryptionContext:aws:logs:arn": ctx.arn(
                        "logs", f"log-group:{ctx.log_group_prefix}*"
                    )
                }
            },
        },
        {
            "Sid": "FargateEphemeralStorage",
            "Effect": "Allow",
            "Principal": {"Service": "fargate.amazonaws.com"},
            "Action": "kms:GenerateDataKeyWithoutPlaintext",
            "Resource": "*",
            "Condition": {"StringEquals": cluster_context},
        },
        {
            "Sid": "FargateEphemeralStorageGrant",
            "Effect": "Allow",
            "Principal": {"Service": "fargate.amazonaws.com"},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {
                "StringEquals": cluster_context,
                "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]},
            },
        },
        {
            # The task state change rule sends what it cannot deliver to an encrypted queue.
            "Sid": "EventBridgeDeadLetters",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
                "ArnEquals": {
                    "aws:SourceArn": ctx.arn("events", f"rule/{ctx.name(TASK_STATE_CHANGES)}")
                },
            },
        },
        {
            # The stack's alarms publish to its encrypted notifications topic.
            "Sid": "CloudWatchAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
                "ArnEquals": {
                    "aws:SourceArn": [
                        ctx.arn("cloudwatch", f"alarm:{alarm}")
                        for alarm in stack_alarms.names(ctx.prefix)
                    ]
                },
            },
        },
    ]


@dataclass(frozen=True)
class StackKeyArgs:
    context: StackContext
    """The stack the key is for: its policy names the stack's services and resources."""


class StackKey(pulumi.ComponentResource):
    """`alias/<prefix>`: a symmetric key with yearly rotation, for everything the stack keeps."""

    key: aws.kms.Key
    """The key, with the policy `key_policy` builds."""
    alias: aws.kms.Alias
    """`alias/<prefix>`, to find the key by the stack's name."""

    arn: pulumi.Output[str]
    """The key's ARN."""

    def __init__(self, name: str, args: StackKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("longjobs:index:StackKey", name, None, opts)
        self.key = self._create_key(name, args.context)
        self.alias = self._create_alias(name, args.context)
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn})

    def _create_key(self, name: str, context: StackContext) -> aws.kms.Key:
        return aws.kms.Key(
            f"{name}-key",
            description=f"longjobs {context.prefix}: logs, images, queues, topic, runs, "
            "checkpoints, schedules, task storage",
            enable_key_rotation=True,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=json.dumps(key_policy(context)),
            tags=context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_alias(self, name: str, context: StackContext) -> aws.kms.Alias:
        return aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{context.prefix}",
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
