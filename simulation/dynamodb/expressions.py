"""Condition, filter, key condition and update expressions, parsed as DynamoDB reads them.

DG "Condition and filter expressions, operators, and functions" (Expressions.OperatorsAndFunctions
.html) gives the grammar and its precedence, highest first: comparators, IN, BETWEEN, functions,
parentheses, NOT, AND, OR. Names and values come as placeholders (#name, :value); every
placeholder used must be given and every one given must be used (DG
Expressions.ExpressionAttributeNames.html, Expressions.ExpressionAttributeValues.html).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from simulation.dynamodb.errors import Refused, invalid, unmodelled
from simulation.dynamodb.evaluation import Node, Test, compile_tree

_TOKENS = re.compile(r"<>|<=|>=|[#:]?[A-Za-z0-9_]+|\S")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset(("AND", "OR", "NOT", "IN", "BETWEEN", "SET", "REMOVE", "ADD", "DELETE"))
_COMPARATORS = frozenset(("=", "<>", "<", "<=", ">", ">="))
_FUNCTIONS = frozenset(
    (
        *("attribute_exists", "attribute_not_exists", "attribute_type", "begins_with"),
        *("contains", "size", "if_not_exists", "list_append"),
    )
)
_MAX_IN = 100
"""DG: "The list can contain up to 100 values"."""


@dataclass(frozen=True)
class Expression:
    kind: str
    """Its parameter's name, as DynamoDB's messages say: "ConditionExpression", ..."""
    names: frozenset[str]
    """The name placeholders it uses."""
    values: frozenset[str]


@dataclass(frozen=True)
class Condition(Expression):
    tree: Node
    test: Test
    """Whether the item (`{}` when there is none) passes, given the request's placeholders."""


@dataclass(frozen=True)
class Update(Expression):
    """SET #name = operand, ... and REMOVE #name, ..."""

    sets: tuple[tuple[str, Node], ...]
    removes: tuple[str, ...]


class _Parser:
    def __init__(self, kind: str, text: str):
        self.kind, self.tokens, self.at = kind, _TOKENS.findall(text), 0
        self.names: set[str] = set()
        self.values: set[str] = set()
        self.groups: set[tuple[int, int]] = set()
        """Where each parenthesized condition opened and closed."""
        if not self.tokens:
            raise invalid(f"Invalid {kind}: The expression can not be empty;")

    def peek(self, ahead: int = 0) -> str:
        at = self.at + ahead
        return self.tokens[at] if at < len(self.tokens) else ""

    def keyword(self) -> str:
        return self.peek().upper()

    def take(self) -> str:
        token = self.peek()
        if not token:
            raise self.syntax_error()
        self.at += 1
        return token

    def expect(self, token: str) -> None:
        if self.take() != token:
            self.at -= 1
            raise self.syntax_error()

    def syntax_error(self) -> Refused:
        token = self.peek() or "<EOF>"
        near = " ".join(self.tokens[max(self.at - 1, 0) : self.at + 1])
        return invalid(f'Invalid {self.kind}: Syntax error; token: "{token}", near: "{near}"')

    def done(self) -> tuple[str, frozenset[str], frozenset[str]]:
        """The kind and the placeholders of an expression read to its end."""
        if self.peek():
            raise self.syntax_error()
        return self.kind, frozenset(self.names), frozenset(self.values)

    def condition(self) -> Node:
        tree = self.conjunction()
        while self.keyword() == "OR":
            self.take()
            tree = ("or", tree, self.conjunction())
        return tree

    def conjunction(self) -> Node:
        tree = self.negation()
        while self.keyword() == "AND":
            self.take()
            tree = ("and", tree, self.negation())
        return tree

    def negation(self) -> Node:
        if self.keyword() == "NOT":
            self.take()
            return ("not", self.negation())
        return self.primary()

    def primary(self) -> Node:
        if self.peek() == "(":
            return self.group()
        if _WORD.fullmatch(self.peek()) and self.peek(1) == "(":
            return self.function()
        left = self.operand()
        if self.peek() in _COMPARATORS:
            return ("cmp", self.take(), left, self.operand())
        if self.keyword() == "IN":
            self.take()
            return ("in", left, self.operand_list())
        if self.keyword() == "BETWEEN":
            raise unmodelled("BETWEEN")
        raise self.syntax_error()

    def group(self) -> Node:
        if self.peek(2) == ")" and self.peek(3).upper() in _COMPARATORS | {"IN", "BETWEEN"}:
            raise unmodelled("an operand in parentheses")
        opened = self.at
        self.take()
        tree = self.condition()
        self.expect(")")
        self.groups.add((opened, self.at - 1))
        if (opened + 1, self.at - 2) in self.groups:
            # DynamoDB refuses ((...)): dynalite, which mirrors its answers, says so too.
            raise invalid(f"Invalid {self.kind}: The expression has redundant parentheses;")
        return tree

    def operand_list(self) -> tuple[Node, ...]:
        self.expect("(")
        items = [self.operand()]
        while self.peek() == ",":
            self.take()
            items.append(self.operand())
        self.expect(")")
        if len(items) > _MAX_IN:
            raise invalid(
                f"Invalid {self.kind}: The IN operator is provided with too many operands"
            )
        return tuple(items)

    def function(self) -> Node:
        name = self.take()
        if name not in ("attribute_exists", "attribute_not_exists"):
            if name in _FUNCTIONS:
                raise unmodelled(f"function {name}")
            raise invalid(f"Invalid {self.kind}: Invalid function name; function: {name}")
        self.expect("(")
        path = self.path()
        self.expect(")")
        return (name, path)

    def operand(self) -> Node:
        token = self.peek()
        if token.startswith(":") and len(token) > 1:
            self.values.add(self.take())
            return ("value", token)
        if self.peek(1) == "(" and token in _FUNCTIONS:
            raise unmodelled(f"function {token}")
        return ("path", self.path())

    def path(self) -> str:
        token = self.peek()
        if not (token.startswith("#") and len(token) > 1):
            if _WORD.fullmatch(token) and token.upper() not in _KEYWORDS:
                raise unmodelled(f"attribute name {token} written in an expression")
            raise self.syntax_error()
        self.take()
        if self.peek() in (".", "["):
            raise unmodelled("nested document paths")
        self.names.add(token)
        return token


@functools.lru_cache(maxsize=4096)
def parse_condition(kind: str, text: str) -> Condition:
    """A condition, filter or key condition expression, parsed once per text (the functions send
    the same few texts again and again)."""
    parser = _Parser(kind, text)
    tree = parser.condition()
    return Condition(*parser.done(), tree=tree, test=compile_tree(tree))


@functools.lru_cache(maxsize=4096)
def parse_update(text: str) -> Update:
    """DG "Update expressions" (Expressions.UpdateExpressions.html): clauses SET, REMOVE, ADD,
    DELETE, each at most once."""
    parser = _Parser("UpdateExpression", text)
    sets: list[tuple[str, Node]] = []
    removes: list[str] = []
    seen: set[str] = set()
    while parser.peek():
        clause = parser.keyword()
        if clause in ("ADD", "DELETE"):
            raise unmodelled(f"{clause} in an update expression")
        if clause not in ("SET", "REMOVE"):
            raise parser.syntax_error()
        if clause in seen:
            raise invalid(
                f'Invalid UpdateExpression: The "{clause}" section can only be used once in an '
                "update expression;"
            )
        seen.add(clause)
        parser.take()
        _clause_actions(parser, clause, sets, removes)
    return Update(*parser.done(), sets=tuple(sets), removes=tuple(removes))


def _clause_actions(
    parser: _Parser, clause: str, sets: list[tuple[str, Node]], removes: list[str]
) -> None:
    while True:
        path = parser.path()
        if clause == "REMOVE":
            removes.append(path)
        else:
            parser.expect("=")
            sets.append((path, parser.operand()))
            if parser.peek() in ("+", "-"):
                raise unmodelled("arithmetic in SET")
        if parser.peek() != ",":
            return
        parser.take()
