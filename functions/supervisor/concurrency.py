"""Work on several runs at once inside one invocation.

The reconciliation pass spends its time waiting on AWS, not on the CPU: a few runs worked on side
by side (threads; boto3's clients are safe to share between them) multiply what one pass gets
done within its deadline. Each worker runs in a copy of the invocation's context, so that what
it logs joins the request's line (`request_log`). A simulation runs the same work on its own
scheduler (`use`).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from functions.common import clock

Item = TypeVar("Item")


class Runner(Protocol):
    def each(
        self, items: Sequence[Any], work: Callable[[Any], None], *, workers: int, until: float
    ) -> int:
        """Do `work(item)` for the items in order, up to `workers` at a time, taking no item
        once `until` (on `clock.monotonic`) has passed; how many were taken: always the first
        ones, each of them done."""
        ...


class Threads:
    def each(
        self, items: Sequence[Any], work: Callable[[Any], None], *, workers: int, until: float
    ) -> int:
        lock = threading.Lock()
        taken = 0

        def worker() -> None:
            nonlocal taken
            while True:
                with lock:
                    if taken >= len(items) or clock.monotonic() >= until:
                        return
                    item = items[taken]
                    taken += 1
                work(item)

        count = min(workers, len(items))
        if count <= 1:
            worker()
            return taken
        errors: list[BaseException] = []

        def guarded() -> None:
            try:
                worker()
            except BaseException as error:  # noqa: BLE001 - handed to the caller below
                errors.append(error)

        # Daemon threads, each joined here: none outlives `each`, and none holds a process that
        # is ending (a local runtime stopped by Ctrl-C) as an executor's workers would.
        threads = [
            threading.Thread(target=contextvars.copy_context().run, args=(guarded,), daemon=True)
            for _ in range(count)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return taken


_current: Runner = Threads()


def each(items: Sequence[Item], work: Callable[[Item], None], *, workers: int, until: float) -> int:
    """See `Runner.each`."""
    return _current.each(items, work, workers=workers, until=until)


@contextmanager
def use(runner: Runner) -> Iterator[None]:
    """Run work side by side with `runner` while the block runs."""
    global _current
    previous, _current = _current, runner
    try:
        yield
    finally:
        _current = previous
