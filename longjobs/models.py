"""What the client answers with: a run's status, its result, a line it logged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from longjobs.errors import NotARun
from longjobs_contract import runs

FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    runs.Record.ATTEMPT: int,
    runs.Record.ATTEMPTS: list,
    runs.Record.REQUEST: dict,
    runs.Record.REASON: (str, type(None)),
    runs.Record.CREATED_AT: (str, type(None)),
    runs.Record.UPDATED_AT: (str, type(None)),
    runs.Record.STOP_REQUESTED: (str, type(None)),
}
"""The optional fields of a run and their JSON types."""


def _not_a_run(answer: Any) -> str | None:
    """What makes `answer` not a run, in words; None when it is one."""
    if not isinstance(answer, dict):
        return f"{type(answer).__name__}, not an object"
    for name in (runs.Record.RUN_ID, runs.Record.JOB, runs.Record.STATUS):
        if not isinstance(answer.get(name), str):
            return f"{name} missing or not a string"
    if not runs.is_run_id(answer[runs.Record.RUN_ID]):
        return f"runId {answer[runs.Record.RUN_ID][:40]!r} is not a run id"
    if answer[runs.Record.STATUS] not in runs.STATUSES:
        return (
            f"status {answer[runs.Record.STATUS][:40]!r} is not one of {', '.join(runs.STATUSES)}"
        )
    for name, kind in FIELD_TYPES.items():
        if name in answer and not isinstance(answer[name], kind):
            return f"{name} is {type(answer[name]).__name__}"
    if not all(isinstance(entry, dict) for entry in answer.get(runs.Record.ATTEMPTS, [])):
        return f"{runs.Record.ATTEMPTS} holds something that is not an object"
    return None


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
    def of(cls, answer: Any) -> Status:
        """The run `answer` holds; NotARun when it is not one (a field missing or of the wrong
        type, or a status not in runs.STATUSES, which would never end a wait)."""
        wrong = _not_a_run(answer)
        if wrong:
            raise NotARun(f"the trigger answered something that is not a run: {wrong}")
        return cls(
            run_id=answer[runs.Record.RUN_ID],
            job=answer[runs.Record.JOB],
            status=answer[runs.Record.STATUS],
            attempt=answer.get(runs.Record.ATTEMPT, 1),
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
