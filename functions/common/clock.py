"""The functions' one source of time: the wall clock for records, a monotonic one for budgets.

Read through `now()` and `monotonic()` only, so that a simulation can run the real handlers on a
virtual clock (`use`); in Lambda both are the system's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The time of day, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never go back (budgets and deadlines)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (a backoff between tries)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


_current: Clock = SystemClock()


def now() -> datetime:
    return _current.now()


def monotonic() -> float:
    return _current.monotonic()


def sleep(seconds: float) -> None:
    _current.sleep(seconds)


@contextmanager
def use(clock: Clock) -> Iterator[None]:
    """Read time from `clock` while the block runs."""
    global _current
    previous, _current = _current, clock
    try:
        yield
    finally:
        _current = previous
