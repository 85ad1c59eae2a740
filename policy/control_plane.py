"""Task roles stay in their job: no role that ECS tasks assume reaches the stack's own resources.

The catalogue is `longjobs_contract.control_plane`, which the stack config checks a job's
`policyStatements` against too. Here it is read over what the stack declares: the resources of
each kind it protects (by the names the stack gives them), and every policy document of each
role that `ecs-tasks.amazonaws.com` may assume, its inline policies, its role policies and the
managed policies the stack declares and attaches to it; the role's `longjobs:job` tag says whose
own checkpoints and log group it may use. Across a role's documents, the message of iam:PassRole
names the actions that would run a task with the roles it passes.

In preview a document that holds a value not known yet (a key the stack is creating) is left
to `pulumi up`, when stack rules run again over the resources as created; a name not known yet
is taken as any name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from longjobs_contract import tags
from longjobs_contract.control_plane import (
    Finding,
    StackNames,
    StackResource,
    covering,
    findings,
)

from .documents import ROLE, Document, Statement, documents
from .props import as_json, as_list, get
from .stack import BUCKET_TYPES, KEY_PROPERTIES, customer_key, depends_on, of_type

ECS_TASKS = "ecs-tasks.amazonaws.com"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED_POLICY = "aws:iam/policy:Policy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SECURITY_GROUPS = (
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
)
ALIAS = "aws:kms/alias:Alias"
# The property that names each kind's resources.
NAMED_BY = {
    "tables": ("aws:dynamodb/table:Table", "name"),
    "topics": ("aws:sns/topic:Topic", "name"),
    "functions": ("aws:lambda/function:Function", "name"),
    "clusters": ("aws:ecs/cluster:Cluster", "name"),
    "task_families": ("aws:ecs/taskDefinition:TaskDefinition", "family"),
    "schedule_groups": ("aws:scheduler/scheduleGroup:ScheduleGroup", "name"),
    "rules": ("aws:cloudwatch/eventRule:EventRule", "name"),
    "queues": ("aws:sqs/queue:Queue", "name"),
    "repositories": ("aws:ecr/repository:Repository", "name"),
}


def task_roles_stay_in_their_job(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    """No statement of a role ECS tasks assume reaches the stack's own resources: the runs
    table, the topic, the functions, the cluster and task definitions, the roles, schedules,
    rules, queues, repositories, image records, alarms, security groups, the key, and another
    job's checkpoints and logs."""
    declared = list(args.resources)
    stack = declared_names(declared).resources()
    for role in of_type(declared, ROLE):
        if _assumed_by_ecs_tasks(role):
            for message, urn in _reaches(role, declared, stack):
                report_violation(message, urn)


def _reaches(
    role: PolicyResource, declared: Sequence[PolicyResource], stack: Sequence[StackResource]
) -> Iterator[tuple[str, str]]:
    """A message and the URN of the resource that declares it, per statement of the role and
    catalogue entry it reaches."""
    job = _job(role)
    held = list(_documents_of(role, declared))
    allows = [s for _, document in held for s in document.statements if s.allows]
    for holder, document in held:
        for statement in (s for s in document.statements if s.allows):
            for finding in findings(statement.grants, _resources(statement), stack, job):
                with_it = finding.reach.with_actions
                partners = [a for a in with_it if any(s.grants(a) for s in allows)]
                yield _message(holder, role, job, statement, finding, partners), holder.urn


def declared_names(declared: Sequence[PolicyResource]) -> StackNames:
    """The names of the resources the stack declares, by the catalogue's kinds."""
    named = {
        field: tuple(_name(r, prop) for r in of_type(declared, kind))
        for field, (kind, prop) in NAMED_BY.items()
    }
    return StackNames(
        **named,
        roles=tuple(_role(r) for r in of_type(declared, ROLE)),
        checkpoint_buckets=tuple(_name(r, "bucket") for r in of_type(declared, *BUCKET_TYPES)),
        jobs=tuple(sorted({job for r in declared if (job := _job(r))})),
        log_groups=tuple((_name(r, "name"), _job(r)) for r in of_type(declared, LOG_GROUP)),
        keys=_keys(declared),
        alarms=tuple(_name(r, "name") for r in of_type(declared, ALARM)),
        # Every repository's records are under `/<prefix>/images/` (its name is `<prefix>/<job>`),
        # those of earlier deploys too, which this deploy may not declare.
        image_records=tuple(
            dict.fromkeys(
                f"{_name(r, 'name').split('/')[0]}/images/*"
                for r in of_type(declared, NAMED_BY["repositories"][0])
            )
        ),
        # A group's id is not known before it exists: any group then could be one of them.
        security_groups=(("*", False),) if of_type(declared, *SECURITY_GROUPS) else (),
    )


def _name(resource: PolicyResource, prop: str) -> str:
    """A resource's name, or `*` while unknown (any name could then be it)."""
    return _text(_value(resource.props, prop)) or "*"


def _role(role: PolicyResource) -> str:
    path = _text(_value(role.props, "path")) or "/"
    return f"{path.lstrip('/')}{_name(role, 'name')}"


def _job(resource: PolicyResource) -> str | None:
    return _text(get(_value(resource.props, "tags") or {}, tags.JOB))


def _keys(declared: Sequence[PolicyResource]) -> tuple[tuple[str, bool], ...]:
    """The stack's keys: those it creates (not known before they exist), those its resources
    are encrypted with, and the aliases it makes."""
    created = [_text(_value(r.props, "arn")) or "*" for r in of_type(declared, KEY)]
    used = [customer_key(r) for r in declared if r.resource_type in KEY_PROPERTIES]
    found: dict[tuple[str, bool], None] = {}
    for arn in (*created, *(key for key in used if key is not None)):
        if arn == "*":
            found["key/*", False] = None
        else:
            resource = arn.split(":", 5)[-1]  # an ARN's resource, or a key id or alias as is
            found[resource if "/" in resource else f"key/{resource}", True] = None
    for alias in of_type(declared, ALIAS):
        found[_name(alias, "name"), True] = None
    return tuple(found)


def _assumed_by_ecs_tasks(role: PolicyResource) -> bool:
    try:
        trust = as_json(get(role.props, "assumeRolePolicy", "{}"))
    except (ValueError, UnknownValueError):
        return False
    statements = as_list(trust.get("Statement")) if isinstance(trust, dict) else []
    return any(
        ECS_TASKS in as_list(get(get(s, "Principal", {}), "Service"))
        for s in statements
        if get(s, "Effect") == "Allow"
    )


def _documents_of(
    role: PolicyResource, declared: Sequence[PolicyResource]
) -> Iterator[tuple[PolicyResource, Document]]:
    """Each document the role holds, with the resource that declares it."""
    holders = [role, *(r for r in of_type(declared, ROLE_POLICY) if _names(r, "role", role))]
    for attachment in of_type(declared, ROLE_POLICY_ATTACHMENT):
        if _names(attachment, "role", role):
            policies = of_type(declared, MANAGED_POLICY)
            holders += [p for p in policies if _names(attachment, "policyArn", p)]
    for holder in holders:
        try:
            read = list(documents(holder))
        except UnknownValueError:
            continue  # a document holding a value not known in preview is read at `up`
        # An unreadable document is the iam-no-wildcard-actions rule's to report.
        yield from ((holder, d) for d in read if isinstance(d, Document))


def _names(resource: PolicyResource, prop: str, other: PolicyResource) -> bool:
    """Whether `prop` of `resource` is `other`: by its dependency (in preview, before `other`
    has an id), or by its name, id or ARN."""
    if depends_on(resource, prop, other):
        return True
    value = _text(_value(resource.props, prop))
    return value is not None and value in {
        _text(_value(other.props, key)) for key in ("name", "id", "arn")
    }


def _value(props: Any, key: str) -> Any:
    """`props[key]`, or None when absent or not known yet."""
    try:
        return get(props, key)
    except UnknownValueError:
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _resources(statement: Statement) -> list[str]:
    # Every resource but a NotResource's, or none named: any resource could be the stack's.
    if statement.not_resources or not statement.resources:
        return ["*"]
    return statement.resources


def _message(
    holder: PolicyResource,
    role: PolicyResource,
    job: str | None,
    statement: Statement,
    finding: Finding,
    partners: list[str],
) -> str:
    whose = f"the role {role.name!r}" + (f" of job {job!r}" if job else "")
    where = whose if holder is role else f"policy {holder.name!r} on {whose}"
    if statement.not_actions:
        actions = f"every action but its NotAction (covering {', '.join(finding.actions)})"
    else:
        actions = ", ".join(covering(statement.actions, finding.actions))
    resources = ", ".join(map(repr, _resources(statement)))
    reach = finding.reach
    also = f"; the role grants {', '.join(partners)} too" if partners else ""
    return (
        f"{statement.label} of {where} allows {actions} on {resources}, which could "
        f"{reach.what} ({reach.why}{also}); allowed: {reach.instead}."
    )
