"""Where the program runs and how it names things: read once, passed to every component."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pulumi
import pulumi_aws as aws

from components.config.names import name_prefix
from longjobs_contract import tags as tag_keys


@dataclass(frozen=True)
class StackContext:
    """The account, region and stack a program run deploys to, and the tags every resource gets."""

    project: str
    stack: str
    account_id: str
    region: str
    partition: str
    tags: dict[str, str] = field(default_factory=dict)
    key_arn: pulumi.Input[str] | None = None
    """The customer-managed KMS key every encrypted resource of the stack uses (`kms`), or None
    for each service's own encryption."""

    @classmethod
    def current(cls, tags: dict[str, str]) -> StackContext:
        """The running stack (its names were checked with its config)."""
        project, stack = pulumi.get_project(), pulumi.get_stack()
        return cls(
            project=project,
            stack=stack,
            account_id=aws.get_caller_identity().account_id,
            region=aws.get_region().region,
            partition=aws.get_partition().partition,
            tags={**tags, tag_keys.STACK: stack},
        )

    def with_key(self, key_arn: pulumi.Input[str]) -> StackContext:
        """This context, with the stack's customer-managed key."""
        return replace(self, key_arn=key_arn)

    @property
    def log_group_prefix(self) -> str:
        """`/<project>/<stack>/`: every log group of the stack is named under it."""
        return f"/{self.project}/{self.stack}/"

    @property
    def prefix(self) -> str:
        """`project-stack`, lowercase, safe in ECS cluster, task family, ECR and Scheduler names."""
        return name_prefix(self.project, self.stack)

    @property
    def iam_path(self) -> str:
        """`/<prefix>/`: every role of the stack is under it."""
        return f"/{self.prefix}/"

    def name(self, suffix: str) -> str:
        """`<prefix>-<suffix>`: the name of a stack-wide resource (function, queue, group)."""
        return f"{self.prefix}-{suffix}"

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
        """The stack's tags, then `extra`, then the stack's and the job's own keys, which no
        extra tag may change: IAM conditions and the functions read them."""
        own = {tag_keys.STACK: self.tags[tag_keys.STACK]} if tag_keys.STACK in self.tags else {}
        if job:
            own[tag_keys.JOB] = job
        return {**self.tags, **(extra or {}), **own}
