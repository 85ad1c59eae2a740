"""The trigger's configuration contract: written by the components, read by the handler.

Standard library only: this module ships inside the Lambda package (imported as `contract`) and
is imported by the Pulumi components (as `functions.trigger.contract`). The configuration
travels as a JSON file inside the deployment package rather than in environment variables,
whose 4 KB limit would cap a stack at a few dozen jobs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONFIG_FILE = "longjobs-trigger.json"
CONFIG_PATH_VARIABLE = "LONGJOBS_TRIGGER_CONFIG_PATH"
VERSION = 1
CAPACITIES = ("spot", "on-demand")
RESERVED_ENV_PREFIXES = ("AWS_", "ECS_")
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# fullmatch, not match: `$` alone would let a trailing newline through.
_ENV_NAME = re.compile(ENV_NAME_PATTERN)


def env_name_problem(name: object) -> str | None:
    """None for a valid, non-reserved environment variable name, else what is allowed."""
    if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
        return (
            f"{name!r} is not a variable name; use letters, digits and '_', "
            "not starting with a digit"
        )
    if name.upper().startswith(RESERVED_ENV_PREFIXES):
        return (
            f"{name!r} is reserved; names may not start with {' or '.join(RESERVED_ENV_PREFIXES)}"
        )
    return None


@dataclass(frozen=True)
class JobTarget:
    task_definition_arn: str
    container_name: str
    capacity: str
    """The job's default capacity: "spot" or "on-demand"."""
    reserved_environment: tuple[str, ...] = ()
    """Names a run may not set: the job's secrets."""


@dataclass(frozen=True)
class TriggerConfig:
    cluster_arn: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    assign_public_ip: bool
    jobs: Mapping[str, JobTarget] = field(default_factory=dict)


def dumps(config: TriggerConfig) -> str:
    return json.dumps(
        {
            "version": VERSION,
            "clusterArn": config.cluster_arn,
            "subnetIds": list(config.subnet_ids),
            "securityGroupIds": list(config.security_group_ids),
            "assignPublicIp": config.assign_public_ip,
            "jobs": {
                name: {
                    "taskDefinitionArn": job.task_definition_arn,
                    "containerName": job.container_name,
                    "capacity": job.capacity,
                    "reservedEnvironment": list(job.reserved_environment),
                }
                for name, job in config.jobs.items()
            },
        },
        separators=(",", ":"),
        sort_keys=True,
    )


def _field(data: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (kind is str and not value):
        raise ValueError(
            f"{where}{key} must be a {'non-empty ' if kind is str else ''}{kind.__name__}"
        )
    return value


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _field(data, key, list, where)
    if not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"{where}{key} must be a list of non-empty strings")
    return tuple(values)


def loads(text: str) -> TriggerConfig:
    """Parse and check the config file; a ValueError names the bad field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"the trigger config is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError("the trigger config must be a JSON object")
    version = data.get("version")
    if type(version) is not int or version != VERSION:  # `true == 1` in Python
        raise ValueError(f"version must be {VERSION}, not {version!r}")
    jobs: dict[str, JobTarget] = {}
    for name, job in _field(data, "jobs", dict, "").items():
        where = f"jobs.{name}."
        if not isinstance(job, dict):
            raise ValueError(f"jobs.{name} must be an object")
        capacity = _field(job, "capacity", str, where)
        if capacity not in CAPACITIES:
            raise ValueError(f"{where}capacity must be one of {', '.join(CAPACITIES)}")
        jobs[name] = JobTarget(
            task_definition_arn=_field(job, "taskDefinitionArn", str, where),
            container_name=_field(job, "containerName", str, where),
            capacity=capacity,
            reserved_environment=_strings(job, "reservedEnvironment", where),
        )
    return TriggerConfig(
        cluster_arn=_field(data, "clusterArn", str, ""),
        subnet_ids=_strings(data, "subnetIds", ""),
        security_group_ids=_strings(data, "securityGroupIds", ""),
        assign_public_ip=_field(data, "assignPublicIp", bool, ""),
        jobs=jobs,
    )
