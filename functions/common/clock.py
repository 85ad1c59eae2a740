"""The functions' one source of time: the wall clock for records, a monotonic one for budgets.

Read through `now()` and `monotonic()` only, so that a simulation can run the real handlers on a
virtual clock (`use`); in Lambda both are the system's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from longjobs_contract.clock import Clock, SystemClock

__all__ = ["Clock", "SystemClock", "monotonic", "now", "sleep", "use"]

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
