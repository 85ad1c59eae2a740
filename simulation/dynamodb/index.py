"""A global secondary index as a query sees it (DG GSI.html)."""

from __future__ import annotations

import bisect
from typing import Any

from simulation.dynamodb.schema import Index
from simulation.dynamodb.values import Frozen, Item, sort_key

Place = tuple[Any, tuple[Any, Any]]
"""Where an index holds an item: (partition key, (sort key, table key)), as they sort."""


class IndexView:
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
        return sort_key(version[index.hash_key]), (sort_key(version[index.range_key]), key)

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
