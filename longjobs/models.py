"""What the client answers with: a run's status, its result, a line it logged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from longjobs_contract import runs


@dataclass(frozen=True)
class Status:
    """A run as the trigger's `status` answers it (README, "Status, list and stop")."""

    run_id: str
    job: str
    status: str
    attempt: int
    attempts: list[dict[str, Any]]
    reason: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None
    stop_requested: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The trigger's whole answer, for `--json`."""

    @classmethod
    def of(cls, answer: dict[str, Any]) -> Status:
        return cls(
            run_id=answer[runs.Record.RUN_ID],
            job=answer[runs.Record.JOB],
            status=answer[runs.Record.STATUS],
            attempt=int(answer.get(runs.Record.ATTEMPT, 1)),
            attempts=list(answer.get(runs.Record.ATTEMPTS, [])),
            reason=answer.get(runs.Record.REASON),
            request=dict(answer.get(runs.Record.REQUEST, {})),
            created_at=answer.get(runs.Record.CREATED_AT),
            updated_at=answer.get(runs.Record.UPDATED_AT),
            stop_requested=answer.get(runs.Record.STOP_REQUESTED),
            raw=answer,
        )

    @property
    def final(self) -> bool:
        return self.status in runs.FINAL

    @property
    def current(self) -> dict[str, Any]:
        """The entry of the current (or last) attempt."""
        return next(
            (a for a in self.attempts if a.get("attempt") == self.attempt),
            self.attempts[-1] if self.attempts else {},
        )

    @property
    def capacity(self) -> str | None:
        return self.current.get("capacity")


@dataclass(frozen=True)
class Result:
    """A final run: how it ended, and the exit code of its last attempt's job."""

    status: Status

    @property
    def exit_code(self) -> int | None:
        code = self.status.current.get("exitCode")
        return int(code) if code is not None else None

    @property
    def outcome(self) -> str:
        """succeeded, job-failed (its job exited non-zero), timed-out, stopped,
        failed-to-start (its last attempt's job never ran), or platform-failure (the platform
        ended it: interruptions past the job's interruptionRetries, ...)."""
        state = self.status.status
        if state == runs.SUCCEEDED:
            return "succeeded"
        if state == runs.TIMED_OUT:
            return "timed-out"
        if state == runs.STOPPED:
            return "stopped"
        # The lifecycle's words, imported here: a command that only starts or lists runs does
        # not load the supervisor's rules.
        from longjobs_contract import lifecycle, start_failures

        never_started = {
            start_failures.CAPACITY,
            start_failures.PERMANENT,
            start_failures.TRANSIENT,
            lifecycle.START_TRANSIENT,
            lifecycle.START_PERMANENT,
        }
        last = self.status.current
        if last.get("classification") == lifecycle.JOB_FAILED and self.exit_code is not None:
            return "job-failed"
        if not last.get("taskArn") or last.get("classification") in never_started:
            return "failed-to-start"
        return "platform-failure"

    def to_json(self) -> dict[str, Any]:
        return {**self.status.raw, "outcome": self.outcome, "exitCode": self.exit_code}


@dataclass(frozen=True)
class LogLine:
    """One line an attempt's container logged, with CloudWatch's time for it."""

    attempt: int
    time: datetime
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"attempt": self.attempt, "time": self.time.isoformat(), "message": self.message}
