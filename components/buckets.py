"""What every bucket of the stack gets: a name unique in its partition, an ARN known before it
exists, no public access, no ACLs, and a lifecycle that expires what it keeps."""

from __future__ import annotations

import hashlib
import re

import pulumi
import pulumi_aws as aws

MAX_BUCKET_NAME = 63
"""S3 general purpose bucket names are 3 to 63 characters ("General purpose bucket naming
rules", Amazon S3 User Guide)."""
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# The same rules: no prefix `xn--`, `sthree-` or `amzn-s3-demo-`; no suffix `-s3alias`,
# `--ol-s3`, `.mrap`, `--x-s3` or `--table-s3` (reserved for access points and other buckets).
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_HASH_LENGTH = 8
CHECKPOINTS = "checkpoints"
"""The kind of the checkpoint bucket, the stack's first, in its name."""
ABORT_INCOMPLETE_UPLOADS_DAYS = 1
"""A multipart upload not finished within a day is a writer that died mid-save."""


def bucket_name(prefix: str, account_id: str, region: str, kind: str = CHECKPOINTS) -> str:
    """`<prefix>-<kind>-<account id>-<region>`: the same on every deploy of the stack, and
    unique in its partition, where bucket names are global (two accounts, or one account's
    stacks in two regions, never collide; the stack prefix is unique within an account).

    The prefix may be 53 characters and a region 14, so the whole may pass S3's 63. Then the
    account and region stay whole (they make the name unique) and `<prefix>-<kind>` is cut
    to fit, followed by 8 hex characters of a SHA-256, so that two long prefixes sharing
    their start still name different buckets: `<cut prefix>-<hash>-<account id>-<region>`.
    The checkpoint bucket's hash is of the prefix alone (deployed stacks keep the name they
    have); another kind's is of `<prefix>-<kind>`, as the cut may leave none of the kind.
    """
    tail = f"-{account_id}-{region}"
    name = f"{prefix}-{kind}{tail}"
    if len(name) > MAX_BUCKET_NAME:
        hashed = prefix if kind == CHECKPOINTS else f"{prefix}-{kind}"
        digest = hashlib.sha256(hashed.encode()).hexdigest()[:_HASH_LENGTH]
        room = MAX_BUCKET_NAME - len(tail) - len(digest) - 1
        name = f"{f'{prefix}-{kind}'[:room].rstrip('-')}-{digest}{tail}"
    problem = bucket_name_problem(name)
    if problem:
        raise ValueError(f"the {kind} bucket's name {name!r} {problem}")
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
