"""CheckpointBucket: the S3 bucket where jobs keep what lets a new attempt resume, not restart."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import encryption, policies
from components.access_logs import AccessLogBucket, AccessLogBucketArgs
from components.buckets import (
    block_public_access,
    bucket_arn,
    bucket_name,
    enforce_bucket_owner,
    expire,
    turn_on_versioning,
)
from components.config.models import PLATFORM_TASK_ROLE_SIDS
from components.context import StackContext

NONCURRENT_VERSION_DAYS = 1
"""A checkpoint a later save replaced, or the expiration removed, is kept a day: long enough to
take back a save that went wrong."""
ACCESS_LOG_PREFIX = "checkpoints/"
"""Where S3 writes the bucket's server access logs in the log bucket."""


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
    access_log_retention_days: int | None = None
    """How long the bucket's server access logs are kept, in a bucket of their own; None: the
    bucket keeps none (`checkpointAccessLogs: false`)."""


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
    access_logs: AccessLogBucket | None
    """The bucket the server access logs go to, unless the stack keeps none."""
    access_logging: aws.s3.BucketLogging | None
    """The bucket's server access logging, into `access_logs` under `checkpoints/`."""

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
        self.public_access_block = block_public_access(name, self.bucket.id, self)
        self.ownership_controls = enforce_bucket_owner(name, self.bucket.id, self)
        self.encryption = self._create_encryption(name)
        self.versioning = turn_on_versioning(name, self.bucket.id, self)
        self.lifecycle = expire(
            name,
            self.bucket.id,
            rule_id="expire-checkpoints",
            days=args.retention_days,
            noncurrent_days=NONCURRENT_VERSION_DAYS,
            versioning=self.versioning,
            parent=self,
        )
        self.policy = self._create_policy(name)
        self.access_logs, self.access_logging = self._create_access_logging(
            name, args.access_log_retention_days
        )
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

    def _create_encryption(self, name: str) -> aws.s3.BucketServerSideEncryptionConfiguration:
        return aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[encryption.bucket_rule(self._context)],
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

    def _create_access_logging(
        self, name: str, retention_days: int | None
    ) -> tuple[AccessLogBucket | None, aws.s3.BucketLogging | None]:
        """Who read, wrote or deleted which checkpoint, request by request: S3 server access
        logs rather than a CloudTrail trail with S3 data events (a trail per stack would take
        one of the five an account may have in a region, and bill each request), delivered to a
        bucket of their own (a bucket logging into itself logs its own deliveries without end).
        """
        if retention_days is None:
            return None, None
        logs = AccessLogBucket(
            f"{name}-access-logs",
            AccessLogBucketArgs(
                context=self._context,
                source_arn=self.arn,
                prefix=ACCESS_LOG_PREFIX,
                retention_days=retention_days,
            ),
            opts=self._child(),
        )
        logging = aws.s3.BucketLogging(
            f"{name}-access-logging",
            bucket=self.bucket.id,
            target_bucket=logs.bucket.id,
            target_prefix=ACCESS_LOG_PREFIX,
            # Keys under <prefix><account>/<region>/<bucket>/<yyyy>/<mm>/<dd>/ by the time of the
            # requests a file holds: a day's logs are one prefix to list, or a partition to query
            # ("Enabling Amazon S3 server access logging", log object key format).
            target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                    partition_date_source="EventTime"
                )
            ),
            # The log bucket's policy lets S3 deliver before logging is turned on.
            opts=self._child(depends_on=[logs.policy]),
        )
        return logs, logging
