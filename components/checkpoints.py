"""CheckpointBucket: the S3 bucket where jobs keep what lets a new attempt resume, not restart."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import encryption, policies
from components.config.models import PLATFORM_TASK_ROLE_SIDS
from components.config.names import bucket_name
from components.context import StackContext

ABORT_INCOMPLETE_UPLOADS_DAYS = 1
NONCURRENT_VERSION_DAYS = 1
"""A multipart upload not finished within a day is an attempt that died mid-save."""


def bucket_arn(partition: str, bucket: str) -> str:
    """S3 ARNs name no region or account: `arn:<partition>:s3:::<bucket>`."""
    return f"arn:{partition}:s3:::{bucket}"


def checkpoint_statements(context: StackContext, bucket: str, job: str) -> list[policies.Statement]:
    """What a job's task role may do in the bucket: read, write and delete objects under
    `<job>/`, and list only keys under it; with the stack's key, use it through S3 for this
    bucket only (with an S3 Bucket Key, the encryption context is the bucket's ARN)."""
    arn = bucket_arn(context.partition, bucket)
    key_use = encryption.key_use_statements(
        context,
        PLATFORM_TASK_ROLE_SIDS[2],
        encryption.PRODUCER_KEY_ACTIONS,
        ["s3"],
        string_equals={"kms:EncryptionContext:aws:s3:arn": arn},
    )
    return [
        {
            "Sid": PLATFORM_TASK_ROLE_SIDS[0],
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"{arn}/{job}/*",
        },
        {
            "Sid": PLATFORM_TASK_ROLE_SIDS[1],
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": arn,
            "Condition": {"StringLike": {"s3:prefix": f"{job}/*"}},
        },
        *key_use,
    ]


@dataclass(frozen=True)
class CheckpointBucketArgs:
    context: StackContext
    """The stack the bucket is named, tagged and encrypted for."""
    retention_days: int
    """How long a checkpoint is kept: the stack's `runRetentionDays`."""


class CheckpointBucket(pulumi.ComponentResource):
    """One bucket per stack; each job writes under `<job>/<run id>/`, kept `runRetentionDays`."""

    bucket: aws.s3.Bucket
    """`<prefix>-checkpoints-<account id>-<region>` (shortened past 63 characters)."""
    public_access_block: aws.s3.BucketPublicAccessBlock
    """All four settings on: nothing in the bucket is ever public."""
    ownership_controls: aws.s3.BucketOwnershipControls
    """BucketOwnerEnforced: ACLs off, the bucket's account owns every object."""
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    """SSE-S3 by default."""
    versioning: aws.s3.BucketVersioning
    """On: a checkpoint overwritten or deleted is kept a day as a noncurrent version."""
    lifecycle: aws.s3.BucketLifecycleConfiguration
    """Objects expire after `runRetentionDays`, noncurrent versions after a day; unfinished
    multipart uploads are aborted."""
    policy: aws.s3.BucketPolicy
    """Denies every request not made over TLS."""

    name: str
    """The bucket's name, known before it exists: task roles and the trigger name it at
    preview."""
    arn: str
    """The bucket's ARN, likewise."""
    bucket_name: pulumi.Output[str]
    """The bucket's name, once it exists: the stack output."""

    def __init__(
        self,
        name: str,
        args: CheckpointBucketArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:CheckpointBucket", name, None, opts)
        self._context = args.context
        self.name = bucket_name(args.context.prefix, args.context.account_id, args.context.region)
        self.arn = bucket_arn(args.context.partition, self.name)
        self.bucket = self._create_bucket(name)
        self.public_access_block = self._create_public_access_block(name)
        self.ownership_controls = self._create_ownership_controls(name)
        self.encryption = self._create_encryption(name)
        self.versioning = self._create_versioning(name)
        self.lifecycle = self._create_lifecycle(name, args.retention_days)
        self.policy = self._create_policy(name)
        self.bucket_name = self.bucket.bucket
        self.register_outputs({"bucketName": self.bucket_name, "bucketArn": self.bucket.arn})

    def _child(self, **options) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **options)

    def _create_bucket(self, name: str) -> aws.s3.Bucket:
        return aws.s3.Bucket(
            f"{name}-bucket",
            bucket=self.name,
            # Checkpoints are scratch state, expired anyway: `pulumi destroy` empties the bucket.
            force_destroy=True,
            tags=self._context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_public_access_block(self, name: str) -> aws.s3.BucketPublicAccessBlock:
        return aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._child(),
        )

    def _create_ownership_controls(self, name: str) -> aws.s3.BucketOwnershipControls:
        return aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=self._child(),
        )

    def _create_encryption(self, name: str) -> aws.s3.BucketServerSideEncryptionConfiguration:
        return aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[encryption.bucket_rule(self._context)],
            opts=self._child(),
        )

    def _create_lifecycle(
        self, name: str, retention_days: int
    ) -> aws.s3.BucketLifecycleConfiguration:
        return aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-checkpoints",
                    status="Enabled",
                    # An empty filter: the rule applies to every object in the bucket.
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=retention_days
                    ),
                    # A checkpoint a later save replaced, or the expiration above removed, is
                    # kept a day: long enough to take back a save that went wrong.
                    noncurrent_version_expiration=(
                        aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=NONCURRENT_VERSION_DAYS
                        )
                    ),
                    abort_incomplete_multipart_upload=(
                        aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=ABORT_INCOMPLETE_UPLOADS_DAYS
                        )
                    ),
                ),
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    # What versioning leaves of an expired checkpoint: its delete marker alone.
                    id="remove-expired-delete-markers",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        expired_object_delete_marker=True
                    ),
                ),
            ],
            # S3 applies the noncurrent rules of a bucket whose versioning is on.
            opts=self._child(depends_on=[self.versioning]),
        )

    def _create_versioning(self, name: str) -> aws.s3.BucketVersioning:
        return aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=self._child(),
        )

    def deny_insecure_transport(self) -> policies.Statement:
        return policies.deny_insecure_transport("s3", [self.arn, f"{self.arn}/*"])

    def _create_policy(self, name: str) -> aws.s3.BucketPolicy:
        return aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=json.dumps(policies.document([self.deny_insecure_transport()])),
            # S3 refuses a policy while the public access block is being set ("OperationAborted").
            opts=self._child(depends_on=[self.public_access_block]),
        )
