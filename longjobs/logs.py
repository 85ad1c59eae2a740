"""Reading a run's log streams exactly: GetLogEvents from each stream's head, then on with its
forward token, so that every event comes once, in order, none sampled.

GetLogEvents (CloudWatch Logs API reference): with `startFromHead`, each answer's
`nextForwardToken` continues where it ended, and "if you have reached the end of the stream, it
returns the same token you passed in"; an answer may be empty before the end, so a stream is
read until its token comes back unchanged. A stream that does not exist yet (its task has not
started its container) answers ResourceNotFoundException.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from longjobs import aws
from longjobs.models import LogLine


@dataclass
class StreamReader:
    """One attempt's stream, and how far it has been read."""

    attempt: int
    group: str
    stream: str
    token: str | None = None
    found: bool = False
    """Whether the stream has existed at some read (it exists from its container's start)."""
    calls: int = field(default=0, compare=False)

    def read(self, logs: Any) -> list[LogLine]:
        """Every event after the last read, to the stream's current end."""
        lines: list[LogLine] = []
        while True:
            page = self._page(logs)
            if page is None:
                return lines
            lines.extend(self._line(event) for event in page.get("events", []))
            token = page.get("nextForwardToken")
            if token is None or token == self.token:
                return lines
            self.token = token

    def _page(self, logs: Any) -> dict[str, Any] | None:
        request: dict[str, Any] = {
            "logGroupName": self.group,
            "logStreamName": self.stream,
            "startFromHead": True,
        }
        if self.token is not None:
            request["nextToken"] = self.token
        self.calls += 1
        with aws.calling(f"reading {self.group} {self.stream}"):
            try:
                page: dict[str, Any] = logs.get_log_events(**request)
            except logs.exceptions.ResourceNotFoundException:
                return None
        self.found = True
        return page

    def _line(self, event: dict[str, Any]) -> LogLine:
        when = datetime.fromtimestamp(int(event.get("timestamp", 0)) / 1000, UTC)
        return LogLine(self.attempt, when, str(event.get("message", "")))


def readers_for(attempts: list[dict[str, Any]], only: int | None = None) -> list[StreamReader]:
    """A reader per attempt that has a stream (a task), in attempt order."""
    return [
        StreamReader(int(entry["attempt"]), entry["logGroup"], entry["logStream"])
        for entry in sorted(attempts, key=lambda entry: int(entry.get("attempt", 0)))
        if entry.get("logStream") and entry.get("logGroup") and only in (None, entry["attempt"])
    ]
