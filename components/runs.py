"""RunRecords: the DynamoDB table that records every run, from its request to its final state,
and the table's resource-based policy: only the stack's functions read or write its items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import policies
from components.context import StackContext
from longjobs_contract.runs import (
    BY_JOB_INDEX,
    BY_STATUS_INDEX,
    NEWEST_INDEX,
    TO_NOTIFY_INDEX,
    Record,
)

# Partition and sort keys of each index, newest first by `createdAt` (ISO 8601, UTC).
INDEXES = {
    BY_JOB_INDEX: Record.JOB,
    BY_STATUS_INDEX: Record.STATUS,
    NEWEST_INDEX: Record.LIST_KEY,
    # Sparse: only runs whose final state is still to be published carry `notifyDue`.
    TO_NOTIFY_INDEX: Record.NOTIFY_DUE,
}

# Every action that changes an item (Service Authorization Reference, "Actions defined by Amazon
# DynamoDB": the Write actions on a table that touch items). TransactWriteItems and PartiQL's
# ExecuteStatement, BatchExecuteStatement and ExecuteTransaction have no action of their own:
# DynamoDB authorizes each item they write as PutItem, UpdateItem or DeleteItem ("Using IAM with
# DynamoDB transactions") or as PartiQLInsert, PartiQLUpdate or PartiQLDelete ("IAM security
# policies with PartiQL for DynamoDB").
ITEM_WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# And every action that reads one: TransactGetItems is GetItem's, a transaction's ConditionCheck
# is ConditionCheckItem, whose answer tells what an item holds.
ITEM_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:PartiQLSelect",
    "dynamodb:Query",
    "dynamodb:Scan",
)


@dataclass(frozen=True)
class RunRecordsArgs:
    context: StackContext
    """The stack the table is named, tagged and encrypted for."""
    function_role_arns: pulumi.Input[Sequence[str]]
    """The roles of the stack's functions (the trigger's and the supervisor's): the only
    principals that may read or write the table's items."""


class RunRecords(pulumi.ComponentResource):
    """One item per run, kept for `runRetentionDays`, listed by job, by status or all."""

    table: aws.dynamodb.Table
    """`<prefix>-runs`: on-demand billing, point-in-time recovery, encrypted, TTL `expiresAt`."""

    table_name: pulumi.Output[str]
    """The table's name."""
    table_arn: pulumi.Output[str]
    """The table's ARN."""
    arn: str
    """The same ARN, known before the table exists: policies name it at preview."""
    index_arns: list[str]
    """The ARNs of the indexes `list` answers from, for the Query permission."""
    policy: aws.dynamodb.ResourcePolicy
    """The table's resource-based policy: its items are the functions' alone."""

    def __init__(
        self,
        name: str,
        args: RunRecordsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:RunRecords", name, None, opts)
        self.arn = args.context.arn("dynamodb", f"table/{args.context.name('runs')}")
        self.index_arns = [
            f"{self.arn}/index/{index}" for index in INDEXES if index != TO_NOTIFY_INDEX
        ]
        self.table = self._create_table(name, args.context)
        self.table_name = self.table.name
        self.table_arn = self.table.arn
        self.policy = self._create_policy(name, args.function_role_arns)
        self.register_outputs({"tableName": self.table_name, "tableArn": self.table_arn})

    def _create_table(self, name: str, context: StackContext) -> aws.dynamodb.Table:
        keys = sorted({Record.RUN_ID, Record.CREATED_AT, *INDEXES.values()})
        return aws.dynamodb.Table(
            f"{name}-table",
            name=context.name("runs"),
            billing_mode="PAY_PER_REQUEST",
            hash_key=Record.RUN_ID,
            attributes=[aws.dynamodb.TableAttributeArgs(name=key, type="S") for key in keys],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=partition, key_type="HASH"
                        ),
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=Record.CREATED_AT, key_type="RANGE"
                        ),
                    ],
                    projection_type="ALL",
                )
                for index, partition in INDEXES.items()
            ],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            # Without the stack's key, encrypted at rest with a key DynamoDB owns (no KMS charge).
            server_side_encryption=(
                aws.dynamodb.TableServerSideEncryptionArgs(
                    enabled=True, kms_key_arn=context.key_arn
                )
                if context.key_arn
                else None
            ),
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=Record.EXPIRES_AT, enabled=True),
            tags=context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_policy(
        self, name: str, function_role_arns: pulumi.Input[Sequence[str]]
    ) -> aws.dynamodb.ResourcePolicy:
        # `confirm_remove_self_resource_access` stays unset, so that DynamoDB refuses, rather
        # than applies, a policy that would take away the deployer's right to change it
        # (PutResourcePolicy, DynamoDB API Reference).
        return aws.dynamodb.ResourcePolicy(
            f"{name}-policy",
            resource_arn=self.table.arn,
            policy=policies.to_json(self.statements(function_role_arns)),
            opts=pulumi.ResourceOptions(parent=self.table),
        )

    def statements(
        self, function_role_arns: pulumi.Input[Sequence[str]]
    ) -> list[policies.Statement]:
        """Deny every other principal the items: the records hold what callers sent (their
        environment values), and a record written by hand could start or stop work the
        lifecycle never chose. Deny only: the functions' own roles grant them what they use, and
        the deployer keeps every control-plane action (DescribeTable, UpdateTable,
        UpdateTimeToLive, tagging, the policy's own actions, DeleteTable for a destroy), which
        no statement names.

        `aws:PrincipalArn` of a role's session is the role's ARN, path included (IAM User
        Guide, "AWS global condition context keys"). A table's policy covers its indexes, named
        by ARN, `index/*` those made later too ("Using resource-based policies for DynamoDB",
        "DynamoDB resource-based policy examples")."""
        resources = [self.arn, f"{self.arn}/index/*"]
        others = {"ArnNotEquals": {"aws:PrincipalArn": function_role_arns}}
        return [
            {
                "Sid": "OnlyTheFunctionsWriteRuns",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(ITEM_WRITE_ACTIONS),
                "Resource": resources,
                "Condition": others,
            },
            {
                "Sid": "OnlyTheFunctionsReadRuns",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(ITEM_READ_ACTIONS),
                "Resource": resources,
                "Condition": others,
            },
        ]
