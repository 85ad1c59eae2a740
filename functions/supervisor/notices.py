"""What a run's one notice says, so that a failure explains itself without a console: the run,
its final state and why, its attempts, and the last lines its last attempt logged."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from longjobs_contract import runs

LOG_LINES = 20
MAX_LINE = 1000
"""Characters of one log line in a notice (SNS takes 256 KB a message)."""
MAX_SUBJECT = 99  # SNS takes a subject "less than 100 characters long" (Publish)


def console_link(region: str, group: str, stream: str) -> str:
    """The CloudWatch console page of one log stream."""

    def escape(text: str) -> str:
        # The console's own escaping of a path segment: URL-escape, then '%' becomes '$25'.
        return quote(text, safe="").replace("%", "$25")

    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logsV2:log-groups/log-group/{escape(group)}/log-events/{escape(stream)}"
    )


def last_lines(logs: Any, group: str, stream: str) -> list[str]:
    """The last LOG_LINES lines of a stream, oldest first; none if it never got any."""
    try:
        answer = logs.get_log_events(
            logGroupName=group, logStreamName=stream, limit=LOG_LINES, startFromHead=False
        )
    except logs.exceptions.ResourceNotFoundException:
        return []  # the task never started its container
    return [str(event.get("message", ""))[:MAX_LINE] for event in answer.get("events", [])]


def compose(record: dict[str, Any], lines: list[str], link: str | None) -> tuple[str, str]:
    """(subject, message) of a run's notice; the message is JSON, for people and programs."""
    last = record[runs.Record.ATTEMPTS][-1] if record[runs.Record.ATTEMPTS] else {}
    status, job, run_id = (
        record[runs.Record.STATUS],
        record[runs.Record.JOB],
        record[runs.Record.RUN_ID],
    )
    subject = f"longjobs: {job} {status} (run {run_id})"[:MAX_SUBJECT]
    message = {
        "runId": run_id,
        "job": job,
        "status": status,
        "reason": record.get(runs.Record.REASON),
        "attempts": record[runs.Record.ATTEMPT],
        "exitCode": last.get("exitCode"),
        "stopCode": last.get("stopCode"),
        "classification": last.get("classification"),
        "taskArn": last.get("taskArn"),
        "request": record.get(runs.Record.REQUEST),
        "createdAt": record.get(runs.Record.CREATED_AT),
        "updatedAt": record.get(runs.Record.UPDATED_AT),
        "logLines": lines,
        "logStream": link,
    }
    return subject, json.dumps(message, indent=2, default=str)
