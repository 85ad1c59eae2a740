"""What DynamoDB checks of a request before it reads or writes: the parameters the model takes,
the placeholders, keys and key attributes, a write's condition, and a query's key condition,
start key and filter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulation.dynamodb.errors import NO_KEY, Refused, invalid, unmodelled
from simulation.dynamodb.expressions import Condition, Expression, parse_condition
from simulation.dynamodb.schema import Index, Schema
from simulation.dynamodb.values import Item, Names, Values, sort_key

WRITE = frozenset(
    (
        *("TableName", "ConditionExpression", "ExpressionAttributeNames"),
        *("ExpressionAttributeValues", "ReturnValues", "ReturnValuesOnConditionCheckFailure"),
    )
)
QUERY = frozenset(
    (
        *("TableName", "IndexName", "KeyConditionExpression", "FilterExpression", "Limit"),
        *("ExpressionAttributeNames", "ExpressionAttributeValues", "ScanIndexForward"),
        *("ExclusiveStartKey", "ConsistentRead"),
    )
)


def only(
    params: Mapping[str, Any],
    operation: str,
    known: frozenset[str],
    returns: tuple[str, ...] = ("NONE",),
) -> None:
    if params.keys() - known:
        raise unmodelled(f"{operation} with {', '.join(sorted(params.keys() - known))}")
    if params.get("ReturnValues", "NONE") not in returns:
        raise unmodelled(f"{operation} with ReturnValues {params['ReturnValues']}")


def conditions(params: Mapping[str, Any], *kinds: str) -> list[Condition]:
    return [parse_condition(kind, params[kind]) for kind in kinds if kind in params]


def placeholders(params: Mapping[str, Any], expressions: Sequence[Expression]) -> None:
    """Every placeholder used is given, and every one given is used."""
    names, values = params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues")
    for given, label in (
        (names, "ExpressionAttributeNames"),
        (values, "ExpressionAttributeValues"),
    ):
        if given is not None and not given:
            raise invalid(f"{label} must not be empty")
    names, values = names or {}, values or {}
    for expression in expressions:
        if expression.names - names.keys():
            raise invalid(
                f"Invalid {expression.kind}: An expression attribute name used in the document "
                f"path is not defined; attribute name: {min(expression.names - names.keys())}"
            )
        if expression.values - values.keys():
            raise invalid(
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
            raise invalid(f"Value provided in {label} unused in expressions: keys: {{{unused}}}")


def no_overlap(targets: list[str]) -> None:
    seen: set[str] = set()
    for target in targets:
        if target in seen:
            raise invalid(
                "Invalid UpdateExpression: Two document paths overlap with each other; must "
                f"remove or rewrite one of these paths; path one: [{target}], path two: [{target}]"
            )
        seen.add(target)


# keys and items


def table_key(schema: Schema, key: Mapping[str, Any]) -> Any:
    """A Key parameter: exactly the table's key attribute, of its type, not empty."""
    name = schema.hash_key
    value = key.get(name)
    if len(key) != 1 or value is None or schema.types[name] not in value:
        raise invalid(NO_KEY)
    if value[schema.types[name]] in ("", b""):
        raise invalid(
            "One or more parameter values were invalid: The AttributeValue for a key "
            f"attribute cannot contain an empty string value. Key: {name}"
        )
    return sort_key(value)


def check_item(schema: Schema, index_keys: Mapping[str, tuple[str, str]], item: Item) -> None:
    """An item's key and index key attributes have their declared types and are not empty
    (DG HowItWorks.NamingRulesDataTypes.html: key attributes may not be empty strings).
    `index_keys`: each attribute some index keys on → (its declared type, the first such index)."""
    name = schema.hash_key
    if name not in item:
        raise invalid(
            f"One or more parameter values were invalid: Missing the key {name} in the item"
        )
    ((kind, raw),) = item[name].items()
    if kind != schema.types[name]:
        raise invalid(
            "One or more parameter values were invalid: Type mismatch for key "
            f"{name} expected: {schema.types[name]} actual: {kind}"
        )
    if raw in ("", b""):
        raise invalid(
            "One or more parameter values are not valid. The AttributeValue for a key "
            f"attribute cannot contain an empty string value. Key: {name}"
        )
    for attribute, (expected, index) in index_keys.items():
        if attribute in item:
            _check_index_key(attribute, item[attribute], expected, index)


def _check_index_key(attribute: str, value: Any, expected: str, index: str) -> None:
    ((kind, raw),) = value.items()
    if kind != expected:
        raise invalid(
            "One or more parameter values were invalid: Type mismatch for Index Key "
            f"{attribute} Expected: {expected} Actual: {kind} IndexName: {index}"
        )
    if raw in ("", b""):
        raise invalid(
            "One or more parameter values are not valid. A value specified for a secondary "
            "index key is not supported. The AttributeValue for a key attribute cannot "
            f"contain an empty string value. IndexName: {index}, IndexKey: {attribute}"
        )


def check_condition(
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


# a query on a global secondary index


def partition_of(
    schema: Schema, index: Index, condition: Condition, names: Names, values: Values
) -> Any:
    """The partition key's value: the one key condition RunStore sends, `#key = :value`."""
    tree = condition.tree
    if tree[0] == "and":
        raise unmodelled("a key condition on the sort key")
    if tree[0] != "cmp" or tree[1] != "=" or (tree[2][0], tree[3][0]) != ("path", "value"):
        used = tree[1] if tree[0] == "cmp" else tree[0]
        raise invalid(f"Invalid operator used in KeyConditionExpression: {used}")
    if names[tree[2][1]] != index.hash_key:
        raise invalid(f"Query condition missed key schema element: {index.hash_key}")
    value = values[tree[3][1]]
    if schema.types[index.hash_key] not in value:
        raise invalid(
            "One or more parameter values were invalid: Condition parameter type does not "
            "match schema type"
        )
    return sort_key(value)


def start_position(
    schema: Schema, index: Index, start: Item | None, partition: Any
) -> tuple[Any, Any] | None:
    """ExclusiveStartKey: the table's key and the index's keys of a position in this query
    (API_Query: "The primary key of the first item that this operation will evaluate")."""
    if start is None:
        return None
    if set(start) != {schema.hash_key, index.hash_key, index.range_key}:
        raise invalid("The provided starting key is invalid")
    if any(schema.types[name] not in value for name, value in start.items()):
        raise invalid(NO_KEY)
    if sort_key(start[index.hash_key]) != partition:
        raise invalid(
            "The provided starting key is outside query boundaries based on provided conditions"
        )
    return (sort_key(start[index.range_key]), sort_key(start[schema.hash_key]))


def check_filter(index: Index, found: Condition, names: Names) -> None:
    # Query.FilterExpression.html: "A filter expression cannot contain partition key or sort
    # key attributes."
    for name in sorted(found.names):
        if names[name] in (index.hash_key, index.range_key):
            raise invalid(
                "Filter Expression can only contain non-primary key attributes: Primary key "
                f"attribute: {names[name]}"
            )
