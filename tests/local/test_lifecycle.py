"""A run's whole lifecycle on the local runtime: the real trigger and supervisor, the local ECS's
tasks as Docker containers, their logs in the local CloudWatch Logs."""

from __future__ import annotations

import time

import docker

from functions.supervisor.notices import log_stream


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
