"""The `longjobs` command, unchanged, against a running local runtime: pointed at it by the
outputs file `longjobs dev` writes, as its ready message says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import docker

from tests.local.conftest import ROOT, Local
from tests.local.test_lifecycle import _containers_of

STOPPED = 123
"""`longjobs wait`'s exit code for a run that ended STOPPED (docs/exit-codes.md)."""


def longjobs(local: Local, *args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LONGJOBS_OUTPUTS")}
    return subprocess.run(
        [sys.executable, "-m", "longjobs", "--outputs", str(local.outputs_file), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=environment,
    )


def test_run_wait_exits_0_and_logs_show_the_jobs_line(local):
    ran = longjobs(local, "run", "hello-world", "--wait")
    assert ran.returncode == 0, ran.stderr
    run_id, said = ran.stdout.splitlines()
    assert said == f"{run_id} SUCCEEDED after 1 attempt(s), exit code 0"
    logs = longjobs(local, "logs", run_id)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.splitlines()[-1].endswith("Hello from the local runtime")


def test_a_failing_jobs_exit_code_is_passed_through_run_wait(local):
    ran = longjobs(local, "run", "failing", "--wait", "--json")
    assert ran.returncode == 3, ran.stderr
    result = json.loads(ran.stdout)
    assert (result["status"], result["exitCode"], len(result["attempts"])) == ("FAILED", 3, 2)


def test_stop_ends_the_run_stopped_and_its_container_is_gone(local):
    ran = longjobs(local, "run", "sleeper")
    run_id = ran.stdout.strip()
    assert local.wait(run_id, until=("RUNNING",))["status"] == "RUNNING"
    stopped = longjobs(local, "stop", run_id, "--reason", "stopped from the command")
    assert stopped.returncode == 0, stopped.stderr
    waited = longjobs(local, "wait", run_id, "--json")
    assert waited.returncode == STOPPED, waited.stderr
    assert json.loads(waited.stdout)["status"] == "STOPPED"
    task_id = local.status(run_id)["attempts"][-1]["taskArn"].rsplit("/", 1)[-1]
    engine = docker.from_env()
    deadline = time.monotonic() + 10
    while _containers_of(engine, task_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _containers_of(engine, task_id) == []


def test_dev_interrupt_of_a_run_without_a_running_task_is_one_line_exit_5(local):
    ran = longjobs(local, "run", "hello-world", "--wait")
    run_id = ran.stdout.splitlines()[0]
    answer = longjobs(local, "dev", "interrupt", run_id)
    assert answer.returncode == 5
    assert answer.stderr.splitlines() == [
        f"longjobs dev interrupt: run {run_id} has no task running"
    ]
