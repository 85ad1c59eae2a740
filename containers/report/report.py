"""Build a daily sales report: a realistic long job that can be interrupted and resumed.

Inputs (environment):
  REPORT_DAY           day to report on, YYYY-MM-DD (default: yesterday, UTC)
  REPORT_ROWS          rows to generate and aggregate, 1-10000000 (default 10000)
  REPORT_BATCH         rows per step (default 1000)
  REPORT_STEP_SECONDS  pause after each step, simulating slow sources (default 0)
  REPORT_OUTPUT        output folder (default /tmp/report-<day>)
  REPORT_CHECKPOINT    checkpoint file (default <output>/checkpoint.json), used when
                       LONGJOBS_CHECKPOINT_URI is not set
  LONGJOBS_CHECKPOINT_URI
                       s3://<bucket>/<job>/<run id>/, which longjobs gives every attempt of a
                       run: the checkpoint and the rows written so far are kept there, so the
                       next attempt resumes on another task (boto3, with the task role's
                       credentials; AWS_ENDPOINT_URL_S3 points it at another S3)

The container's root filesystem is read-only on ECS: both defaults are under /tmp, the task's
scratch volume; another folder must be on a scratch path of the job (its scratchPaths) or a
mounted volume, and one on a read-only filesystem is refused as bad input before any work.

Writes <output>/rows.csv and <output>/summary.json, each atomically. Logs one JSON line per step.
On SIGTERM (Fargate Spot's two-minute warning) it finishes the current step, writes a checkpoint
and exits 143; a run that finds the checkpoint resumes from it. Bad input exits 2, any other
failure 1.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

EXIT_BAD_INPUT = 2
CHECKPOINT_URI_VARIABLE = "LONGJOBS_CHECKPOINT_URI"
EXIT_TERMINATED = 143  # 128 + SIGTERM, what a shell reports for a job killed by SIGTERM
REGIONS = ("north", "south", "east", "west")


class BadInput(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    day: date
    rows: int
    batch: int
    step_seconds: float
    output: Path
    checkpoint: Path
    checkpoint_uri: str | None = None


@dataclass
class Progress:
    next_row: int = 0
    csv_bytes: int = 0
    totals: dict[str, float] = field(default_factory=dict)


def _number(env: dict[str, str], name: str, default: str, cast, low, high):
    raw = env.get(name, default)
    try:
        value = cast(raw)
    except ValueError:
        raise BadInput(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise BadInput(f"{name}={raw!r} must be between {low} and {high}")
    return value


def read_settings(env: dict[str, str]) -> Settings:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    raw_day = env.get("REPORT_DAY", yesterday.isoformat())
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        raise BadInput(f"REPORT_DAY={raw_day!r} is not a date like 2026-11-01") from None
    output = Path(env.get("REPORT_OUTPUT", f"/tmp/report-{day.isoformat()}"))
    return Settings(
        day=day,
        rows=_number(env, "REPORT_ROWS", "10000", int, 1, 10_000_000),
        batch=_number(env, "REPORT_BATCH", "1000", int, 1, 1_000_000),
        step_seconds=_number(env, "REPORT_STEP_SECONDS", "0", float, 0, 3600),
        output=output,
        checkpoint=Path(env.get("REPORT_CHECKPOINT", str(output / "checkpoint.json"))),
        checkpoint_uri=_s3_uri(env.get(CHECKPOINT_URI_VARIABLE)),
    )


def _s3_uri(uri: str | None) -> str | None:
    if uri is None:
        return None
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or (prefix and not prefix.endswith("/")):
        raise BadInput(f"{CHECKPOINT_URI_VARIABLE}={uri!r} is not like s3://bucket/prefix/")
    return uri


def log(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def make_folder(folder: Path, name: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        if error.errno != errno.EROFS:
            raise
        raise BadInput(
            f"{name} is on a read-only filesystem ({folder}): point it at /tmp or another "
            "scratch path of the job"
        ) from None


class FileCheckpoint:
    """REPORT_CHECKPOINT: a local file; the rows written so far stay in the output folder, so
    only a run that finds both again (the same volume) can resume."""

    def __init__(self, path: Path):
        self.path = path
        self.where = str(path)

    def prepare(self) -> None:
        # Checked now, not at SIGTERM, when a checkpoint that cannot be written is lost work.
        make_folder(self.path.parent, "REPORT_CHECKPOINT")

    def load(self) -> dict | None:
        return json.loads(self.path.read_text()) if self.path.exists() else None

    def restore(self, partial: Path) -> None:
        pass  # the rows are still in the output folder

    def save(self, state: dict, partial: Path) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(state))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


class S3Checkpoint:
    """LONGJOBS_CHECKPOINT_URI: the state and the rows written so far, both in S3, so that the
    run's next attempt resumes on another task. The rows go first and the state last: a state
    that is there always has its rows."""

    STATE = "checkpoint.json"
    ROWS = "rows.csv.partial"

    def __init__(self, uri: str):
        self.where = uri
        self.bucket, _, self.prefix = uri.removeprefix("s3://").partition("/")
        self._client = None

    @property
    def s3(self):
        if self._client is None:
            import boto3  # only jobs that checkpoint to S3 need it
            from botocore.config import Config

            # Within Spot's two minutes: each call, retries included, ends in well under a minute.
            config = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard"})
            self._client = boto3.client("s3", config=config)
        return self._client

    def prepare(self) -> None:
        pass

    def load(self) -> dict | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + self.STATE)["Body"]
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(body.read())

    def restore(self, partial: Path) -> None:
        self.s3.download_file(self.bucket, self.prefix + self.ROWS, str(partial))

    def save(self, state: dict, partial: Path) -> None:
        self.s3.upload_file(str(partial), self.bucket, self.prefix + self.ROWS)
        self.s3.put_object(
            Bucket=self.bucket, Key=self.prefix + self.STATE, Body=json.dumps(state).encode()
        )

    def clear(self) -> None:
        for name in (self.STATE, self.ROWS):
            self.s3.delete_object(Bucket=self.bucket, Key=self.prefix + name)


def checkpoint_store(settings: Settings) -> FileCheckpoint | S3Checkpoint:
    if settings.checkpoint_uri:
        return S3Checkpoint(settings.checkpoint_uri)
    return FileCheckpoint(settings.checkpoint)


def load_checkpoint(settings: Settings, store, partial: Path) -> Progress:
    saved = store.load()
    if saved is None:
        return Progress()
    if saved.get("day") != settings.day.isoformat() or saved.get("rows") != settings.rows:
        raise BadInput(f"{store.where} belongs to another run: {saved}")
    store.restore(partial)
    return Progress(**saved["progress"])


def save_checkpoint(settings: Settings, store, progress: Progress, partial: Path) -> None:
    state = {"day": settings.day.isoformat(), "rows": settings.rows, "progress": asdict(progress)}
    store.save(state, partial)


def pause(seconds: float, stop_requested) -> None:
    """Sleep, but wake within 0.1 s of a stop request."""
    deadline = time.monotonic() + seconds
    while not stop_requested() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.1))


def rows_for(day: date, start: int, stop: int):
    """The source data: deterministic per day and row, so a resumed run writes the same rows."""
    for row in range(start, stop):
        rng = random.Random(f"{day.isoformat()}/{row}")
        yield row, REGIONS[rng.randrange(len(REGIONS))], round(rng.uniform(1, 500), 2)


def run(settings: Settings, stop_requested) -> int:
    make_folder(settings.output, "REPORT_OUTPUT")
    store = checkpoint_store(settings)
    store.prepare()
    partial = settings.output / "rows.csv.partial"
    progress = load_checkpoint(settings, store, partial)
    if progress.next_row:
        log("resumed", row=progress.next_row, checkpoint=store.where)
    with open(partial, "ab") as csv:
        csv.truncate(progress.csv_bytes)  # drop rows written after the checkpoint
        if progress.csv_bytes == 0:
            csv.write(b"row,region,amount\n")
        total_steps = -(-settings.rows // settings.batch)
        while progress.next_row < settings.rows:
            if stop_requested():
                save_checkpoint(settings, store, progress, partial)
                log(
                    "interrupted",
                    reason="SIGTERM",
                    row=progress.next_row,
                    checkpoint=store.where,
                )
                return EXIT_TERMINATED
            stop = min(progress.next_row + settings.batch, settings.rows)
            for row, region, amount in rows_for(settings.day, progress.next_row, stop):
                csv.write(f"{row},{region},{amount:.2f}\n".encode())
                progress.totals[region] = round(progress.totals.get(region, 0) + amount, 2)
            csv.flush()
            progress.next_row, progress.csv_bytes = stop, csv.tell()
            step = -(-stop // settings.batch)
            log("progress", step=step, total=total_steps, percent=round(100 * stop / settings.rows))
            pause(settings.step_seconds, stop_requested)
    os.replace(partial, settings.output / "rows.csv")
    summary = {
        "day": settings.day.isoformat(),
        "rows": settings.rows,
        "totals": dict(sorted(progress.totals.items())),
    }
    write_atomically(settings.output / "summary.json", json.dumps(summary, indent=2))
    store.clear()
    log("done", output=str(settings.output), rows=settings.rows)
    return 0


def main() -> int:
    stop = {"requested": False}

    def on_sigterm(signum, frame) -> None:
        # Only set the flag: a signal handler that writes could land inside another write to
        # stdout, and Python raises on that reentrant call. The main loop logs the stop.
        stop["requested"] = True

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        settings = read_settings(dict(os.environ))
        log("started", **{k: str(v) for k, v in asdict(settings).items()})
        return run(settings, lambda: stop["requested"])
    except BadInput as error:
        log("bad-input", error=str(error))
        return EXIT_BAD_INPUT
    except Exception as error:  # any other failure must fail the task visibly
        log("failed", error=f"{type(error).__name__}: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
