"""Rules that span resources, run once over the whole stack: a Lambda function and the config of
its async invocations; a bucket and its public access block; one customer-managed key for all.

During `pulumi up` they run after the resources are created and fail the update; run in preview
(the pull-request check), they stop it first. A resource's `property_dependencies` tell which
resource another one's property came from even when the value is unknown in preview.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from .props import as_list, get, has

FUNCTION = "aws:lambda/function:Function"
EVENT_INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
BUCKET_TYPES = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def of_type(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in types]


def depends_on(resource: PolicyResource, prop: str, other: PolicyResource) -> bool:
    return any(d.urn == other.urn for d in (resource.property_dependencies or {}).get(prop, []))


def function_name(reference: Any) -> tuple[str, str]:
    """A function name, ARN or partial ARN (`123456789012:function:name`), with an optional
    `:qualifier`, as (name, qualifier)."""
    parts = str(reference).split(":")
    if "function" in parts:
        parts = parts[parts.index("function") + 1 :]
    return parts[0], (parts[1] if len(parts) > 1 else "")


def lambda_async_failure_destination(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    """Every function keeps what its async invocations could not process: a dead-letter queue
    of its own, or an on-failure destination in the event invoke config of its unqualified
    version (the one an invocation by bare name uses)."""
    configs = of_type(args.resources, EVENT_INVOKE_CONFIG)
    for function in of_type(args.resources, FUNCTION):
        if has(get(function.props, "deadLetterConfig", {}), "targetArn"):
            continue
        covering = [c for c in configs if _configures(c, function)]
        if any(_has_on_failure(c) for c in covering):
            continue
        name = get(function.props, "name", function.name)
        report_violation(
            f"Function {name!r} drops failed async invocations: set deadLetterConfig.targetArn "
            "to an SQS queue or SNS topic, or declare an aws.lambda_.FunctionEventInvokeConfig "
            "for it with destinationConfig.onFailure.destination.",
            function.urn,
        )


def _configures(config: PolicyResource, function: PolicyResource) -> bool:
    qualifier = str(get(config.props, "qualifier", ""))
    if depends_on(config, "functionName", function):
        named = True
    else:
        name, qualified = function_name(get(config.props, "functionName", ""))
        qualifier = qualifier or qualified
        named = name == get(function.props, "name", None)
    return named and qualifier in ("", "$LATEST")


def _has_on_failure(config: PolicyResource) -> bool:
    on_failure = get(get(config.props, "destinationConfig", {}), "onFailure", {})
    return has(on_failure, "destination")


def s3_public_access_blocked(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every bucket has a public access block with all four settings on (or the stack blocks
    public access for the whole account)."""
    for account_block in of_type(args.resources, ACCOUNT_PUBLIC_ACCESS_BLOCK):
        if not _open_flags(account_block):
            return
    blocks = of_type(args.resources, BUCKET_PUBLIC_ACCESS_BLOCK)
    for bucket in of_type(args.resources, *BUCKET_TYPES):
        name = get(bucket.props, "bucket", bucket.name)
        own = [b for b in blocks if _blocks(b, bucket)]
        if not own:
            report_violation(
                f"Bucket {name!r} does not block public access: declare an "
                "aws.s3.BucketPublicAccessBlock for it with blockPublicAcls, blockPublicPolicy, "
                "ignorePublicAcls and restrictPublicBuckets set to true.",
                bucket.urn,
            )
        elif all(_open_flags(b) for b in own):
            report_violation(
                f"The public access block of bucket {name!r} leaves "
                f"{', '.join(_open_flags(own[0]))} off: set all four settings to true.",
                own[0].urn,
            )


def _blocks(block: PolicyResource, bucket: PolicyResource) -> bool:
    if depends_on(block, "bucket", bucket):
        return True
    name = get(bucket.props, "bucket")
    return name is not None and get(block.props, "bucket") == name


def _open_flags(block: PolicyResource) -> list[str]:
    return [f for f in PUBLIC_ACCESS_FLAGS if get(block.props, f) is not True]


# Where each kind of resource that keeps data names its KMS key, as a path of property names
# (an int: that item of a list).
KEY_PROPERTIES: dict[str, tuple[str | int, ...]] = {
    "aws:cloudwatch/logGroup:LogGroup": ("kmsKeyId",),
    "aws:sqs/queue:Queue": ("kmsMasterKeyId",),
    "aws:sns/topic:Topic": ("kmsMasterKeyId",),
    "aws:dynamodb/table:Table": ("serverSideEncryption", "kmsKeyArn"),
    "aws:ecr/repository:Repository": ("encryptionConfigurations", 0, "kmsKey"),
    "aws:scheduler/schedule:Schedule": ("kmsKeyArn",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "rules",
        0,
        "applyServerSideEncryptionByDefault",
        "kmsMasterKeyId",
    ),  # fmt: skip
    "aws:ecs/cluster:Cluster": (
        "configuration",
        "managedStorageConfiguration",
        "fargateEphemeralStorageKmsKeyId",
    ),  # fmt: skip
}
AWS_MANAGED_ALIAS = "alias/aws/"
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"


def customer_key_everywhere(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Once the stack encrypts anything with a customer-managed key (`kms`), everything that
    keeps data does: a log group, queue, topic, table, repository, bucket, schedule or cluster
    left to its service's own key is the one an audit finds. A bucket of server access logs is
    the exception S3 makes."""
    kept = [
        r
        for r in args.resources
        if r.resource_type in KEY_PROPERTIES and not _receives_access_logs(r, args.resources)
    ]
    keyed = {r.urn: customer_key(r) is not None for r in kept}
    if not any(keyed.values()):
        return
    for resource in kept:
        if not keyed[resource.urn]:
            path = ".".join(str(p) for p in KEY_PROPERTIES[resource.resource_type])
            report_violation(
                f"{resource.resource_type.rsplit(':', 1)[-1]} '{resource.name}' is not encrypted "
                f"with a customer-managed key while the stack's other resources are: set {path} "
                "to the stack's key (the components do when the stack config sets kms).",
                resource.urn,
            )


def _receives_access_logs(resource: PolicyResource, resources: list[PolicyResource]) -> bool:
    """The encryption of a bucket S3 delivers server access logs to, which S3 does only to a
    bucket whose default encryption is SSE-S3, not SSE-KMS (Amazon S3 User Guide, "Enabling
    Amazon S3 server access logging")."""
    if resource.resource_type != BUCKET_ENCRYPTION:
        return False
    return any(
        _same_value(resource, "bucket", logging, "targetBucket")
        for logging in of_type(resources, BUCKET_LOGGING)
    )


def _same_value(one: PolicyResource, prop: str, other: PolicyResource, other_prop: str) -> bool:
    """Whether two properties come from the same resource, or hold the same known value."""
    sources = {d.urn for d in (one.property_dependencies or {}).get(prop, [])}
    if sources & {d.urn for d in (other.property_dependencies or {}).get(other_prop, [])}:
        return True
    try:
        value = get(one.props, prop)
        return value is not None and value == get(other.props, other_prop)
    except UnknownValueError:
        return False


def customer_key(resource: PolicyResource) -> str | None:
    """The customer-managed key the resource names (`*` when unknown in preview), or None."""
    value: Any = resource.props
    for part in KEY_PROPERTIES[resource.resource_type]:
        if isinstance(part, int):
            items = as_list(value)
            if len(items) <= part:
                return None
            value = items[part]
        elif not has(value, part):
            return None
        else:
            try:
                value = value[part]
            except UnknownValueError:
                return "*"
    if isinstance(value, str) and value != "" and not value.startswith(AWS_MANAGED_ALIAS):
        return value
    return None
