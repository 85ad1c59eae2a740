"""The runs table as DynamoDB keeps it, in memory and on an injected clock.

What the functions send (`functions.common.records.RunStore`: PutItem, GetItem, UpdateItem, Query,
and DeleteItem for a local runtime), answered as the DynamoDB Developer Guide (DG, pages under
docs.aws.amazon.com/amazondynamodb/latest/developerguide/) and API Reference (API_*, under
.../APIReference/) say, in tens of microseconds a call where moto through boto3 takes
milliseconds. tests/simulation/test_dynamodb_model.py proves it answers like moto for RunStore's
requests, and where moto cannot, like the documentation (and dynalite, which mirrors DynamoDB's
messages).

Kept from the documentation, each cited beside its code: the condition, filter, key condition and
update expression grammar with placeholders; conditional writes and ALL_OLD on a failed one;
Query on a global secondary index (sparse, eventually consistent, Limit before the filter,
LastEvaluatedKey and ExclusiveStartKey); GSI propagation after a drawn lag; TTL deletion after a
drawn delay; the errors, raised as botocore's `ClientError`. Requests are first checked against
botocore's model of the operation, as a real client does.

What it does not model raises NotImplementedError, never a made-up answer: parameters outside the
ones listed per operation (projections, legacy parameters, consumed capacity), nested document
paths and attribute names written in an expression (DynamoDB's reserved words are not kept),
BETWEEN, functions other than attribute_exists/attribute_not_exists, SET arithmetic, ADD/DELETE,
sort-key conditions, queries on the table itself, tables with a sort key, non-ALL projections.
Not modelled at all: the 1 MB page limit and 400 KB items (runs are a few KB; a page is at most
100), throttling, and stale eventually consistent reads of the table (RunStore reads consistently).

Time comes only from `now`, chance only from `index_lag` and `ttl_delay`: the same calls give the
same answers.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import marshal
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

Item = dict[str, Any]
"""An item in DynamoDB JSON, as the low-level client sends it: name → {"S": "..."}, ..."""
Names = Mapping[str, str]
Values = Mapping[str, Any]
NO_KEY = "The provided key element does not match the schema"


# --- errors -----------------------------------------------------------------------------------


class Refused(Exception):
    """A request DynamoDB answers with an error; the client raises it as botocore would."""

    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra

    def client_error(self, operation: str) -> ClientError:
        response: Any = {"Error": {"Message": self.message, "Code": self.code}}
        # botocore copies a modeled error's members (`message`; `Item` when a failed condition
        # asked for ALL_OLD) to the top of the response, beside `Error`: RunStore reads `Item`.
        if self.code in _modeled_errors():
            response["message"] = self.message
        response.update(self.extra)
        return ClientError(response, operation)


def _invalid(message: str) -> Refused:
    return Refused("ValidationException", message)


def _unmodelled(what: str) -> NotImplementedError:
    return NotImplementedError(f"{what}: valid for DynamoDB, not modelled here")


@functools.cache
def _service_model() -> Any:
    return botocore.session.get_session().get_service_model("dynamodb")


@functools.cache
def _modeled_errors() -> frozenset[str]:
    return frozenset(shape.name for shape in _service_model().error_shapes)


@functools.cache
def _input_shape(operation: str) -> Any:
    return _service_model().operation_model(operation).input_shape


# --- values -----------------------------------------------------------------------------------


Frozen = bytes
"""A version of an item as the table keeps it: no answer shares it, so no caller can change it,
and thawing it is the copy every answer needs (marshal: a twentieth of deepcopy's time)."""


def _freeze(item: Item) -> Frozen:
    return marshal.dumps(item)


def _thaw(frozen: Frozen) -> Item:
    item: Item = marshal.loads(frozen)
    return item


def _sort_key(value: Mapping[str, Any]) -> Any:
    """A key attribute's value as it sorts: numbers by value; strings by their UTF-8 bytes,
    which is code point order (DG HowItWorks.NamingRulesDataTypes.html: "DynamoDB collates and
    compares strings using the bytes of the underlying UTF-8 string encoding")."""
    ((kind, raw),) = value.items()
    return Decimal(raw) if kind == "N" else raw


def _equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
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
        return x.keys() == y.keys() and all(_equal(x[k], y[k]) for k in x)
    if kind == "L":
        return len(x) == len(y) and all(map(_equal, x, y))
    return False


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _ordered(op: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """`<`, `<=`, `>`, `>=` hold only between two strings, numbers or binaries (API_Condition:
    "If an item contains an AttributeValue element of a different type than the one provided in
    the request, the value does not match")."""
    ((kind, x),) = a.items()
    ((other, y),) = b.items()
    if kind != other or kind not in ("S", "N", "B"):
        return False
    return _ORDER[op](_sort_key(a), _sort_key(b))


# --- expressions ------------------------------------------------------------------------------
# DG "Condition and filter expressions, operators, and functions" (Expressions.OperatorsAndFunctions
# .html) gives the grammar and its precedence, highest first: comparators, IN, BETWEEN, functions,
# parentheses, NOT, AND, OR. Names and values come as placeholders (#name, :value); every
# placeholder used must be given and every one given must be used (DG
# Expressions.ExpressionAttributeNames.html, Expressions.ExpressionAttributeValues.html).

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

Place = tuple[Any, tuple[Any, Any]]
"""Where an index holds an item: (partition key, (sort key, table key)), as they sort."""
Node = tuple[Any, ...]
"""("or"|"and", a, b), ("not", a), ("cmp", op, x, y), ("in", x, (y, ...)), (function, path);
operands ("path", "#n") and ("value", ":v")."""


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
    test: Callable[[Item, Names, Values], bool]
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
            raise _invalid(f"Invalid {kind}: The expression can not be empty;")

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
        return _invalid(f'Invalid {self.kind}: Syntax error; token: "{token}", near: "{near}"')

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
            raise _unmodelled("BETWEEN")
        raise self.syntax_error()

    def group(self) -> Node:
        if self.peek(2) == ")" and self.peek(3).upper() in _COMPARATORS | {"IN", "BETWEEN"}:
            raise _unmodelled("an operand in parentheses")
        opened = self.at
        self.take()
        tree = self.condition()
        self.expect(")")
        self.groups.add((opened, self.at - 1))
        if (opened + 1, self.at - 2) in self.groups:
            # DynamoDB refuses ((...)): dynalite, which mirrors its answers, says so too.
            raise _invalid(f"Invalid {self.kind}: The expression has redundant parentheses;")
        return tree

    def operand_list(self) -> tuple[Node, ...]:
        self.expect("(")
        items = [self.operand()]
        while self.peek() == ",":
            self.take()
            items.append(self.operand())
        self.expect(")")
        if len(items) > _MAX_IN:
            raise _invalid(
                f"Invalid {self.kind}: The IN operator is provided with too many operands"
            )
        return tuple(items)

    def function(self) -> Node:
        name = self.take()
        if name not in ("attribute_exists", "attribute_not_exists"):
            if name in _FUNCTIONS:
                raise _unmodelled(f"function {name}")
            raise _invalid(f"Invalid {self.kind}: Invalid function name; function: {name}")
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
            raise _unmodelled(f"function {token}")
        return ("path", self.path())

    def path(self) -> str:
        token = self.peek()
        if not (token.startswith("#") and len(token) > 1):
            if _WORD.fullmatch(token) and token.upper() not in _KEYWORDS:
                raise _unmodelled(f"attribute name {token} written in an expression")
            raise self.syntax_error()
        self.take()
        if self.peek() in (".", "["):
            raise _unmodelled("nested document paths")
        self.names.add(token)
        return token


@functools.lru_cache(maxsize=4096)
def parse_condition(kind: str, text: str) -> Condition:
    """A condition, filter or key condition expression, parsed once per text (the functions send
    the same few texts again and again)."""
    parser = _Parser(kind, text)
    tree = parser.condition()
    return Condition(*parser.done(), tree=tree, test=_compile(tree))


def _compile(tree: Node) -> Callable[[Item, Names, Values], bool]:
    """The tree as a function of (item, names, values): parsed once, evaluated many times."""
    op = tree[0]
    if op in ("and", "or"):
        left, right = _compile(tree[1]), _compile(tree[2])
        if op == "and":
            return lambda i, n, v: left(i, n, v) and right(i, n, v)
        return lambda i, n, v: left(i, n, v) or right(i, n, v)
    if op == "not":
        inner = _compile(tree[1])
        return lambda i, n, v: not inner(i, n, v)
    if op in ("attribute_exists", "attribute_not_exists"):
        path, exists = tree[1], op == "attribute_exists"
        return lambda i, n, v: (n[path] in i) == exists
    if op == "in":
        left_of, choices = _operand(tree[1]), [_operand(choice) for choice in tree[2]]
        return lambda i, n, v: _is_in(left_of(i, n, v), [c(i, n, v) for c in choices])
    return _comparison(tree[1], _operand(tree[2]), _operand(tree[3]))


def _operand(node: Node) -> Callable[[Item, Names, Values], Any]:
    """A path's value in the item (None when absent) or a placeholder's value."""
    kind, token = node
    if kind == "path":
        return lambda i, n, v: i.get(n[token])
    return lambda i, n, v: v[token]


def _comparison(
    op: str, left: Callable[..., Any], right: Callable[..., Any]
) -> Callable[[Item, Names, Values], bool]:
    # A comparison with an absent attribute is false, but `<>`: absent is not equal (as moto).
    def compare(i: Item, n: Names, v: Values) -> bool:
        a, b = left(i, n, v), right(i, n, v)
        if a is None or b is None:
            return op == "<>"
        if op == "=":
            return _equal(a, b)
        if op == "<>":
            return not _equal(a, b)
        return _ordered(op, a, b)

    return compare


def _is_in(value: Any, choices: list[Any]) -> bool:
    return value is not None and any(c is not None and _equal(value, c) for c in choices)


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
            raise _unmodelled(f"{clause} in an update expression")
        if clause not in ("SET", "REMOVE"):
            raise parser.syntax_error()
        if clause in seen:
            raise _invalid(
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
                raise _unmodelled("arithmetic in SET")
        if parser.peek() != ",":
            return
        parser.take()


def _placeholders(params: Mapping[str, Any], expressions: Sequence[Expression]) -> None:
    """Every placeholder used is given, and every one given is used."""
    names, values = params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues")
    for given, label in (
        (names, "ExpressionAttributeNames"),
        (values, "ExpressionAttributeValues"),
    ):
        if given is not None and not given:
            raise _invalid(f"{label} must not be empty")
    names, values = names or {}, values or {}
    for expression in expressions:
        if expression.names - names.keys():
            raise _invalid(
                f"Invalid {expression.kind}: An expression attribute name used in the document "
                f"path is not defined; attribute name: {min(expression.names - names.keys())}"
            )
        if expression.values - values.keys():
            raise _invalid(
                f"Invalid {expression.kind}: An expression attribute value used in expression "
                f"is not defined; attribute value: {min(expression.values - values.keys())}"
            )
    used_names = frozenset().union(*(e.names for e in expressions))
    used_values = frozenset().union(*(e.values for e in expressions))
    for given, used, label in (
        (names, used_names, "ExpressionAttributeNames"),
        (values, used_values, "ExpressionAttributeValues"),
    ):
        if given.keys() - used:
            unused = ", ".join(sorted(given.keys() - used))
            raise _invalid(f"Value provided in {label} unused in expressions: keys: {{{unused}}}")


# --- the table's declaration ------------------------------------------------------------------


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str


@dataclass(frozen=True)
class Schema:
    """What a table's declaration fixes: its key, its key attributes' types, its indexes, TTL."""

    name: str
    hash_key: str
    types: Mapping[str, str]
    indexes: Mapping[str, Index]
    ttl_attribute: str | None

    @classmethod
    def from_declared(cls, declared: Mapping[str, Any], name: str | None = None) -> Schema:
        """From the Pulumi program's `aws.dynamodb.Table` inputs (what tools/runs_table.py gives
        moto): hashKey, attributes, globalSecondaryIndexes (keySchemas, projectionType), ttl."""
        if declared.get("rangeKey") or declared.get("localSecondaryIndexes"):
            raise _unmodelled("a table sort key or local secondary indexes")
        indexes = {}
        for index in declared.get("globalSecondaryIndexes", []):
            keys = {key["keyType"]: key["attributeName"] for key in index["keySchemas"]}
            if index["projectionType"] != "ALL" or set(keys) != {"HASH", "RANGE"}:
                raise _unmodelled("an index without a sort key or ALL projection")
            indexes[index["name"]] = Index(index["name"], keys["HASH"], keys["RANGE"])
        ttl = declared.get("ttl") or {}
        return cls(
            name=name or str(declared["name"]),
            hash_key=declared["hashKey"],
            types={a["name"]: a["type"] for a in declared["attributes"]},
            indexes=indexes,
            ttl_attribute=ttl.get("attributeName") if ttl.get("enabled") else None,
        )


# --- a global secondary index -----------------------------------------------------------------


class _IndexView:
    """One GSI as a query sees it: the versions that reached it, in key order per partition.

    Sorted by the index's sort key, then by the table's key: GSI keys need not be unique (DG
    GSI.html), and the table's key, which LastEvaluatedKey carries, is
    what tells apart items with equal index keys (moto orders them so too).
    """

    def __init__(self, index: Index):
        self.index = index
        self.partitions: dict[Any, list[tuple[Any, Any]]] = {}
        self.entries: dict[Any, tuple[Place, Frozen]] = {}
        """Table key → where the index holds that item, and which version."""

    def place(self, key: Any, version: Item | None) -> Place | None:
        """Where a version goes: (partition, (sort key, table key)). An item without both
        index key attributes is not in the index (DG bp-indexes-general-sparse-indexes.html)."""
        index = self.index
        if version is None or index.hash_key not in version or index.range_key not in version:
            return None
        return _sort_key(version[index.hash_key]), (_sort_key(version[index.range_key]), key)

    def apply(self, key: Any, place: Place | None, version: Frozen | None) -> None:
        """Show `version` of the item at `place` (None: not in the index)."""
        old = self.entries.pop(key, None)
        if place is not None and version is not None:
            self.entries[key] = (place, version)
        if old is not None and old[0] == place:
            return  # same place: only the version changed
        if old is not None:
            partition = self.partitions[old[0][0]]
            del partition[bisect.bisect_left(partition, old[0][1])]
        if place is not None:
            bisect.insort(self.partitions.setdefault(place[0], []), place[1])

    def page(
        self, partition: Any, start: tuple[Any, Any] | None, forward: bool, limit: int | None
    ) -> tuple[list[Frozen], bool]:
        """Up to `limit` versions after `start` (exclusive) in the query's direction, and
        whether any is left after them."""
        positions = self.partitions.get(partition, [])
        if forward:
            first = 0 if start is None else bisect.bisect_right(positions, start)
            last = len(positions) if limit is None else min(first + limit, len(positions))
            chosen, more = positions[first:last], last < len(positions)
        else:
            last = len(positions) if start is None else bisect.bisect_left(positions, start)
            first = 0 if limit is None else max(last - limit, 0)
            chosen, more = positions[first:last][::-1], first > 0
        return [self.entries[key][1] for _, key in chosen], more


# --- the table --------------------------------------------------------------------------------


@dataclass
class _Expiry:
    expires: float
    delay: float
    serial: int


def _no_delay() -> float:
    return 0.0


class Table:
    """One table: its items, its indexes as of the clock, its TTL.

    `index_lag()` is drawn per write: seconds until the write reaches the GSIs (DG GSI.html,
    "Using Global Secondary Indexes": a table write is propagated to its GSIs "within a fraction
    of a second under normal conditions", longer "in unlikely failure scenarios"). Writes to one
    item reach them in order: a write is visible no sooner than the one before it, so an index
    never shows an older version after a newer one.

    `ttl_delay()` is drawn per item: seconds after its TTL that `expire()` deletes it (DG TTL.html,
    howitworks-ttl.html: items are deleted "within a few days" of expiry; earlier versions said
    "typically within 48 hours"; until then they "still appear in reads, queries, and scans").
    Call `expire()` as often as the simulation likes; nothing else deletes. The deletion
    reaches the indexes like any write (API_UpdateTimeToLive: "in the same eventually consistent
    way as a standard delete operation"). `on_expire(item)` is called with each item deleted.

    `key_when_limit_reached`: DynamoDB may return a LastEvaluatedKey when a query stops at its
    Limit even if nothing follows (API_Query: a LastEvaluatedKey "does not necessarily mean that
    there is more data"); moto returns one only when an item follows. False answers as moto does,
    True as DynamoDB may, so that a simulation meets the empty last page.
    """

    def __init__(
        self,
        schema: Schema,
        *,
        now: Callable[[], datetime],
        index_lag: Callable[[], float] = _no_delay,
        ttl_delay: Callable[[], float] = _no_delay,
        on_expire: Callable[[Item], None] | None = None,
        key_when_limit_reached: bool = False,
    ):
        self.schema = schema
        self._now, self._index_lag, self._ttl_delay = now, index_lag, ttl_delay
        self._on_expire = on_expire
        self._key_when_limit_reached = key_when_limit_reached
        self._items: dict[Any, Frozen] = {}
        self._views = {name: _IndexView(index) for name, index in schema.indexes.items()}
        self._index_keys = self._index_key_attributes()
        self._serials = itertools.count()
        self._pending: list[tuple[float, int, Any, tuple[Place | None, ...], Frozen | None]] = []
        """Writes on their way to the indexes: (when they arrive, serial, key, places per index,
        version)."""
        self._arrives: dict[Any, tuple[float, int]] = {}
        """Per item, when and as which serial its latest write reaches the indexes."""
        self._expiring: list[tuple[float, int, Any]] = []
        self._expiry: dict[Any, _Expiry] = {}

    def client(self, *, validate: bool = True) -> Client:
        return Client(self, validate=validate)

    def _clock(self) -> float:
        now = self._now()
        if now.tzinfo is None:
            raise ValueError("now() must be aware: TTL compares it with epoch seconds")
        return now.timestamp()

    def _index_key_attributes(self) -> dict[str, tuple[str, str]]:
        """Each attribute some index keys on → (its declared type, the first such index)."""
        found: dict[str, tuple[str, str]] = {}
        for index in self.schema.indexes.values():
            for attribute in (index.hash_key, index.range_key):
                found.setdefault(attribute, (self.schema.types[attribute], index.name))
        return found

    # writes and what follows them

    def _write(self, key: Any, version: Item | None) -> None:
        """Keep `version` of the item (None: delete it), frozen, and send it to the indexes."""
        frozen = None if version is None else _freeze(version)
        if frozen is None:
            self._items.pop(key, None)
        else:
            self._items[key] = frozen
        serial = next(self._serials)
        previous = self._arrives.get(key, (float("-inf"), 0))[0]
        arrives = max(self._clock() + self._index_lag(), previous)
        self._arrives[key] = (arrives, serial)
        places = tuple(view.place(key, version) for view in self._views.values())
        heapq.heappush(self._pending, (arrives, serial, key, places, frozen))
        self._schedule_expiry(key, version, serial)

    def _propagate(self) -> None:
        """Apply to the indexes every write that has reached them by now, in order."""
        now = self._clock()
        while self._pending and self._pending[0][0] <= now:
            _, serial, key, places, frozen = heapq.heappop(self._pending)
            for view, place in zip(self._views.values(), places, strict=True):
                view.apply(key, place, frozen)
            if self._arrives[key][1] == serial:
                del self._arrives[key]

    def _item(self, key: Any) -> Item | None:
        frozen = self._items.get(key)
        return None if frozen is None else _thaw(frozen)

    def _schedule_expiry(self, key: Any, version: Item | None, serial: int) -> None:
        """TTL takes a Number, in epoch seconds; an item whose TTL attribute is another type is
        not deleted (DG howitworks-ttl.html: TTL attributes must use the Number data type)."""
        attribute = self.schema.ttl_attribute
        value = (version or {}).get(attribute) if attribute else None
        if value is None or "N" not in value:
            self._expiry.pop(key, None)
            return
        expires, current = float(value["N"]), self._expiry.get(key)
        if current is not None and current.expires == expires:
            return
        delay = current.delay if current is not None else self._ttl_delay()
        self._expiry[key] = _Expiry(expires, delay, serial)
        heapq.heappush(self._expiring, (expires + delay, serial, key))

    def expire(self) -> int:
        """Delete the items TTL has deleted by now: expired (their TTL at or before now, as DG
        ttl-expired-items.html filters them) and past their drawn delay. Returns how many."""
        now, deleted = self._clock(), 0
        while self._expiring and self._expiring[0][0] <= now:
            _, serial, key = heapq.heappop(self._expiring)
            expiry = self._expiry.get(key)
            if expiry is None or expiry.serial != serial:
                continue  # its TTL changed, or the item is gone
            item = _thaw(self._items[key])
            self._write(key, None)
            deleted += 1
            if self._on_expire is not None:
                self._on_expire(item)
        return deleted

    # checks every write passes

    def _key(self, key: Mapping[str, Any]) -> Any:
        """A Key parameter: exactly the table's key attribute, of its type, not empty."""
        name = self.schema.hash_key
        value = key.get(name)
        if len(key) != 1 or value is None or self.schema.types[name] not in value:
            raise _invalid(NO_KEY)
        if value[self.schema.types[name]] in ("", b""):
            raise _invalid(
                "One or more parameter values were invalid: The AttributeValue for a key "
                f"attribute cannot contain an empty string value. Key: {name}"
            )
        return _sort_key(value)

    def _check_item(self, item: Item) -> None:
        """An item's key and index key attributes have their declared types and are not empty
        (DG HowItWorks.NamingRulesDataTypes.html: key attributes may not be empty strings)."""
        name = self.schema.hash_key
        if name not in item:
            raise _invalid(
                f"One or more parameter values were invalid: Missing the key {name} in the item"
            )
        ((kind, raw),) = item[name].items()
        if kind != self.schema.types[name]:
            raise _invalid(
                "One or more parameter values were invalid: Type mismatch for key "
                f"{name} expected: {self.schema.types[name]} actual: {kind}"
            )
        if raw in ("", b""):
            raise _invalid(
                "One or more parameter values are not valid. The AttributeValue for a key "
                f"attribute cannot contain an empty string value. Key: {name}"
            )
        for attribute, (expected, index) in self._index_keys.items():
            if attribute in item:
                self._check_index_key(attribute, item[attribute], expected, index)

    @staticmethod
    def _check_index_key(attribute: str, value: Any, expected: str, index: str) -> None:
        ((kind, raw),) = value.items()
        if kind != expected:
            raise _invalid(
                "One or more parameter values were invalid: Type mismatch for Index Key "
                f"{attribute} Expected: {expected} Actual: {kind} IndexName: {index}"
            )
        if raw in ("", b""):
            raise _invalid(
                "One or more parameter values are not valid. A value specified for a secondary "
                "index key is not supported. The AttributeValue for a key attribute cannot "
                f"contain an empty string value. IndexName: {index}, IndexKey: {attribute}"
            )

    @staticmethod
    def _check_condition(
        conditions: list[Condition], params: Mapping[str, Any], old: Item | None
    ) -> None:
        """Raise ConditionalCheckFailedException when the condition is false of the item as it
        is (API_PutItem, ReturnValuesOnConditionCheckFailure: ALL_OLD returns the item)."""
        names = params.get("ExpressionAttributeNames") or {}
        values = params.get("ExpressionAttributeValues") or {}
        if all(condition.test(old or {}, names, values) for condition in conditions):
            return
        extra = {}
        if old is not None and params.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
            extra["Item"] = old
        raise Refused("ConditionalCheckFailedException", "The conditional request failed", **extra)

    # the operations

    def put_item(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, "PutItem", _WRITE | {"Item"}, returns=("NONE", "ALL_OLD"))
        conditions = _expressions(params, "ConditionExpression")
        _placeholders(params, conditions)
        item = params["Item"]
        self._check_item(item)
        key = _sort_key(item[self.schema.hash_key])
        old = self._item(key)
        self._check_condition(conditions, params, old)
        self._write(key, item)
        return _returned(params, old)

    def get_item(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, "GetItem", frozenset(("TableName", "Key", "ConsistentRead")))
        item = self._item(self._key(params["Key"]))
        return {} if item is None else {"Item": item}

    def update_item(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, "UpdateItem", _WRITE | {"Key", "UpdateExpression"}, returns=("NONE",))
        if "UpdateExpression" not in params:
            raise _unmodelled("UpdateItem without an UpdateExpression")
        update = parse_update(params["UpdateExpression"])
        conditions = _expressions(params, "ConditionExpression")
        _placeholders(params, [update, *conditions])
        key = self._key(params["Key"])
        old = self._item(key)
        # UpdateItem "creates a new item if it does not already exist" (API_UpdateItem).
        new = self._updated(update, old or params["Key"], params)
        self._check_item(new)
        self._check_condition(conditions, params, old)
        self._write(key, new)
        return {}

    def _updated(self, update: Update, old: Item, params: Mapping[str, Any]) -> Item:
        names: Names = params.get("ExpressionAttributeNames") or {}
        values: Values = params.get("ExpressionAttributeValues") or {}
        targets = [names[path] for path, _ in update.sets] + [names[p] for p in update.removes]
        _no_overlap(targets)
        if self.schema.hash_key in targets:
            raise _invalid(
                "One or more parameter values were invalid: Cannot update attribute "
                f"{self.schema.hash_key}. This attribute is part of the key"
            )
        new = dict(old)
        for path, operand in update.sets:
            value = _operand(operand)(old, names, values)
            if value is None:
                raise _invalid(
                    "The provided expression refers to an attribute that does not exist in the item"
                )
            new[names[path]] = value  # frozen with the version it joins
        for path in update.removes:
            new.pop(names[path], None)
        return new

    def delete_item(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, "DeleteItem", _WRITE | {"Key"}, returns=("NONE", "ALL_OLD"))
        conditions = _expressions(params, "ConditionExpression")
        _placeholders(params, conditions)
        key = self._key(params["Key"])
        old = self._item(key)
        self._check_condition(conditions, params, old)
        if old is not None:
            self._write(key, None)
        return _returned(params, old)

    def query(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DG "Querying tables in DynamoDB" (Query.html, Query.Other.html, Query.Pagination.html,
        Query.FilterExpression.html) and API_Query, on a GSI."""
        _only(params, "Query", _QUERY)
        view = self._view(params)
        key_condition = parse_condition("KeyConditionExpression", params["KeyConditionExpression"])
        filters = _expressions(params, "FilterExpression")
        _placeholders(params, [key_condition, *filters])
        names: Names = params.get("ExpressionAttributeNames") or {}
        values: Values = params.get("ExpressionAttributeValues") or {}
        partition = self._partition(view.index, key_condition, names, values)
        start = self._start(view.index, params.get("ExclusiveStartKey"), partition)
        for found in filters:
            self._check_filter(view.index, found, names)
        self._propagate()
        limit = params.get("Limit")
        read, more = view.page(partition, start, params.get("ScanIndexForward", True), limit)
        # Limit counts the items read; the filter then drops some of them: "DynamoDB reads up
        # to six items, and then returns only those that match" (Query.Other.html, Query.Limit).
        items = [_thaw(version) for version in read]
        kept = [item for item in items if all(f.test(item, names, values) for f in filters)]
        answer: dict[str, Any] = {
            "Items": kept,
            "Count": len(kept),
            "ScannedCount": len(read),
        }
        if read and (more or (self._key_when_limit_reached and len(read) == limit)):
            answer["LastEvaluatedKey"] = self._position_of(items[-1], view.index)
        return answer

    def _view(self, params: Mapping[str, Any]) -> _IndexView:
        if "IndexName" not in params:
            raise _unmodelled("Query on the table itself")
        view = self._views.get(params["IndexName"])
        if view is None:
            raise _invalid(f"The table does not have the specified index: {params['IndexName']}")
        if params.get("ConsistentRead"):
            # API_Query: "Strongly consistent reads are not supported on global secondary indexes."
            raise _invalid("Consistent reads are not supported on global secondary indexes")
        return view

    def _partition(self, index: Index, condition: Condition, names: Names, values: Values) -> Any:
        """The partition key's value: the one key condition RunStore sends, `#key = :value`."""
        tree = condition.tree
        if tree[0] == "and":
            raise _unmodelled("a key condition on the sort key")
        if tree[0] != "cmp" or tree[1] != "=" or (tree[2][0], tree[3][0]) != ("path", "value"):
            used = tree[1] if tree[0] == "cmp" else tree[0]
            raise _invalid(f"Invalid operator used in KeyConditionExpression: {used}")
        if names[tree[2][1]] != index.hash_key:
            raise _invalid(f"Query condition missed key schema element: {index.hash_key}")
        value = values[tree[3][1]]
        if self.schema.types[index.hash_key] not in value:
            raise _invalid(
                "One or more parameter values were invalid: Condition parameter type does not "
                "match schema type"
            )
        return _sort_key(value)

    def _start(self, index: Index, start: Item | None, partition: Any) -> tuple[Any, Any] | None:
        """ExclusiveStartKey: the table's key and the index's keys of a position in this query
        (API_Query: "The primary key of the first item that this operation will evaluate")."""
        if start is None:
            return None
        if set(start) != {self.schema.hash_key, index.hash_key, index.range_key}:
            raise _invalid("The provided starting key is invalid")
        if any(self.schema.types[name] not in value for name, value in start.items()):
            raise _invalid(NO_KEY)
        if _sort_key(start[index.hash_key]) != partition:
            raise _invalid(
                "The provided starting key is outside query boundaries based on provided conditions"
            )
        return (_sort_key(start[index.range_key]), _sort_key(start[self.schema.hash_key]))

    def _check_filter(self, index: Index, found: Condition, names: Names) -> None:
        # Query.FilterExpression.html: "A filter expression cannot contain partition key or sort
        # key attributes."
        for name in sorted(found.names):
            if names[name] in (index.hash_key, index.range_key):
                raise _invalid(
                    "Filter Expression can only contain non-primary key attributes: Primary key "
                    f"attribute: {names[name]}"
                )

    def _position_of(self, item: Item, index: Index) -> Item:
        """LastEvaluatedKey on a GSI: the table's key and the index's keys of the last item read."""
        keys = (self.schema.hash_key, index.hash_key, index.range_key)
        return {name: dict(item[name]) for name in keys}  # key values are flat: {"S": "..."}


_WRITE = frozenset(
    (
        *("TableName", "ConditionExpression", "ExpressionAttributeNames"),
        *("ExpressionAttributeValues", "ReturnValues", "ReturnValuesOnConditionCheckFailure"),
    )
)
_QUERY = frozenset(
    (
        *("TableName", "IndexName", "KeyConditionExpression", "FilterExpression", "Limit"),
        *("ExpressionAttributeNames", "ExpressionAttributeValues", "ScanIndexForward"),
        *("ExclusiveStartKey", "ConsistentRead"),
    )
)


def _only(
    params: Mapping[str, Any],
    operation: str,
    known: frozenset[str],
    returns: tuple[str, ...] = ("NONE",),
) -> None:
    if params.keys() - known:
        raise _unmodelled(f"{operation} with {', '.join(sorted(params.keys() - known))}")
    if params.get("ReturnValues", "NONE") not in returns:
        raise _unmodelled(f"{operation} with ReturnValues {params['ReturnValues']}")


def _expressions(params: Mapping[str, Any], *kinds: str) -> list[Condition]:
    return [parse_condition(kind, params[kind]) for kind in kinds if kind in params]


def _returned(params: Mapping[str, Any], old: Item | None) -> dict[str, Any]:
    if params.get("ReturnValues") == "ALL_OLD" and old is not None:
        return {"Attributes": old}
    return {}


def _no_overlap(targets: list[str]) -> None:
    seen: set[str] = set()
    for target in targets:
        if target in seen:
            raise _invalid(
                "Invalid UpdateExpression: Two document paths overlap with each other; must "
                f"remove or rewrite one of these paths; path one: [{target}], path two: [{target}]"
            )
        seen.add(target)


# --- the client -------------------------------------------------------------------------------


class Client:
    """The low-level DynamoDB client's calls RunStore makes, over tables of this model.

    `validate` checks each request against botocore's model of the operation first, as a real
    client does before sending (ParamValidationError); it costs about as much as the call itself.
    """

    def __init__(self, *tables: Table, validate: bool = True):
        self.tables = {table.schema.name: table for table in tables}
        self.validate = validate

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self._call("PutItem", Table.put_item, params)

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("GetItem", Table.get_item, params)

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self._call("UpdateItem", Table.update_item, params)

    def delete_item(self, **params: Any) -> dict[str, Any]:
        return self._call("DeleteItem", Table.delete_item, params)

    def query(self, **params: Any) -> dict[str, Any]:
        return self._call("Query", Table.query, params)

    def _call(
        self,
        operation: str,
        method: Callable[[Table, Mapping[str, Any]], dict[str, Any]],
        params: dict[str, Any],
    ) -> dict[str, Any]:
        if self.validate:
            validate_parameters(params, _input_shape(operation))
        try:
            table = self.tables.get(params["TableName"])
            if table is None:
                raise Refused("ResourceNotFoundException", "Requested resource not found")
            return method(table, params)
        except Refused as refused:
            raise refused.client_error(operation) from None
