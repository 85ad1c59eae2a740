"""The stack's name prefix, and whether the names built from it fit AWS's limits."""

from __future__ import annotations

import re

MAX_JOB_NAME = 32
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
