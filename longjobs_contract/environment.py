"""Environment variables: which names a job or a run may set, and which values reach a task."""

from __future__ import annotations

import re
from collections.abc import Iterable

from longjobs_contract import loader_variables
from longjobs_contract.errors import shown

RESERVED_PREFIXES = ("AWS_", "ECS_", "LONGJOBS_")
"""Names AWS, ECS and longjobs set in every task; a job or a run may not set or shadow them."""
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# C0 controls but tab, newline and carriage return; DEL and the C1 controls; lone surrogates
# (they cannot be encoded as UTF-8, so ECS could not pass them on). Compiled at its first use
# (re keeps it): only a run's values are checked, and compiling it takes a cold start a
# millisecond.
_BAD_CHARACTER = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]"


def name_problem(name: object) -> str | None:
    """None for a valid, non-reserved variable name, else what is allowed."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return (
            f"{shown(name)} is not a variable name; use letters, digits and '_', "
            "not starting with a digit"
        )
    if name.upper().startswith(RESERVED_PREFIXES):
        return f"{shown(name)} is reserved; names may not start with {', '.join(RESERVED_PREFIXES)}"
    return None


def is_loader_variable(name: str) -> bool:
    """Whether `name` is in the catalogue of loader and interpreter variables, in any case."""
    return loader_variables.find(name) is not None


def loader_problem(name: str) -> str | None:
    """None unless `name` is a loader or interpreter variable, else what it does (the caller
    says who may not set it)."""
    entry = loader_variables.find(name)
    if entry is None:
        return None
    return f"{shown(name)} is a loader or interpreter variable ({entry.shown}: {entry.effect})"


def overridable(declared: Iterable[str], parameters: Iterable[str]) -> tuple[str, ...]:
    """What a run may set: the job's `environment` names and its `parameters`, sorted, without
    loader and interpreter variables (a job's own environment may set those; a run never)."""
    names = {*declared, *parameters}
    return tuple(sorted(name for name in names if not is_loader_variable(name)))


def text_problem(value: str) -> str | None:
    """None for text a task can be given, else why not: control characters, lone surrogates."""
    bad = re.search(_BAD_CHARACTER, value)
    if bad is None:
        return None
    return (
        f"holds {bad.group()!r} at position {bad.start()}; control characters (tab, newline "
        "and carriage return aside) and lone surrogates are not allowed"
    )
