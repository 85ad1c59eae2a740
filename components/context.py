"""Where the program runs and how it names things: read once, passed to every component."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.config import MAX_JOB_NAME, ConfigError

# The names built from the prefix, and the longest prefix each leaves room for, given the longest
# job name the config allows. IAM role, Lambda and queue names are Pulumi's auto-names from the
# resource names, and log groups are `/<project>/<stack>/...`: none of them holds the prefix.
PREFIX_LIMITS = {
    "the ECS cluster name (at most 255 characters)": 255,
    "the task definition families, <prefix>-<job> (at most 255)": 255 - 1 - MAX_JOB_NAME,
    "the ECR repositories, <prefix>/<job> (at most 256)": 256 - 1 - MAX_JOB_NAME,
    "the EventBridge Scheduler schedule group name (at most 64)": 64,
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


@dataclass(frozen=True)
class StackContext:
    """The account, region and stack a program run deploys to, and the tags every resource gets."""

    project: str
    stack: str
    account_id: str
    region: str
    partition: str
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def current(cls, tags: dict[str, str]) -> StackContext:
        """The running stack; raise ConfigError, before any lookup, if its names cannot work."""
        project, stack = pulumi.get_project(), pulumi.get_stack()
        problem = prefix_problem(project, stack)
        if problem:
            raise ConfigError([problem])
        return cls(
            project=project,
            stack=stack,
            account_id=aws.get_caller_identity().account_id,
            region=aws.get_region().region,
            partition=aws.get_partition().partition,
            tags={**tags, "longjobs:stack": stack},
        )

    @property
    def prefix(self) -> str:
        """`project-stack`, lowercase, safe in ECS cluster, task family, ECR and Scheduler names."""
        return name_prefix(self.project, self.stack)

    @property
    def cluster_name(self) -> str:
        return self.prefix

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in this account and region. Policies name resources by ARNs derived from the
        names the components give them, so `pulumi preview` shows every statement in full."""
        where = self.region if region else ""
        return f"arn:{self.partition}:{service}:{where}:{self.account_id}:{resource}"

    def log_streams_arn(self, log_group_name: str) -> str:
        return self.arn("logs", f"log-group:{log_group_name}:log-stream:*")

    def tags_for(self, job: str | None = None, extra: dict[str, str] | None = None) -> dict:
        tags = dict(self.tags)
        if job:
            tags["longjobs:job"] = job
        return {**tags, **(extra or {})}
