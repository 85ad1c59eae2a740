"""Who asked: the trigger tells callers apart by the alias they invoke, records who asked, and holds
each job's `allowedCallers` and each run's own caller for run, status, list and stop."""

from __future__ import annotations

import dataclasses

import boto3
import pytest
from moto import mock_aws

from functions.common import records
from functions.trigger import handler
from longjobs_contract import callers, runs, trigger_config
from tests.functions.conftest import (
    PROD,
    TRIGGER_ARN,
    Context,
    another_invocation,
    scheduler_context,
)
from tests.functions.ecs_fixture import EcsStandIn
from tests.functions.runs_table import create_runs_table

API = "arn:aws:iam::111122223333:role/reports-api"
PARTNER = "444455556666"
ORGANIZATION = "o-a1b2c3d4e5"
# `report` is the API's and the stack's own account's; `import` takes every caller.
CONFIG = dataclasses.replace(
    PROD,
    callers=(API, PARTNER, ORGANIZATION),
    jobs={
        **PROD.jobs,
        "report": dataclasses.replace(PROD.jobs["report"], allowed_callers=(callers.ACCOUNT, API)),
    },
)
ENVIRONMENT = {"REPORT_DAY": "2026-11-01"}


def as_caller(entry: str | None) -> Context:
    """An invocation through the entry's alias; None: the unqualified function."""
    context = another_invocation()
    if entry is not None:
        context.invoked_function_arn = f"{TRIGGER_ARN}:{callers.alias(entry)}"
    return context


@pytest.fixture
def stack(dev, config_file, monkeypatch):
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        table = create_runs_table(dynamodb, dev)
        config_file.write_text(trigger_config.dumps(dataclasses.replace(CONFIG, runs_table=table)))
        handler.load_config.cache_clear()
        ecs = EcsStandIn()
        monkeypatch.setattr(handler, "dynamodb", dynamodb)
        monkeypatch.setattr(handler, "ecs", ecs)
        yield ecs, records.RunStore(dynamodb, table)


def run(job: str, caller: str | None, key: str, **extra) -> dict:
    event = {"job": job, "idempotencyKey": key, **extra}
    return handler.handler(event, as_caller(caller))


def test_the_record_keeps_who_asked_by_the_alias_invoked(stack):
    _, store = stack
    for caller, key in ((API, "a"), (None, "b"), (PARTNER, "c"), (ORGANIZATION, "d")):
        answer = run("import", caller, key)
        assert store.get(answer["runId"])[runs.Record.CALLER] == (caller or callers.ACCOUNT)


def test_an_alias_that_names_no_caller_of_the_stack_is_refused_before_anything(stack):
    ecs, store = stack
    context = another_invocation()
    context.invoked_function_arn = f"{TRIGGER_ARN}:caller-999988887777"
    answer = handler.handler({"job": "import", "idempotencyKey": "x"}, context)
    assert answer["error"] == {
        "type": "ValidationError",
        "message": "invoked through 'caller-999988887777', which names no caller of this stack; "
        "invoke the qualifier the stack's triggerCallerQualifiers output gives",
    }
    assert store.get(runs.run_id("import", "x")) is None


def test_a_job_runs_only_for_the_callers_it_lists(stack):
    _, store = stack
    assert run("report", API, "api")["status"] == "PENDING"
    assert run("report", None, "ours")["status"] == "PENDING"
    refused = run("report", PARTNER, "partner")
    assert refused["error"] == {
        "type": "ValidationError",
        "message": f"job: this caller ({PARTNER}) may not run, read or stop runs of report "
        "(the job's allowedCallers)",
    }
    assert store.get(runs.run_id("report", "partner")) is None


def test_a_run_of_a_job_the_caller_may_not_use_is_answered_as_unknown(stack):
    run_id = run("report", API, "api")["runId"]
    for action in ("status", "stop"):
        answer = handler.handler({"action": action, "runId": run_id}, as_caller(PARTNER))
        assert answer["error"]["type"] == "NotFound", action
    listed = handler.handler({"action": "list"}, as_caller(PARTNER))
    assert [r["runId"] for r in listed["runs"]] == []
    by_job = handler.handler({"action": "list", "job": "report"}, as_caller(PARTNER))
    assert by_job["error"]["type"] == "ValidationError"


def test_another_callers_run_is_shown_without_its_values_or_who_asked(stack):
    run_id = run("import", API, "api", environment={"VAR_01": "secret-ish"})["runId"]
    own = handler.handler({"action": "status", "runId": run_id}, as_caller(API))
    assert own["request"]["environment"] == {"VAR_01": "secret-ish"}
    assert own["caller"] == API
    account = handler.handler({"action": "status", "runId": run_id}, as_caller(None))
    assert account["request"]["environment"] == {"VAR_01": "secret-ish"}
    other = handler.handler({"action": "status", "runId": run_id}, as_caller(PARTNER))
    assert other["status"] == own["status"]
    assert "environment" not in other["request"] and "caller" not in other
    listed = handler.handler({"action": "list", "job": "import"}, as_caller(PARTNER))
    [shown] = listed["runs"]
    assert "environment" not in shown["request"] and "caller" not in shown


def test_a_run_is_stopped_by_its_caller_or_the_stacks_account_only(stack):
    _, store = stack
    first = run("import", API, "first")["runId"]
    refused = handler.handler({"action": "stop", "runId": first}, as_caller(PARTNER))
    assert refused["error"] == {
        "type": "ValidationError",
        "message": f"runId: run {first} was asked for by another caller; only it and the "
        "stack's own account may stop it",
    }
    assert runs.Record.STOP_REQUESTED not in store.get(first)
    assert handler.handler({"action": "stop", "runId": first}, as_caller(API))["stopRequested"]
    second = run("import", API, "second")["runId"]
    assert handler.handler({"action": "stop", "runId": second}, as_caller(None))["stopRequested"]


def test_a_task_is_stopped_by_arn_only_for_its_runs_caller(stack):
    _, store = stack
    task_arn = run("import", API, "task")["taskArn"]
    refused = handler.handler({"action": "stop", "taskArn": task_arn}, as_caller(PARTNER))
    assert refused["error"]["type"] == "ValidationError"
    assert "another caller" in refused["error"]["message"]
    stopped = handler.handler({"action": "stop", "taskArn": task_arn}, as_caller(API))
    assert stopped["desiredStatus"] == "STOPPED"


def test_another_callers_key_names_a_run_that_is_not_theirs(stack):
    run("import", API, "shared")
    answer = run("import", PARTNER, "shared")
    assert answer["error"] == {
        "type": "ValidationError",
        "message": f"idempotencyKey: 'shared' already names run "
        f"{runs.run_id('import', 'shared')} of import, which another caller asked for; choose "
        "another key",
    }


def test_a_jobs_own_schedule_runs_it_whatever_its_callers(stack):
    _, store = stack
    event = {"job": "report", "idempotencyKey": "schedule:report/nightly:2026-11-02T02:00:00Z"}
    answer = handler.handler(event, scheduler_context())
    assert answer["status"] == "PENDING"
    assert store.get(answer["runId"])[runs.Record.CALLER] == callers.SCHEDULE
    # The stack's own account stops it; a caller of another account may not.
    stop = {"action": "stop", "runId": answer["runId"]}
    assert handler.handler(stop, as_caller(API))["error"]["type"] == "ValidationError"
    assert handler.handler(stop, as_caller(None))["stopRequested"]


@pytest.mark.parametrize(
    ("qualifier", "caller"),
    [
        ("", callers.ACCOUNT),
        (":$LATEST", callers.ACCOUNT),
        (":schedules", callers.SCHEDULE),
        (f":{callers.alias(API)}", API),
        (f":{callers.alias(ORGANIZATION)}", ORGANIZATION),
        (":7", None),
        (":caller-role-000000000000", None),
    ],
)
def test_who_asked_is_read_from_the_qualifier_invoked(qualifier, caller):
    invoked = f"{TRIGGER_ARN}{qualifier}"
    assert callers.caller_of(invoked, CONFIG.callers, "schedules") == caller
