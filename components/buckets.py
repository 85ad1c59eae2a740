"""What every bucket of the stack gets: a name unique in its partition, an ARN known before it
exists, no public access, no ACLs, and a lifecycle that expires what it keeps."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

# Bucket names are the config's rules: it checks a job's statements against them.
from components.config.names import CHECKPOINTS as CHECKPOINTS
from components.config.names import bucket_name as bucket_name
from components.config.names import bucket_name_problem as bucket_name_problem

ABORT_INCOMPLETE_UPLOADS_DAYS = 1
"""A multipart upload not finished within a day is a writer that died mid-save."""


def bucket_arn(partition: str, bucket: str) -> str:
    """S3 ARNs name no region or account: `arn:<partition>:s3:::<bucket>`."""
    return f"arn:{partition}:s3:::{bucket}"


def block_public_access(
    name: str, bucket: pulumi.Input[str], parent: pulumi.Resource
) -> aws.s3.BucketPublicAccessBlock:
    """All four settings on: nothing in the bucket is ever public."""
    return aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def enforce_bucket_owner(
    name: str, bucket: pulumi.Input[str], parent: pulumi.Resource
) -> aws.s3.BucketOwnershipControls:
    """BucketOwnerEnforced: ACLs off, the bucket's account owns every object."""
    return aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def turn_on_versioning(
    name: str, bucket: pulumi.Input[str], parent: pulumi.Resource
) -> aws.s3.BucketVersioning:
    return aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def expire(
    name: str,
    bucket: pulumi.Input[str],
    *,
    rule_id: str,
    days: int,
    noncurrent_days: int,
    versioning: aws.s3.BucketVersioning,
    parent: pulumi.Resource,
) -> aws.s3.BucketLifecycleConfiguration:
    """Every object expires `days` after it was written; what versioning keeps of one that was
    replaced, deleted or expired goes `noncurrent_days` later, and then its delete marker;
    unfinished multipart uploads are aborted."""
    return aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id=rule_id,
                status="Enabled",
                # An empty filter: the rule applies to every object in the bucket.
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
                noncurrent_version_expiration=(
                    aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=noncurrent_days
                    )
                ),
                abort_incomplete_multipart_upload=(
                    aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_INCOMPLETE_UPLOADS_DAYS
                    )
                ),
            ),
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                # What versioning leaves of an expired object: its delete marker alone.
                id="remove-expired-delete-markers",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    expired_object_delete_marker=True
                ),
            ),
        ],
        # S3 applies the noncurrent rules of a bucket whose versioning is on.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]),
    )
