"""How the command shows things: one JSON document (or JSON lines) with --json; on a terminal,
rich's tables, colours and a live progress line; otherwise plain lines a script can read.
rich is imported only for a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from longjobs.models import LogLine, Result, Status

STATUS_STYLES = {
    "SUCCEEDED": "green",
    "FAILED": "red",
    "TIMED_OUT": "red",
    "STOPPED": "yellow",
    "RUNNING": "cyan",
    "PENDING": "blue",
}


def on_terminal() -> bool:
    return sys.stdout.isatty()


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, default=str))


def status(run: Status) -> None:
    rows = [
        ("run", run.run_id),
        ("job", run.job),
        ("status", run.status),
        ("reason", run.reason or ""),
        ("attempt", str(run.attempt)),
        ("capacity", run.capacity or ""),
        ("created", run.created_at or ""),
        ("updated", run.updated_at or ""),
    ]
    if run.stop_requested:
        rows.append(("stop requested", run.stop_requested))
    for key, value in rows:
        click.echo(f"{key}:\t{value}")
    table(
        ["attempt", "capacity", "task", "exit", "stop code", "reason"],
        [_attempt_row(entry) for entry in run.attempts],
    )


def _attempt_row(entry: dict[str, Any]) -> list[str]:
    task = str(entry.get("taskArn") or "").rsplit("/", 1)[-1]
    exit_code = entry.get("exitCode")
    return [
        str(entry.get("attempt", "")),
        str(entry.get("capacity") or ""),
        task,
        "" if exit_code is None else str(exit_code),
        str(entry.get("stopCode") or ""),
        str(entry.get("reason") or entry.get("stoppedReason") or ""),
    ]


def runs(found: Sequence[Status]) -> None:
    table(
        ["run", "job", "status", "attempt", "created", "reason"],
        [
            [r.run_id, r.job, r.status, str(r.attempt), r.created_at or "", r.reason or ""]
            for r in found
        ],
    )


def table(headers: list[str], rows: list[list[str]]) -> None:
    if not on_terminal():
        for row in [headers, *rows]:
            click.echo("\t".join(row))
        return
    from rich.console import Console
    from rich.table import Column, Table
    from rich.text import Text

    # The first column is an id people copy: never cut; the others fold rather than end in "…".
    widest = max((len(row[0]) for row in rows), default=0)
    columns = [Column(headers[0], no_wrap=True, min_width=widest)]
    columns += [Column(header, overflow="fold") for header in headers[1:]]
    shown = Table(*columns, box=None, header_style="bold")
    for row in rows:
        shown.add_row(*(Text(cell) for cell in row))  # cells as text: a reason is not markup
    Console().print(shown)


def log_line(line: LogLine, as_json: bool) -> None:
    if as_json:
        emit_json(line.to_json())
    else:
        click.echo(
            f"[{line.attempt}] {line.time.isoformat(timespec='milliseconds')} {line.message}"
        )


def result(outcome: Result) -> None:
    run = outcome.status
    code = outcome.exit_code
    said = f"{run.status} after {run.attempt} attempt(s)"
    if code is not None:
        said += f", exit code {code}"
    if run.reason:
        said += f": {run.reason}"
    click.echo(f"{run.run_id} {said}")


class Progress:
    """The run's progress on stderr while waiting: status changes, attempt, capacity, elapsed;
    a live line on a terminal, a line per change otherwise."""

    def __init__(self, started: datetime):
        self.started = started
        self._live: Any = None
        if sys.stderr.isatty():
            from rich.console import Console

            self._live = Console(stderr=True).status("waiting")
            self._live.start()

    def __call__(self, run: Status, now: datetime) -> None:
        elapsed = int((now - self.started).total_seconds())
        line = (
            f"{run.run_id} {run.status} attempt {run.attempt} on {run.capacity or '?'} "
            f"({elapsed // 60}m{elapsed % 60:02}s)"
        )
        if self._live is not None:
            from rich.markup import escape

            style = STATUS_STYLES.get(run.status, "")
            self._live.update(f"[{style}]{escape(line)}[/]" if style else escape(line))
        else:
            click.echo(line, err=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
