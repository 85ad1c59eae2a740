"""Reading resource properties as the policy SDK hands them over.

The SDK wraps properties in read-only Mapping and Sequence proxies (not dict and list) that raise
`UnknownValueError` when a value is unknown during preview; the SDK turns that into an advisory
"can't run during preview" note, and the rule runs again with known values during `pulumi up`.
`has` tells whether a key is set without reading its value, so a rule that only needs to know
that something is configured (a dead-letter ARN of a queue not yet created) still runs in preview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError


def has(mapping: Any, key: str) -> bool:
    """Whether `mapping` sets `key` to anything but null (a value unknown in preview is set)."""
    if not isinstance(mapping, Mapping) or key not in list(mapping):
        return False
    try:
        return mapping[key] is not None
    except UnknownValueError:
        return True


def is_set(mapping: Any, key: str) -> bool:
    """Like `has`, but an empty string is not set either."""
    if not has(mapping, key):
        return False
    try:
        return mapping[key] != ""
    except UnknownValueError:
        return True


def get(mapping: Any, key: str, default: Any = None) -> Any:
    """`mapping[key]`, or `default` when absent or null (an unknown value still raises)."""
    if not isinstance(mapping, Mapping) or key not in list(mapping):
        return default
    value = mapping[key]
    return default if value is None else value


def as_list(value: Any) -> list[Any]:
    """A JSON field that may hold one item or a list of them, as a list."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def as_json(value: Any) -> Any:
    """A property that holds a JSON document as a string (or already as an object), parsed.

    Raise ValueError when it is neither.
    """
    if isinstance(value, str):
        return json.loads(value)
    if isinstance(value, Mapping | Sequence):
        return value
    raise ValueError(f"expected a JSON string, got {type(value).__name__}")
