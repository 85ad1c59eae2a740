"""Environment variables: which names a job or a run may set, and which values reach a task."""

from __future__ import annotations

import re
from collections.abc import Iterable

from longjobs_contract.errors import shown

RESERVED_PREFIXES = ("AWS_", "ECS_", "LONGJOBS_")
"""Names AWS, ECS and longjobs set in every task; a job or a run may not set or shadow them."""
LOADER_VARIABLES = (
    "PATH",
    "NODE_OPTIONS",
    "NODE_PATH",
    "BASH_ENV",
    "ENV",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "PERL5OPT",
    "PERL5LIB",
    "RUBYOPT",
    "RUBYLIB",
)
LOADER_PREFIXES = ("LD_", "DYLD_", "PYTHON")
"""Loader and interpreter variables: each makes the process load or run other code than the
image's (a shared library preloaded, a module path, a startup file, an interpreter option), so
whoever sets them runs code of their choosing as the job's task role, with its secrets. A job's
own `environment` may set them (its author chose the image); a run may never override them, and
a job may not list them in `parameters`. Names are matched in any case, like RESERVED_PREFIXES."""
LOADER_NAMES = (*(f"{prefix}*" for prefix in LOADER_PREFIXES), *LOADER_VARIABLES)
"""The loader and interpreter variables as a message lists them."""
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# C0 controls but tab, newline and carriage return; DEL and the C1 controls; lone surrogates
# (they cannot be encoded as UTF-8, so ECS could not pass them on).
_BAD_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


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
    """Whether `name` is a loader or interpreter variable (LOADER_VARIABLES, LOADER_PREFIXES)."""
    upper = name.upper()
    return upper in LOADER_VARIABLES or upper.startswith(LOADER_PREFIXES)


def loader_problem(name: str) -> str | None:
    """None unless `name` is a loader or interpreter variable, else what it is (the caller says
    who may not set it)."""
    if not is_loader_variable(name):
        return None
    return (
        f"{shown(name)} is a loader or interpreter variable, which makes the process load or run "
        f"other code ({', '.join(LOADER_NAMES)})"
    )


def overridable(declared: Iterable[str], parameters: Iterable[str]) -> tuple[str, ...]:
    """What a run may set: the job's `environment` names and its `parameters`, sorted, without
    loader and interpreter variables (a job's own environment may set those; a run never)."""
    names = {*declared, *parameters}
    return tuple(sorted(name for name in names if not is_loader_variable(name)))


def text_problem(value: str) -> str | None:
    """None for text a task can be given, else why not: control characters, lone surrogates."""
    bad = _BAD_CHARACTER.search(value)
    if bad is None:
        return None
    return (
        f"holds {bad.group()!r} at position {bad.start()}; control characters (tab, newline "
        "and carriage return aside) and lone surrogates are not allowed"
    )
