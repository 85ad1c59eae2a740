"""The stack's alarms, by name: the components create them and tell the alarm forwarder (when
the topic's key keeps CloudWatch from publishing itself) which names are the stack's."""

from __future__ import annotations

REFUSED_REQUESTS = "refused-requests"
"""Requests the trigger refused."""
REFUSED_RECORDS = "refused-records"
"""Runs whose recorded request the job's rules refuse: the functions sent nothing for them."""
REFUSED_RECORD = "refused-record"
"""The `outcome` of the functions' log line for each such run."""
SUPERVISOR_ERRORS = "supervisor-errors"
"""Invocations of the supervisor that failed (Lambda's `Errors`), less those that failed on
purpose for Lambda to retry them (a re-run that found no capacity, `NO_CAPACITY`)."""
NO_CAPACITY = "no-capacity"
"""The outcome on a request's log line whose re-run found no capacity: its next attempt is
recorded and the invocation fails so that Lambda's retry sends it."""
QUEUES = ("trigger-failures", "supervisor-failures", "schedules-dead-letters")
"""The queues of what failed, each alarmed on its first message; alarm and queue share a name."""

FORWARDER = "alarms"
"""The alarm forwarder, `<prefix>-alarms`: what a stack without its own key gives its alarms
as their action (functions/alarms/)."""
TOPIC_VARIABLE = "LONGJOBS_NOTIFICATIONS_TOPIC"
"""The forwarder's environment variable holding the notifications topic's ARN."""
NAMES_VARIABLE = "LONGJOBS_ALARM_NAMES"
"""The forwarder's environment variable holding the stack's alarm names, a JSON list."""


def names(prefix: str) -> tuple[str, ...]:
    """Every alarm name a stack of `prefix` may have (the dead letters' only with schedules)."""
    return tuple(
        f"{prefix}-{suffix}"
        for suffix in (REFUSED_REQUESTS, REFUSED_RECORDS, SUPERVISOR_ERRORS, *QUEUES)
    )
