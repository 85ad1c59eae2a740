"""The config model's side of the per-job contract (`longjobs_contract.jobs`).

The model takes each contract setting's bounds, allowed values and default from its declaration,
and a validated job becomes the functions' `JobContract` by the declarations' `source`
attributes alone, so a setting is never restated here or in the components.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import AfterValidator, BeforeValidator, Field

from components.config.errors import shown
from longjobs_contract import settings
from longjobs_contract.jobs import JobContract, RunRules


def job_contract(name: str, job: Any, task_definition_arn: str, log_group: str) -> JobContract:
    """What the functions know of a validated job: its one container is named after it."""
    return settings.from_source(
        JobContract,
        job,
        container_name=name,
        task_definition_arn=task_definition_arn,
        log_group=log_group,
    )


def run_rules(name: str, job: Any) -> RunRules:
    """What the trigger's run event validator will know of a validated job."""
    return settings.from_source(RunRules, job, container_name=name)


def bounds(name: str) -> Any:
    """The pydantic bounds of a whole-number setting."""
    declared = settings.setting(JobContract, name)
    return Field(ge=declared.minimum, le=declared.maximum)


def default(name: str) -> Any:
    return settings.default(JobContract, name)


def one_of(name: str) -> AfterValidator:
    """A check that the value is one of the setting's choices, naming them if not."""
    choices = settings.setting(JobContract, name).choices

    def check(value: str) -> str:
        if value not in choices:
            *rest, last = map(repr, choices)
            allowed = f"{', '.join(rest)} or {last}" if rest else last
            raise ValueError(f"{value!r} is not allowed; allowed: {allowed}")
        return value

    return AfterValidator(check)


def duration_allowed(name: str) -> str:
    """What a duration setting allows, in words."""
    declared = settings.setting(JobContract, name)
    low, high = declared.minimum or 0, declared.maximum or 0
    return f"{_words(low)} to {_words(high)}, as seconds or like 45m, 2h, 1h30m"


def duration(name: str) -> BeforeValidator:
    """A setting held in seconds, written as seconds or as a string like 45m, 2h or 1h30m,
    within the setting's bounds."""
    declared = settings.setting(JobContract, name)
    low, high = declared.minimum or 0, declared.maximum or 0
    allowed = f"allowed: {duration_allowed(name)}"

    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"{shown(value)} is not a duration; {allowed}")
        seconds = value if isinstance(value, int) else _seconds(value)
        if seconds is None:
            raise ValueError(f"{shown(value)} is not a duration; {allowed}")
        if not low <= seconds <= high:
            raise ValueError(f"{shown(value)} is {_words(seconds)}; {allowed}")
        return seconds

    return BeforeValidator(parse)


def _seconds(text: str) -> int | None:
    match = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not text or not match:
        return None
    days, hours, minutes, secs = (int(group or 0) for group in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + secs


def _words(seconds: int) -> str:
    """60 -> '1 minute', 86400 -> '1 day', 5400 -> '90 minutes', 45 -> '45 seconds'."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"
