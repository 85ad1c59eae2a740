"""Lambda and the event sources in front of the functions, as their guides document them.

- Asynchronous invocation (Lambda developer guide, "How Lambda handles errors and retries with
  asynchronous invocation"): the event waits in Lambda's queue, then runs; on an error (a raised
  exception or the timeout) Lambda tries twice more, one minute and then two minutes later, with
  the same request id; then the event goes to the on-failure destination, if any, or is dropped.
  "Even if your function doesn't return an error, it's possible for it to receive the same
  event from Lambda multiple times because the queue itself is eventually consistent."
- An event older than the function's maximum event age (its event invoke config,
  MaximumEventAgeInSeconds; Lambda API reference, PutFunctionEventInvokeConfig) is not tried
  again: it goes to the on-failure destination as expired ("EventAgeExceeded").
- EventBridge rules and EventBridge Scheduler invoke asynchronously, so the above applies once
  Lambda has accepted the event.
- A synchronous caller gets the function's answer or its error, and Lambda retries nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulation.scheduler import Invocation, Killed, Simulator

ASYNC_RETRY_DELAYS = (60.0, 120.0)
QUEUE_DELAY = (0.05, 1.5)
"""Seconds an async event waits in Lambda's queue before it runs."""
DUPLICATE_SHARE = 0.002
"""Share of async events Lambda runs twice though the first run succeeded."""


@dataclass
class Outcome:
    """One invocation as the world saw it end."""

    function: str
    event: Any
    invocation: Invocation

    @property
    def failed(self) -> bool:
        return self.invocation.error is not None


@dataclass
class Function:
    """One function (or one alias of it): the handler, its timeout and whether it is broken."""

    sim: Simulator
    name: str
    handler: Callable[[Any, Any], Any]
    timeout: float
    arn: str
    broken: Callable[[], str | None] = lambda: None
    """Why every invocation fails right now (a bad deploy), or None."""
    ended: Callable[[Outcome], None] = lambda outcome: None
    """Told of every invocation's end: the invariants read it."""
    dead_letters: list[Any] = field(default_factory=list)
    """Async events that failed every try."""
    on_failure: Callable[[dict[str, Any]], None] | None = None
    """The on-failure destination: sent the invocation record of each of them."""
    max_event_age: float = 6 * 3600.0
    """Seconds an async event may wait, its retries included (Lambda's default: 6 hours)."""

    def _run(self, event: Any, invocation: Invocation) -> Any:
        why = self.broken()
        if why is not None:
            raise RuntimeError(why)
        return self.handler(event, invocation)

    def call(
        self,
        event: Any,
        *,
        request_id: str | None = None,
        then: Callable[[Outcome], None] | None = None,
    ) -> Invocation:
        """Invoke now; `then(outcome)` when it ends (a synchronous caller's answer)."""

        def done(invocation: Invocation) -> None:
            outcome = Outcome(self.name, event, invocation)
            self.ended(outcome)
            if then is not None:
                then(outcome)

        return self.sim.invoke(
            self.name,
            lambda invocation: self._run(event, invocation),
            timeout=self.timeout,
            arn=self.arn,
            request_id=request_id,
            on_done=done,
        )

    def send(self, event: Any) -> None:
        """Invoke asynchronously: queued, retried twice on error, then dead-lettered."""
        request_id = self.sim.new_request_id()
        self._queue(event, request_id, 0, self.sim.t)
        if self.sim.rng.random() < DUPLICATE_SHARE:
            self._queue(event, request_id, 0, self.sim.t)

    def _queue(self, event: Any, request_id: str, tried: int, queued: float) -> None:
        def after(outcome: Outcome) -> None:
            if not outcome.failed:
                return
            condition = "RetriesExhausted"
            if tried < len(ASYNC_RETRY_DELAYS):
                retry_at = self.sim.t + ASYNC_RETRY_DELAYS[tried]
                if retry_at - queued <= self.max_event_age:
                    self.sim.after(
                        ASYNC_RETRY_DELAYS[tried],
                        lambda: self._queue(event, request_id, tried + 1, queued),
                    )
                    return
                condition = "EventAgeExceeded"
            self.dead_letters.append(event)
            if self.on_failure is not None:
                self.on_failure(self._record(outcome, tried + 1, condition))

        delay = self.sim.rng.uniform(*QUEUE_DELAY) if tried == 0 else 0.0
        self.sim.after(delay, lambda: self.call(event, request_id=request_id, then=after))

    def _record(self, outcome: Outcome, tries: int, condition: str) -> dict[str, Any]:
        """The invocation record an on-failure destination gets (Lambda developer guide,
        "Capturing records of Lambda asynchronous invocations")."""
        error = outcome.invocation.error
        return {
            "version": "1.0",
            "timestamp": self.sim.now().isoformat(),
            "requestContext": {
                "requestId": outcome.invocation.request_id,
                "functionArn": f"{self.arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": tries,
            },
            "requestPayload": outcome.event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
            },
        }


def killed(outcome: Outcome) -> bool:
    return isinstance(outcome.invocation.error, Killed)
