"""One table: its items, the versions its indexes show as of the clock, its TTL deletions, and
the operations RunStore sends."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from simulation.dynamodb import validation
from simulation.dynamodb.client import Client
from simulation.dynamodb.errors import invalid, unmodelled
from simulation.dynamodb.evaluation import operand
from simulation.dynamodb.expressions import Update, parse_condition, parse_update
from simulation.dynamodb.index import IndexView, Place
from simulation.dynamodb.schema import Index, Schema
from simulation.dynamodb.ttl import Expirations
from simulation.dynamodb.validation import QUERY, WRITE
from simulation.dynamodb.values import Frozen, Item, Names, Values, freeze, sort_key, thaw


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
        self._now, self._index_lag = now, index_lag
        self._on_expire = on_expire
        self._key_when_limit_reached = key_when_limit_reached
        self._items: dict[Any, Frozen] = {}
        self._views = {name: IndexView(index) for name, index in schema.indexes.items()}
        self._index_keys = self._index_key_attributes()
        self._serials = itertools.count()
        self._pending: list[tuple[float, int, Any, tuple[Place | None, ...], Frozen | None]] = []
        """Writes on their way to the indexes: (when they arrive, serial, key, places per index,
        version)."""
        self._arrives: dict[Any, tuple[float, int]] = {}
        """Per item, when and as which serial its latest write reaches the indexes."""
        self._expirations = Expirations(schema.ttl_attribute, ttl_delay)

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
        frozen = None if version is None else freeze(version)
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
        self._expirations.schedule(key, version, serial)

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
        return None if frozen is None else thaw(frozen)

    def expire(self) -> int:
        """Delete the items TTL has deleted by now (`Expirations.due`). Returns how many."""
        now, deleted = self._clock(), 0
        for key in self._expirations.due(now):
            item = thaw(self._items[key])
            self._write(key, None)
            deleted += 1
            if self._on_expire is not None:
                self._on_expire(item)
        return deleted

    # the operations

    def put_item(self, params: Mapping[str, Any]) -> dict[str, Any]:
        validation.only(params, "PutItem", WRITE | {"Item"}, returns=("NONE", "ALL_OLD"))
        conditions = validation.conditions(params, "ConditionExpression")
        validation.placeholders(params, conditions)
        item = params["Item"]
        validation.check_item(self.schema, self._index_keys, item)
        key = sort_key(item[self.schema.hash_key])
        old = self._item(key)
        validation.check_condition(conditions, params, old)
        self._write(key, item)
        return _returned(params, old)

    def get_item(self, params: Mapping[str, Any]) -> dict[str, Any]:
        validation.only(params, "GetItem", frozenset(("TableName", "Key", "ConsistentRead")))
        item = self._item(validation.table_key(self.schema, params["Key"]))
        return {} if item is None else {"Item": item}

    def update_item(self, params: Mapping[str, Any]) -> dict[str, Any]:
        validation.only(params, "UpdateItem", WRITE | {"Key", "UpdateExpression"})
        if "UpdateExpression" not in params:
            raise unmodelled("UpdateItem without an UpdateExpression")
        update = parse_update(params["UpdateExpression"])
        conditions = validation.conditions(params, "ConditionExpression")
        validation.placeholders(params, [update, *conditions])
        key = validation.table_key(self.schema, params["Key"])
        old = self._item(key)
        # UpdateItem "creates a new item if it does not already exist" (API_UpdateItem).
        new = self._updated(update, old or params["Key"], params)
        validation.check_item(self.schema, self._index_keys, new)
        validation.check_condition(conditions, params, old)
        self._write(key, new)
        return {}

    def _updated(self, update: Update, old: Item, params: Mapping[str, Any]) -> Item:
        names: Names = params.get("ExpressionAttributeNames") or {}
        values: Values = params.get("ExpressionAttributeValues") or {}
        targets = [names[path] for path, _ in update.sets] + [names[p] for p in update.removes]
        validation.no_overlap(targets)
        if self.schema.hash_key in targets:
            raise invalid(
                "One or more parameter values were invalid: Cannot update attribute "
                f"{self.schema.hash_key}. This attribute is part of the key"
            )
        new = dict(old)
        for path, value_of in update.sets:
            value = operand(value_of)(old, names, values)
            if value is None:
                raise invalid(
                    "The provided expression refers to an attribute that does not exist in the item"
                )
            new[names[path]] = value  # frozen with the version it joins
        for path in update.removes:
            new.pop(names[path], None)
        return new

    def delete_item(self, params: Mapping[str, Any]) -> dict[str, Any]:
        validation.only(params, "DeleteItem", WRITE | {"Key"}, returns=("NONE", "ALL_OLD"))
        conditions = validation.conditions(params, "ConditionExpression")
        validation.placeholders(params, conditions)
        key = validation.table_key(self.schema, params["Key"])
        old = self._item(key)
        validation.check_condition(conditions, params, old)
        if old is not None:
            self._write(key, None)
        return _returned(params, old)

    def query(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DG "Querying tables in DynamoDB" (Query.html, Query.Other.html, Query.Pagination.html,
        Query.FilterExpression.html) and API_Query, on a GSI."""
        validation.only(params, "Query", QUERY)
        view = self._view(params)
        key_condition = parse_condition("KeyConditionExpression", params["KeyConditionExpression"])
        filters = validation.conditions(params, "FilterExpression")
        validation.placeholders(params, [key_condition, *filters])
        names: Names = params.get("ExpressionAttributeNames") or {}
        values: Values = params.get("ExpressionAttributeValues") or {}
        index = view.index
        partition = validation.partition_of(self.schema, index, key_condition, names, values)
        start = validation.start_position(
            self.schema, index, params.get("ExclusiveStartKey"), partition
        )
        for found in filters:
            validation.check_filter(index, found, names)
        self._propagate()
        limit = params.get("Limit")
        read, more = view.page(partition, start, params.get("ScanIndexForward", True), limit)
        # Limit counts the items read; the filter then drops some of them: "DynamoDB reads up
        # to six items, and then returns only those that match" (Query.Other.html, Query.Limit).
        items = [thaw(version) for version in read]
        kept = [item for item in items if all(f.test(item, names, values) for f in filters)]
        answer: dict[str, Any] = {
            "Items": kept,
            "Count": len(kept),
            "ScannedCount": len(read),
        }
        if read and (more or (self._key_when_limit_reached and len(read) == limit)):
            answer["LastEvaluatedKey"] = self._position_of(items[-1], index)
        return answer

    def _view(self, params: Mapping[str, Any]) -> IndexView:
        if "IndexName" not in params:
            raise unmodelled("Query on the table itself")
        view = self._views.get(params["IndexName"])
        if view is None:
            raise invalid(f"The table does not have the specified index: {params['IndexName']}")
        if params.get("ConsistentRead"):
            # API_Query: "Strongly consistent reads are not supported on global secondary indexes."
            raise invalid("Consistent reads are not supported on global secondary indexes")
        return view

    def _position_of(self, item: Item, index: Index) -> Item:
        """LastEvaluatedKey on a GSI: the table's key and the index's keys of the last item read."""
        keys = (self.schema.hash_key, index.hash_key, index.range_key)
        return {name: dict(item[name]) for name in keys}  # key values are flat: {"S": "..."}


def _returned(params: Mapping[str, Any], old: Item | None) -> dict[str, Any]:
    if params.get("ReturnValues") == "ALL_OLD" and old is not None:
        return {"Attributes": old}
    return {}
