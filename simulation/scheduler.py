"""One virtual clock, one queue of what happens next, and invocations that interleave at every
AWS call.

Each Lambda invocation of the real handlers runs in a greenlet. A call to a simulated AWS
service pauses it (`pause`) until the request has travelled, then the call takes effect at
once, then the invocation pauses again until the answer is back: anything queued for the time
in between (another invocation's call, a task changing state, an event delivered) happens
first. Only one greenlet runs at a time and ties are broken by the order things were queued, so
a seed gives one trace, byte for byte (FoundationDB's and TigerBeetle's simulation testing).

Lambda ends an invocation at its timeout wherever it is (Lambda developer guide, "Configure
Lambda function timeout"): `Killed` is thrown into a paused invocation at its deadline, and an
invocation that was killed never makes another call.
"""

from __future__ import annotations

import contextvars
import functools
import heapq
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import greenlet  # type: ignore[import-untyped]

EPOCH = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""Every seed's clock starts here (a Monday), so that traces compare across seeds."""


class Killed(BaseException):
    """Thrown into an invocation at its timeout: not an Exception, so no handler's `except
    Exception` takes it, as no handler can catch Lambda ending its process."""


@dataclass
class Invocation:
    """One invocation of a function: its greenlet, its request id and when Lambda ends it."""

    function: str
    request_id: str
    deadline: float
    """Seconds on the simulator's clock."""
    invoked_function_arn: str
    glet: greenlet.greenlet | None = None
    killed: bool = False
    result: Any = None
    error: BaseException | None = None
    done: bool = False
    on_done: Callable[[Invocation], None] | None = None

    # What the handlers read of Lambda's context object.
    @property
    def aws_request_id(self) -> str:
        return self.request_id

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - _current_sim().t) * 1000))


_SIM: list[Simulator] = []


def _current_sim() -> Simulator:
    return _SIM[-1]


@dataclass(order=True)
class _Entry:
    when: float
    seq: int
    action: Callable[[], object] = field(compare=False)


class Simulator:
    """The clock and the queue of one seed's world."""

    def __init__(self, seed: int, *, trace_size: int = 400):
        self.seed = seed
        self.rng = random.Random(seed)
        self.t = 0.0
        self._queue: list[_Entry] = []
        self._seq = 0
        self._main = greenlet.getcurrent()
        self._running: Invocation | None = None
        self.trace: deque[str] = deque(maxlen=trace_size)
        """The latest lines of the world's story; a run's own lines are kept whole in
        `stories` (a line about a run starts `run=<its first 8 characters>`)."""
        self.stories: dict[str, list[str]] = {}
        self.steps = 0
        self.end: float | None = None
        """When the world may end sooner than `run`'s `until` (all is quiet)."""
        self._requests = 0

    # --- the clock (functions.common.clock.Clock) -------------------------------------------

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        """An invocation waits (`functions.common.clock.sleep`): other things happen meanwhile."""
        self.pause(seconds)

    def at_time(self, when: datetime) -> float:
        return (when - EPOCH).total_seconds()

    def stamp(self) -> str:
        """The clock as a trace shows it: hours:minutes:seconds.milliseconds from the start."""
        whole, millis = int(self.t), int(self.t * 1000) % 1000
        return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{millis:03d}"

    def note(self, line: str) -> None:
        stamped = f"{self.stamp()} {self._who()}{line}"
        if line.startswith("run="):
            self.stories.setdefault(line[4:12], []).append(stamped)
        else:
            self.trace.append(stamped)

    def _who(self) -> str:
        running = self._running
        return f"[{running.function} {running.request_id}] " if running else ""

    # --- the queue ----------------------------------------------------------------------------

    def after(self, seconds: float, action: Callable[[], object]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, _Entry(self.t + max(0.0, seconds), self._seq, action))

    def at(self, when: datetime, action: Callable[[], object]) -> None:
        self.after(self.at_time(when) - self.t, action)

    def run(self, until: float) -> None:
        """Do what is queued, in time order, until the clock would pass `until`."""
        _SIM.append(self)
        try:
            while self._queue and self._queue[0].when <= min(until, self.end or until):
                entry = heapq.heappop(self._queue)
                self.t = max(self.t, entry.when)
                self.steps += 1
                entry.action()
            self.t = max(self.t, min(until, self.end or until))
        finally:
            _SIM.pop()

    def idle(self) -> bool:
        return not self._queue

    # --- invocations --------------------------------------------------------------------------

    def new_request_id(self) -> str:
        self._requests += 1
        return f"{self.seed:x}-{self._requests:06d}"

    def invoke(
        self,
        function: str,
        call: Callable[[Invocation], Any],
        *,
        timeout: float,
        arn: str,
        request_id: str | None = None,
        on_done: Callable[[Invocation], None] | None = None,
    ) -> Invocation:
        """Start `call(invocation)` now, as a new invocation that Lambda ends after `timeout`."""
        invocation = Invocation(
            function=function,
            request_id=request_id or self.new_request_id(),
            deadline=self.t + timeout,
            invoked_function_arn=arn,
            on_done=on_done,
        )

        def body() -> None:
            try:
                invocation.result = call(invocation)
            except Killed as error:
                invocation.error = error
            except Exception as error:  # what the handler raised: Lambda reports it
                invocation.error = error
            invocation.done = True
            if invocation.on_done is not None:
                invocation.on_done(invocation)

        invocation.glet = greenlet.greenlet(body, parent=self._main)
        self.after(0.0, lambda: self._start(invocation))
        self.after(timeout, lambda: self._kill(invocation))
        return invocation

    def _start(self, invocation: Invocation) -> None:
        if invocation.done or invocation.glet is None:
            return
        previous, self._running = self._running, invocation
        try:
            invocation.glet.switch()
        finally:
            self._running = previous

    def _kill(self, invocation: Invocation) -> None:
        if invocation.done or invocation.glet is None:
            return
        invocation.killed = True
        self.note(f"{invocation.function} {invocation.request_id}: killed at its timeout")
        previous, self._running = self._running, invocation
        try:
            if invocation.glet:  # started: unwind it where it waits
                invocation.glet.throw(Killed())
            else:  # queued but never run
                invocation.glet = None
                invocation.error = Killed()
                invocation.done = True
                if invocation.on_done is not None:
                    invocation.on_done(invocation)
        finally:
            self._running = previous

    @property
    def running(self) -> Invocation | None:
        return self._running

    def pause(self, seconds: float) -> None:
        """Inside an invocation: let `seconds` pass, while everything else queued for them
        happens. Outside one (the world's own actions) time does not pass for a call."""
        invocation = self._running
        if invocation is None:
            return
        if invocation.killed:
            raise Killed()
        waiting = greenlet.getcurrent()
        self.after(seconds, lambda: self._switch(invocation, waiting))
        self._main.switch()
        if invocation.killed:
            raise Killed()

    def _switch(self, invocation: Invocation, glet: greenlet.greenlet) -> None:
        """Go on with one of an invocation's greenlets (its own, or a worker's) where it
        waits; a worker of an invocation that ended is unwound there."""
        if glet.dead:
            return
        previous, self._running = self._running, invocation
        try:
            if invocation.done:
                glet.throw(Killed())
            else:
                glet.switch()
        finally:
            self._running = previous

    # --- work side by side (functions.common.concurrency.Runner) -------------------------------

    def each(
        self, items: Sequence[Any], work: Callable[[Any], None], *, workers: int, until: float
    ) -> int:
        """As threads would, in virtual time: each worker a greenlet of the invocation, in a
        copy of its context, stepped by the queue like every other wait."""
        invocation = self._running
        taken = 0
        if invocation is None or workers <= 1 or len(items) <= 1:
            while taken < len(items) and self.t < until:
                taken += 1
                work(items[taken - 1])
            return taken
        parent = greenlet.getcurrent()
        active = min(workers, len(items))
        errors: list[BaseException] = []

        def worker() -> None:
            nonlocal taken, active
            try:
                while taken < len(items) and self.t < until and not invocation.killed:
                    taken += 1
                    work(items[taken - 1])
            except BaseException as error:  # noqa: BLE001 - handed to the waiting parent
                errors.append(error)
            finally:
                active -= 1
                if active == 0:
                    self.after(0.0, lambda: self._switch(invocation, parent))

        for _ in range(active):
            run_in_context = functools.partial(contextvars.copy_context().run, worker)
            glet = greenlet.greenlet(run_in_context, parent=self._main)
            self.after(0.0, functools.partial(self._switch, invocation, glet))
        self._main.switch()
        if invocation.killed:
            raise Killed()
        if errors:
            raise errors[0]
        return taken
