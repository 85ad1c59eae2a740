"""Time to live: when each item's deletion comes (DG TTL.html, howitworks-ttl.html).

TTL takes a Number, in epoch seconds; an item whose TTL attribute is another type is not deleted
(DG howitworks-ttl.html: TTL attributes must use the Number data type). An expired item is
deleted "within a few days" of its expiry (earlier versions said "typically within 48 hours"),
and until then it "still appears in reads, queries, and scans": a delay drawn once per item.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from simulation.dynamodb.values import Item


@dataclass
class _Expiry:
    expires: float
    delay: float
    serial: int


class Expirations:
    """Each item's expiry and drawn delay, by the write (its serial) that set them."""

    def __init__(self, attribute: str | None, delay: Callable[[], float]):
        self._attribute, self._delay = attribute, delay
        self._expiring: list[tuple[float, int, Any]] = []
        self._expiry: dict[Any, _Expiry] = {}

    def schedule(self, key: Any, version: Item | None, serial: int) -> None:
        """Take a write's version of an item (None: deleted): its TTL, if it has one."""
        attribute = self._attribute
        value = (version or {}).get(attribute) if attribute else None
        if value is None or "N" not in value:
            self._expiry.pop(key, None)
            return
        expires, current = float(value["N"]), self._expiry.get(key)
        if current is not None and current.expires == expires:
            return
        delay = current.delay if current is not None else self._delay()
        self._expiry[key] = _Expiry(expires, delay, serial)
        heapq.heappush(self._expiring, (expires + delay, serial, key))

    def due(self, now: float) -> Iterator[Any]:
        """The keys of the items TTL deletes by `now`, in the order it deletes them: expired
        (their TTL at or before now, as DG ttl-expired-items.html filters them) and past their
        drawn delay. Read lazily: each deletion may schedule or cancel others."""
        while self._expiring and self._expiring[0][0] <= now:
            _, serial, key = heapq.heappop(self._expiring)
            expiry = self._expiry.get(key)
            if expiry is None or expiry.serial != serial:
                continue  # its TTL changed, or the item is gone
            yield key
