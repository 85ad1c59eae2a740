"""Attribute values as DynamoDB compares and sorts them, and items as the table keeps them."""

from __future__ import annotations

import marshal
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

Item = dict[str, Any]
"""An item in DynamoDB JSON, as the low-level client sends it: name → {"S": "..."}, ..."""
Names = Mapping[str, str]
Values = Mapping[str, Any]

Frozen = bytes
"""A version of an item as the table keeps it: no answer shares it, so no caller can change it,
and thawing it is the copy every answer needs (marshal: a twentieth of deepcopy's time)."""


def freeze(item: Item) -> Frozen:
    return marshal.dumps(item)


def thaw(frozen: Frozen) -> Item:
    item: Item = marshal.loads(frozen)
    return item


def sort_key(value: Mapping[str, Any]) -> Any:
    """A key attribute's value as it sorts: numbers by value; strings by their UTF-8 bytes,
    which is code point order (DG HowItWorks.NamingRulesDataTypes.html: "DynamoDB collates and
    compares strings using the bytes of the underlying UTF-8 string encoding")."""
    ((kind, raw),) = value.items()
    return Decimal(raw) if kind == "N" else raw


def equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """DynamoDB's `=`: same type and value; numbers by value, sets unordered."""
    if a == b:
        return True
    ((kind, x),) = a.items()
    ((other, y),) = b.items()
    if kind != other:
        return False
    if kind == "N":
        return Decimal(x) == Decimal(y)
    if kind == "NS":
        return {Decimal(n) for n in x} == {Decimal(n) for n in y}
    if kind in ("SS", "BS"):
        return set(x) == set(y)
    if kind == "M":
        return x.keys() == y.keys() and all(equal(x[k], y[k]) for k in x)
    if kind == "L":
        return len(x) == len(y) and all(map(equal, x, y))
    return False


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def ordered(op: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """`<`, `<=`, `>`, `>=` hold only between two strings, numbers or binaries (API_Condition:
    "If an item contains an AttributeValue element of a different type than the one provided in
    the request, the value does not match")."""
    ((kind, x),) = a.items()
    ((other, y),) = b.items()
    if kind != other or kind not in ("S", "N", "B"):
        return False
    return _ORDER[op](sort_key(a), sort_key(b))
