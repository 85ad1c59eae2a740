"""An ECS that keeps RunTask's documented promises, for what moto does not model.

moto ignores `clientToken`, never reports `failures` and has no capacity. This stand-in does
what the ECS API reference documents, and nothing more:
- ECS_Idempotency ("Ensuring idempotency"): RunTask's tokens are kept by `ClientTokens` of the
  replay's simulated ECS (tools/ecs_sim.py), the one model of that page. The stand-in asks it at
  the wall clock, so no token expires within a test.
- RunTask: HTTP 200 with `failures` and no task when nothing is placed; Fargate without capacity
  answers "Capacity is unavailable at this time. Please try again later or in a different
  availability zone" (AWS Knowledge Center, ecs-fargate-runtask-capacity).
- DescribeTasks answers unknown tasks as `failures` with reason `MISSING`; StopTask sets
  `desiredStatus` STOPPED and the stop code `UserInitiated`.
Every request is first checked against botocore's own model of the operation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tools.ecs_sim import CAPACITY_REASON, ClientTokens, check_request, described, new_task


@dataclass
class EcsStandIn:
    capacity: dict[str, bool] = field(
        default_factory=lambda: {"FARGATE": True, "FARGATE_SPOT": True}
    )
    """Capacity provider → whether it can place a task now."""
    next_errors: list[ClientError] = field(default_factory=list)
    """Errors the next RunTask calls raise, in order (throttling, access denied, ...)."""
    next_failures: list[list[dict[str, str]]] = field(default_factory=list)
    """`failures` the next RunTask calls answer with, in order."""
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _tokens: ClientTokens = field(default_factory=ClientTokens)
    on_call: Callable[[str], None] | None = None

    def _record(self, operation: str, params: dict[str, Any]) -> None:
        check_request(operation, params)
        self.calls.append((operation, copy.deepcopy(params)))
        if self.on_call is not None:
            self.on_call(operation)

    def run_task(self, **params: Any) -> dict[str, Any]:
        self._record("RunTask", params)
        cluster = params["cluster"]
        now = datetime.now(UTC)
        replayed = self._tokens.replay(params, now)
        if replayed is not None:
            return replayed
        if self.next_errors:
            raise self.next_errors.pop(0)
        provider = params["capacityProviderStrategy"][0]["capacityProvider"]
        if self.next_failures:
            answer = {"tasks": [], "failures": self.next_failures.pop(0)}
        elif not self.capacity.get(provider, False):
            answer = {"tasks": [], "failures": [{"arn": cluster, "reason": CAPACITY_REASON}]}
        else:
            answer = {"tasks": [self._start(params, provider)], "failures": []}
        self._tokens.record(params, answer, now)
        return copy.deepcopy(answer)

    def _start(self, params: dict[str, Any], provider: str) -> dict[str, Any]:
        task = new_task(params, provider, len(self.tasks))
        self.tasks[task["taskArn"]] = task
        return copy.deepcopy(task)

    def describe_tasks(self, **params: Any) -> dict[str, Any]:
        self._record("DescribeTasks", params)
        known = [described(self.tasks[arn], params) for arn in params["tasks"] if arn in self.tasks]
        missing = [
            {"arn": arn, "reason": "MISSING"} for arn in params["tasks"] if arn not in self.tasks
        ]
        return {"tasks": known, "failures": missing}

    def stop_task(self, **params: Any) -> dict[str, Any]:
        self._record("StopTask", params)
        task = self.tasks[params["task"]]
        task.update(
            desiredStatus="STOPPED",
            lastStatus="STOPPED",
            stopCode="UserInitiated",
            stoppedReason=params.get("reason", "Task stopped by user"),
            version=task["version"] + 1,
        )
        return {"task": copy.deepcopy(task)}

    def started(self) -> list[str]:
        """Every task ARN started, in order."""
        return list(self.tasks)

    def run_task_calls(self) -> list[dict[str, Any]]:
        return [params for operation, params in self.calls if operation == "RunTask"]
