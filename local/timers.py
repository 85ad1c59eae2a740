"""The runtime's one clock for what happens later (Lambda's retries, the minute's pass, the
schedules) and its workers, which run the handlers and Docker calls off the servers' threads."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("longjobs.local")
WORKERS = 16
"""Handler invocations and container watches at once (each container is watched by one)."""


class Timers:
    """`after(seconds, action)` runs the action on a worker once that time has passed; `close`
    drops what has not run, `join` waits for what runs."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._stopping = False
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="longjobs-local")
        self.line = ThreadPoolExecutor(1, thread_name_prefix="longjobs-local-in-order")
        """One worker: what must happen one at a time, in the order it came."""
        self._thread = threading.Thread(target=self._loop, name="longjobs-timers", daemon=True)
        self._thread.start()

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        with self._changed:
            heapq.heappush(self._queue, (time.monotonic() + seconds, next(self._order), action))
            self._changed.notify()

    def soon(self, action: Callable[[], None]) -> None:
        """Run the action on a worker now."""
        if not self._stopping:
            self.pool.submit(_logged, action)

    def in_order(self, action: Callable[[], None]) -> None:
        """Run the action after every action given here before it, one at a time."""
        if not self._stopping:
            self.line.submit(_logged, action)

    def every(self, seconds: float, action: Callable[[], None]) -> None:
        def again() -> None:
            self.after(seconds, again)
            action()

        self.after(seconds, again)

    def _loop(self) -> None:
        with self._changed:
            while not self._stopping:
                if not self._queue:
                    self._changed.wait()
                    continue
                due, _, action = self._queue[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._changed.wait(wait)
                    continue
                heapq.heappop(self._queue)
                self.soon(action)

    def close(self) -> None:
        """Take no more work: what is queued is dropped, what runs goes on."""
        with self._changed:
            self._stopping = True
            self._queue.clear()
            self._changed.notify()

    def join(self) -> None:
        """Wait for what runs to end (after `close`)."""
        self._thread.join(timeout=5)
        self.line.shutdown(wait=True, cancel_futures=True)
        self.pool.shutdown(wait=True, cancel_futures=True)


def _logged(action: Callable[[], None]) -> None:
    try:
        action()
    except Exception:  # a worker's failure is the runtime's log line, not its end
        log.exception("longjobs local: a background step failed")
