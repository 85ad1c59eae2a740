"""AccessLogBucket: where S3 delivers the server access logs of one of the stack's buckets."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import encryption, policies
from components.buckets import (
    block_public_access,
    bucket_arn,
    bucket_name,
    enforce_bucket_owner,
    expire,
    turn_on_versioning,
)
from components.config.names import ACCESS_LOGS
from components.context import StackContext

KIND = ACCESS_LOGS
"""The bucket's kind, in its name: `<prefix>-access-logs-<account id>-<region>`."""
LOG_DELIVERY = "logging.s3.amazonaws.com"
"""The service principal S3 delivers server access logs as ("Permissions for log delivery",
Amazon S3 User Guide, "Enabling Amazon S3 server access logging")."""
NONCURRENT_LOG_DAYS = 30
"""A log deleted by hand (S3 never overwrites one: each file has a key of its own) can be taken
back for a month, long enough to notice; the lifecycle's own expirations go after as long."""


def delivery_statements(
    context: StackContext, arn: str, source_arn: str, prefix: str
) -> list[policies.Statement]:
    """S3's log delivery may put objects under `prefix` only, for the source bucket of this
    account only (`aws:SourceArn`, `aws:SourceAccount`: the confused-deputy guard the
    "Permissions for log delivery" section gives); no one else may put any object in the
    bucket, so a log in it is one S3 wrote (the Amazon S3 User Guide's bucket policy example
    "Restrict access to only Amazon S3 server access log deliveries")."""
    return [
        {
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": LOG_DELIVERY},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/{prefix}*",
            "Condition": {
                "ArnEquals": {"aws:SourceArn": source_arn},
                "StringEquals": {"aws:SourceAccount": context.account_id},
            },
        },
        {
            "Sid": "OnlyS3ServerAccessLogDelivery",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{arn}/*",
            "Condition": {
                "ForAllValues:StringNotEquals": {"aws:PrincipalServiceNamesList": LOG_DELIVERY}
            },
        },
    ]


@dataclass(frozen=True)
class AccessLogBucketArgs:
    context: StackContext
    """The stack the bucket is named and tagged for."""
    source_arn: str
    """The ARN of the bucket whose server access logs this one receives, and no other's."""
    prefix: str
    """The key prefix S3 writes the source's logs under, ending in `/`."""
    retention_days: int
    """How long a log is kept."""


class AccessLogBucket(pulumi.ComponentResource):
    """`<prefix>-access-logs-<account id>-<region>`: private, owned by the account, versioned,
    SSE-S3, written by S3's log delivery alone, each log kept `retention_days`."""

    bucket: aws.s3.Bucket
    public_access_block: aws.s3.BucketPublicAccessBlock
    ownership_controls: aws.s3.BucketOwnershipControls
    """BucketOwnerEnforced: S3 then grants log delivery by the bucket policy, not by ACLs."""
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    """SSE-S3, whatever the stack's `kms`."""
    versioning: aws.s3.BucketVersioning
    lifecycle: aws.s3.BucketLifecycleConfiguration
    policy: aws.s3.BucketPolicy
    """Log delivery for the source bucket only; every other write refused; TLS only."""

    name: str
    """The bucket's name, known before it exists."""
    arn: str
    """The bucket's ARN, likewise."""

    def __init__(
        self,
        name: str,
        args: AccessLogBucketArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:AccessLogBucket", name, None, opts)
        context = args.context
        self.name = bucket_name(context.prefix, context.account_id, context.region, kind=KIND)
        self.arn = bucket_arn(context.partition, self.name)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=self.name,
            # The logs describe a checkpoint bucket `pulumi destroy` removes too; a log bucket
            # left behind would keep its name, which the stack's next `pulumi up` takes again.
            force_destroy=True,
            tags=context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.public_access_block = block_public_access(name, self.bucket.id, self)
        self.ownership_controls = enforce_bucket_owner(name, self.bucket.id, self)
        self.encryption = self._create_encryption(name)
        self.versioning = turn_on_versioning(name, self.bucket.id, self)
        self.lifecycle = expire(
            name,
            self.bucket.id,
            rule_id="expire-access-logs",
            days=args.retention_days,
            noncurrent_days=NONCURRENT_LOG_DAYS,
            versioning=self.versioning,
            parent=self,
        )
        self.policy = self._create_policy(name, args)
        self.register_outputs({"bucketName": self.bucket.bucket, "bucketArn": self.bucket.arn})

    def _create_encryption(self, name: str) -> aws.s3.BucketServerSideEncryptionConfiguration:
        # SSE-S3 even with the stack's key: the S3 User Guide ("Enabling Amazon S3 server access
        # logging") takes default encryption on a destination bucket only with SSE-S3, and says
        # default SSE-KMS is not supported there; logs S3 cannot deliver are lost unseen.
        return aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[encryption.sse_s3_bucket_rule()],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_policy(self, name: str, args: AccessLogBucketArgs) -> aws.s3.BucketPolicy:
        statements = [
            *delivery_statements(args.context, self.arn, args.source_arn, args.prefix),
            policies.deny_insecure_transport("s3", [self.arn, f"{self.arn}/*"]),
        ]
        return aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=json.dumps(policies.document(statements)),
            # S3 refuses a policy while the public access block is being set ("OperationAborted").
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )
