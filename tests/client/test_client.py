"""The client (`longjobs.Stack`, `Run`) against the dev stack in one process: the real trigger
and supervisor, moto behind them, the run's tasks driven by the ECS model."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from longjobs import NotFound, Run, TriggerFailed, ValidationError, WaitTimeout
from longjobs.run import POLL_SECONDS
from longjobs_contract import runs
from simulation.ecs import Fate
from tests.client.world import Job

SPOT_THEN_SUCCESS = Job(fates=[Fate("interrupt", seconds=90), Fate("exit", 0, seconds=90)])


def status_calls(world) -> int:
    return sum(1 for event in world.invocations if event.get("action") == "status")


def test_a_run_started_then_waited_for_succeeds_with_exit_0(world, stack):
    run = stack.run("hello-world", key="first")
    assert run.started["status"] == "PENDING" and run.started["idempotencyKey"] == "first"
    assert run.run_id == runs.run_id("hello-world", "first")
    result = run.wait()
    assert (result.status.status, result.exit_code, result.outcome) == ("SUCCEEDED", 0, "succeeded")
    assert [a["attempt"] for a in result.status.attempts] == [1]


def test_wait_polls_every_five_seconds_and_returns_within_five_of_the_end(world, stack):
    run = stack.run("hello-world")
    before = status_calls(world)
    result = run.wait()
    calls = status_calls(world) - before
    # One call every 5 s: 12 a minute.
    assert set(world.clock.sleeps) == {5.0} and POLL_SECONDS == 5.0
    assert calls == len(world.clock.sleeps) + 1
    ended = result.status.updated_at
    assert ended is not None
    delay = (world.clock.now() - datetime.fromisoformat(ended)).total_seconds()
    assert 0 <= delay <= 5


def test_every_request_carries_an_idempotency_key_and_a_repeat_names_the_same_run(world, stack):
    first = stack.run("hello-world")
    key = world.invocations[-1]["idempotencyKey"]
    assert str(uuid.UUID(key)) == key
    again = stack.run("hello-world", key=key)
    assert again.run_id == first.run_id and again.started["duplicate"] is True
    assert len(world.ecs.tasks) == 1


def test_a_failing_jobs_exit_code_is_the_results(world, stack):
    world.plans["hello-world"] = Job(fates=[Fate("exit", 3, seconds=30)])
    result = stack.run("hello-world").wait()
    assert (result.status.status, result.exit_code, result.outcome) == ("FAILED", 3, "job-failed")


def test_a_spot_interruption_then_success_shows_two_attempts_and_both_attempts_lines(world, stack):
    world.plans["hello-world"] = SPOT_THEN_SUCCESS
    run = stack.run("hello-world")
    result = run.wait()
    assert result.status.status == "SUCCEEDED"
    assert [(a["attempt"], a["classification"]) for a in result.status.attempts] == [
        (1, "interrupted"),
        (2, "succeeded"),
    ]
    lines = [(line.attempt, line.message) for line in run.logs()]
    assert lines == world.written[run.run_id]
    assert [attempt for attempt, _ in lines] == [1] * 5 + [2] * 5
    assert [(line.attempt, line.message) for line in run.logs(attempt=2)] == lines[5:]


def test_following_reads_every_line_once_from_before_the_first_stream_exists(world, stack):
    world.plans["hello-world"] = Job(
        fates=[Fate("interrupt", seconds=90), Fate("exit", 0, seconds=90)], lines=450
    )
    run = stack.run("hello-world")
    followed = [(line.attempt, line.message) for line in run.logs(follow=True)]
    assert run.status().final
    assert followed == world.written[run.run_id]
    assert len(followed) == 900


def test_list_pages_through_every_run_newest_first(world, stack):
    started = [stack.run("hello-world").run_id for _ in range(7)]
    world.clock.advance(1)
    before = len(world.invocations)
    listed = [status.run_id for status in stack.runs(job="hello-world", page_size=3)]
    pages = world.invocations[before:]
    assert sorted(listed) == sorted(started) and len(set(listed)) == 7
    assert [page.get("nextToken") is not None for page in pages] == [False, True, True]
    assert [status.run_id for status in stack.runs(status="SUCCEEDED")] == []


def test_a_stopped_run_ends_stopped(world, stack):
    world.plans["hello-world"] = Job(fates=[Fate("hang")])
    run = stack.run("hello-world")
    world.clock.advance(120)
    assert run.status().status == "RUNNING"
    stopping = run.stop("not needed today")
    assert stopping.stop_requested == "not needed today"
    result = run.wait()
    assert (result.status.status, result.outcome) == ("STOPPED", "stopped")


def test_a_rerun_sends_the_same_request_under_a_new_key(world, stack):
    first = stack.run("report", environment={"REPORT_DAY": "2026-11-01"}, capacity="on-demand")
    again = stack.rerun(first.run_id)
    sent = world.invocations[-1]
    assert again.run_id != first.run_id
    assert {k: v for k, v in sent.items() if k != "idempotencyKey"} == {
        "job": "report",
        "environment": {"REPORT_DAY": "2026-11-01"},
        "capacity": "on-demand",
    }


def test_wait_gives_up_at_its_timeout_and_the_run_goes_on(world, stack):
    world.plans["hello-world"] = Job(fates=[Fate("hang")])
    run = stack.run("hello-world")
    with pytest.raises(
        WaitTimeout, match=f"still .* after 30 s; it goes on: `longjobs wait {run.run_id}`"
    ):
        run.wait(timeout=30)
    assert world.clock.monotonic() == 30


def test_the_triggers_refusals_are_typed_and_carry_its_message(world, stack):
    with pytest.raises(ValidationError, match="^job: 'nope' is not a job of this stack"):
        stack.run("nope")
    with pytest.raises(NotFound, match=f"^runId: no run {'0' * 32} "):
        Run.from_id(stack, "0" * 32).status()
    with pytest.raises(ValidationError, match="is not a run id"):
        Run.from_id(stack, "not-a-run")


def test_a_raised_trigger_error_is_a_trigger_failure(world, stack):
    world.raise_next.append(RuntimeError("DynamoDB is having a day"))
    with pytest.raises(TriggerFailed, match=r"failed \(RuntimeError\): DynamoDB is having a day$"):
        stack.run("hello-world")
