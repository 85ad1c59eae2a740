"""What the roles are made for: the repository, and each longjobs stack the workflows touch.

Read once, every problem at once, each a line naming the key and what it allows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config.names import name_prefix

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LONGJOBS = "longjobs"
"""The longjobs program's project name (its Pulumi.yaml), which its names start with."""
NAMESPACE = "longjobs-github-oidc"
# GitHub's rules for names: an owner is letters, digits and single hyphens (up to 39); a
# repository name letters, digits, `.`, `-` and `_` (up to 100).
_REPOSITORY = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}/[A-Za-z0-9._-]{1,100}")
_ID = re.compile(r"[1-9][0-9]{0,19}")


class SettingsError(Exception):
    """Every problem of the settings, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Stack:
    """A longjobs stack the workflows preview and deploy, as its Pulumi.<stack>.yaml sets it."""

    name: str
    prefix: str
    """Every name of the stack starts with it (`longjobs-dev`)."""
    region: str
    """`aws:region`, or `*` when the stack leaves it to the environment."""
    kms: str | None
    """`create`, a key ARN, or None."""
    creates_network: bool


@dataclass(frozen=True)
class Settings:
    repository: str
    owner_id: str
    repository_id: str
    stacks: tuple[Stack, ...]
    provider_arn: str | None


def read_stack(name: str, root: Path = PROJECT_ROOT) -> Stack:
    """A stack's facts from its file; `make plan` is where its config is checked."""
    document = yaml.safe_load((root / f"Pulumi.{name}.yaml").read_text())
    config: Mapping[str, Any] = document.get("config") or {}
    network = config.get(f"{LONGJOBS}:network") or {}
    return Stack(
        name=name,
        prefix=name_prefix(LONGJOBS, name),
        region=str(config.get("aws:region", "*")),
        kms=config.get(f"{LONGJOBS}:kms"),
        creates_network="create" in network,
    )


def _stacks(value: Any, root: Path, problems: list[str]) -> tuple[Stack, ...]:
    there = sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in root.glob("Pulumi.*.yaml")
    )
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        problems.append(f"{NAMESPACE}:stacks: {value!r}; allowed: a list of stacks of {there}")
        return ()
    unknown = [s for s in value if s not in there]
    if unknown or len(set(value)) != len(value):
        problems.append(f"{NAMESPACE}:stacks: {value!r}; allowed: each of {there} at most once")
        return ()
    return tuple(read_stack(s, root) for s in value)


def parse(values: Mapping[str, Any], root: Path = PROJECT_ROOT) -> Settings:
    """`values`: the config keys without the namespace (`repository`, `stacks`...)."""
    problems: list[str] = []
    allowed = {"repository", "ownerId", "repositoryId", "stacks", "providerArn"}
    problems += [
        f"{NAMESPACE}:{key}: unknown key; allowed: {', '.join(sorted(allowed))}"
        for key in sorted(set(values) - allowed)
    ]
    repository = values.get("repository")
    if not isinstance(repository, str) or not _REPOSITORY.fullmatch(repository):
        problems.append(
            f"{NAMESPACE}:repository: {repository!r}; allowed: the GitHub repository as "
            "owner/name (octo-org/longjobs)"
        )
    ids = {key: str(values.get(key, "")) for key in ("ownerId", "repositoryId")}
    problems += [
        f"{NAMESPACE}:{key}: {value!r}; allowed: the numeric id GitHub gives it "
        "(`gh api repos/OWNER/NAME --jq '.owner.id, .id'`)"
        for key, value in ids.items()
        if not _ID.fullmatch(value)
    ]
    stacks = _stacks(values.get("stacks"), root, problems)
    provider = values.get("providerArn")
    if provider is not None and not re.fullmatch(
        r"arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com",
        str(provider),
    ):
        problems.append(
            f"{NAMESPACE}:providerArn: {provider!r}; allowed: the ARN of the account's OIDC "
            "provider for token.actions.githubusercontent.com"
        )
    if problems:
        raise SettingsError(problems)
    return Settings(str(repository), ids["ownerId"], ids["repositoryId"], stacks, provider)
