"""IAM policy documents, built as plain data so tests and the plan can read every statement."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from longjobs_contract import tags as tag_keys

Statement = dict[str, Any]


def document(statements: list[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def assume_role(service: str, conditions: dict[str, Any] | None = None) -> str:
    """A trust policy letting one AWS service assume the role, optionally only for this account."""
    statement: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if conditions:
        statement["Condition"] = conditions
    return json.dumps(document([statement]))


def to_json(statements: pulumi.Input[list[Statement]]) -> pulumi.Output[str]:
    """Serialise statements that may hold Outputs (ARNs of resources not created yet)."""
    return pulumi.Output.json_dumps(pulumi.Output.from_input(statements).apply(document))


def role_with_policy(
    name: str,
    *,
    description: str,
    trust: str,
    statements: pulumi.Input[list[Statement]] | None,
    path: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy | None]:
    """A role `<name>-role` and its inline policy `<name>-policy` (none without statements).

    `path` puts the role under the stack's IAM path (`/<prefix>/`), where
    `aws iam list-roles --path-prefix` finds it. The policy is the role's child, so
    `pulumi preview` shows it under the role; a resource that needs the permissions before it
    can work depends on the policy, not only the role.
    """
    role = aws.iam.Role(
        f"{name}-role",
        description=description,
        assume_role_policy=trust,
        path=path,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    policy = None
    if statements is not None:
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=to_json(statements),
            opts=pulumi.ResourceOptions(parent=role),
        )
    return role, policy


def created(policy: aws.iam.RolePolicy | None) -> list[pulumi.Resource]:
    """`depends_on` for a resource that needs a role's permissions before it can work."""
    return [policy] if policy is not None else []


def deny_insecure_transport(service: str, resources: pulumi.Input[str] | list[Any]) -> Statement:
    """Refuse every request to `resources` not made over TLS (`aws:SecureTransport`)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": f"{service}:*",
        "Resource": resources,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def run_tasks_statement(
    context: StackContext, actions: tuple[str, ...] = ("ecs:DescribeTasks", "ecs:StopTask")
) -> Statement:
    """`actions` on the tasks of runs only: tasks of the stack's cluster that RunTask tagged with
    a run id, over this stack's tag (a job's service starts tasks with the stack's tag but no run
    id, and those are the service's to stop). `aws:ResourceTag` is a condition key of both
    actions on the task resource (Service Authorization Reference for ECS)."""
    return {
        "Sid": "InspectAndStopRuns" if "ecs:DescribeTasks" in actions else "StopRuns",
        "Effect": "Allow",
        "Action": list(actions) if len(actions) > 1 else actions[0],
        "Resource": context.arn("ecs", f"task/{context.cluster_name}/*"),
        "Condition": {
            "ArnEquals": {"ecs:cluster": context.arn("ecs", f"cluster/{context.cluster_name}")},
            "StringEquals": {f"aws:ResourceTag/{tag_keys.STACK}": context.stack},
            "Null": {f"aws:ResourceTag/{tag_keys.RUN_ID}": "false"},
        },
    }


def run_jobs_statements(
    context: StackContext,
    families: list[str],
    role_arns: list[pulumi.Input[str]],
) -> list[Statement]:
    """What starting the stack's jobs takes: RunTask on any revision of their task definition
    families, on the stack's cluster only; tagging the tasks it starts; passing the jobs' roles
    to ECS and nowhere else. Shared by every function that starts attempts."""
    cluster = {"ArnEquals": {"ecs:cluster": context.arn("ecs", f"cluster/{context.cluster_name}")}}
    return [
        {
            "Sid": "RunJobs",
            "Effect": "Allow",
            "Action": "ecs:RunTask",
            "Resource": [context.arn("ecs", f"task-definition/{family}:*") for family in families],
            "Condition": cluster,
        },
        {
            "Sid": "TagJobsAtStart",
            "Effect": "Allow",
            "Action": "ecs:TagResource",
            "Resource": context.arn("ecs", f"task/{context.cluster_name}/*"),
            "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
        },
        {
            "Sid": "PassJobRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": role_arns,
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
    ]
