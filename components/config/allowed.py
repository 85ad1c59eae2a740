"""What each config value may be, in the user's words: one text per field or value type.

A field's text is an `Allowed` in its annotation (`Annotated[int, Allowed("...")]`), or one
its type carries (`matching` is an Allowed that also checks); without one it is derived from the
type itself (a Literal's values, an int's bounds, a model's keys). Problem messages end with it,
and a generated configuration reference can read the same texts with `allowed_text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic.fields import FieldInfo
from pydantic_core import CoreSchema, core_schema


@dataclass(frozen=True)
class Allowed:
    """What a value may be, in the user's words."""

    text: str
    given: Callable[[Mapping[str, Any]], str | None] | None = field(default=None, compare=False)
    """Narrows `text` by the sibling settings the user wrote (memory by the job's cpu), or
    returns None to keep it."""
    written_as: Callable[[str], list[str]] | None = field(default=None, compare=False)
    """For a list: what one string written in its place means (a command line's words)."""


@dataclass(frozen=True)
class Duration(Allowed):
    """An Allowed for a duration, held in seconds and written as seconds or like 2h: a reader
    that made a number of `2:00` is answered with the units to write."""


@dataclass(frozen=True)
class Matching(Allowed):
    """An Allowed string that must match `pattern` whole."""

    pattern: str = ""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        compiled = re.compile(self.pattern)

        def check(value: str) -> str:
            if not compiled.fullmatch(value):
                raise ValueError(f"{value!r} is not allowed; allowed: {self.text}")
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))


def matching(pattern: str, allowed: str) -> Matching:
    """A check that the whole value matches `pattern`, saying what is `allowed` if not."""
    return Matching(allowed, pattern=pattern)


@dataclass(frozen=True)
class Node:
    """A place in the config: the type found there and the metadata its annotations carry."""

    kind: Any
    metadata: tuple[Any, ...] = ()


def unwrap(annotation: Any, metadata: tuple[Any, ...] = ()) -> Node:
    """The type under Annotated[...] and Optional[...], with the metadata on the way."""
    found = list(metadata)
    while True:
        if get_origin(annotation) is Annotated:
            annotation, *extra = get_args(annotation)
            for item in extra:
                found.append(item)
                if isinstance(item, FieldInfo):
                    found.extend(item.metadata)
        elif _is_union(annotation) and len(_branches(annotation)) == 1:
            annotation = _branches(annotation)[0]
        else:
            return Node(annotation, tuple(found))


def field_type(annotation: Any) -> Any:
    """The type under Annotated[...] and Optional[...]."""
    return unwrap(annotation).kind


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, UnionType)


def _branches(annotation: Any) -> list[Any]:
    return [a for a in get_args(annotation) if a is not type(None)]


def is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields by the key the config spells them with."""
    return {info.alias or name: info for name, info in model.model_fields.items()}


def is_union(node: Node) -> bool:
    """A value of several kinds (a string or a list): pydantic tags each kind's error."""
    return _is_union(node.kind)


def branch(node: Node, tag: str) -> Node | None:
    """The kind of a union that pydantic's tag names ("list[str]", "constrained-str")."""
    wanted = tag.startswith("list[")
    for option in _branches(node.kind):
        inner = unwrap(option)
        if (get_origin(inner.kind) is list) == wanted:
            return inner
    return None


def allowed_metadata(node: Node) -> Allowed | None:
    """The Allowed the annotations at `node` carry, the outermost first."""
    return next((item for item in node.metadata if isinstance(item, Allowed)), None)


def child(node: Node, part: str) -> Node | None:
    """The node under `part` (a key, a list index, or "[key]" for a mapping's names)."""
    kind = node.kind
    if is_model(kind):
        info = fields(kind).get(part)
        return unwrap(info.annotation, tuple(info.metadata)) if info else None
    if get_origin(kind) is dict:
        key, value = get_args(kind)
        return unwrap(key if part == "[key]" else value)
    if get_origin(kind) is list:
        return unwrap(get_args(kind)[0])
    return None


def descend(node: Node | None, part: str) -> Node | None:
    """The node under `part` as a value is walked: for a value of several kinds (Action: a
    string or a list), an index is the list's."""
    if node is None:
        return None
    if is_union(node):
        node = branch(node, "list[" if part.isdigit() else "str")
    return child(node, part) if node is not None else None


def scalar_kind(node: Node) -> Node:
    """The scalar kind of a value of several kinds, else the node itself."""
    return (branch(node, "str") or node) if is_union(node) else node


def allowed_text(node: Node, siblings: Mapping[str, Any] | None = None) -> str:
    """What may be written at `node`; narrowed by `siblings` (the mapping holding it) when its
    Allowed says how."""
    item = allowed_metadata(node)
    if item is None:
        return _derived(node)
    narrowed = item.given(siblings) if item.given and siblings is not None else None
    return narrowed or item.text


def _derived(node: Node) -> str:
    kind = node.kind
    if get_origin(kind) is Literal:
        return _either([repr(v) for v in get_args(kind)])
    if kind is bool:
        return "true or false"
    if kind is int:
        return f"a whole number{_bounds(node.metadata)}"
    if kind is str:
        return "a string"
    if is_model(kind):
        keys = ", ".join(fields(kind))
        required = [k for k, info in fields(kind).items() if info.is_required()]
        if required:
            return f"a mapping of {keys} ({_and(required)} required)"
        return f"a mapping of {keys} ({{}} for every default)"
    if get_origin(kind) is list:
        return (
            f"a list{_lengths(node.metadata)}, each {allowed_text(child(node, '0') or Node(Any))}"
        )
    if get_origin(kind) is dict:
        return "a mapping"
    if _is_union(kind):
        return _either([allowed_text(unwrap(branch)) for branch in _branches(kind)])
    return "a value"


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _bounds(metadata: tuple[Any, ...]) -> str:
    low = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" of {low} or more"
    return f" up to {high}" if high is not None else ""


def _lengths(metadata: tuple[Any, ...]) -> str:
    low = next((m.min_length for m in metadata if isinstance(m, annotated_types.MinLen)), None)
    high = next((m.max_length for m in metadata if isinstance(m, annotated_types.MaxLen)), None)
    if low is not None and high is not None:
        return f" of {low} to {high}"
    if high is not None:
        return f" of at most {high}"
    return f" of at least {low}" if low is not None and low > 1 else ""
