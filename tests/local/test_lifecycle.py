"""A run's whole lifecycle on the local runtime: the real trigger and supervisor, the local ECS's
tasks as Docker containers, their logs in the local CloudWatch Logs."""

from __future__ import annotations

import json
import time

import docker

from local.dev import interrupt
from longjobs_contract.runs import log_stream


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
    return [
        c
        for c in engine.containers.list(all=True, filters={"label": "longjobs.task-arn"})
        if c.labels["longjobs.task-arn"].endswith(task_id)
    ]


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
