"""Reading the stack's config and validating it whole: every problem at once.

pydantic checks each key; the checks that span keys (build and image, environment and secrets,
a schedule's run event against the job, what other regions hold, a job's statements against the
stack's own resources) run here on the raw values, so they are reported with the field problems
instead of after them. Keys outside `longjobs:` are checked too where they decide what is
deployed: a namespace misspelt or missing, `aws:` keys the AWS provider does not read, and
`aws:region`; and a key the CLI marks as holding a secret.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from components.config import contract, readers
from components.config.aws_keys import AWS_NAMESPACE, aws_keys
from components.config.control_plane import stack_resources, statement_problems
from components.config.dockerfiles import lint_problems
from components.config.errors import (
    NAMESPACE,
    ConfigError,
    describe_errors,
    edits,
    key_path,
    nearest,
    secret_held,
    unknown_key,
)
from components.config.models import CALLER_PATTERN, JobConfig, StackConfig
from components.config.names import prefix_problem
from components.config.regions import (
    REGION_KEY,
    endpoint_only_problems,
    other_region_problems,
    region_problem,
)
from components.config.shape import Shape, read_shape
from longjobs_contract import callers, run_event
from longjobs_contract.errors import ValidationError as RunEventError
from longjobs_contract.jobs import RunRules

KEYS = tuple(to_camel(name) for name in StackConfig.model_fields)


def parse(
    values: Mapping[str, Any],
    *,
    project: str | None = None,
    stack: str | None = None,
    region: str | None = None,
    explained: Collection[tuple[Any, ...]] = (),
    named: Collection[str] = (),
) -> StackConfig:
    """Validate `longjobs:` config values (keys without the namespace); raise ConfigError.

    With `project` and `stack`, the names built from them are checked too; with the stack's
    `region`, what the config names in other regions. `explained`: the places of required keys
    that the caller named as written otherwise, not to be called missing too; `named`: the key
    paths whose values the caller reported already (a stack file's unquoted scalars).
    """
    shape = read_shape(values)
    values = shape.values
    unknown = [key for key in values if key not in KEYS]
    problems = [f"{key_path(key)}: {unknown_key(str(key), KEYS)}" for key in unknown]
    problems += _dotted_problems(shape)
    problems += [f"{key_path(*loc)}: {line}" for loc, line in shape.misplaced]
    # What a misspelt or dotted key stands for is not also called missing.
    explained = {
        *explained,
        *((near,) for key in unknown if (near := nearest(str(key), KEYS))),
        *(dotted.loc[:1] for dotted in shape.dotted),
    }
    found = []
    if project is not None and stack is not None:
        problem = prefix_problem(project, stack)
        if problem:
            found.append(f"{NAMESPACE}: {problem}")
    config, model_problems = _validated({k: v for k, v in values.items() if k in KEYS}, explained)
    found += model_problems
    found += _across_keys(values, project, stack, region, model_problems)
    # A setting taken for a name is named once: not as the item it would be.
    misplaced = [key_path(*loc) for loc, _ in shape.misplaced]
    problems += [
        p
        for p in found
        if not any(_under(p, where) for where in misplaced) and p.split(": ", 1)[0] not in named
    ]
    if problems or config is None:
        raise ConfigError(problems)
    return config


def _validated(
    values: Mapping[str, Any], explained: Collection[tuple[Any, ...]] = ()
) -> tuple[StackConfig | None, list[str]]:
    """The model of the values, or the problems the model finds in them."""
    try:
        return StackConfig.model_validate(values), []
    except ValidationError as error:
        return None, describe_errors(StackConfig, error.errors(), values, explained)


def _across_keys(
    values: Mapping[str, Any],
    project: str | None,
    stack: str | None,
    region: str | None,
    found: list[str],
) -> list[str]:
    """The checks that span keys, on the raw values; `found`: the model's problems."""
    problems = []
    network = values.get("network")
    create = network.get("create") if isinstance(network, dict) else None
    if isinstance(network, dict) and create is not None:
        problems += _created_network_problems(network)
    if region is not None:
        problems += other_region_problems(values, region)
    jobs = values.get("jobs")
    if isinstance(jobs, dict):
        own = stack_resources(values, project, stack, region)
        for name, job in jobs.items():
            if isinstance(job, dict):
                problems += _job_problems(str(name), job, found)
                problems += _job_caller_problems(str(name), job, values.get("allowedCallers"))
                problems += lint_problems(str(name), job)
                problems += statement_problems(str(name), job.get("policyStatements"), own)
                if isinstance(create, dict) and create.get("natGateways") == "none":
                    problems += endpoint_only_problems(str(name), job, region)
    return problems


def _under(problem: str, where: str) -> bool:
    """Whether a problem line is about the place `where` (a key path) or a place inside it."""
    path = problem.split(": ", 1)[0]
    return path == where or path.startswith(f"{where}.")


DOTTED = (
    "a dotted key is the path pulumi config set --path takes, not a key of the stack file: nest it,"
)


def _dotted_problems(shape: Shape) -> list[str]:
    """One line for each dotted key, with its nesting and its value's own problems there."""
    lines = []
    for dotted in shape.dotted:
        where = key_path(*dotted.loc)
        line = f"{where}: {DOTTED} {dotted.nested}"
        placed = _placed(shape.values, dotted.loc, dotted.value)
        own = [] if placed is None else [p for p in _validated(placed)[1] if _under(p, where)]
        at = [p.split(": ", 1)[1] for p in own if p.split(": ", 1)[0] == where]
        if at:
            line += f"; its value: {'; '.join(at)}"
        lines += [line, *(p for p in own if p.split(": ", 1)[0] != where)]
    return lines


def _placed(values: Mapping[str, Any], loc: tuple[Any, ...], value: Any) -> dict[str, Any] | None:
    """A copy of the values with `value` nested at `loc`, or None if the path passes through
    a list or a value that is not a mapping."""
    placed = copy.deepcopy({k: v for k, v in values.items() if k in KEYS})
    where: Any = placed
    for part in loc[:-1]:
        if isinstance(part, int) or not isinstance(where, dict):
            return None
        where = where.setdefault(part, {})
    if isinstance(loc[-1], int) or not isinstance(where, dict):
        return None
    where[loc[-1]] = value
    return placed


def parse_stack_config(
    config: Mapping[str, Any],
    *,
    project: str,
    stack: str,
    region: str | None,
    named: Collection[str] = (),
    secret_keys: Collection[str] = (),
) -> StackConfig:
    """Validate a stack's whole config (full keys, `namespace:key`, values as the program gets
    them); raise ConfigError.

    `aws:region`, when set, is the stack's region (the AWS provider takes it from there); else
    `region`, the provider's own (from the environment or the profile), or None when unknown.
    `named`: the key paths whose values the caller reported already; `secret_keys`: the keys
    the CLI marks as holding a secret.
    """
    problems, meant = _namespace_problems(config)
    problems += [
        f"{key}: {secret_held()}"
        for key in config
        if key in secret_keys and key.partition(":")[0] == NAMESPACE
    ]
    problems += [
        f"{key}: {unknown_key(key, aws_keys(), AWS_KEYS_ALLOWED + ', '.join(aws_keys()))}"
        for key in config
        if key.partition(":")[0] == AWS_NAMESPACE and key not in aws_keys()
    ]
    if REGION_KEY in config:
        region = config[REGION_KEY]
        problem = region_problem(region)
        if problem:
            problems.append(problem)
            region = None
    own = {
        key.partition(":")[2]: value
        for key, value in config.items()
        if key.partition(":")[0] == NAMESPACE and ":" in key
    }
    try:
        parsed = parse(
            own, project=project, stack=stack, region=region, explained=meant, named=named
        )
    except ConfigError as error:
        raise ConfigError(problems + error.problems) from None
    if problems:
        raise ConfigError(problems)
    return parsed


AWS_KEYS_ALLOWED = "the AWS provider's keys, "


def _namespace_problems(config: Mapping[str, Any]) -> tuple[list[str], set[tuple[Any, ...]]]:
    """Keys whose namespace is almost ours, or missing, and the places of ours they stand for
    (named once, not also called missing)."""
    problems: list[str] = []
    meant: set[tuple[Any, ...]] = set()
    for key, value in config.items():
        namespace, colon, name = key.partition(":")
        if colon and _almost_the_namespace(namespace):
            problems.append(
                f"{key}: the namespace {namespace!r} is not {NAMESPACE}; write {NAMESPACE}:{name}"
            )
            meant.add((name,))
        elif not colon and isinstance(value, dict) and _is_ours(key):
            inner = ", ".join(f"{NAMESPACE}:{inner}" for inner in value)
            problems.append(
                f"{key}: a namespace holding keys, which is not how Pulumi reads config: each "
                f"key is namespace:key at the config: level; write {inner}"
            )
            meant |= {(str(inner),) for inner in value}
        elif not colon:
            problems.append(
                f"{key}: a config key without a namespace, which Pulumi does not take: keys "
                f"are namespace:key; write {_namespaced(key)}"
            )
            meant.add((key,))
    return problems, meant


def _namespaced(key: str) -> str:
    """The key a key written without its namespace is likely to be."""
    if f"{AWS_NAMESPACE}:{key}" in aws_keys() and key not in KEYS:
        return f"{AWS_NAMESPACE}:{key}"
    return f"{NAMESPACE}:{key}"


def _is_ours(namespace: str) -> bool:
    return namespace == NAMESPACE or _almost_the_namespace(namespace)


def _almost_the_namespace(namespace: str) -> bool:
    """A namespace meant to be ours: the same but for case, or two edits away."""
    if namespace == NAMESPACE:
        return False
    return namespace.lower() == NAMESPACE or edits(namespace.lower(), NAMESPACE) <= 2


def _created_network_problems(network: Mapping[str, Any]) -> list[str]:
    """`network.create` makes the subnets and the tasks' group, and gives tasks no public IP."""
    problems = [
        f"{key_path('network', key)}: not with network.create, which makes the {what}; "
        f"allowed: create or {key}, not both"
        for key, what in (
            ("subnetIds", "subnets"),
            ("securityGroupIds", "tasks' security group"),
        )
        if network.get(key) is not None
    ]
    if network.get("assignPublicIp") is True:
        problems.append(
            f"{key_path('network', 'assignPublicIp')}: true is not allowed with network.create, "
            "whose tasks run in private subnets with no public IP; allowed: false, or leave it out"
        )
    return problems


def _job_problems(name: str, job: Mapping[str, Any], found: list[str]) -> list[str]:
    """The checks across one job's keys, on its raw values."""
    problems = []
    if job.get("build") is not None and job.get("image") is not None:
        problems.append(f"{key_path('jobs', name, 'image')}: set either build or image, not both")
    environment = job.get("environment")
    secrets = job.get("secrets")
    secret_names = tuple(sorted(map(str, secrets))) if isinstance(secrets, dict) else ()
    if isinstance(environment, dict):
        problems += [
            f"{key_path('jobs', name, 'secrets', secret)}: also set in environment; a variable "
            "comes from one or the other"
            for secret in secret_names
            if secret in environment
        ]
    if job.get("secretsKmsKeyArns") and not secrets:
        problems.append(
            f"{key_path('jobs', name, 'secretsKmsKeyArns')}: the job has no secrets; name the "
            "keys of the secrets it reads, or remove it"
        )
    parameters = job.get("parameters")
    parameter_names = (
        [p for p in parameters if isinstance(p, str)] if isinstance(parameters, list) else []
    )
    problems += [
        f"{key_path('jobs', name, 'secrets', secret)}: also listed in parameters; a run may not "
        "set a secret"
        for secret in secret_names
        if secret in parameter_names
    ]
    schedules = job.get("schedules")
    rules = _run_rules(name, job) if isinstance(schedules, dict) and schedules else None
    if rules is not None and isinstance(schedules, dict):
        for schedule, settings in schedules.items():
            if isinstance(settings, dict):
                problem = _schedule_event_problem(name, str(schedule), settings, rules, found)
                if problem:
                    problems.append(problem)
    return problems


def _job_caller_problems(name: str, job: Mapping[str, Any], stack_callers: Any) -> list[str]:
    """A job's `allowedCallers` names callers the stack lets invoke the trigger: `account` or
    an entry of `longjobs:allowedCallers`; another entry could never call, and is a slip."""
    entries = job.get("allowedCallers")
    if not isinstance(entries, list):
        return []
    given = stack_callers if isinstance(stack_callers, list) else []
    known = [c for c in given if isinstance(c, str)]
    listed = ", ".join(known) if known else "none"
    return [
        f"{key_path('jobs', name, 'allowedCallers', index)}: {entry!r} is not a caller of the "
        f"stack; allowed: {callers.ACCOUNT!r} or an entry of longjobs:allowedCallers ({listed})"
        for index, entry in enumerate(entries)
        # An entry of no caller's form has its own problem already.
        if isinstance(entry, str) and re.fullmatch(CALLER_PATTERN, entry) and entry not in known
    ]


def _schedule_event_problem(
    job: str,
    schedule: str,
    settings: Mapping[str, Any],
    rules: RunRules,
    found: list[str],
) -> str | None:
    """Why the trigger would refuse every firing of this schedule, or None.

    The event is built and checked by the same contract code the trigger runs, with a sample
    scheduled time in place of the one Scheduler fills in.
    """
    where = key_path("jobs", job, "schedules", schedule, "environment")
    if any(problem.startswith(where) for problem in found):
        return None  # the environment's own problems are reported already
    environment = settings.get("environment", {})
    if not isinstance(environment, dict) or not all(
        isinstance(value, str) for value in environment.values()
    ):
        return None
    event = run_event.schedule_event(
        job, schedule, environment, scheduled_time=run_event.SAMPLE_SCHEDULED_TIME
    )
    try:
        run_event.parse_run(event, {job: rules}, default_key="")
    except RunEventError as error:
        return f"{where}: the trigger would refuse every run of this schedule: {error}"
    return None


def _run_rules(name: str, job: Mapping[str, Any]) -> RunRules | None:
    """What the trigger will know of the job, if the job is valid on its own (when it is not,
    its own problems are reported and its schedules' events are checked once it is)."""
    try:
        return contract.run_rules(name, JobConfig.model_validate(job))
    except (ValidationError, ValueError):
        return None


def from_pulumi_config(provider_region: Callable[[], str]) -> StackConfig:
    """Read every key of the running stack's config and validate it; raise ConfigError.

    `provider_region` answers the region the AWS provider deploys to; it is asked only when the
    config sets no `aws:region` (the provider then takes its region from the environment or
    the profile), so that a misspelt `aws:region` is reported here, not by the provider.

    The Pulumi SDK has no public way to list a namespace's keys (unknown and misspelt keys must
    be reported), so its runtime config is read here, the one place that does.
    """
    import pulumi
    import pulumi.runtime.config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    # The CLI hands a secret over decrypted, marking its key (the whole key, for a secret set
    # at a path under it): the program would write it into resources as it is.
    secret_keys = {
        key
        for key in raw
        if runtime_config.is_config_secret(key)
        or key in runtime_config.get_config_secret_keys_env()
    }
    # The CLI hands a top-level scalar over as its text (`enhanced`, `90`) and a mapping or a
    # list as JSON: the model says whether what that reads as is allowed.
    values = {
        key: readers.program_value(text) if isinstance(text, str) else text
        for key, text in raw.items()
    }
    return parse_stack_config(
        values,
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        region=None if REGION_KEY in values else provider_region(),
        secret_keys=secret_keys,
    )
