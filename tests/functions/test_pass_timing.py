"""The reconciliation pass's time limits against the schedule and timeout the stack declares,
each read from where it is declared."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from functions.common import attempts
from functions.supervisor import failed_events
from longjobs_contract import lifecycle
from simulation import ecs

ROOT = Path(__file__).resolve().parents[2]
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def schedule_seconds(expression: str) -> int:
    """The period of an EventBridge `rate()` expression (EventBridge Scheduler user guide,
    "Schedule types": rate(value unit))."""
    match = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression)
    assert match, expression
    return int(match[1]) * UNIT_SECONDS[match[2]]


def test_the_pass_schedule_is_the_one_the_component_declares():
    tree = ast.parse((ROOT / "components/supervisor.py").read_text())
    used = [
        ast.unparse(keyword.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "schedule_expression"
    ]
    assert used == ["lifecycle.RECONCILE_EVERY"]


def test_a_failed_event_taken_but_not_applied_is_seen_again_by_the_next_pass():
    """A message hidden for longer than the time between passes would be missed by the next
    pass, which would take the queue for empty and presume tasks gone."""
    assert failed_events.VISIBILITY_SECONDS < schedule_seconds(lifecycle.RECONCILE_EVERY)


def test_no_event_waits_in_lambdas_queue_past_the_passes_verdicts():
    """An attempt is presumed lost an hour after it was sent, and a task's end unknown once ECS
    has forgotten it (about an hour after it stopped), each only with the failure queue drained:
    Lambda must have given up every event of the task by then (Lambda API reference,
    PutFunctionEventInvokeConfig: MaximumEventAgeInSeconds from 60 to 21,600)."""
    age = lifecycle.SUPERVISOR_EVENT_AGE_SECONDS
    assert 60 <= age <= 21600
    assert age < attempts.RESEND_WINDOW.total_seconds()
    assert age < ecs.FORGET_AFTER.total_seconds()


def test_the_pass_begins_no_work_past_its_deadlines_and_they_end_within_its_minute():
    """Failed events, then RUNNING, PENDING and notices, each loop stopping at its deadline from
    the pass's start: the last well before the next minute's pass and far from the timeout."""
    from functions.supervisor import reconcile, supervisor

    deadlines = [
        reconcile.FAILED_EVENTS_SECONDS,
        reconcile.PASS_SECONDS["RUNNING"],
        reconcile.PASS_SECONDS["PENDING"],
        reconcile.NOTICES_SECONDS,
    ]
    assert deadlines == sorted(deadlines)
    assert deadlines[-1] < schedule_seconds(lifecycle.RECONCILE_EVERY)
    assert deadlines[-1] * 4 < supervisor.FUNCTION_TIMEOUT_SECONDS
