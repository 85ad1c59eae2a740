"""The command's exit codes (docs/exit-codes.md shows this table; a test holds them equal).

With `--wait` or `--follow`, and for `wait`, a run that failed with an exit code exits with that
code (1-255), as `docker run` passes a container's through; the codes below are the command's own.
A job's own code can equal one of them: `--json` tells them apart (`outcome`, `exitCode`).
"""

from __future__ import annotations

from typing import Final

from longjobs.errors import (
    CredentialsError,
    LongjobsError,
    NotFound,
    StackNotFound,
    Throttled,
    TriggerFailed,
    ValidationError,
    WaitTimeout,
)

SUCCEEDED: Final = 0
UNEXPECTED: Final = 1
BAD_INPUT: Final = 2
STACK_NOT_FOUND: Final = 3
CREDENTIALS: Final = 4
NOT_FOUND: Final = 5
THROTTLED: Final = 6
AWS_FAILED: Final = 7
LOCAL_UNAVAILABLE: Final = 8
TIMED_OUT: Final = 122
STOPPED: Final = 123
WAIT_TIMEOUT: Final = 124
FAILED_TO_START: Final = 125
PLATFORM_FAILURE: Final = 126
INTERRUPTED: Final = 130

TABLE: Final = (
    (SUCCEEDED, "the command did what it was asked; with --wait, the run SUCCEEDED"),
    (UNEXPECTED, "an unexpected error in the command itself (LONGJOBS_DEBUG=1 shows where)"),
    (BAD_INPUT, "bad input: an argument, or a request the trigger refused (nothing started)"),
    (STACK_NOT_FOUND, "no stack outputs where the command looked, or not a stack's"),
    (CREDENTIALS, "no AWS credentials, expired ones, or ones not allowed to call the trigger"),
    (NOT_FOUND, "no such run (or its record is past the stack's runRetentionDays)"),
    (THROTTLED, "AWS throttled the call after retries; try again later"),
    (AWS_FAILED, "the trigger or AWS failed the call; sending it again is safe"),
    (
        LOCAL_UNAVAILABLE,
        "`dev`, `run --local`: the local runtime cannot run here (no Docker engine)",
    ),
    (TIMED_OUT, "the run ended TIMED_OUT (past its job's timeout)"),
    (STOPPED, "the run ended STOPPED"),
    (WAIT_TIMEOUT, "the command's own --timeout passed; the run goes on"),
    (FAILED_TO_START, "the run ended FAILED without its job ever running (no capacity, ...)"),
    (PLATFORM_FAILURE, "the run ended FAILED after its job ran, without an exit code"),
    (INTERRUPTED, "interrupted (Ctrl-C) while waiting; the run goes on"),
)

OF_ERROR: Final[tuple[tuple[type[LongjobsError], int], ...]] = (
    (ValidationError, BAD_INPUT),
    (StackNotFound, STACK_NOT_FOUND),
    (CredentialsError, CREDENTIALS),
    (NotFound, NOT_FOUND),
    (Throttled, THROTTLED),
    (TriggerFailed, AWS_FAILED),
    (WaitTimeout, WAIT_TIMEOUT),
)
OF_OUTCOME: Final = {
    "succeeded": SUCCEEDED,
    "timed-out": TIMED_OUT,
    "stopped": STOPPED,
    "failed-to-start": FAILED_TO_START,
    "platform-failure": PLATFORM_FAILURE,
}


def of_error(error: LongjobsError) -> int:
    return next((code for kind, code in OF_ERROR if isinstance(error, kind)), AWS_FAILED)


def of_result(outcome: str, exit_code: int | None) -> int:
    """A final run's: its job's own exit code when it failed with one."""
    if outcome == "job-failed" and exit_code is not None and 1 <= exit_code <= 255:
        return exit_code
    return OF_OUTCOME.get(outcome, PLATFORM_FAILURE)
