"""Declared settings: a dataclass field says once what it holds, and everything else follows.

Each field of a settings class (`longjobs_contract.jobs.JobContract`, `TriggerConfig`) is made
with `declare`, which records its type, bounds, allowed values and the config attribute it comes
from. From those declarations alone the functions' config file is written and read
(`to_json`, `from_json`), every value is checked when an object is made (`check`), the config
model takes its bounds, and the components copy a validated job into the contract
(`from_source`). A setting added in one place is therefore written, read, checked and copied,
with nothing to forget elsewhere.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

_SETTING = "longjobs.setting"
_NESTED = "longjobs.nested"
T = TypeVar("T")


class Setting(NamedTuple):
    """What one field holds and what values it allows. A named tuple, not a dataclass: every
    cold start of the functions makes this class, and a dataclass costs a millisecond there."""

    kind: type
    """`str`, `int`, `bool`, or `tuple` (of non-empty strings)."""
    doc: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    """A string, or each string of a tuple, must match it whole."""
    optional: bool = False
    """Whether None is a value (JSON null)."""
    source: str | None = None
    """The attribute of a job's validated stack config the value comes from; None when the
    components supply it (an ARN, a name)."""
    item_problem: Callable[[str], str | None] | None = None
    """A further check of a string, or of each string of a tuple."""
    min_items: int = 0
    """The fewest strings a tuple holds."""
    unique: bool = False
    """Whether a tuple holds each string once."""

    def allowed(self) -> str:
        """What the setting allows, in words."""
        if self.choices:
            text = " or ".join(self.choices)
        elif self.kind is bool:
            text = "true or false"
        elif self.kind is int:
            low = "" if self.minimum is None else f"from {self.minimum}"
            high = "" if self.maximum is None else f"to {self.maximum}"
            text = f"a whole number {low} {high}".strip().replace("  ", " ")
        elif self.kind is tuple:
            text = "a list of non-empty strings"
        else:
            text = "a non-empty string"
        if self.pattern is not None:
            text += f" matching {self.pattern.pattern}"
        return text + (", or null" if self.optional else "")

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed, or None."""
        if value is None:
            return None if self.optional else f"must be {self.allowed()}, not null"
        if self.kind is tuple:
            if not isinstance(value, tuple | list):
                return f"must be {self.allowed()}, not {value!r}"
            if len(value) < self.min_items:
                return f"must hold at least {self.min_items}, not {len(value)}"
            repeated = sorted({item for item in value if value.count(item) > 1}, key=str)
            if self.unique and repeated:
                return f"{', '.join(map(repr, repeated))} listed more than once"
            return next(filter(None, (self._text_problem(item) for item in value)), None)
        if self.kind is str:
            return self._text_problem(value)
        if type(value) is not self.kind:  # exact: `True` is an int to isinstance
            return f"must be {self.allowed()}, not {value!r}"
        if isinstance(value, int) and not (
            (self.minimum is None or value >= self.minimum)
            and (self.maximum is None or value <= self.maximum)
        ):
            return f"must be {self.allowed()}, not {value!r}"
        return None

    def _text_problem(self, value: Any) -> str | None:
        if not isinstance(value, str) or not value:
            return f"must be {self.allowed()}, not {value!r}"
        if self.choices and value not in self.choices:
            return f"must be {self.allowed()}, not {value!r}"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"{value!r} does not match {self.pattern.pattern}"
        return self.item_problem(value) if self.item_problem else None


def declare(kind: type, doc: str, *, default: Any = dataclasses.MISSING, **rules: Any) -> Any:
    """A dataclass field holding a setting: `retries: int = declare(int, "...", maximum=10)`."""
    return dataclasses.field(default=default, metadata={_SETTING: Setting(kind, doc, **rules)})


def nested(**options: Any) -> Any:
    """A dataclass field holding other settings objects, written and read by its class's own
    code (the functions' config file's `jobs`)."""
    return dataclasses.field(metadata={_NESTED: True}, **options)


def settings(cls: type) -> dict[str, Setting]:
    """Every field of a settings class with its declaration, in declaration order; a field
    made neither with `declare` nor with `nested` is an error, not skipped."""
    found = {}
    for field in dataclasses.fields(cls):
        if _NESTED in field.metadata:
            continue
        if _SETTING not in field.metadata:
            raise TypeError(f"{cls.__name__}.{field.name} is not declared with declare()")
        found[field.name] = field.metadata[_SETTING]
    return found


def setting(cls: type, name: str) -> Setting:
    """One field's declaration: what the config model takes its bounds from."""
    return settings(cls)[name]


def default(cls: type, name: str) -> Any:
    """One field's default value."""
    [field] = [f for f in dataclasses.fields(cls) if f.name == name]
    return field.default


def json_key(name: str) -> str:
    """The file's key for a field: `timeout_seconds` -> `timeoutSeconds`."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def check(obj: Any) -> None:
    """Raise ValueError naming the first field whose value its declaration does not allow."""
    for name, declared in settings(type(obj)).items():
        problem = declared.problem(getattr(obj, name))
        if problem:
            raise ValueError(f"{json_key(name)}: {problem}")


class Declared:
    """A settings class: every object is checked against its fields' declarations as it is
    made, so none holds a value the declarations do not allow."""

    def __post_init__(self) -> None:
        # A list given for a tuple setting is kept as a tuple: the object stays hashable and
        # equal to the same values read back from the file.
        for name, declared in settings(type(self)).items():
            value = getattr(self, name)
            if declared.kind is tuple and isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        check(self)


def to_json(obj: Any) -> dict[str, Any]:
    """Every declared field under its file key; tuples as lists."""
    return {
        json_key(name): list(value) if isinstance(value, tuple) else value
        for name in settings(type(obj))
        for value in (getattr(obj, name),)
    }


def from_json(cls: type[T], data: Any, where: str = "", **given: Any) -> T:
    """An object of a `Declared` class from its file form: every declared key present, no
    other, each value allowed. `given` holds fields kept outside the file form."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where.rstrip('.') or 'the config'} must be a JSON object")
    declared = {json_key(name): name for name in settings(cls) if name not in given}
    missing = sorted(key for key in declared if key not in data)
    unknown = sorted(key for key in data if key not in declared)
    if missing or unknown:
        raise ValueError(
            f"{where.rstrip('.') or 'the config'}: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unknown {', '.join(unknown)}" if unknown else "",
                )
                if part
            )
        )
    values = {
        name: tuple(data[key]) if isinstance(data[key], list) else data[key]
        for key, name in declared.items()
    }
    try:
        return cls(**values, **given)
    except ValueError as error:
        raise ValueError(f"{where}{error}") from None


def from_source(cls: type[T], source: Any, **given: Any) -> T:
    """An object of `cls` from a validated config object: each field with a `source` read from
    that attribute, the others from `given`."""
    values = {
        name: _frozen(getattr(source, declared.source))
        for name, declared in settings(cls).items()
        if declared.source is not None and name not in given
    }
    return cls(**values, **given)


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def schema_version(*classes: type) -> str:
    """A short digest of the declared fields of `classes`: a file written for other
    declarations is refused rather than misread."""
    text = repr(
        [
            (cls.__name__, name, declared.kind.__name__, declared.optional)
            for cls in classes
            for name, declared in settings(cls).items()
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]
