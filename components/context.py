"""Where the program runs and how it names things: read once, passed to every component."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


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
        return cls(
            project=pulumi.get_project(),
            stack=pulumi.get_stack(),
            account_id=aws.get_caller_identity().account_id,
            region=aws.get_region().region,
            partition=aws.get_partition().partition,
            tags={**tags, "longjobs:stack": pulumi.get_stack()},
        )

    @property
    def prefix(self) -> str:
        """`project-stack`, lowercase, safe in ECS, ECR, IAM and log group names."""
        return re.sub(r"[^a-z0-9-]+", "-", f"{self.project}-{self.stack}".lower())

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
