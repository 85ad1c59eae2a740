"""RunRecords: the DynamoDB table that records every run, from its request to its final state."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

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


@dataclass(frozen=True)
class RunRecordsArgs:
    context: StackContext
    """The stack the table is named, tagged and encrypted for."""


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
