"""The lifecycle's one decision, `decide`, fed events shaped like AWS's own.

`fixtures/ecs_task_state_change_fargate_running.json` is the Fargate sample of the ECS developer
guide page "Amazon ECS task state change events" (docs.aws.amazon.com/AmazonECS/latest/
developerguide/ecs_task_events.html), copied as published. The guide has no STOPPED sample: the
stopped events below are that sample with the fields DescribeTasks and the event carry when a
task stops (`lastStatus`, `desiredStatus`, `stopCode` from TaskStopCode in the ECS API
reference, `stoppedReason`, `containers[].exitCode`, `stoppedAt`) set, and a greater `version`,
as the guide says each change has. The documented delivery rules ("at least once", "may not be
delivered in the order in which the events occurred", duplicates share a `version`) are what
the hypothesis test throws at `decide`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longjobs_contract import lifecycle, runs
from longjobs_contract.jobs import LifecycleRules

SAMPLE = json.loads(
    (Path(__file__).parent / "fixtures" / "ecs_task_state_change_fargate_running.json").read_text()
)
RUN = runs.run_id("report", "nightly")
NOW = "2026-11-25T03:00:00.000Z"
RULES = LifecycleRules(retries=1, interruption_retries=2, on_interruption="on-demand")


def event(attempt: int = 1, version: int = 3, **changes) -> dict:
    """The documented sample, as a task of run RUN's `attempt` of the report job."""
    detail = copy.deepcopy(SAMPLE["detail"])
    detail["containers"][0]["name"] = "report"
    detail["overrides"]["containerOverrides"][0] = {
        "name": "report",
        "environment": [
            {"name": runs.ATTEMPT_VARIABLE, "value": str(attempt)},
            {"name": runs.RUN_ID_VARIABLE, "value": RUN},
        ],
    }
    detail["startedBy"] = RUN
    detail["taskArn"] = f"{detail['taskArn']}-{attempt}"
    detail["version"] = version
    exit_code = changes.pop("exitCode", None)
    detail.update(changes)
    if exit_code is not None:
        detail["containers"][0]["exitCode"] = exit_code
    return detail


def stopped(attempt: int = 1, version: int = 5, **changes) -> dict:
    return event(
        attempt,
        version,
        lastStatus="STOPPED",
        desiredStatus="STOPPED",
        stoppedAt="2025-05-06T11:32:34.000Z",
        **changes,
    )


def record(status: str = "PENDING", attempt: int = 1, attempts: list | None = None) -> dict:
    return {
        "runId": RUN,
        "job": "report",
        "status": status,
        "attempt": attempt,
        "attempts": attempts or [{"attempt": 1, "capacity": "spot", "requestedAt": NOW}],
        "request": {"environment": {}, "capacity": "spot", "idempotencyKey": "nightly"},
        "createdAt": NOW,
        "updatedAt": NOW,
    }


def apply(current: dict, detail: dict, rules: LifecycleRules = RULES):
    decision = lifecycle.decide(current, lifecycle.observe(detail, "report"), rules, NOW)
    return {**current, **decision.changes}, decision


def test_the_documented_sample_is_read_whole():
    observation = lifecycle.observe(SAMPLE["detail"], "web")
    assert observation == lifecycle.Observation(
        task_arn="arn:aws:ecs:us-east-1:123456789012:task/example-cluster/a1173316d40a45dea9",
        run_id=None,  # not a task of a run: no startedBy
        attempt=None,
        version=3,
        last_status="RUNNING",
        desired_status="RUNNING",
        capacity="on-demand",
        started_at=SAMPLE["detail"]["startedAt"],
    )


def test_a_task_that_is_not_a_run_changes_nothing():
    assert lifecycle.decide(record(), lifecycle.observe(SAMPLE["detail"], "web"), RULES, NOW) == (
        lifecycle.Decision()
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"stopCode": "EssentialContainerExited", "exitCode": 0}, lifecycle.SUCCEEDED),
        ({"stopCode": "EssentialContainerExited", "exitCode": 3}, lifecycle.JOB_FAILED),
        ({"stopCode": "EssentialContainerExited", "exitCode": 137,
          "containers": [{"name": "report", "exitCode": 137,
                          "reason": "OutOfMemoryError: Container killed due to memory usage"}]},
         lifecycle.JOB_FAILED),
        ({"stopCode": "SpotInterruption", "stoppedReason": "Your Spot Task was interrupted."},
         lifecycle.INTERRUPTED),
        ({"stopCode": "TerminationNotice", "stoppedReason": "Your Spot Task was interrupted."},
         lifecycle.INTERRUPTED),
        ({"stopCode": "ServiceSchedulerInitiated", "stoppedReason":
          "ECS is performing maintenance on the underlying infrastructure hosting the task"},
         lifecycle.INTERRUPTED),
        ({"stopCode": "TaskFailedToStart", "stoppedReason":
          "Timeout waiting for network interface provisioning to complete."},
         lifecycle.START_TRANSIENT),
        ({"stopCode": "TaskFailedToStart", "stoppedReason": "CannotPullContainerError: pull "
          "image manifest has been retried 5 time(s): failed to resolve ref: dial tcp: i/o "
          "timeout"}, lifecycle.START_TRANSIENT),
        ({"stopCode": "TaskFailedToStart", "stoppedReason": "CannotPullContainerError: pull "
          "image manifest has been retried 5 time(s): failed to resolve ref "
          "123456789012.dkr.ecr.us-east-1.amazonaws.com/report:missing: not found"},
         lifecycle.START_PERMANENT),
        ({"stopCode": "TaskFailedToStart", "stoppedReason": "ResourceInitializationError: unable "
          "to pull secrets or registry auth: AccessDeniedException"}, lifecycle.START_PERMANENT),
        ({"stopCode": "UserInitiated", "stoppedReason": "stopped through the longjobs trigger"},
         lifecycle.USER_STOPPED),
        ({"stopCode": "UserInitiated", "stoppedReason": lifecycle.TIMEOUT_REASON},
         lifecycle.TIMED_OUT),
        # A stop code not known when this was written: the exit code decides.
        ({"stopCode": "InfrastructureHealth"}, lifecycle.INTERRUPTED),
        ({"stopCode": "SomethingNew", "exitCode": 0}, lifecycle.SUCCEEDED),
        ({"stopCode": "SomethingNew", "exitCode": 1}, lifecycle.JOB_FAILED),
    ],
)  # fmt: skip
def test_every_documented_stop_is_classified(changes, expected):
    detail = stopped(**changes)
    assert lifecycle.classify(lifecycle.observe(detail, "report")) == expected


def test_running_then_success():
    current, decision = apply(record(), event(version=3, lastStatus="RUNNING"))
    assert current["status"] == "RUNNING" and decision.retry is None
    current, decision = apply(current, stopped(stopCode="EssentialContainerExited", exitCode=0))
    assert (current["status"], decision.final, decision.retry) == ("SUCCEEDED", "SUCCEEDED", None)
    [attempt] = current["attempts"]
    assert (attempt["exitCode"], attempt["classification"], attempt["version"]) == (
        0,
        "succeeded",
        5,
    )


def test_a_spot_interruption_reruns_on_demand_regardless_of_retries():
    rules = LifecycleRules(retries=0, interruption_retries=1, on_interruption="on-demand")
    current, decision = apply(record(), stopped(stopCode="SpotInterruption"), rules)
    assert decision.retry == (2, "on-demand")
    assert (current["status"], current["attempt"]) == ("PENDING", 2)
    assert current["attempts"][0]["retryReason"] == "interrupted"
    # Taken (`sentAt`) by the supervisor that decided it, which sends it right after.
    assert current["attempts"][1] == {
        "attempt": 2,
        "capacity": "on-demand",
        "requestedAt": NOW,
        "sentAt": NOW,
    }
    # Interrupted again: interruptionRetries (1) is spent.
    current, decision = apply(current, stopped(2, stopCode="SpotInterruption"), rules)
    assert (current["status"], decision.final, decision.retry) == ("FAILED", "FAILED", None)
    assert current["reason"] == "attempt 2: interrupted: SpotInterruption"


def test_failures_are_rerun_until_retries_run_out():
    current, decision = apply(record(), stopped(stopCode="EssentialContainerExited", exitCode=2))
    assert decision.retry == (2, "spot")  # the run's own capacity
    current, decision = apply(current, stopped(2, stopCode="EssentialContainerExited", exitCode=2))
    assert (current["status"], decision.final) == ("FAILED", "FAILED")
    assert current["reason"] == "attempt 2: job-failed: exit code 2"


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"stopCode": "UserInitiated", "stoppedReason": "no longer needed"}, "STOPPED"),
        ({"stopCode": "UserInitiated", "stoppedReason": lifecycle.TIMEOUT_REASON}, "TIMED_OUT"),
        ({"stopCode": "TaskFailedToStart", "stoppedReason": "CannotPullContainerError: not found"},
         "FAILED"),
    ],
)  # fmt: skip
def test_stops_that_are_never_retried(changes, status):
    current, decision = apply(record(), stopped(**changes))
    assert (current["status"], decision.final, decision.retry) == (status, status, None)


def test_a_final_run_never_changes_and_duplicates_and_old_news_change_nothing():
    current, _ = apply(record(), stopped(stopCode="EssentialContainerExited", exitCode=0))
    assert apply(current, stopped(stopCode="EssentialContainerExited", exitCode=0))[1] == (
        lifecycle.Decision()
    )
    assert apply(current, event(version=4, lastStatus="RUNNING"))[1] == lifecycle.Decision()
    running, _ = apply(record(), event(version=4, lastStatus="RUNNING"))
    assert apply(running, event(version=4, lastStatus="RUNNING"))[1] == lifecycle.Decision()
    assert apply(running, event(version=2, lastStatus="PENDING"))[1] == lifecycle.Decision()


def test_a_late_event_of_an_earlier_attempt_moves_nothing():
    current, decision = apply(record(), stopped(stopCode="SpotInterruption"))
    assert decision.retry == (2, "on-demand")
    late, decision = apply(current, event(1, version=4, lastStatus="RUNNING"))
    assert (late["status"], late["attempt"], decision.retry, decision.final) == (
        "PENDING",
        2,
        None,
        None,
    )


def events_of(kind: str) -> list[dict]:
    """Every event one successful or failed attempt's task sends, in order."""
    end = {"stopCode": "EssentialContainerExited", "exitCode": 0 if kind == "ok" else 1}
    return [
        event(version=1, lastStatus="PROVISIONING"),
        event(version=2, lastStatus="PENDING"),
        event(version=3, lastStatus="RUNNING"),
        event(version=4, lastStatus="DEPROVISIONING", desiredStatus="STOPPED"),
        stopped(version=5, **end),
    ]


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["ok", "failed"]),
    order=st.permutations(range(5)),
    repeats=st.lists(st.integers(0, 4), max_size=5),
)
def test_any_order_and_any_repeat_of_the_events_reaches_the_same_end(kind, order, repeats):
    rules = LifecycleRules(retries=0)
    events = events_of(kind)
    current = record()
    decisions = []
    for index in [*order, *repeats]:
        current, decision = apply(current, events[index], rules)
        decisions.append(decision)
    expected = "SUCCEEDED" if kind == "ok" else "FAILED"
    assert current["status"] == expected
    assert [d.final for d in decisions if d.final] == [expected]  # reported exactly once
    assert not any(d.retry for d in decisions)


def test_no_rerun_past_the_last_attempt_a_run_makes():
    last = runs.MAX_ATTEMPT
    waiting = record(attempt=last, attempts=[{"attempt": last, "capacity": "spot",
                                              "requestedAt": NOW}])  # fmt: skip
    current, decision = apply(waiting, stopped(last, stopCode="SpotInterruption"))
    assert (current["status"], decision.final, decision.retry) == ("FAILED", "FAILED", None)
    assert current["reason"] == (
        f"attempt {last}: interrupted: no attempt after attempt {last}, the most a run makes; "
        "SpotInterruption"
    )


def test_only_consecutive_capacity_failures_share_an_entry():
    def capacity(number: int, when: str) -> dict:
        return {"attempt": number, "capacity": "spot", "requestedAt": when,
                "reason": f"no capacity {number}", "classification": "capacity"}  # fmt: skip

    entries: list[dict] = []
    for entry in (capacity(1, "t1"), capacity(2, "t2"), capacity(3, "t3")):
        lifecycle.add_attempt(entries, entry)
    lifecycle.add_attempt(entries, {"attempt": 4, "capacity": "spot", "requestedAt": "t4",
                                    "taskArn": "arn", "classification": "interrupted"})  # fmt: skip
    lifecycle.add_attempt(entries, capacity(5, "t5"))
    assert entries == [
        {"attempt": 3, "firstAttempt": 1, "tries": 3, "capacity": "spot", "requestedAt": "t1",
         "lastRequestedAt": "t3", "reason": "no capacity 3", "classification": "capacity"},
        {"attempt": 4, "capacity": "spot", "requestedAt": "t4", "taskArn": "arn",
         "classification": "interrupted"},
        capacity(5, "t5"),
    ]  # fmt: skip


def test_a_fallback_seen_after_earlier_tries_without_capacity_joins_their_entry():
    """Attempts 1 and 2 found no capacity (one entry), Spot attempt 3 was sent, and a task of
    the on-demand attempt 4 is seen: 3 found no Spot capacity, and joins 1 and 2."""
    merged = {"attempt": 2, "firstAttempt": 1, "tries": 2, "capacity": "on-demand",
              "requestedAt": "t1", "lastRequestedAt": "t2", "reason": "none",
              "classification": "capacity"}  # fmt: skip
    waiting = record(attempt=3, attempts=[merged, {"attempt": 3, "capacity": "spot",
                                                   "requestedAt": "t3"}])  # fmt: skip
    current, _ = apply(waiting, event(4, lastStatus="RUNNING", capacityProviderName="FARGATE"))
    assert current["attempts"][0] == {
        **merged,
        "attempt": 3,
        "tries": 3,
        "capacity": "spot",
        "lastRequestedAt": "t3",
        "reason": lifecycle.FALLBACK_REASON.format(attempt=4),
    }
    assert [a["attempt"] for a in current["attempts"]] == [3, 4]
