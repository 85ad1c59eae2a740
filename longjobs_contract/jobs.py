"""The per-job contract: what the functions know of each job, each setting declared once.

`RunRules` is what the run event's validator needs, `LifecycleRules` what the supervisor
needs, and `JobContract` both with the job's task definition and log group: one entry of the
functions' config file. A setting the functions enforce is a field here, declared with its type,
bounds and the stack config attribute it comes from (`longjobs_contract.settings`); the config
model takes its bounds from the declaration, the components copy it from the validated job, and
the config file writes and reads it, all without naming it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from longjobs_contract import capacity, environment
from longjobs_contract.settings import Declared, declare

ARN_HEAD: Final = r"arn:(?P<partition>aws[a-z-]*):ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
TASK_DEFINITION_ARN: Final = re.compile(
    ARN_HEAD + r"task-definition/(?P<family>[A-Za-z0-9_-]{1,255}):(?P<revision>[1-9][0-9]*)"
)
LOG_GROUP: Final = re.compile(r"[\w\-/.#]{1,512}")
# An ECS container name: up to 255 letters, digits, hyphens and underscores (ContainerDefinition).
CONTAINER_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,255}")
NOTIFY: Final = ("failures", "all", "none")
MAX_JOB_NAME: Final = 32
JOB_NAME: Final = re.compile(rf"[a-z]([a-z0-9-]{{0,{MAX_JOB_NAME - 2}}}[a-z0-9])?")
"""A job's name: DNS-safe, as the stack config takes it (it names the job's resources)."""
MAX_RETRIES: Final = 10
MAX_TIMEOUT_SECONDS: Final = 30 * 24 * 3600
MIN_TIMEOUT_SECONDS: Final = 60
MAX_START_TIMEOUT_SECONDS: Final = 2 * 3600
MAX_WAIT_FOR_CAPACITY_SECONDS: Final = 24 * 3600


def _reserved_problem(name: str) -> str | None:
    return environment.name_problem(name)


def _overridable_problem(name: str) -> str | None:
    return environment.name_problem(name) or environment.loader_problem(name)


@dataclass(frozen=True, kw_only=True)
class RunRules(Declared):
    """What the run event's validator needs to know of a job."""

    container_name: str = declare(
        str, "The job's one container, which a run's overrides name.", pattern=CONTAINER_NAME
    )
    capacity: str = declare(
        str,
        "Where a run goes when it names no capacity.",
        choices=capacity.CAPACITIES,
        source="capacity",
    )
    reserved_environment: tuple[str, ...] = declare(
        tuple,
        "Names a run may not set: the job's secrets.",
        default=(),
        source="reserved_environment",
        item_problem=_reserved_problem,
        unique=True,
    )
    overridable_environment: tuple[str, ...] = declare(
        tuple,
        "The only names a run may set: the job's environment keys and parameters, sorted, "
        "without loader and interpreter variables.",
        default=(),
        source="overridable_environment",
        item_problem=_overridable_problem,
    )
    allow_command_override: bool = declare(
        bool,
        "Whether a run may replace the job's command.",
        default=False,
        source="allow_command_override",
    )
    allow_capacity_override: bool = declare(
        bool,
        "Whether a run may choose a capacity other than the job's.",
        default=True,
        source="allow_capacity_override",
    )
    allowed_callers: tuple[str, ...] | None = declare(
        tuple,
        "The callers that may run the job and read and stop its runs: `account` (the stack's "
        "own account) and entries of the stack's allowedCallers; null: every caller.",
        default=None,
        optional=True,
        min_items=1,
        unique=True,
        source="allowed_callers",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        both = sorted(set(self.reserved_environment) & set(self.overridable_environment))
        if both:
            raise ValueError(
                f"overridableEnvironment: {', '.join(both)} also in reservedEnvironment"
            )
        names = self.overridable_environment
        if list(names) != sorted(set(names)):
            raise ValueError("overridableEnvironment: must be sorted, each name once")


@dataclass(frozen=True, kw_only=True)
class LifecycleRules(Declared):
    """What the supervisor needs to know of a job to carry its runs to a final state."""

    retries: int = declare(
        int,
        "Re-runs after the job itself fails (a non-zero exit, out of memory).",
        default=0,
        minimum=0,
        maximum=MAX_RETRIES,
        source="retries",
    )
    interruption_retries: int = declare(
        int,
        "Re-runs after the platform stops an attempt (Spot, maintenance) or it fails to start "
        "for a reason that passes; counted apart from retries.",
        default=3,
        minimum=0,
        maximum=MAX_RETRIES,
        source="interruption_retries",
    )
    on_interruption: str = declare(
        str,
        "Where a run goes on after an interruption.",
        default=capacity.ON_DEMAND,
        choices=capacity.CAPACITIES,
        source="on_interruption",
    )
    timeout_seconds: int | None = declare(
        int,
        "How long one attempt may run before the supervisor stops it; null: no limit.",
        default=None,
        optional=True,
        minimum=MIN_TIMEOUT_SECONDS,
        maximum=MAX_TIMEOUT_SECONDS,
        source="timeout",
    )
    notify: str = declare(
        str,
        "Which final states publish a message to the notifications topic.",
        default="failures",
        choices=NOTIFY,
        source="notify",
    )
    max_wait_for_capacity_seconds: int = declare(
        int,
        "How long a run's attempts may keep finding no Fargate capacity before it ends FAILED.",
        default=15 * 60,
        minimum=60,
        maximum=MAX_WAIT_FOR_CAPACITY_SECONDS,
        source="max_wait_for_capacity",
    )
    start_timeout_seconds: int = declare(
        int,
        "How long an attempt's task may take to reach RUNNING before the supervisor stops it "
        "and starts the next attempt, as for an interruption (a start held for capacity, a "
        "subnet without free addresses).",
        default=15 * 60,
        minimum=60,
        maximum=MAX_START_TIMEOUT_SECONDS,
        source="start_timeout",
    )


@dataclass(frozen=True, kw_only=True)
class JobContract(RunRules, LifecycleRules):
    """A job as the functions run it: one entry of their config file."""

    task_definition_arn: str = declare(
        str, "The job's task definition, by revision.", pattern=TASK_DEFINITION_ARN
    )
    log_group: str = declare(
        str,
        "The job's CloudWatch log group, where a notice finds the last lines of an attempt.",
        pattern=LOG_GROUP,
    )

    @property
    def family(self) -> str:
        return family_of(self.task_definition_arn)


def family_of(task_definition_arn: str) -> str:
    """The family of a task definition ARN, with or without its revision."""
    return task_definition_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]
