"""The stack's alarms, by name: the components create them, the supervisor passes them on to
the notifications topic (when the topic's key keeps CloudWatch from publishing itself)."""

from __future__ import annotations

REFUSED_REQUESTS = "refused-requests"
"""Requests the trigger refused."""
REFUSED_RECORDS = "refused-records"
"""Runs whose recorded request the job's rules refuse: the functions sent nothing for them."""
REFUSED_RECORD = "refused-record"
"""The `outcome` of the functions' log line for each such run."""
QUEUES = ("trigger-failures", "supervisor-failures", "schedules-dead-letters")
"""The queues of what failed, each alarmed on its first message; alarm and queue share a name."""


def names(prefix: str) -> tuple[str, ...]:
    """Every alarm name a stack of `prefix` may have (the dead letters' only with schedules)."""
    return tuple(f"{prefix}-{suffix}" for suffix in (REFUSED_REQUESTS, REFUSED_RECORDS, *QUEUES))
