"""The value types of stack config: names, ids, ARNs and environment values, each with the
wording of what is allowed."""

from __future__ import annotations

import shlex
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from components.config.allowed import Allowed, matching
from components.config.names import MAX_JOB_NAME
from longjobs_contract import environment

# A schedule's EventBridge Scheduler name is `<job>.<schedule>`, at most 64 characters of
# [0-9a-zA-Z-_.]. Neither job nor schedule names hold a '.', so no two schedules share a name.
SCHEDULER_NAME_MAX = 64
SCHEDULE_SEPARATOR = "."
MAX_SCHEDULE_NAME = SCHEDULER_NAME_MAX - MAX_JOB_NAME - len(SCHEDULE_SEPARATOR)


def _env_name(name: str) -> str:
    problem = environment.name_problem(name)
    if problem:
        raise ValueError(problem)
    return name


ENV_VALUE_ALLOWED = 'one string, quoted, like "5000"'


def _env_value(value: Any) -> str:
    # Stack config reaches the program through YAML readers that disagree on unquoted scalars
    # (01234, 1.10, yes, 2026-11-01): a container must get what the user wrote, so only a
    # string is taken, and anything else is refused with the quoted form to write instead.
    if isinstance(value, str):
        problem = environment.text_problem(value)
        if problem:
            raise ValueError(problem)
        return value
    if isinstance(value, dict | list):
        kind = "a mapping" if isinstance(value, dict) else "a list"
        raise ValueError(f"{kind} is not a string; allowed: {ENV_VALUE_ALLOWED}")
    if value is None:
        raise ValueError(
            f'null (an empty value) is not a string; allowed: {ENV_VALUE_ALLOWED} ("" for an '
            "empty one)"
        )
    if isinstance(value, bool):
        kind = "a boolean"
    elif isinstance(value, date | datetime):
        kind = "a date"
        value = value.isoformat()
    else:
        kind = "a number"
    shown = "true" if value is True else "false" if value is False else str(value)
    raise ValueError(
        f"{shown} is {kind}, not a string; environment values are strings: write it quoted, "
        f'"{shown}", as you mean it (unquoted, YAML readers differ on what it is)'
    )


JobName = Annotated[
    str,
    matching(
        rf"[a-z]([a-z0-9-]{{0,{MAX_JOB_NAME - 2}}}[a-z0-9])?",
        f"a DNS-safe name: 1-{MAX_JOB_NAME} lowercase letters, digits and hyphens, starting with "
        "a letter, not ending with a hyphen",
    ),
]
EnvName = Annotated[
    str,
    AfterValidator(_env_name),
    Allowed(
        "a variable name: letters, digits and '_', not starting with a digit, nor with "
        + ", ".join(environment.RESERVED_PREFIXES)
    ),
]
EnvValue = Annotated[str, BeforeValidator(_env_value), Allowed("a string, quoted")]
Environment = Annotated[
    dict[EnvName, EnvValue],
    Allowed(
        'a mapping of variable names to string values, one KEY: "value" a line, like '
        'REPORT_ROWS: "5000"'
    ),
]
# Subnet and security group ids: 8 hex digits (older resources) or 17.
SubnetId = Annotated[
    str,
    matching(r"subnet-([0-9a-f]{8}|[0-9a-f]{17})", "subnet- and 8 or 17 hex digits, like "
             "subnet-0123456789abcdef0"),
]  # fmt: skip
SecurityGroupId = Annotated[
    str,
    matching(r"sg-([0-9a-f]{8}|[0-9a-f]{17})", "sg- and 8 or 17 hex digits, like "
             "sg-0123456789abcdef0"),
]  # fmt: skip
_REGION_ACCOUNT = r"[a-z]{2}(-[a-z]+)+-\d:\d{12}"
_SecretArnForm = Annotated[
    str,
    matching(
        rf"arn:aws[a-z-]*:(ssm:{_REGION_ACCOUNT}:parameter/[\w.\-/]+"
        # Secrets Manager: the secret, then optionally json-key, version-stage and version-id,
        # all three separators present once any follows (ECS's documented valueFrom form).
        rf"|secretsmanager:{_REGION_ACCOUNT}:secret:[\w/+=.@-]+(:[^:]*:[^:]*:[^:]*)?)",
        "the ARN of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or of a "
        "Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME, optionally "
        "followed by :JSON-KEY:VERSION-STAGE:VERSION-ID, each of the three possibly empty)",
    ),
]


def _one_secret_version(value_from: str) -> str:
    # ECS: "You can specify either a version stage or a version ID, but not both."
    parts = value_from.split(":")
    if parts[2] == "secretsmanager" and len(parts) == 10 and parts[8] and parts[9]:
        raise ValueError(
            f"{value_from!r} names both a version stage and a version ID; ECS takes one of them"
        )
    return value_from


SecretArn = Annotated[_SecretArnForm, AfterValidator(_one_secret_version)]
# A KMS key by its ARN (not an alias: log groups, queues and key policies' conditions take the
# key itself). Key ids are UUIDs, or mrk- and 32 hex digits for multi-Region keys.
KmsKeyArn = Annotated[
    str,
    matching(
        r"arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/"
        r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})",
        "a KMS key ARN like arn:aws:kms:us-east-1:111122223333:key/"
        "1234abcd-12ab-34cd-56ef-1234567890ab (an alias is not taken)",
    ),
]
ManagedPolicyArn = Annotated[
    str,
    matching(
        r"arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+",
        "an IAM policy ARN like arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    ),
]
ImageUri = Annotated[
    str,
    matching(
        r"[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+((:[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}"
        r"|:[\w][\w.-]{0,127})",
        "an image URI with a registry and a tag, a digest or both, like "
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3 or <registry>/app:1.2.3@sha256:<64 "
        "hex>",
    ),
]
ScheduleName = Annotated[
    str,
    matching(
        rf"[0-9a-zA-Z_-]{{1,{MAX_SCHEDULE_NAME}}}",
        f"1-{MAX_SCHEDULE_NAME} letters, digits, '-' or '_' (no '.': the Scheduler name is "
        f"<job>{SCHEDULE_SEPARATOR}<schedule>)",
    ),
]
# A zone of a region: the region's name and a letter (us-west-1a); no Local or Wavelength Zone,
# where Fargate does not run.
AvailabilityZoneName = Annotated[
    str,
    matching(
        r"[a-z]{2}(-[a-z]+)+-\d[a-z]",
        "an Availability Zone name: the region's name and a letter, like us-west-1a",
    ),
]


TagKey = Annotated[
    str,
    matching(
        r"(?!aws:|longjobs:)[\w .:/=+@-]{1,128}",
        "1-128 letters, digits, spaces and _.:/=+-@, not starting with 'aws:' (AWS's) or "
        "'longjobs:' (the stack's own, which IAM conditions and the functions read)",
    ),
]
TagValue = Annotated[
    str, matching(r"[\w .:/=+@-]{0,256}", "0-256 letters, digits, spaces and _.:/=+-@")
]
Tags = Annotated[
    dict[TagKey, TagValue], Allowed("a mapping of tag keys to values, like team: platform")
]


def _words(line: str) -> list[str]:
    """A command written as one line: the words a shell would split it into."""
    try:
        return shlex.split(line)
    except ValueError:  # an unclosed quote
        return line.split()


Words = Annotated[
    list[Annotated[str, Field(min_length=1), Allowed("a word, not empty")]],
    Field(min_length=1),
    Allowed(
        'a list of words, each one argument (the exec form, no shell), like ["python", '
        '"report.py"]',
        written_as=_words,
    ),
]


def scheduler_name(job: str, schedule: str) -> str:
    """The EventBridge Scheduler name of a job's schedule, unique within the stack's group."""
    return f"{job}{SCHEDULE_SEPARATOR}{schedule}"
