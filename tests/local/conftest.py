"""The local runtime as a user starts it: `longjobs dev` in a process of its own, driven
with boto3 through the outputs file it writes, stopped with SIGINT (Ctrl-C)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.images.test_images import REQUIRED, missing

ROOT = Path(__file__).resolve().parents[2]
TEST_STACK = Path(__file__).with_name("Pulumi.local-test.yaml")
SECRETS = Path(__file__).with_name("secrets.env")
FINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED")
READY_WITHIN = 300.0
"""Seconds for the images to build on a cold engine (vfs is slow)."""


def needs_docker() -> None:
    reason = missing()
    if reason:
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)


@dataclass
class Local:
    """A running `longjobs dev` and its outputs."""

    process: subprocess.Popen
    outputs: dict[str, Any]
    said: list[str]
    outputs_file: Path

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.outputs["endpointUrls"][service],
            region_name=self.outputs["clusterArn"].split(":")[3],
            aws_access_key_id="placeholder",
            aws_secret_access_key="placeholder",
        )

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        answer = self.client("lambda").invoke(
            FunctionName=self.outputs["triggerFunctionName"], Payload=json.dumps(event)
        )
        assert "FunctionError" not in answer, answer["Payload"].read()
        return json.loads(answer["Payload"].read())

    def start(self, job: str, **event: Any) -> str:
        answer = self.invoke({"job": job, **event})
        assert "runId" in answer, answer
        return answer["runId"]

    def status(self, run_id: str) -> dict[str, Any]:
        return self.invoke({"action": "status", "runId": run_id})

    def wait(self, run_id: str, until: tuple[str, ...] = FINAL, within: float = 90) -> dict:
        deadline = time.monotonic() + within
        while True:
            status = self.status(run_id)
            if status["status"] in until or time.monotonic() > deadline:
                return status
            time.sleep(0.3)

    def log_lines(self, group: str, stream: str) -> list[str]:
        events = self.client("logs").get_log_events(logGroupName=group, logStreamName=stream)
        return [event["message"] for event in events["events"]]

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=180)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def start_local(stack: Path, outputs: Path, *options: str) -> Local:
    """`longjobs dev` for `stack`, once it says it is ready."""
    command = [
        sys.executable,
        "-m",
        "longjobs",
        "dev",
        "--stack",
        str(stack),
        "--outputs",
        str(outputs),
    ]
    process = subprocess.Popen(
        [*command, *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    said: list[str] = []
    deadline = time.monotonic() + READY_WITHIN
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        said.append(line.rstrip("\n"))
        if " ready in " in line:
            return Local(process, json.loads(outputs.read_text()), said, outputs)
    process.kill()
    raise AssertionError("the local runtime did not get ready:\n" + "\n".join(said[-30:]))


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Iterator[Local]:
    """The test stack, without its schedules, for every test of a module."""
    needs_docker()
    outputs = tmp_path_factory.mktemp("local") / "outputs.json"
    runtime = start_local(TEST_STACK, outputs, "--no-schedules", "--secrets", str(SECRETS))
    yield runtime
    runtime.stop()
