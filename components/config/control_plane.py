"""A job's `policyStatements` against the stack's own resources: the names the stack gives them
(docs/jobs.md, "What each job gets"), and one problem line per statement and catalogue entry it
reaches (longjobs_contract.control_plane, the catalogue the policy pack reads too).

The account is not known when the config is read: a name holding it matches any account's. The
project and stack make the prefix; without them (a config checked on its own) the prefix is any.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from components.config.errors import key_path
from components.config.models import KMS_CREATE, PolicyStatement
from components.config.names import ACCESS_LOGS, CHECKPOINTS, bucket_name, name_prefix
from components.config.regions import AWS_REGIONS
from longjobs_contract.alarms import FORWARDER
from longjobs_contract.control_plane import (
    Finding,
    StackNames,
    StackResource,
    covering,
    findings,
)
from longjobs_contract.iam_escalation import action_matches

# The stack-wide names, `<prefix>-<suffix>`, the components give (components/platform.py and
# the components it makes, through StackContext.name); tests hold them equal to the program's.
RUNS_TABLE = "runs"
TOPIC = "notifications"
FUNCTIONS = ("trigger", "supervisor")
RULES = ("task-state-changes", "reconcile")
QUEUES = ("trigger-failures", "supervisor-failures")
SCHEDULES_QUEUE = "schedules-dead-letters"
FUNCTION_LOG_GROUPS = ("lambda/trigger", "lambda/supervisor")
# The alarm forwarder (`<prefix>-alarms`, its logs `lambda/alarms`), only without `kms`.
FORWARDER_LOG_GROUP = f"lambda/{FORWARDER}"
FLOW_LOG_GROUP = "vpc/flow-logs"
# Any 12 digits: the hash a long prefix's bucket name holds does not depend on the account.
_SOME_ACCOUNT = "0" * 12


def stack_resources(
    values: Mapping[str, Any], project: str | None, stack: str | None, region: str | None
) -> list[StackResource]:
    """The stack's resources as the catalogue knows them, from the raw `longjobs:` values."""
    return stack_names(values, project, stack, region).resources()


def stack_names(
    values: Mapping[str, Any], project: str | None, stack: str | None, region: str | None
) -> StackNames:
    """What the stack names each resource, as far as the config tells."""
    if project is not None and stack is not None:
        prefix, logs = name_prefix(project, stack), f"/{project}/{stack}/"
        buckets = checkpoint_buckets(prefix, region)
    else:
        prefix, logs = "{prefix}", "/{segment}/{segment}/"
        buckets = checkpoint_buckets(None, region)
    written = values.get("jobs")
    jobs = {str(name): job for name, job in written.items()} if isinstance(written, dict) else {}
    scheduled = any(isinstance(j, dict) and j.get("schedules") for j in jobs.values())
    network = values.get("network")
    created = isinstance(network, dict) and network.get("create") is not None
    forwarder = values.get("kms") is None
    return StackNames(
        tables=(f"{prefix}-{RUNS_TABLE}",),
        topics=(f"{prefix}-{TOPIC}",),
        functions=tuple(f"{prefix}-{f}" for f in (*FUNCTIONS, *([FORWARDER] if forwarder else []))),
        clusters=(prefix,),
        task_families=tuple(f"{prefix}-{job}" for job in jobs),
        # Every role of the stack is under its IAM path, `/<prefix>/` (StackContext.iam_path).
        roles=(f"{prefix}/*",),
        schedule_groups=(prefix,) if scheduled else (),
        rules=tuple(f"{prefix}-{r}" for r in RULES),
        queues=tuple(f"{prefix}-{q}" for q in (*QUEUES, *([SCHEDULES_QUEUE] if scheduled else []))),
        repositories=tuple(
            f"{prefix}/{name}"
            for name, job in jobs.items()
            if not (isinstance(job, dict) and job.get("image") is not None)
        ),
        checkpoint_buckets=buckets,
        jobs=tuple(jobs),
        log_groups=(
            *((f"{logs}{job}", job) for job in jobs),
            *((f"{logs}{group}", None) for group in FUNCTION_LOG_GROUPS),
            *([(f"{logs}{FORWARDER_LOG_GROUP}", None)] if forwarder else []),
            *([(f"{logs}{FLOW_LOG_GROUP}", None)] if created else []),
        ),
        keys=_keys(values.get("kms"), prefix),
        # Every alarm the stack declares is named `<prefix>-…` (components/alarms.py).
        alarms=(f"{prefix}-*",),
        image_records=(f"{prefix}/images/*",),
        security_groups=_security_groups(network),
    )


def _security_groups(network: Any) -> tuple[tuple[str, bool], ...]:
    """The groups the tasks run in: those the config names, or the ones the stack creates,
    whose ids are not known before they exist."""
    named = network.get("securityGroupIds") if isinstance(network, dict) else None
    if isinstance(named, list) and network.get("create") is None:
        return tuple((group, True) for group in named if isinstance(group, str))
    return (("*", False),)


def checkpoint_buckets(prefix: str | None, region: str | None) -> tuple[str, ...]:
    """The stack's buckets (the checkpoints', and their access logs', which a job may not
    touch but under a prefix of its own name) in any account (`{account}`), in the stack's
    region or, not known, in any (a long prefix's name is cut by the region's length); with no
    prefix, any."""
    regions = [region] if region is not None else list(AWS_REGIONS)
    found: dict[str, None] = {}
    for each, kind in ((r, k) for k in (CHECKPOINTS, ACCESS_LOGS) for r in regions):
        try:
            name = bucket_name(prefix, _SOME_ACCOUNT, each, kind) if prefix is not None else None
        except ValueError:
            name = None  # a prefix S3 refuses fails the deploy on its own
        if name is None:
            found["{prefix}-{account}-" + (region or "{region}")] = None
            continue
        head = name.removesuffix(f"-{_SOME_ACCOUNT}-{each}")
        found[f"{head}-{{account}}-{region or '{region}'}"] = None
    return tuple(found)


def _keys(kms: Any, prefix: str) -> tuple[tuple[str, bool], ...]:
    """`kms: create`: a key whose id is not known yet, and its alias; a key ARN: that key."""
    if kms == KMS_CREATE:
        return (("key/*", False), (f"alias/{prefix}", True))
    if isinstance(kms, str) and kms.startswith("arn:") and ":key/" in kms:
        return ((kms.rsplit(":", 1)[-1], True),)
    return ()


def statement_problems(job: str, statements: Any, stack: Sequence[StackResource]) -> list[str]:
    """One line per statement of the job and catalogue entry it reaches. A statement the model
    refuses has its own problem reported, and is not read here."""
    if not isinstance(statements, list):
        return []
    allows: dict[int, PolicyStatement] = {}
    for index, raw in enumerate(statements):
        try:
            statement = PolicyStatement.model_validate(raw)
        except ValidationError:
            continue
        if statement.Effect == "Allow":
            allows[index] = statement
    granted = _grants([a for s in allows.values() for a in _listed(s.Action)])
    problems = []
    for index, statement in allows.items():
        actions = _listed(statement.Action)
        reached = findings(_grants(actions), _listed(statement.Resource), stack, job)
        for finding in reached:
            partners = [a for a in finding.reach.with_actions if granted(a)]
            problems.append(_problem(job, index, actions, finding, partners))
    return problems


def _grants(patterns: list[str]) -> Callable[[str], bool]:
    """Whether an action is one of `patterns` covers."""
    return lambda action: any(action_matches(p, action) for p in patterns)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _problem(
    job: str, index: int, actions: list[str], finding: Finding, partners: list[str]
) -> str:
    shown = covering(actions, finding.actions)
    resources = ", ".join(map(repr, finding.resources))
    reach = finding.reach
    also = f"; the job's statements grant {', '.join(partners)} too" if partners else ""
    return (
        f"{key_path('jobs', job, 'policyStatements', index)}: "
        f"Action{'s' if len(shown) > 1 else ''} {', '.join(shown)} on "
        f"Resource{'s' if len(finding.resources) > 1 else ''} {resources} could {reach.what} "
        f"({reach.why}{also}); allowed: {reach.instead}"
    )
