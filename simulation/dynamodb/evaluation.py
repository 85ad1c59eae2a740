"""An expression's tree as a function of (item, names, values): parsed once, evaluated many
times (DG Expressions.OperatorsAndFunctions.html gives what each operator means)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulation.dynamodb.values import Item, Names, Values, equal, ordered

Node = tuple[Any, ...]
"""("or"|"and", a, b), ("not", a), ("cmp", op, x, y), ("in", x, (y, ...)), (function, path);
operands ("path", "#n") and ("value", ":v")."""
Test = Callable[[Item, Names, Values], bool]


def compile_tree(tree: Node) -> Test:
    """The tree as a function of (item, names, values)."""
    op = tree[0]
    if op in ("and", "or"):
        left, right = compile_tree(tree[1]), compile_tree(tree[2])
        if op == "and":
            return lambda i, n, v: left(i, n, v) and right(i, n, v)
        return lambda i, n, v: left(i, n, v) or right(i, n, v)
    if op == "not":
        inner = compile_tree(tree[1])
        return lambda i, n, v: not inner(i, n, v)
    if op in ("attribute_exists", "attribute_not_exists"):
        path, exists = tree[1], op == "attribute_exists"
        return lambda i, n, v: (n[path] in i) == exists
    if op == "in":
        left_of, choices = operand(tree[1]), [operand(choice) for choice in tree[2]]
        return lambda i, n, v: _is_in(left_of(i, n, v), [c(i, n, v) for c in choices])
    return _comparison(tree[1], operand(tree[2]), operand(tree[3]))


def operand(node: Node) -> Callable[[Item, Names, Values], Any]:
    """A path's value in the item (None when absent) or a placeholder's value."""
    kind, token = node
    if kind == "path":
        return lambda i, n, v: i.get(n[token])
    return lambda i, n, v: v[token]


def _comparison(op: str, left: Callable[..., Any], right: Callable[..., Any]) -> Test:
    # A comparison with an absent attribute is false, but `<>`: absent is not equal (as moto).
    def compare(i: Item, n: Names, v: Values) -> bool:
        a, b = left(i, n, v), right(i, n, v)
        if a is None or b is None:
            return op == "<>"
        if op == "=":
            return equal(a, b)
        if op == "<>":
            return not equal(a, b)
        return ordered(op, a, b)

    return compare


def _is_in(value: Any, choices: list[Any]) -> bool:
    return value is not None and any(c is not None and equal(value, c) for c in choices)
