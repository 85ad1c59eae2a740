"""RunTask's `clientToken`s, as "Ensuring idempotency" (ECS_Idempotency in the ECS API reference)
documents them: the ledger the ECS model (`simulation.ecs`) keeps per cluster."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulation.ecs_api import client_error

TOKEN_DAY = timedelta(hours=24)
TOKEN_AFTER_TASK = timedelta(hours=1)
NO_TASK_REPLAYS = ("replay", "new")
"""What the same token does after a first answer that placed no task (see `ClientTokens`)."""


@dataclass
class _Kept:
    fingerprint: str
    answer: dict[str, Any]
    until: datetime
    """When ECS forgets the token and takes it as a new request."""


class ClientTokens:
    """RunTask's `clientToken`s, as "Ensuring idempotency" (ECS_Idempotency) documents them.

    A token is scoped to the cluster. The same token with the same parameters answers the
    original result; the same token with other parameters raises `ConflictException` carrying the
    `resourceIds` it started. A token is kept for 24 hours or the task's lifetime plus one hour,
    whichever is shorter.

    The page promises the original result for a retry of a request "that completed
    successfully", and its example replays a no-task answer's `failures`; whether a first answer
    that placed no task counts as completed is not said. `no_task_replay` takes either reading:
    "replay" (the page's example: the same token answers the same `failures` again) or "new" (the
    token is taken as a new request, which may start a task).
    """

    def __init__(self, no_task_replay: str = "replay") -> None:
        if no_task_replay not in NO_TASK_REPLAYS:
            raise ValueError(f"no_task_replay: {no_task_replay!r}; one of {NO_TASK_REPLAYS}")
        self.no_task_replay = no_task_replay
        self._kept: dict[tuple[str, str], _Kept] = {}
        self._by_task: dict[str, _Kept] = {}

    def replay(self, params: dict[str, Any], now: datetime) -> dict[str, Any] | None:
        """The first answer to this request's token, or None when ECS takes the request as new."""
        token = params.get("clientToken")
        kept = self._kept.get((params["cluster"], token)) if token is not None else None
        if kept is None or now >= kept.until:
            return None
        if not kept.answer["tasks"] and self.no_task_replay == "new":
            return None
        if kept.fingerprint != _fingerprint(params):
            raise client_error(
                "ConflictException",
                "The request uses the same client token as a previous, but non-identical request.",
                "RunTask",
                resourceIds=[task["taskArn"] for task in kept.answer["tasks"]],
            )
        return copy.deepcopy(kept.answer)

    def record(self, params: dict[str, Any], answer: dict[str, Any], now: datetime) -> None:
        """Keep a new request's answer, as it is now, under its token (if it has one)."""
        token = params.get("clientToken")
        if token is None:
            return
        kept = _Kept(_fingerprint(params), copy.deepcopy(answer), now + TOKEN_DAY)
        self._kept[(params["cluster"], token)] = kept
        for task in answer["tasks"]:
            self._by_task[task["taskArn"]] = kept

    def task_stopped(self, arn: str, when: datetime) -> None:
        """The token that started the task is kept one hour more, if that is sooner."""
        kept = self._by_task.get(arn)
        if kept is not None:
            kept.until = min(kept.until, when + TOKEN_AFTER_TASK)


def _fingerprint(params: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in params.items() if k != "clientToken"}, sort_keys=True)
