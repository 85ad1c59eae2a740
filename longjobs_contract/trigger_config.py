"""The trigger's configuration file: written by the components, read by the handler.

The configuration travels as a JSON file inside the deployment package rather than in
environment variables, whose 4 KB limit would cap a stack at a few dozen jobs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from longjobs_contract import capacity, environment, lifecycle
from longjobs_contract.run_event import JobRules

CONFIG_FILE = "longjobs-trigger.json"
CONFIG_PATH_VARIABLE = "LONGJOBS_TRIGGER_CONFIG_PATH"
VERSION = 5

_ARN_HEAD = r"arn:(?P<partition>aws[a-z-]*):ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
CLUSTER_ARN = re.compile(_ARN_HEAD + r"cluster/(?P<cluster>[A-Za-z0-9_-]{1,255})")
TASK_ARN = re.compile(
    _ARN_HEAD + r"task/(?P<cluster>[A-Za-z0-9_-]{1,255})/(?P<id>[A-Za-z0-9-]{1,64})"
)
TASK_DEFINITION_ARN = re.compile(
    _ARN_HEAD + r"task-definition/(?P<family>[A-Za-z0-9_-]{1,255}):(?P<revision>[1-9][0-9]*)"
)
SUBNET_ID = re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})")
SECURITY_GROUP_ID = re.compile(r"sg-(?:[0-9a-f]{8}|[0-9a-f]{17})")
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
# S3 general purpose bucket names: 3-63 lowercase letters, digits, dots and hyphens, starting
# and ending with a letter or digit ("General purpose bucket naming rules").
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")
LOG_GROUP = re.compile(r"[\w\-/.#]{1,512}")
NOTIFY = ("failures", "all", "none")


@dataclass(frozen=True, kw_only=True)
class JobTarget(JobRules):
    """A job as the functions run it: the validator's rules, the task definition and the
    lifecycle's rules."""

    task_definition_arn: str
    log_group: str
    """The job's CloudWatch log group, where a notice finds the last lines of an attempt."""
    lifecycle: lifecycle.JobRules = field(default_factory=lifecycle.JobRules)

    @property
    def family(self) -> str:
        return family_of(self.task_definition_arn)


@dataclass(frozen=True)
class TriggerConfig:
    cluster_arn: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    assign_public_ip: bool
    runs_table: str
    """The DynamoDB table every run is recorded in."""
    run_retention_days: int
    """How long a run's record is kept."""
    checkpoint_bucket: str
    """The S3 bucket every attempt's LONGJOBS_CHECKPOINT_URI points into."""
    notifications_topic: str
    """The SNS topic each run's final state is published to."""
    jobs: Mapping[str, JobTarget] = field(default_factory=dict)

    @property
    def region(self) -> str:
        """The stack's region: the cluster's."""
        return self.cluster_arn.split(":")[3]

    def checkpoint_uri(self, job: str, run_id: str) -> str:
        """Where a run keeps its checkpoints: `s3://<bucket>/<job>/<run id>/`, the same on
        every attempt, under the prefix the job's task role may use."""
        return f"s3://{self.checkpoint_bucket}/{job}/{run_id}/"


def family_of(task_definition_arn: str) -> str:
    """The family of a task definition ARN, with or without its revision."""
    return task_definition_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def dumps(config: TriggerConfig) -> str:
    return json.dumps(
        {
            "version": VERSION,
            "clusterArn": config.cluster_arn,
            "subnetIds": list(config.subnet_ids),
            "securityGroupIds": list(config.security_group_ids),
            "assignPublicIp": config.assign_public_ip,
            "runsTable": config.runs_table,
            "runRetentionDays": config.run_retention_days,
            "checkpointBucket": config.checkpoint_bucket,
            "notificationsTopicArn": config.notifications_topic,
            "jobs": {
                name: {
                    "taskDefinitionArn": job.task_definition_arn,
                    "logGroup": job.log_group,
                    "containerName": job.container_name,
                    "capacity": job.capacity,
                    "reservedEnvironment": list(job.reserved_environment),
                    "overridableEnvironment": list(job.overridable_environment),
                    "allowCommandOverride": job.allow_command_override,
                    "retries": job.lifecycle.retries,
                    "interruptionRetries": job.lifecycle.interruption_retries,
                    "onInterruption": job.lifecycle.on_interruption,
                    "timeoutSeconds": job.lifecycle.timeout_seconds,
                    "notify": job.lifecycle.notify,
                    "maxWaitForCapacitySeconds": job.lifecycle.max_wait_for_capacity_seconds,
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


def _matching(data: Mapping[str, Any], key: str, pattern: re.Pattern[str], where: str) -> str:
    value: str = _field(data, key, str, where)
    if not pattern.fullmatch(value):
        raise ValueError(f"{where}{key}: {value!r} does not match {pattern.pattern}")
    return value


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _field(data, key, list, where)
    if not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"{where}{key} must be a list of non-empty strings")
    return tuple(values)


def _ids(data: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    values = _strings(data, key, "")
    wrong = [value for value in values if not pattern.fullmatch(value)]
    if wrong:
        raise ValueError(f"{key}: {', '.join(map(repr, wrong))} do not match {pattern.pattern}")
    return values


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
    cluster_arn = _matching(data, "clusterArn", CLUSTER_ARN, "")
    jobs: dict[str, JobTarget] = {}
    for name, job in _field(data, "jobs", dict, "").items():
        where = f"jobs.{name}."
        if not isinstance(job, dict):
            raise ValueError(f"jobs.{name} must be an object")
        job_capacity = _field(job, "capacity", str, where)
        if job_capacity not in capacity.CAPACITIES:
            raise ValueError(f"{where}capacity must be one of {', '.join(capacity.CAPACITIES)}")
        task_definition_arn = _matching(job, "taskDefinitionArn", TASK_DEFINITION_ARN, where)
        if not _same_place(task_definition_arn, cluster_arn):
            raise ValueError(
                f"{where}taskDefinitionArn: {task_definition_arn} is not in the cluster's "
                "partition, region and account"
            )
        reserved = _strings(job, "reservedEnvironment", where)
        jobs[name] = JobTarget(
            task_definition_arn=task_definition_arn,
            container_name=_field(job, "containerName", str, where),
            capacity=job_capacity,
            reserved_environment=reserved,
            overridable_environment=_overridable(job, reserved, where),
            allow_command_override=_field(job, "allowCommandOverride", bool, where),
            log_group=_matching(job, "logGroup", LOG_GROUP, where),
            lifecycle=_lifecycle(job, where),
        )
    return TriggerConfig(
        cluster_arn=cluster_arn,
        subnet_ids=_ids(data, "subnetIds", SUBNET_ID),
        security_group_ids=_ids(data, "securityGroupIds", SECURITY_GROUP_ID),
        assign_public_ip=_field(data, "assignPublicIp", bool, ""),
        runs_table=_matching(data, "runsTable", TABLE_NAME, ""),
        run_retention_days=_days(data, "runRetentionDays"),
        checkpoint_bucket=_matching(data, "checkpointBucket", BUCKET_NAME, ""),
        notifications_topic=_matching(data, "notificationsTopicArn", TOPIC_ARN, ""),
        jobs=jobs,
    )


def _overridable(job: Mapping[str, Any], reserved: tuple[str, ...], where: str) -> tuple[str, ...]:
    """The names a run may set: valid, unique, sorted, none a secret or a loader variable."""
    key = "overridableEnvironment"
    names = _strings(job, key, where)
    for name in names:
        problem = environment.name_problem(name) or environment.loader_problem(name)
        if problem:
            raise ValueError(f"{where}{key}: {problem}")
        if name in reserved:
            raise ValueError(f"{where}{key}: {name!r} is also in reservedEnvironment")
    if list(names) != sorted(set(names)):
        raise ValueError(f"{where}{key} must be sorted, each name once")
    return names


def _count(data: Mapping[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if type(value) is not int or not 0 <= value <= 10:
        raise ValueError(f"{where}{key} must be a whole number from 0 to 10, not {value!r}")
    return value


def _lifecycle(job: Mapping[str, Any], where: str) -> lifecycle.JobRules:
    on_interruption = _field(job, "onInterruption", str, where)
    if on_interruption not in capacity.CAPACITIES:
        raise ValueError(f"{where}onInterruption must be one of {', '.join(capacity.CAPACITIES)}")
    timeout = job.get("timeoutSeconds")
    if timeout is not None and (type(timeout) is not int or timeout < 60):
        raise ValueError(f"{where}timeoutSeconds must be null or at least 60, not {timeout!r}")
    notify = _field(job, "notify", str, where)
    if notify not in NOTIFY:
        raise ValueError(f"{where}notify must be one of {', '.join(NOTIFY)}")
    wait = job.get("maxWaitForCapacitySeconds")
    if type(wait) is not int or not 60 <= wait <= 24 * 3600:
        raise ValueError(f"{where}maxWaitForCapacitySeconds must be 60 to 86400, not {wait!r}")
    return lifecycle.JobRules(
        max_wait_for_capacity_seconds=wait,
        notify=notify,
        retries=_count(job, "retries", where),
        interruption_retries=_count(job, "interruptionRetries", where),
        on_interruption=on_interruption,
        timeout_seconds=timeout,
    )


def _days(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if type(value) is not int or value < 1:
        raise ValueError(f"{key} must be a positive whole number of days, not {value!r}")
    return value


def _same_place(arn: str, cluster_arn: str) -> bool:
    return arn.split(":")[1:5] == cluster_arn.split(":")[1:5]
