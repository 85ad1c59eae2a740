"""The stack config model: `longjobs:*` keys, validated once, every error reported at once.

Components take these validated, frozen objects, never raw config dicts.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from pathlib import Path, PurePosixPath
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import fargate
from functions.trigger.contract import CAPACITIES, env_name_problem

NAMESPACE = "longjobs"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTAINERS_DIR = "containers"

LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
MAX_SUBNETS = 16  # awsvpcConfiguration limits
MAX_SECURITY_GROUPS = 5
MAX_TIMEOUT_SECONDS = 30 * 24 * 3600
# Managed policies that would make a job's task role an administrator.
FORBIDDEN_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
# IAM's hard limit of managed policies attached to one role; the default quota is lower.
MAX_MANAGED_POLICIES = 20
DEFAULT_MANAGED_POLICIES_QUOTA = 10
MAX_JOB_NAME = 32
# A schedule's EventBridge Scheduler name is `<job>.<schedule>`, at most 64 characters of
# [0-9a-zA-Z-_.]. Neither job nor schedule names hold a '.', so no two schedules share a name.
SCHEDULER_NAME_MAX = 64
SCHEDULE_SEPARATOR = "."
MAX_SCHEDULE_NAME = SCHEDULER_NAME_MAX - MAX_JOB_NAME - len(SCHEDULE_SEPARATOR)


class ConfigError(Exception):
    """Stack config that cannot be deployed; `problems` holds one line per bad key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the stack config:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def _check(pattern: str, allowed: str):
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not allowed; expected {allowed}")
        return value

    return AfterValidator(check)


def _env_name(name: str) -> str:
    problem = env_name_problem(name)
    if problem:
        raise ValueError(problem)
    return name


JobName = Annotated[
    str,
    _check(
        rf"[a-z]([a-z0-9-]{{0,{MAX_JOB_NAME - 2}}}[a-z0-9])?",
        f"a DNS-safe name: 1-{MAX_JOB_NAME} lowercase letters, digits and hyphens, starting with "
        "a letter, not ending with a hyphen",
    ),
]
EnvName = Annotated[str, AfterValidator(_env_name)]


def _env_value(value: Any) -> str:
    # YAML and `pulumi config set --path` turn 5000 and true into numbers and booleans; the
    # container sees strings either way, so take them as their YAML spelling.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string, number or boolean")
    return value


EnvValue = Annotated[Any, AfterValidator(_env_value)]
SubnetId = Annotated[str, _check(r"subnet-[0-9a-f]{8,17}", "a subnet id like subnet-0abc12345")]
SecurityGroupId = Annotated[
    str, _check(r"sg-[0-9a-f]{8,17}", "a security group id like sg-0abc12345")
]
SecretArn = Annotated[
    str,
    _check(
        r"arn:aws[a-z-]*:(ssm:[a-z0-9-]+:\d{12}:parameter/.+"
        r"|secretsmanager:[a-z0-9-]+:\d{12}:secret:.+)",
        "the ARN of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or of a "
        "Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
    ),
]
ManagedPolicyArn = Annotated[
    str,
    _check(
        r"arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+",
        "an IAM policy ARN like arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    ),
]
ImageUri = Annotated[
    str,
    _check(
        r"[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})",
        "an image URI with a registry and a tag or digest, like "
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3",
    ),
]
ScheduleName = Annotated[
    str,
    _check(
        rf"[0-9a-zA-Z_-]{{1,{MAX_SCHEDULE_NAME}}}",
        f"1-{MAX_SCHEDULE_NAME} letters, digits, '-' or '_' (no '.': the Scheduler name is "
        f"<job>{SCHEDULE_SEPARATOR}<schedule>)",
    ),
]
TagKey = Annotated[
    str,
    _check(
        r"(?!aws:)[\w .:/=+@-]{1,128}",
        "1-128 letters, digits, spaces and _.:/=+-@, not starting with 'aws:'",
    ),
]
TagValue = Annotated[
    str, _check(r"[\w .:/=+@-]{0,256}", "0-256 letters, digits, spaces and _.:/=+-@")
]
Tags = dict[TagKey, TagValue]
Words = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, frozen=True, populate_by_name=False
    )


class NetworkConfig(_Model):
    """Where tasks run. Both lists absent: the default VPC's subnets and an egress-only group."""

    subnet_ids: Annotated[list[SubnetId], Field(min_length=1, max_length=MAX_SUBNETS)] | None = None
    security_group_ids: (
        Annotated[list[SecurityGroupId], Field(min_length=1, max_length=MAX_SECURITY_GROUPS)] | None
    ) = None
    # None: public IP in the default VPC (its subnets have no NAT, and ECR must be reachable),
    # none in subnets the stack names (private subnets with a NAT gateway or VPC endpoints).
    assign_public_ip: bool | None = None

    @property
    def public_ip(self) -> bool:
        if self.assign_public_ip is not None:
            return self.assign_public_ip
        return self.subnet_ids is None


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*?,/#-]+")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


def schedule_expression_problem(expression: str) -> str | None:
    """Why an EventBridge Scheduler expression is malformed, or None."""
    allowed = (
        "rate(VALUE UNIT) with minute(s)/hour(s)/day(s), cron(MIN HOUR DAY-OF-MONTH MONTH "
        "DAY-OF-WEEK YEAR) or at(yyyy-mm-ddThh:mm:ss)"
    )
    if expression.startswith("rate("):
        match = _RATE.fullmatch(expression)
        if not match:
            return f"{expression!r} is not a rate expression; expected {allowed}"
        value, unit = int(match.group(1)), match.group(2)
        if value < 1:
            return f"{expression!r}: the rate must be at least 1"
        if (value == 1) == unit.endswith("s"):
            return f"{expression!r}: use a singular unit for 1 and a plural one otherwise"
        return None
    if expression.startswith("cron(") and expression.endswith(")"):
        fields = expression[5:-1].split()
        if len(fields) != 6 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
            return f"{expression!r}: a cron expression has 6 fields; expected {allowed}"
        if (fields[2] == "?") == (fields[4] == "?"):
            return f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'"
        return None
    match = _AT.fullmatch(expression)
    if match:
        try:
            datetime.fromisoformat(match.group(1))
        except ValueError:
            return f"{expression!r} is not a real date and time"
        return None
    return f"{expression!r} is not allowed; expected {allowed}"


def scheduler_name(job: str, schedule: str) -> str:
    """The EventBridge Scheduler name of a job's schedule, unique within the stack's group."""
    return f"{job}{SCHEDULE_SEPARATOR}{schedule}"


def _schedule_expression(expression: str) -> str:
    problem = schedule_expression_problem(expression)
    if problem:
        raise ValueError(problem)
    return expression


def _timezone(name: str) -> str:
    if name not in zoneinfo.available_timezones():
        raise ValueError(f"{name!r} is not an IANA time zone, like UTC or Europe/Paris")
    return name


class ScheduleConfig(_Model):
    expression: Annotated[str, AfterValidator(_schedule_expression)]
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    environment: dict[EnvName, EnvValue] = {}
    enabled: bool = True


class ServiceConfig(_Model):
    # Above 0, ECS keeps that many tasks running: a long-polling worker.
    desired_count: Annotated[int, Field(ge=0, le=5000)] = 0


class PolicyStatement(BaseModel):
    """One IAM statement for a job's task role, keys spelled as in IAM policy JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    Sid: Annotated[str, _check(r"[A-Za-z0-9]+", "letters and digits")] | None = None
    Effect: Literal["Allow", "Deny"]
    Action: Annotated[str, Field(min_length=1)] | Annotated[list[str], Field(min_length=1)]
    Resource: Annotated[str, Field(min_length=1)] | Annotated[list[str], Field(min_length=1)]
    Condition: dict[str, dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _least_privilege(self) -> PolicyStatement:
        # The pattern refuses Action "*" and upper-case service prefixes ("IAM:PassRole", which
        # IAM would accept), so the checks below see lower-case service:action pairs only.
        actions = [self.Action] if isinstance(self.Action, str) else self.Action
        resources = [self.Resource] if isinstance(self.Resource, str) else self.Resource
        for action in actions:
            if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*?]+", action):
                raise ValueError(f"Action {action!r} is not an IAM action like s3:GetObject")
            if self.Effect == "Allow" and action.split(":", 1)[1] == "*":
                raise ValueError(
                    f"Action {action!r} allows a whole service; name the actions the job needs"
                )
        iam_actions = [a for a in actions if a.startswith("iam:")]
        if self.Effect == "Allow" and iam_actions and "*" in resources:
            # IAM actions on every resource include the job's own task role: the job could
            # grant itself anything.
            raise ValueError(
                f"Action {iam_actions[0]!r} with Resource '*' would let the job change its own "
                "permissions; allowed: iam: actions on the ARNs of the roles, policies or users "
                "the job manages"
            )
        return self

    def document(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def _duration_seconds(value: int | str) -> int:
    if isinstance(value, int):
        seconds = value
    else:
        match = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", value)
        if not value or not match:
            raise ValueError(
                f"{value!r} is not a duration; expected seconds or a string like 45m, 2h, 1h30m"
            )
        days, hours, minutes, secs = (int(g or 0) for g in match.groups())
        seconds = ((days * 24 + hours) * 60 + minutes) * 60 + secs
    if not 60 <= seconds <= MAX_TIMEOUT_SECONDS:
        raise ValueError(f"{value!r} must be between 1 minute and 30 days")
    return seconds


class JobConfig(_Model):
    build: str | None = None
    image: ImageUri | None = None
    entry_point: Words | None = None
    command: Words | None = None
    cpu: int = 256
    memory: int = 512
    architecture: Literal["arm64", "x86_64"] = "arm64"
    ephemeral_storage_gib: (
        Annotated[
            int,
            Field(
                ge=fargate.EPHEMERAL_STORAGE_MIN_GIB,
                le=fargate.EPHEMERAL_STORAGE_MAX_GIB,
            ),
        ]
        | None
    ) = Field(default=None, alias="ephemeralStorageGiB")
    capacity: Literal[CAPACITIES] = "on-demand"  # type: ignore[valid-type]
    environment: dict[EnvName, EnvValue] = {}
    secrets: dict[EnvName, SecretArn] = {}
    policy_statements: list[PolicyStatement] = []
    managed_policy_arns: list[ManagedPolicyArn] = []
    log_retention_days: int = 30
    # Accepted and validated now; the supervisor enforces them.
    timeout: Annotated[int | str, AfterValidator(_duration_seconds)] | None = None
    retries: Annotated[int, Field(ge=0, le=10)] = 0
    service: ServiceConfig = ServiceConfig()
    schedules: dict[ScheduleName, ScheduleConfig] = {}
    tags: Tags = {}

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"{days} is not a CloudWatch Logs retention; allowed: "
                f"{', '.join(map(str, LOG_RETENTION_DAYS))}"
            )
        return days

    @field_validator("policy_statements")
    @classmethod
    def _unique_sids(cls, statements: list[PolicyStatement]) -> list[PolicyStatement]:
        seen: dict[str, int] = {}
        problems = []
        for index, statement in enumerate(statements):
            if statement.Sid is None:
                continue
            if statement.Sid in seen:
                problems.append(
                    f"Sid {statement.Sid!r} of statement {index} is already used by statement "
                    f"{seen[statement.Sid]}"
                )
            else:
                seen[statement.Sid] = index
        if problems:
            raise ValueError(
                "; ".join(problems) + "; each Sid must be unique within a job's statements (IAM "
                "refuses a policy with repeated statement IDs)"
            )
        return statements

    @field_validator("managed_policy_arns")
    @classmethod
    def _managed_policies(cls, arns: list[str]) -> list[str]:
        problems = [
            f"{arn} grants administrator rights; name the actions instead"
            for arn in arns
            if arn.rsplit("/", 1)[-1] in FORBIDDEN_MANAGED_POLICIES
        ]
        problems += [
            f"{arn} is listed {arns.count(arn)} times; list each policy once"
            for arn in dict.fromkeys(arns)
            if arns.count(arn) > 1
        ]
        if len(arns) > MAX_MANAGED_POLICIES:
            problems.append(
                f"{len(arns)} policies; IAM attaches at most {MAX_MANAGED_POLICIES} managed "
                f"policies to a role (and {DEFAULT_MANAGED_POLICIES_QUOTA} until the account's "
                "quota is raised); merge them or use policyStatements"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return arns

    @field_validator("build")
    @classmethod
    def _build_folder(cls, build: str) -> str:
        return _check_build_folder(build)

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, cpu: int) -> int:
        problem = fargate.cpu_problem(cpu)
        if problem:
            raise ValueError(problem)
        return cpu

    @field_validator("memory")
    @classmethod
    def _memory(cls, memory: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        problem = fargate.memory_problem(cpu, memory) if cpu is not None else None
        if problem:
            raise ValueError(problem)
        return memory

    @model_validator(mode="after")
    def _cross_field(self) -> JobConfig:
        if self.build is not None and self.image is not None:
            raise ValueError("set either build or image, not both")
        clash = sorted(set(self.environment) & set(self.secrets))
        if clash:
            raise ValueError(f"{', '.join(clash)} set in both environment and secrets")
        return self


def _check_build_folder(build: str) -> str:
    path = PurePosixPath(build)
    if path.is_absolute() or ".." in path.parts or path.parts[:1] != (CONTAINERS_DIR,):
        raise ValueError(f"{build!r} must be a folder under {CONTAINERS_DIR}/")
    if not (PROJECT_ROOT / path / "Dockerfile").is_file():
        raise ValueError(f"{build!r} has no Dockerfile")
    return build


class StackConfig(_Model):
    network: NetworkConfig = NetworkConfig()
    jobs: Annotated[dict[JobName, JobConfig], Field(min_length=1)]
    tags: Tags = {}


KEYS = tuple(to_camel(name) for name in StackConfig.model_fields)


def parse(values: dict[str, Any]) -> StackConfig:
    """Validate `longjobs:` config values (keys without the namespace); raise ConfigError."""
    problems = [
        f"{NAMESPACE}:{key}: unknown key; allowed: {', '.join(KEYS)}"
        for key in values
        if key not in KEYS
    ]
    config = None
    try:
        config = StackConfig.model_validate({k: v for k, v in values.items() if k in KEYS})
    except ValidationError as error:
        problems += [_describe(e) for e in error.errors()]
    if config is not None:
        jobs = {}
        for name, job in config.jobs.items():
            try:
                jobs[name] = _with_default_build(name, job)
            except ValueError as error:
                problems.append(f"{NAMESPACE}:jobs.{name}: {error}")
        config = config.model_copy(update={"jobs": jobs})
    if problems:
        raise ConfigError(problems)
    return config


def _with_default_build(name: str, job: JobConfig) -> JobConfig:
    """A job with neither build nor image builds from containers/<job>, which must exist."""
    if job.build is not None or job.image is not None:
        return job
    default = f"{CONTAINERS_DIR}/{name}"
    try:
        _check_build_folder(default)
    except ValueError:
        raise ValueError(
            f"no image given and {default}/Dockerfile does not exist; set build (a folder "
            f"under {CONTAINERS_DIR}/) or image"
        ) from None
    return job.model_copy(update={"build": default})


def _strip(annotation: Any) -> Any:
    """The type under Annotated[...] and Optional[...]."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, UnionType):
            kinds = [a for a in get_args(annotation) if a is not type(None)]
            if len(kinds) != 1:
                return annotation
            annotation = kinds[0]
        else:
            return annotation


def _allowed_keys(loc: list[str]) -> list[str] | None:
    """The keys the model at a config path accepts, spelled as in the config."""
    annotation: Any = StackConfig
    for part in loc:
        annotation = _strip(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {field.alias or name: field for name, field in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[part].annotation
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            return None
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [field.alias or name for name, field in annotation.model_fields.items()]
    return None


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error["loc"] if not str(part).startswith("function-")]
    # Unions name their branches in the location ("str", "constrained-str", "list[str]"):
    # not the user's key.
    loc = [
        part
        for part in loc
        if not re.fullmatch(r"[a-z-]+\[.*\]|str|int|bool|constrained-\w+", part)
    ]
    is_name = loc[-1:] == ["[key]"]
    if is_name:
        loc = loc[:-1]
    path = f"{NAMESPACE}:{'.'.join(loc)}" if loc else NAMESPACE
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        message = "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    elif error["type"] == "missing":
        message = "required"
    elif error["type"] == "literal_error":
        message = f"{error['input']!r} is not allowed; {message.lower()}"
    elif "input" in error and error["type"] not in ("value_error", "assertion_error"):
        message = f"{error['input']!r}: {message}"
    return f"{path}: {'the name ' if is_name else ''}{message}"


def from_pulumi_config() -> StackConfig:
    """Read every `longjobs:` key of the running stack and validate it; raise ConfigError."""
    import json

    import pulumi.runtime.config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for full_key, text in raw.items():
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        try:
            values[key] = json.loads(text) if isinstance(text, str) else text
        except json.JSONDecodeError:
            problems.append(f"{full_key}: {text!r} is not an object or list")
    try:
        config = parse(values)
    except ConfigError as error:
        raise ConfigError(problems + error.problems) from None
    if problems:
        raise ConfigError(problems)
    return config
