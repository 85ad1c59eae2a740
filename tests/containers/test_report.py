"""The report job, run for real as a process: output, failures, SIGTERM and resume."""

from __future__ import annotations

import csv
import errno
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.containers.s3_server import BUCKET, PREFIX, URI, LocalS3, local_s3

SCRIPT = Path(__file__).resolve().parents[2] / "containers" / "report" / "report.py"


def env(output: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "REPORT_DAY": "2026-11-01",
        "REPORT_ROWS": "2000",
        "REPORT_BATCH": "200",
        "REPORT_OUTPUT": str(output),
        **extra,
    }


def run(environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_builds_the_report(tmp_path):
    result = run(env(tmp_path))
    assert result.returncode == 0, result.stdout
    with open(tmp_path / "rows.csv") as rows:
        table = list(csv.DictReader(rows))
    assert len(table) == 2000
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["day"] == "2026-11-01" and summary["rows"] == 2000
    totals = {}
    for row in table:
        totals[row["region"]] = totals.get(row["region"], 0) + float(row["amount"])
    assert summary["totals"] == pytest.approx(totals)
    logged = events(result.stdout)
    progress = [e for e in logged if e["event"] == "progress"]
    assert [e["percent"] for e in progress] == list(range(10, 101, 10))
    assert logged[-1]["event"] == "done"
    assert not (tmp_path / "checkpoint.json").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [("REPORT_ROWS", "many"), ("REPORT_ROWS", "0"), ("REPORT_DAY", "yesterday")],
)
def test_bad_input_exits_2_naming_the_variable(tmp_path, name, value):
    result = run(env(tmp_path, **{name: value}))
    assert result.returncode == 2
    [event] = events(result.stdout)
    assert event["event"] == "bad-input" and name in event["error"]
    assert not (tmp_path / "rows.csv").exists()


def test_a_failure_exits_non_zero(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run(env(blocker / "out"))
    assert result.returncode == 1
    assert events(result.stdout)[-1]["event"] == "failed"


def test_sigterm_checkpoints_quickly_and_a_second_run_resumes(tmp_path):
    slow = env(tmp_path, REPORT_STEP_SECONDS="0.5")
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT)], env=slow, stdout=subprocess.PIPE, text=True
    )
    first = process.stdout.readline()  # "started"
    assert json.loads(first)["event"] == "started"
    assert json.loads(process.stdout.readline())["event"] == "progress"
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    returncode = process.wait(timeout=10)
    elapsed = time.monotonic() - sent
    logged = events(process.stdout.read())
    assert returncode == 143
    assert elapsed < 5
    assert logged[-1]["event"] == "interrupted"
    checkpoint = json.loads((tmp_path / "checkpoint.json").read_text())
    stopped_at = checkpoint["progress"]["next_row"]
    assert 0 < stopped_at < 2000
    assert not (tmp_path / "rows.csv").exists()

    resumed = run(env(tmp_path))
    assert resumed.returncode == 0, resumed.stdout
    logged = events(resumed.stdout)
    resumed_event = {
        "event": "resumed",
        "row": stopped_at,
        "checkpoint": str(tmp_path / "checkpoint.json"),
    }
    assert resumed_event in logged
    assert logged[2]["step"] == stopped_at // 200 + 1
    # The resumed report is exactly what an uninterrupted run writes.
    fresh = tmp_path / "fresh"
    assert run(env(fresh)).returncode == 0
    assert (tmp_path / "rows.csv").read_bytes() == (fresh / "rows.csv").read_bytes()
    assert (tmp_path / "summary.json").read_text() == (fresh / "summary.json").read_text()


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text(json.dumps({"day": "2020-01-01", "rows": 5, "progress": {}}))
    result = run(env(tmp_path))
    assert result.returncode == 2
    assert "another run" in events(result.stdout)[-1]["error"]


class SignalledStream(io.StringIO):
    """stdout that sends SIGTERM to this process in the middle of writing the first progress
    line and, like the real buffered stdout, refuses a write from inside another write."""

    def __init__(self):
        super().__init__()
        self.writing = False
        self.signalled = False

    def write(self, text: str) -> int:
        if self.writing:
            raise RuntimeError("reentrant call inside stdout")
        self.writing = True
        try:
            if not self.signalled and '"progress"' in text:
                self.signalled = True
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.01)  # the handler runs here, in the middle of this write
            return super().write(text)
        finally:
            self.writing = False


def load_report(monkeypatch) -> Any:
    """The job's script as a module, leaving nothing in its folder: a file written there (a
    `__pycache__/`) would be part of the image's build folder, and so of its tag."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    spec = importlib.util.spec_from_file_location("report_job", SCRIPT)
    report = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, report)  # dataclasses look their module up
    spec.loader.exec_module(report)
    return report


def test_sigterm_during_a_log_write_still_checkpoints(tmp_path, monkeypatch):
    report = load_report(monkeypatch)
    for name, value in env(tmp_path).items():
        monkeypatch.setenv(name, value)
    stream = SignalledStream()
    monkeypatch.setattr(sys, "stdout", stream)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert report.main() == 143
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stream.signalled
    assert events(stream.getvalue())[-1]["event"] == "interrupted"
    assert (tmp_path / "checkpoint.json").exists()


def test_a_folder_on_a_read_only_filesystem_is_bad_input_before_any_work(tmp_path, monkeypatch):
    # What a read-only root filesystem answers (the image test meets the real one).
    report = load_report(monkeypatch)
    for name, value in env(tmp_path / "out").items():
        monkeypatch.setenv(name, value)

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(report.Path, "mkdir", read_only)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    assert report.main() == 2
    assert events(stream.getvalue())[-1] == {
        "event": "bad-input",
        "error": f"REPORT_OUTPUT is on a read-only filesystem ({tmp_path / 'out'}): point it at "
        "/tmp or another scratch path of the job",
    }


@pytest.fixture
def s3():
    with local_s3() as server:
        yield server


def s3_env(output: Path, s3: LocalS3, **extra: str) -> dict[str, str]:
    return env(output, LONGJOBS_CHECKPOINT_URI=URI, **s3.environment(), **extra)


def test_sigterm_checkpoints_to_s3_and_the_next_attempt_on_another_task_does_only_the_rest(
    tmp_path, s3
):
    first_task, second_task = tmp_path / "first", tmp_path / "second"
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT)],
        env=s3_env(first_task, s3, REPORT_STEP_SECONDS="0.5"),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert json.loads(process.stdout.readline())["event"] == "started"
    assert json.loads(process.stdout.readline())["event"] == "progress"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 143
    logged = events(process.stdout.read())
    assert logged[-1]["event"] == "interrupted" and logged[-1]["checkpoint"] == URI
    stopped_at = logged[-1]["row"]
    assert 0 < stopped_at < 2000
    # Everything the next attempt needs is in S3, nothing on the first task's disk counts.
    assert s3.keys() == [f"{PREFIX}checkpoint.json", f"{PREFIX}rows.csv.partial"]
    state = json.loads(s3.read(f"{PREFIX}checkpoint.json"))
    assert (state["day"], state["rows"], state["progress"]["next_row"]) == (
        "2026-11-01",
        2000,
        stopped_at,
    )
    assert not (first_task / "checkpoint.json").exists()

    # The next attempt: a new task with an empty disk, the same checkpoint URI.
    resumed = run(s3_env(second_task, s3))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    logged = events(resumed.stdout)
    assert {"event": "resumed", "row": stopped_at, "checkpoint": URI} in logged
    steps = [e["step"] for e in logged if e["event"] == "progress"]
    assert steps == list(range(stopped_at // 200 + 1, 11))  # only the rest
    fresh = tmp_path / "fresh"
    assert run(env(fresh)).returncode == 0
    assert (second_task / "rows.csv").read_bytes() == (fresh / "rows.csv").read_bytes()
    assert (second_task / "summary.json").read_text() == (fresh / "summary.json").read_text()
    # A finished run leaves no checkpoint for a later attempt to resume from.
    assert s3.keys() == []


def test_an_s3_checkpoint_of_another_run_is_refused(tmp_path, s3):
    s3.client().put_object(
        Bucket=BUCKET,
        Key=f"{PREFIX}checkpoint.json",
        Body=json.dumps({"day": "2020-01-01", "rows": 5, "progress": {}}).encode(),
    )
    result = run(s3_env(tmp_path, s3))
    assert result.returncode == 2
    assert events(result.stdout)[-1]["error"].startswith(f"{URI} belongs to another run")


def test_without_the_checkpoint_uri_nothing_goes_to_s3(tmp_path, s3):
    slow = {**env(tmp_path, REPORT_STEP_SECONDS="0.5"), **s3.environment()}
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT)], env=slow, stdout=subprocess.PIPE, text=True
    )
    process.stdout.readline()
    process.stdout.readline()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 143
    assert (tmp_path / "checkpoint.json").exists()
    assert s3.keys(prefix="") == []


def test_a_checkpoint_uri_that_is_not_s3_is_bad_input(tmp_path):
    result = run(env(tmp_path, LONGJOBS_CHECKPOINT_URI="/tmp/checkpoints"))
    assert result.returncode == 2
    assert events(result.stdout)[-1] == {
        "event": "bad-input",
        "error": "LONGJOBS_CHECKPOINT_URI='/tmp/checkpoints' is not like s3://bucket/prefix/",
    }
