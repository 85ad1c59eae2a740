"""RunTask's clientToken ledger (`ClientTokens`, simulation/ecs_tokens.py) against "Ensuring
idempotency" (ECS_Idempotency in the ECS API reference): what the ECS model relies on wherever it
runs, and the lifetime rule that only a simulated clock reaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from simulation.ecs_tokens import ClientTokens

CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/longjobs"
TASK = "arn:aws:ecs:eu-west-1:123456789012:task/longjobs/0123"
SENT = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
REQUEST = {"cluster": CLUSTER, "taskDefinition": "report:3", "clientToken": "run-1-attempt-1"}
STARTED = {"tasks": [{"taskArn": TASK}], "failures": []}
NO_TASK = {"tasks": [], "failures": [{"arn": CLUSTER, "reason": "RESOURCE:FARGATE"}]}


def kept(answer: dict) -> ClientTokens:
    tokens = ClientTokens()
    tokens.record(REQUEST, answer, SENT)
    return tokens


def test_the_same_request_is_answered_as_the_first_time_failures_too():
    assert kept(STARTED).replay(REQUEST, SENT + timedelta(minutes=5)) == STARTED
    assert kept(NO_TASK).replay(REQUEST, SENT + timedelta(minutes=5)) == NO_TASK


def test_a_new_token_or_another_cluster_is_a_new_request():
    tokens = kept(STARTED)
    assert tokens.replay({**REQUEST, "clientToken": "run-1-attempt-2"}, SENT) is None
    assert tokens.replay({**REQUEST, "cluster": CLUSTER + "-other"}, SENT) is None
    assert tokens.replay({k: v for k, v in REQUEST.items() if k != "clientToken"}, SENT) is None


def test_the_same_token_with_other_parameters_conflicts_naming_what_it_started():
    with pytest.raises(ClientError) as raised:
        kept(STARTED).replay({**REQUEST, "taskDefinition": "report:4"}, SENT)
    assert raised.value.response["Error"]["Code"] == "ConflictException"
    assert raised.value.response["resourceIds"] == [TASK]


def test_a_token_is_kept_24_hours():
    tokens = kept(NO_TASK)
    assert tokens.replay(REQUEST, SENT + timedelta(hours=24) - timedelta(seconds=1)) == NO_TASK
    assert tokens.replay(REQUEST, SENT + timedelta(hours=24)) is None


def test_a_token_is_kept_one_hour_after_its_task_stops_when_that_is_sooner():
    tokens = kept(STARTED)
    stopped = SENT + timedelta(hours=2)
    tokens.task_stopped(TASK, stopped)
    assert tokens.replay(REQUEST, stopped + timedelta(minutes=59)) == STARTED
    assert tokens.replay(REQUEST, stopped + timedelta(hours=1)) is None


def test_a_task_stopping_late_does_not_lengthen_its_tokens_day():
    tokens = kept(STARTED)
    tokens.task_stopped(TASK, SENT + timedelta(hours=23, minutes=30))
    assert tokens.replay(REQUEST, SENT + timedelta(hours=24)) is None
