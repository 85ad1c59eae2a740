"""CheckpointBucket: the S3 bucket where jobs keep what lets a new attempt resume, not restart."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import encryption, policies
from components.config.models import PLATFORM_TASK_ROLE_SIDS
from components.context import StackContext

MAX_BUCKET_NAME = 63
"""S3 general purpose bucket names are 3 to 63 characters ("General purpose bucket naming
rules", Amazon S3 User Guide)."""
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# The same rules: no prefix `xn--`, `sthree-` or `amzn-s3-demo-`; no suffix `-s3alias`,
# `--ol-s3`, `.mrap`, `--x-s3` or `--table-s3` (reserved for access points and other buckets).
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_HASH_LENGTH = 8
ABORT_INCOMPLETE_UPLOADS_DAYS = 1
NONCURRENT_VERSION_DAYS = 1
"""A multipart upload not finished within a day is an attempt that died mid-save."""


def bucket_name(prefix: str, account_id: str, region: str) -> str:
    """`<prefix>-checkpoints-<account id>-<region>`: the same on every deploy of the stack, and
    unique in its partition, where bucket names are global (two accounts, or one account's
    stacks in two regions, never collide; the stack prefix is unique within an account).

    The prefix may be 53 characters and a region 14, so the whole may pass S3's 63. Then the
    account and region stay whole (they make the name unique) and `<prefix>-checkpoints` is cut
    to fit, followed by 8 hex characters of the SHA-256 of the prefix, so that two long
    prefixes sharing their start still name different buckets:
    `<cut prefix>-<hash>-<account id>-<region>`.
    """
    tail = f"-{account_id}-{region}"
    name = f"{prefix}-checkpoints{tail}"
    if len(name) > MAX_BUCKET_NAME:
        digest = hashlib.sha256(prefix.encode()).hexdigest()[:_HASH_LENGTH]
        room = MAX_BUCKET_NAME - len(tail) - len(digest) - 1
        name = f"{f'{prefix}-checkpoints'[:room].rstrip('-')}-{digest}{tail}"
    problem = bucket_name_problem(name)
    if problem:
        raise ValueError(f"the checkpoint bucket's name {name!r} {problem}")
    return name


def bucket_name_problem(name: str) -> str | None:
    """Why S3 would refuse `name` for a general purpose bucket, or None."""
    if not _BUCKET_NAME.fullmatch(name):
        return (
            "must be 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending "
            "with a letter or digit"
        )
    if ".." in name or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return "must not hold two adjacent dots or look like an IP address"
    reserved = [p for p in _RESERVED_PREFIXES if name.startswith(p)]
    reserved += [s for s in _RESERVED_SUFFIXES if name.endswith(s)]
    if reserved:
        return f"must not start or end with {reserved[0]!r}, which S3 reserves"
    return None


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
