"""The trigger's configuration file: written by the components, read by the handler.

The configuration travels as a JSON file inside the deployment package rather than in
environment variables, whose 4 KB limit would cap a stack at a few dozen jobs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from longjobs_contract import settings
from longjobs_contract.jobs import ARN_HEAD, JOB_NAME, JobContract
from longjobs_contract.settings import Declared, declare, nested

CONFIG_FILE = "longjobs-trigger.json"
CONFIG_PATH_VARIABLE = "LONGJOBS_TRIGGER_CONFIG_PATH"

CLUSTER_ARN = re.compile(ARN_HEAD + r"cluster/(?P<cluster>[A-Za-z0-9_-]{1,255})")
TASK_ARN = re.compile(
    ARN_HEAD + r"task/(?P<cluster>[A-Za-z0-9_-]{1,255})/(?P<id>[A-Za-z0-9-]{1,64})"
)
SUBNET_ID = re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})")
SECURITY_GROUP_ID = re.compile(r"sg-(?:[0-9a-f]{8}|[0-9a-f]{17})")
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
# S3 general purpose bucket names: 3-63 lowercase letters, digits, dots and hyphens, starting
# and ending with a letter or digit ("General purpose bucket naming rules").
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
MAX_RUN_RETENTION_DAYS = 3653
"""Ten years, the longest CloudWatch Logs keeps a job's logs (the config model's bound too)."""
TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")


QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
"""An SQS standard queue's name (CreateQueue: up to 80 alphanumerics, hyphens, underscores)."""


@dataclass(frozen=True)
class TriggerConfig(Declared):
    """What the functions know of the stack: its cluster, network, tables and jobs."""

    cluster_arn: str = declare(
        str, "The ECS cluster every run's task runs in.", pattern=CLUSTER_ARN
    )
    subnet_ids: tuple[str, ...] = declare(
        tuple, "The tasks' subnets.", pattern=SUBNET_ID, min_items=1, unique=True
    )
    security_group_ids: tuple[str, ...] = declare(
        tuple,
        "The tasks' security groups; none: the VPC's default group.",
        pattern=SECURITY_GROUP_ID,
        unique=True,
    )
    assign_public_ip: bool = declare(bool, "Whether a task gets a public IP.")
    runs_table: str = declare(
        str, "The DynamoDB table every run is recorded in.", pattern=TABLE_NAME
    )
    run_retention_days: int = declare(
        int, "How long a run's record is kept.", minimum=1, maximum=MAX_RUN_RETENTION_DAYS
    )
    checkpoint_bucket: str = declare(
        str,
        "The S3 bucket every attempt's LONGJOBS_CHECKPOINT_URI points into.",
        pattern=BUCKET_NAME,
    )
    notifications_topic: str = declare(
        str, "The SNS topic each run's final state is published to.", pattern=TOPIC_ARN
    )
    supervisor_failure_queue: str | None = declare(
        str,
        "The SQS queue (by name) of the task state change events the supervisor failed to "
        "take: its reconciliation pass takes them again. null: none.",
        default=None,
        optional=True,
        pattern=QUEUE_NAME,
    )
    callers: tuple[str, ...] = declare(
        tuple,
        "The stack's allowedCallers: each invokes the trigger through an alias of its own, "
        "which tells the trigger who asked (longjobs_contract.callers).",
        default=(),
        unique=True,
    )
    jobs: Mapping[str, JobContract] = nested(default_factory=dict)

    @property
    def region(self) -> str:
        """The stack's region: the cluster's."""
        return self.cluster_arn.split(":")[3]

    def checkpoint_uri(self, job: str, run_id: str) -> str:
        """Where a run keeps its checkpoints: `s3://<bucket>/<job>/<run id>/`, the same on
        every attempt, under the prefix the job's task role may use."""
        return f"s3://{self.checkpoint_bucket}/{job}/{run_id}/"


# Changes with any declared field, so a file written for other declarations is refused.
VERSION = settings.schema_version(TriggerConfig, JobContract)


def dumps(config: TriggerConfig) -> str:
    document = {
        "version": VERSION,
        **settings.to_json(config),
        "jobs": {name: settings.to_json(job) for name, job in config.jobs.items()},
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def loads(text: str) -> TriggerConfig:
    """Parse and check the config file; a ValueError names the bad field."""
    try:
        data = json.loads(text, object_pairs_hook=_no_repeated_keys)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"the trigger config is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError("the trigger config must be a JSON object")
    version = data.pop("version", None)
    if version != VERSION:
        raise ValueError(f"version must be {VERSION}, not {version!r}")
    jobs = data.pop("jobs", None)
    if not isinstance(jobs, dict):
        raise ValueError("jobs must be an object")
    config = settings.from_json(TriggerConfig, data)
    named = [name for name in jobs if not JOB_NAME.fullmatch(name)]
    if named:
        raise ValueError(f"jobs: {named[0]!r} is not a job name (matching {JOB_NAME.pattern})")
    contracts = {
        name: settings.from_json(JobContract, job, where=f"jobs.{name}.")
        for name, job in jobs.items()
    }
    for name, job in contracts.items():
        if job.task_definition_arn.split(":")[1:5] != config.cluster_arn.split(":")[1:5]:
            raise ValueError(
                f"jobs.{name}.taskDefinitionArn: {job.task_definition_arn} is not in the "
                "cluster's partition, region and account"
            )
    return TriggerConfig(**{**_fields(config), "jobs": contracts})


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        # JSON readers disagree on a repeated key (Python keeps the last): refuse it.
        raise ValueError(f"the trigger config gives {repeated[0]!r} twice in one object")
    return dict(pairs)


def _fields(config: TriggerConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in settings.settings(TriggerConfig)}
