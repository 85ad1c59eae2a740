"""The stack's name prefix, whether the names built from it fit AWS's limits, and the
checkpoint bucket's name, which is built from it too."""

from __future__ import annotations

import hashlib
import re

# The contract's, which the functions hold job names to as well.
from longjobs_contract.jobs import MAX_JOB_NAME as MAX_JOB_NAME

# The names built from the prefix, and the longest prefix each leaves room for, given the longest
# job name the config allows.
PREFIX_LIMITS = {
    "the ECS cluster name (at most 255 characters)": 255,
    "the task definition families, <prefix>-<job> (at most 255)": 255 - 1 - MAX_JOB_NAME,
    "the ECR repositories, <prefix>/<job> (at most 256)": 256 - 1 - MAX_JOB_NAME,
    "the EventBridge Scheduler schedule group name (at most 64)": 64,
    # The stack's functions are <prefix>-trigger and <prefix>-supervisor.
    "the Lambda function names, <prefix>-supervisor (at most 64)": 64 - len("-supervisor"),
    "the SQS queue names, <prefix>-schedules-dead-letters (at most 80)": 80
    - len("-schedules-dead-letters"),
    "the EventBridge rule names, <prefix>-task-state-changes (at most 64)": 64
    - len("-task-state-changes"),
}
MAX_PREFIX = min(PREFIX_LIMITS.values())


def name_prefix(project: str, stack: str) -> str:
    """`project-stack` lowercased; every run of other characters becomes one hyphen, none at
    either end (ECR refuses a repository name part that starts or ends with one)."""
    return re.sub(r"[^a-z0-9]+", "-", f"{project}-{stack}".lower()).strip("-")


def prefix_problem(project: str, stack: str) -> str | None:
    """Why the names built from this project and stack would be refused by AWS, or None."""
    prefix = name_prefix(project, stack)
    if len(prefix) <= MAX_PREFIX:
        return None
    binding = min(PREFIX_LIMITS, key=PREFIX_LIMITS.__getitem__)
    return (
        f"stack {stack!r} of project {project!r}: the name prefix {prefix!r} is {len(prefix)} "
        f"characters; allowed: at most {MAX_PREFIX}, because it names {binding}; use a shorter "
        "stack name"
    )


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
ACCESS_LOGS = "access-logs"
"""The kind of the bucket the checkpoint bucket's server access logs go to."""


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
