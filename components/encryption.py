"""How each kind of resource is encrypted at rest: with the stack's customer-managed key when the
config sets `kms`, else with the service's own key. One place, so that no resource is missed."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws

from components import policies
from components.context import StackContext


def queue(context: StackContext) -> dict[str, Any]:
    """An SQS queue's encryption arguments: the stack's key, or SQS-managed SSE."""
    if context.key_arn:
        # A data key is reused for 5 minutes (SQS's default): fewer KMS calls, same protection.
        return {"kms_master_key_id": context.key_arn, "kms_data_key_reuse_period_seconds": 300}
    return {"sqs_managed_sse_enabled": True}


def repository(context: StackContext) -> aws.ecr.RepositoryEncryptionConfigurationArgs:
    """An ECR repository's encryption: KMS with the stack's key, or AES256 (ECR's own)."""
    if context.key_arn:
        return aws.ecr.RepositoryEncryptionConfigurationArgs(
            encryption_type="KMS", kms_key=context.key_arn
        )
    return aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")


def bucket_rule(
    context: StackContext,
) -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgs:
    """A bucket's default encryption: SSE-KMS with the stack's key and an S3 Bucket Key (one KMS
    call per bucket key instead of per object), or SSE-S3 (AES256, no KMS charge)."""
    by_default = (
        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
    )
    if context.key_arn:
        return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=by_default(
                sse_algorithm="aws:kms", kms_master_key_id=context.key_arn
            ),
            bucket_key_enabled=True,
        )
    return sse_s3_bucket_rule()


def sse_s3_bucket_rule() -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgs:
    """SSE-S3: AES256 with keys S3 manages, at no KMS charge."""
    by_default = (
        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
    )
    return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=by_default(sse_algorithm="AES256")
    )


# DynamoDB calls KMS for a table's key on behalf of the principal reading or writing the table
# (through the `kms:ViaService` statement of its own AWS managed key's policy), so each role
# that uses the runs table may use the key through DynamoDB.
TABLE_KEY_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
# What a producer needs to send to an encrypted queue or publish to an encrypted topic (the SQS
# and SNS key management documentation).
PRODUCER_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


def via_service(service: str, region: str) -> str:
    """The `kms:ViaService` value of a service in a region (AWS KMS condition keys)."""
    return f"{service}.{region}.amazonaws.com"


def key_use_statements(
    context: StackContext,
    sid: str,
    actions: list[str],
    services: list[str],
    *,
    string_equals: dict[str, Any] | None = None,
    string_like: dict[str, Any] | None = None,
) -> list[policies.Statement]:
    """A role's use of the stack's key, only through `services` (kms:ViaService) and on the
    further conditions given; none without a key."""
    if not context.key_arn:
        return []
    condition: dict[str, dict[str, Any]] = {
        "StringEquals": {
            "kms:ViaService": sorted(via_service(s, context.region) for s in services),
            **(string_equals or {}),
        }
    }
    if string_like:
        condition["StringLike"] = string_like
    return [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": context.key_arn,
            "Condition": condition,
        }
    ]
