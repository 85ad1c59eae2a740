"""A run of a job: its status, waiting for its end, its logs, stopping it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from longjobs.errors import NotARun, Throttled, TriggerFailed, ValidationError, WaitTimeout
from longjobs.logs import StreamReader, readers_for
from longjobs.models import LogLine, Result, Status
from longjobs_contract import runs

if TYPE_CHECKING:
    from longjobs.stack import Stack

POLL_SECONDS = 5.0
"""Between two `status` calls while waiting: 12 a minute, and a run's end is seen at most this
long (and one call) after it is recorded."""
LOG_POLL_SECONDS = 2.0
"""Between two reads of the streams while following."""
SETTLE_SECONDS = 10.0
"""After the run is final, its streams are read until none has given a line for this long:
CloudWatch Logs makes an event readable a moment after the container wrote it."""
GIVE_UP_AFTER_SECONDS = 300.0
"""A wait rides out throttling and passing failures of the status call for this long in a row,
then raises the last."""


class Run:
    """One run of a job of `stack`, by its id; nothing here depends on staying connected."""

    def __init__(self, stack: Stack, run_id: str, started: dict[str, Any] | None = None):
        if not runs.is_run_id(run_id):
            raise ValidationError(
                f"run id: {run_id[:80]!r} is not a run id ({runs.RUN_ID_LENGTH} hex characters)"
            )
        self.stack = stack
        self.run_id = run_id
        self.started = started or {}
        """The trigger's answer to the request that started it, when this client sent it."""

    @classmethod
    def from_id(cls, stack: Stack, run_id: str) -> Run:
        return cls(stack, run_id)

    def __repr__(self) -> str:
        return f"Run({self.run_id!r})"

    def status(self) -> Status:
        return Status.of(self.stack.call({"action": "status", "runId": self.run_id}))

    def stop(self, reason: str | None = None) -> Status:
        event = {"action": "stop", "runId": self.run_id}
        if reason is not None:
            event["reason"] = reason
        return Status.of(self.stack.call(event))

    def wait(
        self, timeout: float | None = None, on_change: Callable[[Status], None] | None = None
    ) -> Result:
        """Poll `status` every POLL_SECONDS until the run is final, however long that takes
        unless `timeout` (seconds) is given; `on_change` is told each new status or attempt."""
        for status in self.watch(timeout, on_change):
            if status.final:
                return Result(status)
        raise AssertionError("watch ends only with a final status")  # pragma: no cover

    def watch(
        self, timeout: float | None = None, on_change: Callable[[Status], None] | None = None
    ) -> Iterator[Status]:
        """Each status read, every POLL_SECONDS, the last one final; WaitTimeout at `timeout`."""
        clock = self.stack.clock
        start = clock.monotonic()
        deadline = None if timeout is None else start + timeout
        next_call, seen = start, None
        while True:
            status = self._status_riding_failures(deadline)
            shown = (status.status, status.attempt, status.capacity, status.stop_requested)
            if on_change is not None and shown != seen:
                on_change(status)
            seen = shown
            yield status
            if status.final:
                return
            now = clock.monotonic()
            next_call = max(next_call + POLL_SECONDS, now)
            if deadline is not None and next_call >= deadline:
                clock.sleep(max(0.0, deadline - now))
                raise WaitTimeout(_timed_out(self.run_id, status, timeout), status)
            clock.sleep(next_call - now)

    def _status_riding_failures(self, deadline: float | None) -> Status:
        clock = self.stack.clock
        failing_since = None
        while True:
            try:
                return self.status()
            except NotARun:  # asking again gets the same answer
                raise
            except (Throttled, TriggerFailed):
                now = clock.monotonic()
                failing_since = now if failing_since is None else failing_since
                out_of_time = deadline is not None and now + POLL_SECONDS >= deadline
                if out_of_time or now - failing_since >= GIVE_UP_AFTER_SECONDS:
                    raise
                clock.sleep(POLL_SECONDS)

    def logs(
        self, follow: bool = False, attempt: int | None = None, timeout: float | None = None
    ) -> Iterator[LogLine]:
        """Every line the run's attempts logged (or `attempt`'s), attempt by attempt; with
        `follow`, on until the run is final and its streams are drained, waiting for streams
        that do not exist yet (WaitTimeout after `timeout` seconds, when given)."""
        if not follow:
            for reader in readers_for(self.status().attempts, attempt):
                yield from reader.read(self.stack.logs_client)
            return
        yield from self._follow(attempt, timeout)

    def _follow(self, attempt: int | None, timeout: float | None) -> Iterator[LogLine]:
        clock = self.stack.clock
        readers: dict[tuple[int, str], StreamReader] = {}
        statuses = self.watch(timeout)
        status = next(statuses)
        next_status = clock.monotonic() + POLL_SECONDS
        quiet_since: float | None = None
        while True:
            for reader in readers_for(status.attempts, attempt):
                readers.setdefault((reader.attempt, reader.stream), reader)
            got = 0
            for key in sorted(readers):
                lines = readers[key].read(self.stack.logs_client)
                got += len(lines)
                yield from lines
            now = clock.monotonic()
            if status.final:
                quiet_since = now if got or quiet_since is None else quiet_since
                if now - quiet_since >= SETTLE_SECONDS:
                    return
            clock.sleep(LOG_POLL_SECONDS)
            if not status.final and clock.monotonic() >= next_status:
                status = next(statuses)
                next_status = clock.monotonic() + POLL_SECONDS


def _timed_out(run_id: str, status: Status, timeout: float | None) -> str:
    return (
        f"run {run_id} is still {status.status} (attempt {status.attempt}) after {timeout:g} s; "
        f"it goes on: `longjobs wait {run_id}` picks the wait up again"
    )
