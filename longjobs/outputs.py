"""Finding a stack's outputs: the JSON `pulumi stack output --json` prints.

Looked for in this order: a file given by the caller (`--outputs FILE`); the environment
variable LONGJOBS_OUTPUTS holding the JSON; LONGJOBS_OUTPUTS_FILE naming a file of it; the Pulumi
CLI, when it is on PATH (`pulumi stack output --json [--stack S]`, run in the current
directory, as a user runs it in the project). Region and account come from the trigger's ARN.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from longjobs.errors import StackNotFound

OUTPUTS_VARIABLE = "LONGJOBS_OUTPUTS"
OUTPUTS_FILE_VARIABLE = "LONGJOBS_OUTPUTS_FILE"
PULUMI_TIMEOUT_SECONDS = 60
FUNCTION_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"function:(?P<name>[A-Za-z0-9_-]{1,64})"
)
REQUIRED_ENDPOINT = "lambda"
"""The service an outputs' `endpointUrls` (written by the local runtime only) must name: the
client calls the trigger there. It also names `logs`, and services other code uses (`ecs`,
`dynamodb`, `s3`, ...), which the client keeps and does not call."""


@dataclass(frozen=True)
class StackOutputs:
    """What the client reads of a stack's outputs, and where it found them."""

    source: str
    """Where they came from, in words: a file, a variable, or the Pulumi CLI and its stack."""
    trigger_function_arn: str
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoint_urls: dict[str, str] = field(default_factory=dict)
    """Service → endpoint URL, for a local stack; empty for AWS."""
    caller_qualifiers: dict[str, str] = field(default_factory=dict)
    """Each `allowedCallers` entry → the trigger's qualifier (alias) it invokes
    (`triggerCallerQualifiers`, docs/trigger.md "Who asked")."""

    @property
    def region(self) -> str:
        return self._arn("region")

    @property
    def account(self) -> str:
        return self._arn("account")

    @property
    def trigger_function_name(self) -> str:
        return self._arn("name")

    def _arn(self, part: str) -> str:
        match = FUNCTION_ARN.fullmatch(self.trigger_function_arn)
        assert match is not None  # checked when read
        return match[part]


def parse(text: str, source: str) -> StackOutputs:
    """Stack outputs from their JSON; StackNotFound names the source and what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise StackNotFound(f"{source} is not JSON: {error}") from None
    except RecursionError:
        raise StackNotFound(f"{source} is not JSON: nested too deep") from None
    except ValueError:  # an integer past Python's int_max_str_digits (4300)
        raise StackNotFound(f"{source} is not JSON: a number too long") from None
    if not isinstance(data, dict):
        raise StackNotFound(f"{source} is not a JSON object of stack outputs")
    arn = data.get("triggerFunctionArn")
    if not isinstance(arn, str) or not FUNCTION_ARN.fullmatch(arn):
        shown = "missing" if arn is None else f"{str(arn)[:80]!r} is not a Lambda function ARN"
        raise StackNotFound(
            f"{source} is not a longjobs stack's outputs: triggerFunctionArn {shown}"
        )
    jobs = data.get("jobs", {})
    if not isinstance(jobs, dict):
        raise StackNotFound(
            f"{source}: jobs must be an object of job names, not {type(jobs).__name__}"
        )
    return StackOutputs(
        source,
        arn,
        jobs,
        _endpoint_urls(data.get("endpointUrls"), source),
        _caller_qualifiers(data.get("triggerCallerQualifiers"), source),
    )


def _caller_qualifiers(value: Any, source: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(entry, str) and isinstance(alias, str) and alias
        for entry, alias in value.items()
    ):
        raise StackNotFound(
            f"{source}: triggerCallerQualifiers must map allowedCallers entries to qualifiers"
        )
    return dict(value)


def _endpoint_urls(value: Any, source: str) -> dict[str, str]:
    if value is None:
        return {}
    if (
        not isinstance(value, dict)
        or REQUIRED_ENDPOINT not in value
        or not all(isinstance(url, str) for url in value.values())
    ):
        raise StackNotFound(
            f"{source}: endpointUrls must map service names to http(s) URLs, "
            f"{REQUIRED_ENDPOINT} among them"
        )
    for service, url in value.items():
        if not _is_endpoint(url):
            raise StackNotFound(
                f"{source}: endpointUrls.{service} {url[:120]!r} is not an http(s) URL "
                "with a host and a port from 1 to 65535"
            )
    return dict(value)


def _is_endpoint(url: str) -> bool:
    """What botocore takes as an endpoint_url: http(s), a host without spaces, a port in range
    (checked here, so that a bad one is named with the outputs, not when a client is made)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when out of range or not a number
    except ValueError:
        return False
    host = parts.hostname or ""
    return (
        parts.scheme in ("http", "https")
        and bool(host)
        and not any(c.isspace() for c in parts.netloc)
        and (port is None or 1 <= port <= 65535)
    )


def from_file(path: str | os.PathLike[str], source: str | None = None) -> StackOutputs:
    where = source or f"the outputs file {path}"
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise StackNotFound(f"cannot read {where}: {error.strerror or error}") from None
    return parse(_text(data, where), where)


def _text(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise StackNotFound(
            f"{where} is not UTF-8 text (`pulumi stack output --json > FILE` writes it; "
            "PowerShell's > writes UTF-16)"
        ) from None


def discover(path: str | None = None, stack: str | None = None) -> StackOutputs:
    """The first source that is there, in the documented order."""
    if path is not None:
        return from_file(path)
    if os.environ.get(OUTPUTS_VARIABLE):
        return parse(os.environ[OUTPUTS_VARIABLE], f"${OUTPUTS_VARIABLE}")
    if os.environ.get(OUTPUTS_FILE_VARIABLE):
        named = os.environ[OUTPUTS_FILE_VARIABLE]
        return from_file(named, f"${OUTPUTS_FILE_VARIABLE} ({named})")
    import shutil

    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise StackNotFound(
            "no stack outputs: give --outputs FILE (from `pulumi stack output --json`), or set "
            f"{OUTPUTS_VARIABLE} (the JSON) or {OUTPUTS_FILE_VARIABLE} (a file of it); the "
            "Pulumi CLI is not on PATH to ask"
        )
    return from_pulumi(pulumi, stack)


def from_pulumi(pulumi: str, stack: str | None) -> StackOutputs:
    import subprocess  # only here: most commands find their outputs without it

    command = [pulumi, "stack", "output", "--json", *(["--stack", stack] if stack else [])]
    where = f"`{' '.join(['pulumi', *command[1:]])}`"
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=PULUMI_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise StackNotFound(f"{where} did not answer: {error}") from None
    if done.returncode != 0:
        said = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        raise StackNotFound(
            f"no stack outputs: {where} failed ({said}); give --outputs FILE, or set "
            f"{OUTPUTS_VARIABLE} or {OUTPUTS_FILE_VARIABLE}"
        )
    return parse(_text(done.stdout, where), where)
