"""ECS task definition rules, read from `containerDefinitions` (a JSON string of containers)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from longjobs_contract.tags import READONLY_ROOT, READONLY_ROOT_OPT_OUT

from .props import as_json, get

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"

# Variable names that say "secret". TOKEN counts as a whole word of the name (GITHUB_TOKEN,
# AUTHTOKEN_URL's AUTHTOKEN) so that MAX_TOKENS or TOKENIZER, common in model jobs, do not.
SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|(?:^|_)[A-Z0-9]*TOKEN(?:_|$)", re.IGNORECASE
)
# Values shaped like credentials: an AWS access key id (long-term AKIA, temporary ASIA), an AWS
# secret access key (40 characters of base64 with upper case, lower case and digits: a hex digest
# of 40 characters, like a git commit, has no upper case), a PEM private key.
ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")
SECRET_ACCESS_KEY = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def _containers(args: ResourceValidationArgs) -> list[Mapping[str, Any]] | ValueError | None:
    if args.resource_type != TASK_DEFINITION:
        return None
    try:
        containers = as_json(get(args.props, "containerDefinitions", "[]"))
    except ValueError as error:
        return ValueError(f"containerDefinitions cannot be read as JSON: {error}")
    if isinstance(containers, str) or not all(isinstance(c, Mapping) for c in containers):
        return ValueError("containerDefinitions is not a list of container objects")
    return list(containers)


def _name(container: Mapping[str, Any]) -> str:
    return str(container.get("name", "?"))


def no_privileged_containers(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    containers = _containers(args)
    if isinstance(containers, ValueError):
        report_violation(
            f"{containers}: write valid container definitions so they can be checked.", None
        )
        return
    for container in containers or []:
        if container.get("privileged") is True:
            report_violation(
                f"Container {_name(container)!r} is privileged: remove privileged: true and add "
                "only the Linux capabilities it needs with linuxParameters.capabilities.add.",
                None,
            )


def readonly_root_filesystem(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """Every container's root filesystem is read-only, unless the task definition carries the
    opt-out tag that a longjobs job with `readonlyRootFilesystem: false` gets."""
    containers = _containers(args)
    if not isinstance(containers, list):
        return
    tags = get(args.props, "tags", {})
    if get(tags, READONLY_ROOT) == READONLY_ROOT_OPT_OUT:
        return
    for container in containers:
        if container.get("readonlyRootFilesystem") is not True:
            report_violation(
                f"Container {_name(container)!r} can write to its root filesystem: set "
                "readonlyRootFilesystem: true and mount a volume where the job writes (for a "
                "longjobs job: list the paths in scratchPaths), or opt out with the task "
                f"definition tag {READONLY_ROOT}={READONLY_ROOT_OPT_OUT} (for a longjobs job: "
                "readonlyRootFilesystem: false).",
                None,
            )


def no_secrets_in_environment(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """Plain-text environment values are visible to anyone who may describe the task
    definition; secrets go in `secrets` (SSM or Secrets Manager ARNs resolved at start)."""
    containers = _containers(args)
    if not isinstance(containers, list):
        return
    for container in containers:
        for variable in container.get("environment") or []:
            if not isinstance(variable, Mapping):
                continue
            name, value = str(variable.get("name", "")), str(variable.get("value") or "")
            if not value:
                continue
            # Never quote the value: the message ends up in CI logs.
            why = _looks_secret(name, value)
            if why:
                report_violation(
                    f"Container {_name(container)!r} sets {name} in plain text and {why}: "
                    "store it in SSM Parameter Store or Secrets Manager and pass its ARN in "
                    "secrets (for a longjobs job: its secrets), not in environment.",
                    None,
                )


def _looks_secret(name: str, value: str) -> str | None:
    if SECRET_NAME.search(name):
        return "its name says it is a secret"
    if ACCESS_KEY_ID.search(value):
        return "its value looks like an AWS access key id"
    if PRIVATE_KEY.search(value):
        return "its value holds a private key"
    for candidate in SECRET_ACCESS_KEY.findall(value):
        if all(re.search(p, candidate) for p in ("[A-Z]", "[a-z]", "[0-9]")):
            return "its value looks like an AWS secret access key"
    return None
