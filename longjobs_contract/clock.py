"""What a clock is, for everything that reads time through one so that a test or the simulation
can run it on a virtual clock: the functions (`functions.common.clock`) and the client
(`longjobs.Stack`). The system's clock is the one used for real."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The time of day, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never go back: budgets, waits and timeouts."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (a backoff between tries, a poll's interval)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
