"""Runs: their ids, statuses and record, shared by the trigger, the supervisor and the client.

A run is one accepted request to run a job; it is recorded before anything starts and ends in
exactly one final status. Each try at running it is an attempt (1, 2, ...), each with its own
RunTask `clientToken`, so that a retried invocation of one attempt is the same request to ECS and
a new attempt is a new one.
"""

from __future__ import annotations

import hashlib
from typing import Final, TypeGuard

PENDING: Final = "PENDING"
RUNNING: Final = "RUNNING"
SUCCEEDED: Final = "SUCCEEDED"
FAILED: Final = "FAILED"
TIMED_OUT: Final = "TIMED_OUT"
STOPPED: Final = "STOPPED"
STATUSES = (PENDING, RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED)
FINAL = frozenset({SUCCEEDED, FAILED, TIMED_OUT, STOPPED})
"""A run in one of these never changes again."""

# What every attempt's container gets, besides the job's own environment.
RUN_ID_VARIABLE: Final = "LONGJOBS_RUN_ID"
ATTEMPT_VARIABLE: Final = "LONGJOBS_ATTEMPT"
CHECKPOINT_URI_VARIABLE: Final = "LONGJOBS_CHECKPOINT_URI"
RESERVED_PREFIX: Final = "LONGJOBS_"
"""Names a job or a run may not set: the platform's own."""

LOG_STREAM_PREFIX: Final = "job"
MAX_LIST_LIMIT: Final = 100
"""The most runs one `list` answer holds: the trigger refuses a larger `limit`, and the client
reads a page of at most this many at a time."""
"""The awslogs stream prefix of every job's container: streams are job/<container>/<task id>."""

MAX_ATTEMPT: Final = 9999
"""The last attempt a run makes: a run that would need one more ends FAILED. LONGJOBS_ATTEMPT
is counted at this length when a request's overrides are checked."""

RUN_ID_LENGTH = 32
"""Hex characters: fits RunTask's `startedBy` (36), which carries it to every task event."""


def run_id(job: str, idempotency_key: str) -> str:
    """The run a (job, key) pair names: the same request always names the same run."""
    return hashlib.sha256(f"{job}\n{idempotency_key}".encode()).hexdigest()[:RUN_ID_LENGTH]


def client_token(run: str, attempt: int) -> str:
    """RunTask's `clientToken` for one attempt of a run (64 characters, RunTask's limit)."""
    return hashlib.sha256(f"{run}#{attempt}".encode()).hexdigest()


def log_stream(task_arn: str, container_name: str) -> str:
    """The awslogs stream of a task's container: prefix/container/task id (ECS developer guide,
    "Send Amazon ECS logs to CloudWatch": prefix-name/container-name/ecs-task-id). The trigger's
    `status` answers it for each attempt, and a run's notice reads its last lines from it."""
    return f"{LOG_STREAM_PREFIX}/{container_name}/{task_arn.rsplit('/', 1)[-1]}"


def is_run_id(value: object) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and len(value) == RUN_ID_LENGTH
        and all(c in "0123456789abcdef" for c in value)
    )


class Record:
    """Attribute names of a run's item in the runs table (one item per run, key `runId`)."""

    RUN_ID: Final = "runId"
    JOB: Final = "job"
    STATUS: Final = "status"
    REQUEST: Final = "request"
    """environment, command, capacity, idempotencyKey, source (who or which schedule asked)."""
    CALLER: Final = "caller"
    """Who asked for the run, as the trigger told it by the qualifier it was invoked through
    (`longjobs_contract.callers`): `account`, `schedule`, or an `allowedCallers` entry."""
    ATTEMPT: Final = "attempt"
    """The number of the current (or last) attempt, from 1."""
    ATTEMPTS: Final = "attempts"
    """One map per attempt: taskArn, capacity, startedAt, stoppedAt, exitCode, stopCode,
    reason, classification, retryReason. Consecutive attempts that found no capacity are one
    map (`longjobs_contract.lifecycle.add_attempt`): attempt and capacity of the last,
    firstAttempt, tries, requestedAt of the first, lastRequestedAt, the last reason."""
    REASON: Final = "reason"
    CREATED_AT: Final = "createdAt"
    UPDATED_AT: Final = "updatedAt"
    EXPIRES_AT: Final = "expiresAt"
    """Epoch seconds: DynamoDB's TTL deletes the record after the stack's retention."""
    REVISION: Final = "revision"
    """Grows by one with every write: a writer writes only over the revision it read."""
    NOTIFY_DUE: Final = "notifyDue"
    """Present while the run's final state is still to be published: the sparse `toNotify`
    index lists exactly those runs."""
    NOTIFY_CLAIM: Final = "notifyClaim"
    """When a publisher took the notice on; another may take it over after a while."""
    NOTIFIED_AT: Final = "notifiedAt"
    STOP_REQUESTED: Final = "stopRequested"
    """A caller's stop reason, kept when the run's task was already ending on its own as the
    stop came: its end decides the run (exit 0 is SUCCEEDED), and no attempt follows it."""
    SENDINGS: Final = "sendingsRecorded"
    """Present on records whose attempts say when they are taken to be sent (`sentAt`): in a
    record without it (written by an earlier version), each attempt was sent as it was recorded."""
    JOB_CONTRACT: Final = "jobContract"
    """The job's contract as the stack declared it when the run was accepted (the functions'
    config file's entry for it): a run whose job leaves the stack is supervised to its final
    state by the rules it started under."""
    LIST_KEY: Final = "listKey"
    """The same value on every run, so one index lists all runs newest first."""


LIST_KEY_VALUE: Final = "run"
BY_JOB_INDEX: Final = "byJob"
"""Partition `job`, sort `createdAt`."""
BY_STATUS_INDEX: Final = "byStatus"
"""Partition `status`, sort `createdAt`."""
TO_NOTIFY_INDEX: Final = "toNotify"
"""Partition `notifyDue`, sort `createdAt`: the runs whose final state is still to be published."""
NOTIFY_DUE_VALUE: Final = "due"
NEWEST_INDEX: Final = "newest"
"""Partition `listKey`, sort `createdAt`: every run."""
