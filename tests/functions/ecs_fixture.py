"""The ECS model (simulation/ecs.py) as the function tests drive it, for what moto does not model
(clientToken, `failures`, capacity): on the wall clock, so no token expires within a test, and
with nothing scheduled, so a task changes only when a test or a request changes it. The knobs the
tests turn are the model's own inputs, `placeable` and `refused`, held as a table and two queues.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from simulation.ecs import EcsModel, Fate


class EcsStandIn(EcsModel):
    def __init__(self) -> None:
        self.capacity = {"FARGATE": True, "FARGATE_SPOT": True}
        """Capacity provider → whether it can place a task now."""
        self.next_errors: list[Exception] = []
        """Errors the next RunTask calls raise, in order (throttling, access denied, ...)."""
        self.next_failures: list[list[dict[str, str]]] = []
        """`failures` the next RunTask calls answer with, no task placed, in order."""
        super().__init__(
            now=lambda: datetime.now(UTC),
            schedule=lambda when, action: None,
            emit=lambda task: None,
            fate_of=lambda run_id, index: Fate("hang"),
            placeable=self._placeable,
            refused=lambda run_id, index: self.next_errors.pop(0) if self.next_errors else None,
            rng=random.Random(0),
        )

    def _placeable(self, run_id: str, index: int, provider: str) -> bool | list[dict[str, str]]:
        if self.next_failures:
            return self.next_failures.pop(0)
        return self.capacity.get(provider, False)

    def started(self) -> list[str]:
        """Every task ARN started, in order."""
        return list(self.tasks)

    def run_task_calls(self) -> list[dict[str, Any]]:
        return self.requests("RunTask")
