"""Keys written in a shape the config does not take, found before the model reads them, so that
each is named once, in the shape that was meant.

A dotted key (`service.desiredCount: 1` in a job, `longjobs:jobs.report.timeout` in the stack
file) is the path that `pulumi config set --path` takes, not a key: in the file each dot is one
level of nesting. It is taken out of the values, so that the model neither calls it unknown nor
the key it stands for missing. A block-valued setting one level too far left (`environment:`
among the jobs, as if it were a job's name) would read as an item with unknown keys, and a job
with no Dockerfile: its place is kept, for its own problems to be dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_origin

from components.config.allowed import Node, descend, fields, is_model
from components.config.errors import NAMESPACE, misplaced_block
from components.config.models import StackConfig


@dataclass(frozen=True)
class Dotted:
    """A dotted key: the place its path names, its value, and the nesting to write instead."""

    loc: tuple[Any, ...]
    value: Any
    nested: str


@dataclass
class Shape:
    """The values without their dotted keys, and what was found."""

    values: dict[str, Any]
    dotted: list[Dotted] = field(default_factory=list)
    misplaced: list[tuple[tuple[Any, ...], str]] = field(default_factory=list)
    """Each setting taken for a name: its place, and the line that says so."""


def read_shape(values: Mapping[str, Any]) -> Shape:
    """The `longjobs:` values (keys without the namespace) with their dotted keys taken out."""
    shape = Shape({})
    shape.values = _walk(dict(values), Node(StackConfig), (), shape)
    return shape


def _walk(value: Any, node: Node | None, loc: tuple[Any, ...], shape: Shape) -> Any:
    if node is None:
        return value
    if isinstance(value, list):
        return [_walk(v, descend(node, str(i)), (*loc, i), shape) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        path = _dotted_path(node, key)
        if path is not None:
            shape.dotted.append(Dotted((*loc, *path), item, _nested(path, item, top=not loc)))
            continue
        line = misplaced_block(node, str(loc[-1]), str(key), item) if loc else None
        if line is not None:
            shape.misplaced.append(((*loc, key), line))
        kept[key] = _walk(item, descend(node, str(key)), (*loc, key), shape)
    return kept


def _dotted_path(node: Node, key: Any) -> tuple[Any, ...] | None:
    """The path a dotted key names, if it is one here: its first part a key of this mapping
    (a setting of a model, any name of a mapping of names), and the rest a setting below."""
    if not isinstance(key, str) or not re.search(r"[.\[]", key):
        return None
    parts = tuple(
        int(part[1:-1]) if part.startswith("[") else part
        for part in re.findall(r"\[[0-9]+\]|[^.\[\]]+", key)
    )
    if len(parts) < 2 or not isinstance(parts[0], str):
        return None
    if is_model(node.kind):
        return parts if parts[0] in fields(node.kind) and key not in fields(node.kind) else None
    item = descend(node, parts[0]) if get_origin(node.kind) is dict else None
    if item is not None and is_model(item.kind) and parts[1] in fields(item.kind):
        return parts
    return None


def _nested(path: tuple[Any, ...], value: Any, *, top: bool) -> str:
    """The nesting a dotted key stands for, in YAML's one-line flow form."""
    nested = _flow(value)
    for part in reversed(path[1:]):
        nested = f"[{nested}]" if isinstance(part, int) else f"{{{part}: {nested}}}"
    first = f"{NAMESPACE}:{path[0]}" if top else path[0]
    return f"{first}: {nested}"


def _flow(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)
