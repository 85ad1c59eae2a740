"""The reconciliation pass over more open runs than it reads at once: each status read oldest
first from where the last pass stopped, so every open run is looked at over a few passes.

moto's DynamoDB with the program's runs table (its by-status index; the DynamoDB model for the
test of a thousand runs), the ECS stand-in; runs
are written straight into the table and their tasks into the stand-in, as if every event of
theirs had been lost.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from functions.common import clock, records
from functions.supervisor import reconcile, supervisor
from functions.trigger import handler
from longjobs_contract import runs
from longjobs_contract.run_event import RunRequest
from tests.functions import test_supervisor
from tests.functions.conftest import another_invocation

stack = test_supervisor.stack
"""The supervisor's stack: PROD in moto, ECS as the stand-in."""
model_stack = test_supervisor.model_stack
"""The same with the runs table in the DynamoDB model, for a thousand runs."""


@pytest.fixture(autouse=True)
def stopped_clock(monkeypatch):
    """The pass's clock stands still: a pass over a thousand runs in moto on a busy machine
    must not run out of its time budget; the one test of that budget moves the clock itself."""
    monkeypatch.setattr(clock, "monotonic", lambda: 0.0)


CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/longjobs-prod"


def open_run(ecs, store, index: int, *, stopped: bool, created) -> str:
    """A RUNNING run whose task ECS runs (or has stopped with exit code 0); no event came."""
    config = handler.load_config()
    key = f"open-{index:05}"
    request = RunRequest(
        job="report",
        rules=config.jobs["report"],
        environment={},
        command=None,
        capacity="spot",
        idempotency_key=key,
    )
    run_id = runs.run_id("report", key)
    record = records.new_record(run_id, request, created)
    arn = f"arn:aws:ecs:eu-west-1:123456789012:task/longjobs-prod/{run_id}"
    record[runs.Record.STATUS] = runs.RUNNING
    record[runs.Record.ATTEMPTS][0].update(taskArn=arn, version=3, lastStatus="RUNNING")
    store.create(record)
    task = {
        "taskArn": arn,
        "clusterArn": CLUSTER,
        "startedBy": run_id,
        "lastStatus": "RUNNING",
        "desiredStatus": "RUNNING",
        "capacityProviderName": "FARGATE_SPOT",
        "overrides": {
            "containerOverrides": [
                {"name": "report", "environment": [{"name": "LONGJOBS_ATTEMPT", "value": "1"}]}
            ]
        },
        "containers": [{"name": "report", "lastStatus": "RUNNING"}],
        "version": 3,
    }
    if stopped:
        task.update(
            lastStatus="STOPPED",
            desiredStatus="STOPPED",
            stopCode="EssentialContainerExited",
            stoppedReason="Essential container in task exited",
            containers=[{"name": "report", "lastStatus": "STOPPED", "exitCode": 0}],
            version=5,
        )
    ecs.tasks[arn] = task
    return run_id


def described(ecs) -> list[str]:
    return [arn for operation, params in ecs.calls if operation == "DescribeTasks"
            for arn in params["tasks"]]  # fmt: skip


def test_more_open_runs_than_a_pass_reads_are_all_looked_at_within_two_passes(model_stack, context):
    """1,070 RUNNING runs, more than the 1,000 a pass reads: the 50 oldest and the 20 newest
    have stopped with their events lost, the 1,000 between run on. A pass that read only the
    newest 1,000 would never see the oldest; one that read only the oldest, never the newest."""
    ecs, store, _ = model_stack
    assert reconcile.MAX_RECONCILED == 1000
    base = records.now() - timedelta(hours=2)
    ids = [
        open_run(ecs, store, i, stopped=i < 50 or i >= 1050, created=base + timedelta(seconds=i))
        for i in range(1070)
    ]
    first = supervisor.handler(supervisor.RECONCILE, context)
    assert (first["read"], first["final"], first["errors"]) == (1000, 50, 0)
    assert {store.get(run)["status"] for run in ids[:50]} == {"SUCCEEDED"}
    assert {store.get(run)["status"] for run in ids[1050:]} == {"RUNNING"}
    second = supervisor.handler(supervisor.RECONCILE, context)
    # On from where the first stopped: the 20 left, then round to the oldest still open.
    assert (second["read"], second["final"], second["errors"]) == (1000, 20, 0)
    assert {store.get(run)["status"] for run in ids[1050:]} == {"SUCCEEDED"}
    assert {store.get(run)["status"] for run in ids[50:1050]} == {"RUNNING"}
    assert set(described(ecs)) == set(ecs.tasks)  # every open run was looked at
    # Runs whose task is as recorded cost one DescribeTasks a hundred, no read or write each.
    assert second["applied"] == 20


def test_fewer_runs_than_a_share_are_each_looked_at_every_pass(stack, context, monkeypatch):
    ecs, store, _ = stack
    monkeypatch.setattr(reconcile, "MAX_RECONCILED", 2)
    base = records.now() - timedelta(hours=1)
    ids = [open_run(ecs, store, i, stopped=False, created=base + timedelta(minutes=i))
           for i in range(3)]  # fmt: skip
    arns = {run: store.get(run)["attempts"][0]["taskArn"] for run in ids}
    looked = []
    for _ in range(3):
        ecs.calls.clear()
        assert supervisor.handler(supervisor.RECONCILE, context)["read"] == 2
        looked.append([run for run in ids if arns[run] in described(ecs)])
    # Two a pass, oldest first, on from where the last stopped and round again.
    assert looked == [ids[:2], [ids[0], ids[2]], ids[1:]]
    monkeypatch.setattr(reconcile, "MAX_RECONCILED", 1000)
    ecs.calls.clear()
    assert supervisor.handler(supervisor.RECONCILE, context)["read"] == 3
    assert sorted(described(ecs)) == sorted(arns.values())


def test_a_pass_out_of_time_stops_and_the_next_goes_on_from_there(stack, context, monkeypatch):
    ecs, store, _ = stack
    base = records.now() - timedelta(hours=1)
    ids = [open_run(ecs, store, i, stopped=False, created=base + timedelta(minutes=i))
           for i in range(5)]  # fmt: skip
    elapsed = [0.0]
    monkeypatch.setattr(clock, "monotonic", lambda: elapsed[0])
    tasks_of = reconcile._Pass._tasks_of

    def seven_seconds_a_run(self, record):
        elapsed[0] += 7.0
        return tasks_of(self, record)

    # Every run looked at takes 7 s: RUNNING's 25 s see runs 0 to 3 (taken 0, 7, 14 and 21 s
    # in), not 4, one worker taking them in turn.
    monkeypatch.setattr(reconcile._Pass, "_tasks_of", seven_seconds_a_run)
    monkeypatch.setattr(reconcile, "WORKERS", 1)
    assert reconcile.PASS_SECONDS[runs.RUNNING] == 25.0
    assert supervisor.handler(supervisor.RECONCILE, context)["read"] == 4
    position = store.pass_cursors()[runs.RUNNING]
    assert position == records.status_position(store.get(ids[3]))
    monkeypatch.setattr(reconcile._Pass, "_tasks_of", tasks_of)
    elapsed[0] = 0.0
    ecs.calls.clear()
    assert supervisor.handler(supervisor.RECONCILE, context)["read"] == 5
    arns = [store.get(run)["attempts"][0]["taskArn"] for run in ids]
    # Run 4 first, then round to 0 to 3 (one DescribeTasks a page).
    assert [call["tasks"] for op, call in ecs.calls if op == "DescribeTasks"] == [
        arns[4:],
        sorted(arns[:4]),
    ]


def test_the_pass_cursor_is_no_run(stack, context):
    ecs, store, _ = stack
    handler.handler({"job": "report", "idempotencyKey": "one"}, context)
    supervisor.handler(supervisor.RECONCILE, context)
    assert store.get(records.PASS_CURSOR_ID) is not None
    listed = handler.handler({"action": "list"}, context)["runs"]
    assert [run["request"]["idempotencyKey"] for run in listed] == ["one"]
    for status in runs.STATUSES:
        page = handler.handler({"action": "list", "status": status}, context)["runs"]
        assert all(run["runId"] != records.PASS_CURSOR_ID for run in page)
    answer = handler.handler({"action": "status", "runId": records.PASS_CURSOR_ID}, context)
    assert answer["error"]["type"] == "ValidationError"


@pytest.mark.parametrize("kept", ["not a token", None])
def test_an_unreadable_cursor_starts_from_the_oldest(stack, context, kept):
    ecs, store, _ = stack
    base = records.now() - timedelta(hours=1)
    open_run(ecs, store, 0, stopped=True, created=base)
    cursors = {runs.RUNNING: kept} if kept else {}
    store.client.put_item(
        TableName=store.table,
        Item=records.to_item({runs.Record.RUN_ID: records.PASS_CURSOR_ID, "cursors": cursors}),
    )
    answer = supervisor.handler(supervisor.RECONCILE, context)
    assert (answer["read"], answer["final"], answer["errors"]) == (1, 1, 0)


# --- one pass at a time: the lease ------------------------------------------------------------


def a_pass() -> dict:
    """A reconciliation pass, an invocation of its own (its request id owns the lease)."""
    return supervisor.handler(supervisor.RECONCILE, another_invocation())


def test_a_pass_while_another_holds_the_lease_does_nothing(stack, monkeypatch):
    """A second pass while the first works (a retried one beside the next minute's) takes no
    lease and so reads no run and sends nothing; once the first gives the lease up, the next
    pass works."""
    ecs, store, calls = stack
    run = open_run(ecs, store, 0, stopped=True, created=records.now() - timedelta(hours=1))
    sweep = reconcile._Pass.sweep
    meanwhile: dict[str, tuple[dict, list[str]] | None] = {}

    def sweep_beside_a_second_pass(self, status, deadline):
        if "second" not in meanwhile:  # once, in the first pass's first sweep
            meanwhile["second"] = None
            mark = len(calls)
            meanwhile["second"] = (a_pass(), calls[mark:])
        return sweep(self, status, deadline)

    monkeypatch.setattr(reconcile._Pass, "sweep", sweep_beside_a_second_pass)
    first = a_pass()
    assert meanwhile["second"] is not None
    second, its_calls = meanwhile["second"]
    assert second == {"outcome": "skipped", "why": "another pass is working"}
    assert its_calls == ["UpdateItem"]  # the lease, refused: nothing else
    assert (first["outcome"], first["final"], first["errors"]) == ("reconciled", 1, 0)
    assert store.get(run)["status"] == "SUCCEEDED"
    monkeypatch.setattr(reconcile._Pass, "sweep", sweep)
    assert a_pass()["outcome"] == "reconciled"


def test_a_lease_whose_pass_died_is_taken_once_the_function_timeout_has_passed(stack, monkeypatch):
    """A pass Lambda killed never gives its lease up: it holds the lease for the function's
    timeout at most, after which the next pass takes it."""
    ecs, store, _ = stack
    test_supervisor.later(monkeypatch, 0)  # one clock for the lease and the passes
    died = records.now()
    assert store.take_pass("killed", died + timedelta(seconds=supervisor.FUNCTION_TIMEOUT_SECONDS))
    test_supervisor.later(monkeypatch, supervisor.FUNCTION_TIMEOUT_SECONDS / 60)
    assert a_pass()["outcome"] == "skipped"
    test_supervisor.later(monkeypatch, 1 / 60)
    assert a_pass()["outcome"] == "reconciled"


def test_a_pass_whose_lease_was_taken_over_does_not_save_its_cursors(stack, monkeypatch, capsys):
    """Three open runs, two read a pass. Pass A reads runs 0 and 1; before it saves where it
    stopped, its lease runs out and two passes take it in turn (the second reads runs 2 and
    0). A's cursor (after run 1) would move theirs (after run 0) back: A's is refused, and the
    next pass goes on from theirs."""
    ecs, store, _ = stack
    monkeypatch.setattr(reconcile, "MAX_RECONCILED", 2)
    base = records.now() - timedelta(hours=1)
    ids = [open_run(ecs, store, i, stopped=False, created=base + timedelta(minutes=i))
           for i in range(3)]  # fmt: skip
    arns = {store.get(run)["attempts"][0]["taskArn"]: run for run in ids}
    test_supervisor.later(monkeypatch, 0)
    a = another_invocation()
    save = records.RunStore.save_pass_cursors
    others: list[dict] = []

    def taken_over_before_saving(self, cursors, owner, release=True):
        if owner == a.aws_request_id and not others:
            test_supervisor.later(monkeypatch, supervisor.FUNCTION_TIMEOUT_SECONDS / 60 + 1)
            others.extend(a_pass() for _ in range(2))
        return save(self, cursors, owner, release=release)

    monkeypatch.setattr(records.RunStore, "save_pass_cursors", taken_over_before_saving)
    capsys.readouterr()
    answer = supervisor.handler(supervisor.RECONCILE, a)
    assert [(o["outcome"], o["read"], o["errors"]) for o in others] == [("reconciled", 2, 0)] * 2
    assert (answer["read"], answer["errors"]) == (2, 1)
    logged = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (logged["requestId"], logged["caught"]) == (
        a.aws_request_id,
        ["the pass's cursor: LeaseLost: another pass took over: its cursors stand"],
    )
    assert store.pass_cursors() == {runs.RUNNING: records.status_position(store.get(ids[0]))}
    ecs.calls.clear()
    assert a_pass()["read"] == 2
    assert sorted(arns[arn] for arn in described(ecs)) == sorted(ids[1:])


# --- a pass that dies keeps its position; every loop has its deadline -------------------------


def test_a_pass_that_dies_on_a_later_page_goes_on_next_time_from_the_page_it_reached(
    stack, context, monkeypatch
):
    """Pages of two runs: the pass keeps its position before each next page, so one that dies
    on its third page (Lambda's timeout) loses that page only; the next pass, once the dead
    one's lease is over, goes on from run 3."""
    ecs, store, _ = stack
    monkeypatch.setattr(reconcile, "PAGE", 2)
    base = records.now() - timedelta(hours=1)
    ids = [open_run(ecs, store, i, stopped=False, created=base + timedelta(minutes=i))
           for i in range(6)]  # fmt: skip
    look_at = reconcile._Pass.look_at
    pages: list[list[str]] = []

    def dies_on_the_third_page(self, waiting, deadline):
        pages.append([r["runId"] for r in waiting])
        if len(pages) == 3:
            raise SystemExit("killed at the function's timeout")
        return look_at(self, waiting, deadline)

    monkeypatch.setattr(reconcile._Pass, "look_at", dies_on_the_third_page)
    test_supervisor.later(monkeypatch, 0)
    with pytest.raises(SystemExit):
        supervisor.handler(supervisor.RECONCILE, another_invocation())
    assert pages == [ids[0:2], ids[2:4], ids[4:6]]
    assert store.pass_cursors() == {runs.RUNNING: records.status_position(store.get(ids[3]))}
    monkeypatch.setattr(reconcile._Pass, "look_at", look_at)
    test_supervisor.later(monkeypatch, supervisor.FUNCTION_TIMEOUT_SECONDS / 60 + 1)
    ecs.calls.clear()
    assert a_pass()["read"] == 6
    assert described(ecs)[:2] == sorted(store.get(run)["attempts"][0]["taskArn"] for run in ids[4:])


def test_notices_past_their_deadline_wait_for_the_next_pass(stack, context, monkeypatch):
    """A run ended FAILED is due a notice; a pass already past NOTICES_SECONDS when it comes to
    notices publishes none, and the next pass publishes it."""
    ecs, store, _ = stack
    run = open_run(ecs, store, 0, stopped=False, created=records.now() - timedelta(hours=1))
    failed = {runs.Record.STATUS: runs.FAILED, runs.Record.REASON: "its job failed"}
    assert store.update(store.get(run), {**failed, runs.Record.NOTIFY_DUE: runs.NOTIFY_DUE_VALUE})
    monkeypatch.setattr(reconcile, "NOTICES_SECONDS", 0.0)
    assert supervisor.handler(supervisor.RECONCILE, context)["notified"] == 0
    assert store.get(run)[runs.Record.NOTIFY_DUE] == runs.NOTIFY_DUE_VALUE
    monkeypatch.setattr(reconcile, "NOTICES_SECONDS", 50.0)
    assert supervisor.handler(supervisor.RECONCILE, another_invocation())["notified"] == 1
    assert runs.Record.NOTIFY_DUE not in store.get(run)


def test_only_this_clusters_task_arns_are_described():
    """Long task ARNs name their cluster; the short format (accounts that kept it) does not."""
    look = reconcile._Pass.__new__(reconcile._Pass)
    look.config = type("Config", (), {"cluster_arn": CLUSTER})()
    task = "arn:aws:ecs:eu-west-1:123456789012:task"
    assert look._of_this_cluster(f"{task}/longjobs-prod/0123abcd")
    assert look._of_this_cluster(f"{task}/0123abcd")
    assert not look._of_this_cluster(f"{task}/elsewhere/0123abcd")
    assert not look._of_this_cluster(f"{task}/longjobs-prod/0123abcd/more")
    assert not look._of_this_cluster("arn:aws:ecs:us-east-1:123456789012:task/longjobs-prod/0123")
