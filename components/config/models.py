"""The stack config model: `longjobs:*` keys as frozen pydantic models.

Components take these validated objects, never raw config dicts. Checks that span fields or
jobs, which pydantic would skip once any field fails, live in `components.config.load`, so that
every problem is reported at once.
"""

from __future__ import annotations

import ipaddress
import math
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import fargate
from components.config import contract
from components.config.allowed import Allowed, Duration, matching
from components.config.names import MAX_JOB_NAME
from components.config.paths import CONTAINERS_DIR, PROJECT_ROOT
from components.config.schedule_expressions import ALLOWED as EXPRESSION_ALLOWED
from components.config.schedule_expressions import (
    TIME_ZONE_ALLOWED,
    expression_problem,
    time_zone_problem,
)
from components.config.types import (
    AvailabilityZoneName,
    Environment,
    EnvName,
    ImageUri,
    JobName,
    KmsKeyArn,
    ManagedPolicyArn,
    ScheduleName,
    SecretArn,
    SecurityGroupId,
    SubnetId,
    Tags,
    Words,
)
from components.dockerfile import base_images, has_from, text_of, user_problems
from longjobs_contract import callers, control_plane, iam_escalation
from longjobs_contract import environment as variables
from longjobs_contract.capacity import ON_DEMAND, SPOT

ALLOWED_LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
LOG_RETENTION_ALLOWED = ", ".join(map(str, ALLOWED_LOG_RETENTION_DAYS))
MAX_SUBNETS = 16  # awsvpcConfiguration limits
MAX_SECURITY_GROUPS = 5
PLATFORM_TASK_ROLE_SIDS = ("Checkpoints", "CheckpointList", "CheckpointsKey")
"""Sids of the statements the platform puts in every task role (components/checkpoints.py)."""
MAX_RUN_RETENTION_DAYS = 3653  # ten years, the longest CloudWatch Logs keeps a job's logs
# Managed policies that would make a job's task role an administrator.
# IAM's hard limit of managed policies attached to one role; the default quota is lower.
MAX_MANAGED_POLICIES = 20
DEFAULT_MANAGED_POLICIES_QUOTA = 10


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        frozen=True,
        populate_by_name=False,
        # A default is checked like a written value: a wrong one fails every stack, at once.
        validate_default=True,
        # A number or a boolean written as a string ("1024", "no") is refused, not converted:
        # YAML readers differ on unquoted scalars, so what was meant must be written plainly.
        # Mappings still validate into the nested models.
        strict=True,
    )


# An address as SNS takes it for an email subscription: one @, a dot in the domain, no spaces.
EmailAddress = Annotated[
    str,
    matching(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+", "an email address like ops@example.com"),
]


class NotificationsConfig(_Model):
    """Who hears of runs' final states, besides whatever subscribes to the topic itself."""

    emails: list[EmailAddress] = []
    """Each gets an SNS email subscription (AWS sends a confirmation first)."""

    @field_validator("emails")
    @classmethod
    def _unique(cls, emails: list[str]) -> list[str]:
        repeated = sorted({e for e in emails if emails.count(e) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} listed more than once; list each once")
        return emails


# The most Availability Zones a region has (us-east-1's six): more cannot be spread over.
MAX_AVAILABILITY_ZONES = 6
# The sizes AWS allows for a VPC's and a subnet's IPv4 block (Amazon VPC User Guide, "VPC CIDR
# blocks"): /16 to /28.
LARGEST_PREFIX, SMALLEST_PREFIX = 16, 28
# The private ranges of RFC 1918, which the Amazon VPC User Guide recommends for a VPC.
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
CIDR_ALLOWED = (
    f"an IPv4 network in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (RFC 1918) of "
    f"/{LARGEST_PREFIX} to /{SMALLEST_PREFIX}, like 10.0.0.0/16"
)
NatGateways = Literal["single", "onePerAz", "none"]


def _cidr_block(value: str) -> str:
    if "/" not in value:
        raise ValueError(f"{value!r} has no prefix length; allowed: {CIDR_ALLOWED}")
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        try:
            loose = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            problem = f"{value!r} is not an IPv4 network ({error})"
            raise ValueError(f"{problem}; allowed: {CIDR_ALLOWED}") from None
        raise ValueError(
            f"{value!r} has host bits set (the network is {loose}); allowed: {CIDR_ALLOWED}"
        ) from None
    if not any(network.subnet_of(r) for r in PRIVATE_RANGES):
        raise ValueError(f"{value!r} is not a private range; allowed: {CIDR_ALLOWED}")
    if not LARGEST_PREFIX <= network.prefixlen <= SMALLEST_PREFIX:
        raise ValueError(f"{value!r} is a /{network.prefixlen}; allowed: {CIDR_ALLOWED}")
    return value


def subnet_prefix(cidr_block: str, availability_zones: int, nat_gateways: str) -> int:
    """The prefix length of each subnet awsx's `Auto` strategy cuts from the VPC's block.

    Each Availability Zone gets an equal power-of-two share of the block; with NAT its share is
    halved between its private subnet (the tasks') and its public one (the NAT gateway's), and
    without NAT its one isolated subnet takes it whole (awsx `allocateSubnetCidrBlocks`).
    """
    prefix = ipaddress.IPv4Network(cidr_block).prefixlen
    per_zone = math.ceil(math.log2(availability_zones)) if availability_zones > 1 else 0
    return prefix + per_zone + (0 if nat_gateways == "none" else 1)


def _unique_zones(names: list[str]) -> list[str]:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed more than once; list each zone once")
    return names


class VpcConfig(_Model):
    """`network.create`: a new VPC (awsx `ec2.Vpc`) whose private subnets tasks run in."""

    availability_zones: Annotated[int, Field(ge=1, le=MAX_AVAILABILITY_ZONES)] = 2
    """How many Availability Zones the subnets are spread over, one subnet of tasks in each."""
    availability_zone_names: (
        Annotated[
            list[AvailabilityZoneName],
            Field(min_length=1, max_length=MAX_AVAILABILITY_ZONES),
            AfterValidator(_unique_zones),
        ]
        | None
    ) = None
    """Which zones, by name, instead of the region's first `availability_zones`: Fargate runs
    tasks in some zones of a region only."""
    nat_gateways: NatGateways = "single"
    """How tasks reach out: one NAT gateway, one per zone, or none (VPC endpoints only)."""
    # After the two fields its check reads.
    cidr_block: Annotated[str, AfterValidator(_cidr_block), Allowed(CIDR_ALLOWED)] = "10.0.0.0/16"
    """The VPC's IPv4 block."""

    @field_validator("cidr_block")
    @classmethod
    def _subnets_fit(cls, cidr_block: str, info: ValidationInfo) -> str:
        names = info.data.get("availability_zone_names")
        zones = len(names) if names else info.data.get("availability_zones")
        nat = info.data.get("nat_gateways")
        if zones is None or nat is None:
            return cidr_block  # their own problems are reported
        prefix = subnet_prefix(cidr_block, zones, nat)
        if prefix > SMALLEST_PREFIX:
            largest = SMALLEST_PREFIX - (prefix - ipaddress.IPv4Network(cidr_block).prefixlen)
            layout = "its private and public subnet" if nat != "none" else "its subnet"
            raise ValueError(
                f"{cidr_block!r} leaves /{prefix} subnets for {zones} Availability Zones "
                f"({layout} in each), smaller than AWS's smallest, /{SMALLEST_PREFIX}; allowed "
                f"with these settings: a block of /{largest} or larger, like 10.0.0.0/16"
            )
        return cidr_block

    @model_validator(mode="after")
    def _zones_agree(self) -> VpcConfig:
        names = self.availability_zone_names
        if names and "availability_zones" in self.model_fields_set:
            if self.availability_zones != len(names):
                raise ValueError(
                    f"availabilityZones {self.availability_zones} and availabilityZoneNames "
                    f"({len(names)} zones) disagree; set one of them"
                )
        return self

    @property
    def zones(self) -> int:
        """How many zones the VPC spans."""
        return len(self.availability_zone_names or ()) or self.availability_zones


class NetworkConfig(_Model):
    """Where tasks run. Both lists absent: the default VPC's subnets and an egress-only group;
    `create`: a new VPC of the stack's own."""

    subnet_ids: Annotated[list[SubnetId], Field(min_length=1, max_length=MAX_SUBNETS)] | None = None
    """The subnets tasks run in; none: the default VPC's default subnets."""
    security_group_ids: (
        Annotated[list[SecurityGroupId], Field(min_length=1, max_length=MAX_SECURITY_GROUPS)] | None
    ) = None
    """The tasks' security groups; none: one new group allowing egress only."""
    assign_public_ip: bool | None = None
    """Whether tasks get a public IP (they need a route to ECR: a public IP, a NAT gateway or
    VPC endpoints); none: yes in the default VPC, whose subnets have no NAT, no in subnets the
    stack names, never in a VPC of its own (load.py refuses true with `create`)."""
    create: VpcConfig | None = None
    """A new VPC for the tasks; exclusive with the three keys above (but assignPublicIp false)."""

    @property
    def public_ip(self) -> bool:
        if self.create is not None:
            return False
        if self.assign_public_ip is not None:
            return self.assign_public_ip
        return self.subnet_ids is None


def _time_zone(name: str) -> str:
    problem = time_zone_problem(name)
    if problem:
        raise ValueError(problem)
    return name


class ScheduleConfig(_Model):
    """One EventBridge Scheduler schedule that runs the job through the trigger."""

    # Before `expression`, whose check reads it: an at() is in the past in some zone.
    timezone: Annotated[str, AfterValidator(_time_zone), Allowed(TIME_ZONE_ALLOWED)] = "UTC"
    """The IANA time zone the expression is read in."""
    expression: Annotated[str, Allowed(EXPRESSION_ALLOWED)]
    """When the job runs: EventBridge Scheduler's rate(), cron() or at()."""
    environment: Environment = {}
    """Variables each run it starts sets: the job's `environment` keys and `parameters` only."""
    enabled: bool = True
    """Whether the schedule fires; false keeps it declared, disabled."""

    @field_validator("expression")
    @classmethod
    def _expression(cls, expression: str, info: ValidationInfo) -> str:
        problem = expression_problem(expression, info.data.get("timezone", "UTC"))
        if problem:
            raise ValueError(problem)
        return expression


class ServiceConfig(_Model):
    desired_count: Annotated[int, Field(ge=0, le=5000)] = 0
    """Above 0, ECS keeps that many tasks running (a long-polling worker)."""


IamAction = Annotated[str, Field(min_length=1), Allowed("an IAM action like s3:GetObject")]
IamResource = Annotated[
    str, Field(min_length=1), Allowed("a resource ARN like arn:aws:s3:::bucket/*, or '*'")
]


class PolicyStatement(BaseModel):
    """One IAM statement for a job's task role, keys spelled as in IAM policy JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    Sid: Annotated[str, matching(r"[A-Za-z0-9]+", "letters and digits")] | None = None
    """The statement's id, unique among the job's statements."""
    Effect: Literal["Allow", "Deny"]
    """Whether the statement allows or denies its actions."""
    Action: Annotated[
        IamAction | Annotated[list[IamAction], Field(min_length=1)],
        Allowed("an IAM action like s3:GetObject, or a list of them"),
    ]
    """The IAM actions it grants or denies; no `*` or `service:*`."""
    Resource: Annotated[
        IamResource | Annotated[list[IamResource], Field(min_length=1)],
        Allowed("a resource ARN like arn:aws:s3:::bucket/*, or '*', or a list of them"),
    ]
    """The resources its actions apply to."""
    Condition: (
        Annotated[
            dict[str, dict[str, Any]],
            Allowed(
                "an IAM condition block: operator to key to value, like "
                "{StringEquals: {aws:SourceAccount: '111122223333'}}"
            ),
        ]
        | None
    ) = None
    """When the statement applies, as IAM reads a condition block."""

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
        if self.Effect != "Allow":
            return self
        problems = [
            _escalation_problem(action, found, reachable)
            for action in actions
            if (found := iam_escalation.identity_escalations(action))
            and (reachable := [r for r in resources if iam_escalation.could_match_identity(r)])
        ]
        if problems:
            raise ValueError(
                "; ".join(problems) + "; allowed: these actions only on the roles, users, groups "
                "or policies the job manages, each named by its whole ARN without '*' or '?' "
                "(like arn:aws:iam::123456789012:role/report-helper)"
            )
        services = [
            _service_escalation_problem(action, found)
            for action in actions
            if (found := iam_escalation.service_escalations(action))
        ]
        if services:
            raise ValueError(
                "; ".join(services) + "; allowed: none of these in a job's statements (change "
                "functions, development endpoints and notebooks from a deployment pipeline)"
            )
        writes = [a for a in actions if a.startswith("iam:") and not _reads_only(a)]
        if writes and "*" in resources:
            # IAM changes on every resource include the job's own task role (removing a
            # permissions boundary or a policy that denies, say).
            raise ValueError(
                f"Action {writes[0]!r} with Resource '*' would let the job change its own "
                "permissions; allowed: iam: actions on the ARNs of the roles, policies or users "
                "the job manages, or iam:Get* and iam:List* (reads) on '*'"
            )
        return self

    def document(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def _escalation_problem(action: str, found: list[str], resources: list[str]) -> str:
    covering = "" if found == [action] else f" (covering {', '.join(found)})"
    methods = "; ".join(f"{a}, {iam_escalation.why_escalation(a)}" for a in found)
    return (
        f"Action {action!r}{covering} on Resource {', '.join(map(repr, resources))} could reach "
        "the job's own task role or another role, user, group or policy of the account, so the "
        "job could grant itself anything (Rhino Security Labs' IAM privilege escalation "
        f"methods: {methods})"
    )


def _service_escalation_problem(action: str, found: list[str]) -> str:
    covering = "" if found == [action] else f" (covering {', '.join(found)})"
    methods = "; ".join(f"{a}, {iam_escalation.why_escalation(a)}" for a in found)
    return (
        f"Action {action!r}{covering} on any resource lets the job run code of its choosing "
        "under another identity's role (Rhino Security Labs' IAM privilege escalation methods: "
        f"{methods})"
    )


def _reads_only(action: str) -> bool:
    """An IAM action pattern that can only match reads (Get... or List...)."""
    return action.split(":", 1)[1].lower().startswith(("get", "list"))


# A job with a read-only root filesystem always gets a scratch volume here.
TMP = "/tmp"
# ECS documents no quota on a task definition's volumes or mount points (its service quotas
# page lists 10 containers per task definition, nothing for volumes): this bound is ours, to
# keep a task definition small enough to review.
MAX_SCRATCH_PATHS = 10
# Kernel filesystems the container runtime mounts itself: a volume there breaks the container.
KERNEL_FILESYSTEMS = ("/proc", "/sys", "/dev")
SCRATCH_PATH_ALLOWED = (
    "an absolute, normalized path of letters, digits, '.', '_' and '-' between single "
    f"slashes, not / and not under {', '.join(KERNEL_FILESYSTEMS)}, like /var/cache/app"
)


def _scratch_path(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"{path!r} is not an absolute path; allowed: {SCRATCH_PATH_ALLOWED}")
    if ".." in path.split("/"):
        raise ValueError(f"{path!r} holds '..'; allowed: {SCRATCH_PATH_ALLOWED}")
    if posixpath.normpath(path) != path or path.startswith("//"):
        normal = posixpath.normpath(path).replace("//", "/")
        raise ValueError(
            f"{path!r} is not normalized (write {normal!r}); allowed: {SCRATCH_PATH_ALLOWED}"
        )
    if path == "/":
        raise ValueError(f"'/' is the whole root filesystem; allowed: {SCRATCH_PATH_ALLOWED}")
    if not re.fullmatch(r"(/[A-Za-z0-9._-]+)+", path):
        raise ValueError(f"{path!r} holds other characters; allowed: {SCRATCH_PATH_ALLOWED}")
    kernel = next((k for k in KERNEL_FILESYSTEMS if path == k or path.startswith(f"{k}/")), None)
    if kernel:
        raise ValueError(
            f"{path!r} is on {kernel}, which the container runtime mounts itself; "
            f"allowed: {SCRATCH_PATH_ALLOWED}"
        )
    return path


def _parameter(name: str) -> str:
    problem = variables.loader_problem(name)
    if problem:
        raise ValueError(
            f"{problem}; a run may never set it, so it cannot be a parameter (a job's own "
            "environment may set it)"
        )
    return name


def _unique_keys(arns: list[str]) -> list[str]:
    repeated = [arn for arn in dict.fromkeys(arns) if arns.count(arn) > 1]
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed more than once; list each key once")
    return arns


KMS_CREATE = "create"
KMS_ALLOWED = (
    f"{KMS_CREATE!r} (the stack makes a key) or the ARN of a key in the stack's region, like "
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab (an alias is "
    "not taken)"
)


def _kms(value: str) -> str:
    if value == KMS_CREATE:
        return value
    try:
        arn = TypeAdapter(KmsKeyArn).validate_python(value)
    except ValidationError:
        arn = None
    if arn is not None and "/mrk-" in arn:
        # ECS, "Customer managed keys for AWS Fargate ephemeral storage": multi-Region keys
        # are not supported.
        raise ValueError(
            f"{value!r} is a multi-Region key, which Fargate cannot encrypt a task's ephemeral "
            "storage with; name a single-Region key"
        )
    if arn is None:
        raise ValueError(f"{value!r} is not allowed; allowed: {KMS_ALLOWED}")
    return arn


def _size_range(sizes: tuple[int, ...]) -> str:
    if len(sizes) <= 3:
        return ", ".join(map(str, sizes))
    return f"{sizes[0]} to {sizes[-1]} in steps of {sizes[1] - sizes[0]}"


# The task sizes of the ECS task definition parameters page (components/fargate.py).
CPU_ALLOWED = f"{', '.join(map(str, fargate.TASK_SIZES))} (CPU units; 1024 is 1 vCPU)"
MEMORY_ALLOWED = (
    "a size in MiB that Fargate allows with the cpu ("
    + "; ".join(f"cpu {cpu}: {_size_range(sizes)}" for cpu, sizes in fargate.TASK_SIZES.items())
    + ")"
)


def _memory_for(job: Mapping[str, Any]) -> str | None:
    """The memory sizes of the job's cpu, when it is one Fargate has."""
    cpu = job.get("cpu", 256)
    sizes = fargate.TASK_SIZES.get(cpu) if type(cpu) is int else None
    return f"{_size_range(sizes)} (MiB, with cpu {cpu})" if sizes else None


BUILD_ALLOWED = (
    f"a folder under {CONTAINERS_DIR}/ holding a Dockerfile whose base images are pinned by digest"
)


def _storage_beyond_the_free(gib: int) -> int | None:
    # Fargate gives every task 20 GiB; a task definition may ask for 21 to 200 (ECS task
    # definition parameters, "ephemeralStorage"), so 20 means none asked for, as when absent.
    return gib if gib >= fargate.EPHEMERAL_STORAGE_MIN_GIB else None


# Organization ids: o- and 10 to 32 lowercase letters or digits (AWS Organizations API
# reference, Organization.Id).
CALLER_PATTERN = (
    r"[0-9]{12}|o-[a-z0-9]{10,32}|arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/"
    r"([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}"
)
CALLER_ALLOWED = (
    "an IAM role ARN (arn:<partition>:iam::<account>:role/<path/name>, like "
    "arn:aws:iam::111122223333:role/api), an AWS account id (12 digits, like 111122223333) or an "
    "AWS Organizations id (like o-a1b2c3d4e5), without wildcards"
)
JOB_CALLER_ALLOWED = (
    f"{callers.ACCOUNT!r} (identities of the stack's own account) or an entry of "
    "longjobs:allowedCallers, written the same"
)


def _unique_job_callers(entries: list[str]) -> list[str]:
    repeated = [c for c in dict.fromkeys(entries) if entries.count(c) > 1]
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed more than once; list each caller once")
    return entries


class JobConfig(_Model):
    build: Annotated[str, Allowed(BUILD_ALLOWED)] | None = None
    """The folder the job's image is built from and pushed to its own repository; with
    neither `build` nor `image`, containers/<job>."""
    image: ImageUri | None = None
    """An existing image the job runs, instead of `build`."""
    entry_point: Words | None = None
    """The container's entry point, instead of the image's."""
    command: Words | None = None
    """The container's command, instead of the image's."""
    cpu: Annotated[int, Allowed(CPU_ALLOWED)] = 256
    """The task's CPU units (1024 is 1 vCPU)."""
    memory: Annotated[int, Allowed(MEMORY_ALLOWED, given=_memory_for)]
    """MiB; when absent, the smallest size Fargate allows with the cpu (filled in below)."""
    architecture: Literal["arm64", "x86_64"] = "arm64"
    """The CPU architecture the image is built for and the task runs on."""
    ephemeral_storage_gib: (
        Annotated[
            int,
            Field(ge=fargate.EPHEMERAL_STORAGE_FREE_GIB, le=fargate.EPHEMERAL_STORAGE_MAX_GIB),
            AfterValidator(_storage_beyond_the_free),
            Allowed(
                f"{fargate.EPHEMERAL_STORAGE_FREE_GIB} to {fargate.EPHEMERAL_STORAGE_MAX_GIB} "
                f"(GiB; {fargate.EPHEMERAL_STORAGE_FREE_GIB}, the default, is what Fargate gives "
                "free, and more is billed)"
            ),
        ]
        | None
    ) = Field(default=None, alias="ephemeralStorageGiB")
    """GiB beyond Fargate's free 20, or None for the free 20 (written as 20 or left out)."""
    capacity: Annotated[str, contract.one_of("capacity")]
    """Spot when absent (filled in below): interruptions are re-run and Spot falls back to
    on-demand; a job with a service kept running stays on-demand unless it asks."""
    environment: Environment = {}
    """Variables every run of the job gets; a run may override these keys."""
    parameters: list[Annotated[EnvName, AfterValidator(_parameter)]] = []
    """Variables a run may set besides the `environment` keys (which it may override)."""
    allow_command_override: bool = contract.default("allow_command_override")
    """Whether a run may replace the job's command."""
    allow_capacity_override: bool = contract.default("allow_capacity_override")
    """Whether a run may choose a capacity other than the job's (a job that must not be
    interrupted keeps `on-demand`)."""
    secrets: Annotated[
        dict[EnvName, SecretArn],
        Allowed(
            "a mapping of variable names to secret ARNs, like DB_PASSWORD: "
            "arn:aws:ssm:us-east-1:111122223333:parameter/db"
        ),
    ] = {}
    """Variables whose values ECS reads from SSM or Secrets Manager when the task starts."""
    secrets_kms_key_arns: Annotated[list[KmsKeyArn], AfterValidator(_unique_keys)] = []
    """Customer-managed keys the `secrets` are encrypted with: the execution role may decrypt
    with exactly these, through Secrets Manager or SSM only."""
    allowed_callers: (
        Annotated[
            list[
                Annotated[str, matching(f"{callers.ACCOUNT}|{CALLER_PATTERN}", JOB_CALLER_ALLOWED)]
            ],
            Field(min_length=1),
            AfterValidator(_unique_job_callers),
        ]
        | None
    ) = contract.default("allowed_callers")
    """The callers that may run the job and read and stop its runs; none: every caller of the
    stack. Each entry is checked against the stack's `allowedCallers` (config/load.py)."""
    policy_statements: Annotated[
        list[PolicyStatement],
        Allowed(
            "a list of IAM statements, each a mapping of Sid, Effect, Action, Resource and "
            "Condition, like {Effect: Allow, Action: [s3:GetObject], Resource: "
            "arn:aws:s3:::bucket/*}"
        ),
    ] = []
    """IAM statements of the job's task role, beyond its checkpoints and logs."""
    managed_policy_arns: list[ManagedPolicyArn] = []
    """Managed policies attached to the job's task role."""
    log_retention_days: Annotated[int, Allowed(LOG_RETENTION_ALLOWED)] = 365
    """Days the job's log group keeps its lines."""
    # The settings the functions enforce take their bounds and defaults from the per-job
    # contract (longjobs_contract.jobs), where each is declared once.
    timeout: (
        Annotated[
            int,
            contract.duration("timeout_seconds"),
            Duration(contract.duration_allowed("timeout_seconds")),
        ]
        | None
    ) = contract.default("timeout_seconds")
    """How long one attempt may run before the supervisor stops it; none: no limit."""
    max_wait_for_capacity: Annotated[
        int,
        contract.duration("max_wait_for_capacity_seconds"),
        Duration(contract.duration_allowed("max_wait_for_capacity_seconds")),
    ] = contract.default("max_wait_for_capacity_seconds")
    """How long a run's attempts may keep finding no Fargate capacity before it ends FAILED."""
    start_timeout: Annotated[
        int,
        contract.duration("start_timeout_seconds"),
        Duration(contract.duration_allowed("start_timeout_seconds")),
    ] = contract.default("start_timeout_seconds")
    """How long an attempt's task may take to reach RUNNING before it is stopped and re-run."""
    retries: Annotated[int, contract.bounds("retries")] = contract.default("retries")
    """Re-runs after the job itself fails (a non-zero exit, out of memory)."""
    interruption_retries: Annotated[int, contract.bounds("interruption_retries")] = (
        contract.default("interruption_retries")
    )
    """Re-runs after the platform stops it (Spot, maintenance) or it fails to start for a reason
    that passes; counted apart from `retries`."""
    on_interruption: Annotated[str, contract.one_of("on_interruption")] = contract.default(
        "on_interruption"
    )
    """Where a run goes on after an interruption."""
    notify: Annotated[str, contract.one_of("notify")] = contract.default("notify")
    """Which final states publish a message to the notifications topic."""
    service: ServiceConfig = ServiceConfig()
    """An ECS service that keeps tasks of the job running."""
    schedules: Annotated[
        dict[
            ScheduleName,
            Annotated[
                ScheduleConfig,
                Allowed(
                    "the schedule's settings, a mapping with expression, like "
                    '{expression: "rate(1 hour)"}'
                ),
            ],
        ],
        Allowed(
            'a mapping from schedule name to its settings, like nightly: {expression: "rate(1 '
            'hour)"}'
        ),
    ] = {}
    """EventBridge Scheduler schedules that run the job through the trigger, by name."""
    tags: Tags = {}
    """Tags of the job's task definition, service and tasks, besides the stack's `tags`."""
    readonly_root_filesystem: bool = True
    """The container's root filesystem is read-only; /tmp and `scratch_paths` are writable."""
    scratch_paths: list[
        Annotated[str, AfterValidator(_scratch_path), Allowed(SCRATCH_PATH_ALLOWED)]
    ] = []
    """Container paths that get a writable volume of their own, on the task's ephemeral storage."""

    @field_validator("scratch_paths")
    @classmethod
    def _scratch_paths(cls, paths: list[str]) -> list[str]:
        problems = [
            f"{path!r} is listed {paths.count(path)} times; list each path once"
            for path in dict.fromkeys(paths)
            if paths.count(path) > 1
        ]
        for path in dict.fromkeys(paths):
            if path == TMP:
                problems.append(
                    f"'{TMP}' is always writable (a scratch volume with a read-only root, the "
                    "container's own directory otherwise); leave it out"
                )
                continue
            parent = next((p for p in (TMP, *paths) if path.startswith(f"{p}/")), None)
            if parent is not None:
                problems.append(
                    f"{path!r} is inside {parent!r}, which is writable already; leave it out"
                )
        if len(paths) > MAX_SCRATCH_PATHS:
            problems.append(
                f"{len(paths)} paths; at most {MAX_SCRATCH_PATHS} besides {TMP}, which every job "
                "with a read-only root gets"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return paths

    @field_validator("parameters")
    @classmethod
    def _unique_parameters(cls, names: list[str]) -> list[str]:
        repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
        if repeated:
            raise ValueError(
                "; ".join(f"{name!r} is listed {names.count(name)} times" for name in repeated)
                + "; list each variable once"
            )
        return names

    @property
    def reserved_environment(self) -> tuple[str, ...]:
        """The variables a run may not set: the job's secrets, sorted."""
        return tuple(sorted(self.secrets))

    @property
    def overridable_environment(self) -> tuple[str, ...]:
        """The variables a run may set: `environment` keys and `parameters`, sorted, without
        loader and interpreter variables."""
        return variables.overridable(self.environment, self.parameters)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, days: int) -> int:
        if days not in ALLOWED_LOG_RETENTION_DAYS:
            raise ValueError(
                f"{days} is not a CloudWatch Logs retention; allowed: {LOG_RETENTION_ALLOWED}"
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
            if statement.Sid in PLATFORM_TASK_ROLE_SIDS:
                problems.append(
                    f"Sid {statement.Sid!r} of statement {index} is the platform's own (it names "
                    "the checkpoint statements of every task role)"
                )
            elif statement.Sid in seen:
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
        problems = [p for arn in arns if (p := control_plane.managed_policy_problem(arn))]
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

    @model_validator(mode="before")
    @classmethod
    def _default_capacity(cls, data: Any) -> Any:
        if isinstance(data, dict) and "capacity" not in data:
            service = data.get("service")
            kept = isinstance(service, dict) and service.get("desiredCount") not in (None, 0)
            return {**data, "capacity": ON_DEMAND if kept else SPOT}
        return data

    @model_validator(mode="before")
    @classmethod
    def _default_memory(cls, data: Any) -> Any:
        # The default is checked like a written value: it goes through `_memory` below.
        if isinstance(data, dict) and "memory" not in data:
            cpu = data.get("cpu", 256)
            # With a cpu Fargate does not have, the cpu is the problem reported, not the memory.
            sizes = fargate.TASK_SIZES.get(cpu) if type(cpu) is int else None
            return {**data, "memory": sizes[0] if sizes else min(fargate.TASK_SIZES[256])}
        return data

    @field_validator("build")
    @classmethod
    def _build_folder(cls, build: str | None) -> str | None:
        problem = build_folder_problem(build) if build is not None else None
        if problem:
            raise ValueError(problem)
        return build

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, cpu: int) -> int:
        if cpu not in fargate.TASK_SIZES:
            raise ValueError(f"{cpu} is not a Fargate CPU size; allowed: {CPU_ALLOWED}")
        return cpu

    @field_validator("memory")
    @classmethod
    def _memory(cls, memory: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        if cpu is not None and memory not in fargate.TASK_SIZES[cpu]:
            raise ValueError(
                f"{memory} MiB is not valid with cpu {cpu}; allowed: {_memory_for({'cpu': cpu})}"
            )
        return memory


def build_folder_problem(build: str) -> str | None:
    """Why `build` is not a folder under containers/ holding a Dockerfile whose base images are
    pinned by digest and whose image runs as a user other than root, or None. The image's tag
    covers its bases by digest (components/image.py): a base named by a tag alone is refused
    here, with every other problem, not mid-program."""
    path = PurePosixPath(build)
    if not _under_containers(path):
        return f"{build!r} is not a folder under {CONTAINERS_DIR}/; allowed: {BUILD_ALLOWED}"
    dockerfile = PROJECT_ROOT / path / "Dockerfile"
    if not dockerfile.is_file():
        return (
            f"{build!r} has no Dockerfile; set build to a folder under {CONTAINERS_DIR}/ that "
            "has one, or image"
        )
    if text_of(dockerfile) is None:
        return (
            f"{build!r} has a Dockerfile that is not UTF-8 text: {path / 'Dockerfile'}; "
            "save it as UTF-8"
        )
    if not has_from(dockerfile):
        return (
            f"{build!r} has no FROM: {path / 'Dockerfile'}; docker build needs a FROM naming "
            "the base image"
        )
    # No job sets build args: the bases are those the Dockerfile names by itself.
    _, unpinned = base_images(dockerfile, {})
    if unpinned:
        return (
            f"{build!r} builds from images not pinned by digest: {path / 'Dockerfile'}, "
            f"{'; '.join(unpinned)}; allowed: {BUILD_ALLOWED}"
        )
    as_root = user_problems(dockerfile)
    if as_root:
        return f"{build!r} runs its job as root: {path / 'Dockerfile'}, {'; '.join(as_root)}"
    return None


def _under_containers(path: PurePosixPath) -> bool:
    return not path.is_absolute() and ".." not in path.parts and path.parts[:1] == (CONTAINERS_DIR,)


def build_dockerfile(build: Any) -> Path | None:
    """The Dockerfile a `build` value names, if it is a folder under containers/ holding one."""
    if not isinstance(build, str) or not _under_containers(PurePosixPath(build)):
        return None
    dockerfile = PROJECT_ROOT / build / "Dockerfile"
    # One that is not UTF-8 text is refused by build_folder_problem, and cannot be linted.
    return dockerfile if dockerfile.is_file() and text_of(dockerfile) is not None else None


IMAGE_PUSHER_ALLOWED = (
    "an IAM role or user ARN (arn:<partition>:iam::<account>:role/<path/name> or "
    ":user/<path/name>, like arn:aws:iam::111122223333:role/release), without wildcards"
)
_IAM_PRINCIPAL = re.compile(
    r"arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}"
)
_SESSION = re.compile(r"arn:(?P<p>aws[a-z-]*):sts::(?P<a>[0-9]{12}):assumed-role/(?P<r>[^/]+)/.+")
# A bound of ours: each pusher is named in every job's repository policy, whose text ECR takes
# up to 10,240 characters (SetRepositoryPolicy); a longer list is a sign to share one role.
MAX_IMAGE_PUSHERS = 20


def _image_pusher(arn: str) -> str:
    # The repository policy matches `aws:PrincipalArn`, which holds a role's ARN for every one
    # of its sessions: a session's ARN would never match, and a wildcard would match too many.
    session = _SESSION.fullmatch(arn)
    if session:
        role = f"arn:{session['p']}:iam::{session['a']}:role/{session['r']}"
        raise ValueError(
            f"{arn!r} is a session; name the role: {role} (with its path); allowed: "
            f"{IMAGE_PUSHER_ALLOWED}"
        )
    if "*" in arn or "?" in arn:
        raise ValueError(
            f"{arn!r} has a wildcard, which would let every principal it matches push; "
            f"allowed: {IMAGE_PUSHER_ALLOWED}"
        )
    if not _IAM_PRINCIPAL.fullmatch(arn):
        raise ValueError(f"{arn!r} is not allowed; allowed: {IMAGE_PUSHER_ALLOWED}")
    return arn


def _unique_pushers(arns: list[str]) -> list[str]:
    repeated = [arn for arn in dict.fromkeys(arns) if arns.count(arn) > 1]
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed more than once; list each pusher once")
    return arns


CHECKPOINT_ACCESS_LOGS_ALLOWED = (
    "true (S3 server access logs of the checkpoint bucket, kept in a bucket of their own as long "
    "as the functions' logs) or false"
)


class StackConfig(_Model):
    network: NetworkConfig = NetworkConfig()
    """Where tasks run: subnets and security groups given, the default VPC's, or a new VPC."""
    jobs: Annotated[
        dict[
            JobName,
            Annotated[JobConfig, Allowed("the job's settings, a mapping ({} for every default)")],
        ],
        Field(min_length=1),
        Allowed(
            f"a mapping from job name (1-{MAX_JOB_NAME} lowercase letters, digits and hyphens) "
            "to the job's settings, like report: {cpu: 1024}"
        ),
    ]
    """The jobs the stack runs, by name."""
    tags: Tags = {}
    """Tags of every resource the stack declares (keys not starting with aws: or longjobs:)."""
    run_retention_days: Annotated[int, Field(ge=1, le=MAX_RUN_RETENTION_DAYS)] = 90
    """How long a run's record is kept after the run reaches its final state (DynamoDB TTL; an open
    run's record does not expire, however long it runs)."""
    notifications: NotificationsConfig = NotificationsConfig()
    """Who hears of runs' final states, besides whatever subscribes to the topic itself."""
    allowed_callers: list[Annotated[str, matching(CALLER_PATTERN, CALLER_ALLOWED)]] = []
    """Roles, accounts and organizations that may invoke the trigger: each gets an alias of the
    function and a statement of its resource-based policy for that alias only. Same-account
    callers need none."""
    image_pushers: Annotated[
        list[Annotated[str, AfterValidator(_image_pusher), Allowed(IMAGE_PUSHER_ALLOWED)]],
        Field(max_length=MAX_IMAGE_PUSHERS),
        AfterValidator(_unique_pushers),
    ] = []
    """IAM roles and users that may push job images besides the principal running `pulumi
    up` (a release pipeline): each repository's policy denies pushes to everyone else."""
    container_insights: Literal["enabled", "enhanced", "disabled"] = "enabled"
    """The cluster's `containerInsights` setting (ECS ClusterSetting)."""
    kms: Annotated[str, AfterValidator(_kms), Allowed(KMS_ALLOWED)] | None = None
    """`create` or a key ARN: the customer-managed key that every log group, repository,
    queue, topic, table, bucket, schedule and task's ephemeral storage is encrypted with. None:
    each service's own encryption (AWS owned or AWS managed keys)."""
    checkpoint_access_logs: Annotated[bool, Allowed(CHECKPOINT_ACCESS_LOGS_ALLOWED)] = True
    """S3 server access logs of the checkpoint bucket: who read, wrote or deleted which
    checkpoint. On by default: they cost only their storage (S3 bills neither turning them on
    nor delivering them), and an audit asks for them after the fact, when it is too late to turn
    them on."""

    @property
    def secret_services(self) -> frozenset[str]:
        """Where the jobs' secrets are kept: `secretsmanager`, `ssm`, both or neither (the
        service field of each secret's ARN)."""
        return frozenset(
            arn.split(":")[2] for job in self.jobs.values() for arn in job.secrets.values()
        )

    @field_validator("allowed_callers")
    @classmethod
    def _unique_callers(cls, entries: list[str]) -> list[str]:
        return _unique_job_callers(entries)

    @model_validator(mode="before")
    @classmethod
    def _default_build_folders(cls, data: Any) -> Any:
        # A job with neither build nor image builds from containers/<job>; the folder is then
        # checked like a written one, with every other problem. A name that is refused makes
        # no folder: the name is the problem, not a folder it would have.
        if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
            return data
        jobs = {
            name: (
                {**job, "build": build_of(name, job)}
                if isinstance(job, dict) and "build" not in job and build_of(name, job)
                else job
            )
            for name, job in data["jobs"].items()
        }
        return {**data, "jobs": jobs}


def build_of(name: Any, job: Mapping[str, Any]) -> Any:
    """The `build` of a job's raw settings: as written, else containers/<job> for a job with
    neither build nor image and a name that is allowed, else None."""
    if "build" in job or "image" in job:
        return job.get("build")
    return f"{CONTAINERS_DIR}/{name}" if _is_job_name(name) else None


def _is_job_name(name: Any) -> bool:
    try:
        TypeAdapter(JobName).validate_python(name)
    except ValidationError:
        return False
    return True
