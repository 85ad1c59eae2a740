"""A run's whole lifecycle on the local runtime: the real trigger and supervisor, the local ECS's
tasks as Docker containers, their logs in the local CloudWatch Logs; a schedule fired at its times,
once each, through the real firing code; and Ctrl-C stopping everything the runtime started: its
containers gone, its ports closed, its process ended.

One runtime serves the whole module, started on the test stack with a schedule of every minute:
the runs before the schedule test take most of the minute to its first time."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import docker
import pytest
import yaml

from local.dev import interrupt
from longjobs_contract.runs import log_stream
from tests.local.conftest import SECRETS, TEST_STACK, Local, needs_docker, start_local

PERIOD = timedelta(minutes=1)
"""The schedule's rate: Scheduler fires a rate schedule a period after it starts, then every
period (tests/local/test_schedules_firing.py)."""
SCHEDULED_JOB = "hello-world"


def with_a_schedule(stack: Path, into: Path) -> Path:
    """The test stack, its hello-world with a schedule of every minute, under its own stack
    name: its cluster is no other runtime's."""
    config = yaml.safe_load(stack.read_text())
    job = config["config"]["longjobs:jobs"][SCHEDULED_JOB]
    job["schedules"] = {"minutely": {"expression": "rate(1 minute)", "timezone": "UTC"}}
    path = into / "Pulumi.local-scheduled.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory) -> Iterator[tuple[Local, datetime, datetime]]:
    """The runtime, when it was started, and when it said it was ready."""
    needs_docker()
    folder = tmp_path_factory.mktemp("scheduled")
    stack = with_a_schedule(TEST_STACK, folder)
    began = datetime.now(UTC)
    runtime = start_local(stack, folder / "outputs.json", "--secrets", str(SECRETS))
    ready = datetime.now(UTC)
    yield runtime, began, ready
    runtime.stop()


@pytest.fixture(scope="module")
def local(scheduled) -> Local:
    return scheduled[0]


def test_a_run_goes_through_the_whole_loop_to_succeeded_with_its_logs(local):
    run_id = local.start("hello-world")
    status = local.wait(run_id)
    assert status["status"] == "SUCCEEDED", status
    [attempt] = status["attempts"]
    assert (attempt["stopCode"], attempt["exitCode"]) == ("EssentialContainerExited", 0)
    stream = log_stream(attempt["taskArn"], "hello-world")
    group = local.outputs["jobs"]["hello-world"]["logGroupName"]
    assert local.log_lines(group, stream) == ["Hello from the local runtime"]


def test_a_failing_job_is_retried_and_its_exit_code_is_in_the_record(local):
    run_id = local.start("failing")
    status = local.wait(run_id)
    assert status["status"] == "FAILED", status
    assert [(a["attempt"], a["exitCode"]) for a in status["attempts"]] == [(1, 3), (2, 3)]
    group = local.outputs["jobs"]["failing"]["logGroupName"]
    stream = log_stream(status["attempts"][-1]["taskArn"], "failing")
    assert local.log_lines(group, stream) == ["about to fail"]


def test_a_stop_ends_the_run_stopped_and_its_container(local):
    run_id = local.start("sleeper")
    assert local.wait(run_id, until=("RUNNING",))["status"] == "RUNNING"
    answer = local.invoke({"action": "stop", "runId": run_id, "reason": "a test stops it"})
    assert "error" not in answer, answer
    status = local.wait(run_id)
    assert status["status"] == "STOPPED", status
    assert status["attempts"][-1]["stopCode"] == "UserInitiated"
    task_id = status["attempts"][-1]["taskArn"].rsplit("/", 1)[-1]
    engine = docker.from_env()
    deadline = time.monotonic() + 10
    while _containers_of(engine, task_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _containers_of(engine, task_id) == []


def _containers_of(engine, task_id: str) -> list:
    # Sparse: the list's own answer, with no inspect of each container (one removed meanwhile
    # would be NotFound).
    listed = engine.containers.list(all=True, sparse=True, filters={"label": "longjobs.task-arn"})
    return [c for c in listed if c.attrs["Labels"]["longjobs.task-arn"].endswith(task_id)]


def test_an_interrupted_run_is_retried_and_resumes_from_its_checkpoint(local):
    run_id = local.start("report")
    group = local.outputs["jobs"]["report"]["logGroupName"]
    first = _wait_for_line(local, run_id, group, '"event": "progress"')
    task_arn = interrupt(local.outputs, run_id)
    assert task_arn == first
    status = local.wait(run_id, within=180)
    assert status["status"] == "SUCCEEDED", status
    interrupted, resumed = status["attempts"]
    assert (interrupted["stopCode"], interrupted["exitCode"]) == ("SpotInterruption", 143)
    assert (resumed["stopCode"], resumed["exitCode"]) == ("EssentialContainerExited", 0)
    events = [
        json.loads(line)
        for line in local.log_lines(group, log_stream(resumed["taskArn"], "report"))
    ]
    [resume] = [event for event in events if event["event"] == "resumed"]
    assert resume["row"] > 0
    assert resume["checkpoint"].startswith(
        f"s3://{local.outputs['checkpointBucket']}/report/{run_id}/"
    )
    assert events[-1]["event"] == "done"


def _wait_for_line(local, run_id: str, group: str, text: str, within: float = 120) -> str:
    """The run's task ARN, once its log stream has a line containing `text`."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        attempts = local.status(run_id).get("attempts", [])
        if attempts and "taskArn" in attempts[-1]:
            arn = attempts[-1]["taskArn"]
            try:
                if any(text in line for line in local.log_lines(group, log_stream(arn, "report"))):
                    return arn
            except local.client("logs").exceptions.ResourceNotFoundException:
                pass
        time.sleep(0.3)
    raise AssertionError(f"no log line with {text!r} within {within} s")


def test_a_secret_takes_its_value_from_the_local_secrets_file(local):
    status = local.wait(local.start("with-secret"))
    assert status["status"] == "SUCCEEDED", status
    group = local.outputs["jobs"]["with-secret"]["logGroupName"]
    stream = log_stream(status["attempts"][-1]["taskArn"], "with-secret")
    assert local.log_lines(group, stream) == ["password: local-only-value"]


def test_a_secret_without_a_local_value_fails_the_start_as_ecs_does(local):
    status = local.wait(local.start("without-secret"))
    assert status["status"] == "FAILED", status
    last = status["attempts"][-1]
    assert last["stopCode"] == "TaskFailedToStart"
    assert last["stoppedReason"] == (
        "ResourceInitializationError: unable to pull secrets: the local secrets file gives "
        "no value for API_TOKEN"
    )
    assert "exitCode" not in last


def schedule_times(local: Local) -> list[datetime]:
    """The times of the runs the schedule started (each in its run's idempotency key), sorted."""
    prefix = f"schedule:{SCHEDULED_JOB}/minutely:"
    runs = local.invoke({"action": "list", "job": SCHEDULED_JOB})["runs"]
    keys = [local.status(r["runId"])["request"]["idempotencyKey"] for r in runs]
    return sorted(
        datetime.strptime(key.removeprefix(prefix), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        for key in keys
        if key.startswith(prefix)
    )


def test_a_schedule_fires_a_period_after_the_start_then_every_period_once_each(scheduled):
    local, began, ready = scheduled
    deadline = ready + PERIOD + timedelta(seconds=20)
    while not schedule_times(local) and datetime.now(UTC) < deadline:
        time.sleep(0.5)
    fired = schedule_times(local)
    assert fired, "the schedule did not fire within a period and 20 s of the runtime's start"
    first = fired[0]
    # The key's time is to the second; the runtime starts its schedules before it is ready.
    assert began + PERIOD - timedelta(seconds=1) <= first <= ready + PERIOD
    runs = local.invoke({"action": "list", "job": SCHEDULED_JOB})["runs"]
    [run] = [
        r
        for r in runs
        if local.status(r["runId"])["request"]["idempotencyKey"].endswith(
            first.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    ]
    assert local.wait(run["runId"])["status"] == "SUCCEEDED"
    time.sleep(3)  # three more ticks of the schedules' clock
    times = schedule_times(local)
    assert times == [first + n * PERIOD for n in range(len(times))]
    assert times[-1] <= datetime.now(UTC)


def test_ctrl_c_leaves_nothing_running(scheduled):
    """Last in the module: it stops the module's runtime."""
    local = scheduled[0]
    sleeper = local.start("sleeper")
    assert local.wait(sleeper, until=("RUNNING",))["status"] == "RUNNING"
    code = local.stop()
    assert code == 0, local.process.stdout.read() if local.process.stdout else ""
    cluster = local.outputs["clusterName"]
    engine = docker.from_env()
    left = [
        c.name
        for c in engine.containers.list(all=True, filters={"label": "longjobs.task-arn"})
        if f"/{cluster}/" in c.labels["longjobs.task-arn"]
    ]
    assert left == []
    for url in set(local.outputs["endpointUrls"].values()):
        address = urlparse(url)
        with socket.socket() as probe:
            assert probe.connect_ex((address.hostname, address.port)) != 0, f"{url} still answers"
