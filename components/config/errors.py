"""How config problems are worded: one line per bad key, `longjobs:<path>: <what is allowed>`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

NAMESPACE = "longjobs"


class ConfigError(Exception):
    """Stack config that cannot be deployed; `problems` holds one line per bad key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the stack config:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def key_path(*parts: object) -> str:
    """`longjobs:jobs.report.memory` from ("jobs", "report", "memory")."""
    return f"{NAMESPACE}:{'.'.join(map(str, parts))}" if parts else NAMESPACE


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


def allowed_keys(root: type[BaseModel], loc: list[str]) -> list[str] | None:
    """The keys the model at a config path accepts, spelled as in the config."""
    annotation: Any = root
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


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def describe_error(root: type[BaseModel], error: Mapping[str, Any]) -> str:
    """One pydantic error as a config problem line."""
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
    message = str(error["msg"]).removeprefix("Value error, ")
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = allowed_keys(root, loc[:-1])
        message = "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    elif kind == "missing":
        message = "required"
    elif kind == "literal_error":
        message = f"{_shown(error['input'])} is not allowed; allowed: {error['ctx']['expected']}"
    elif kind == "too_short" and error["ctx"].get("min_length") == 1:
        message = "must not be empty"
    elif "input" in error and kind not in ("value_error", "assertion_error"):
        message = f"{_shown(error['input'])}: {message}"
    return f"{key_path(*loc)}: {'the name ' if is_name else ''}{message}"
