"""The local ECS: ECS's JSON API over the project's one model of ECS (simulation/ecs.py) on the
real clock, each task "driven" by its Docker container (local/tasks.py), and every change sent
to the supervisor as EventBridge sends the "ECS Task State Change" event."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError, ParamValidationError

from local.stack import LocalStack, TaskDefinition
from local.timers import Timers
from simulation.ecs import DRIVEN, EcsModel, Fate
from simulation.ecs_events import state_change_event

OPERATIONS = {
    "RunTask": "run_task",
    "DescribeTasks": "describe_tasks",
    "StopTask": "stop_task",
    "ListTasks": "list_tasks",
}
"""The operations the functions call, each answered by the model."""
# RunTask with a task definition ECS does not have answers ClientException "TaskDefinition not
# found." (as aws-cli users see it, e.g. aws/aws-cli#3052; not in the API reference).
NO_DEFINITION = ("ClientException", "TaskDefinition not found.")


class Driver(Protocol):
    def start(self, task: dict[str, Any], definition: TaskDefinition) -> None: ...
    def stop(self, arn: str) -> None: ...


class LocalEcs:
    def __init__(
        self, stack: LocalStack, timers: Timers, deliver: Callable[[dict[str, Any]], None]
    ) -> None:
        self.stack = stack
        self.lock = threading.RLock()
        """Held for every step of the model: the servers, the timers and the containers'
        watchers all change it."""
        self.definitions = stack.task_definitions()
        self.driver: Driver | None = None
        self._deliver = deliver
        self._timers = timers
        self.model = EcsModel(
            now=lambda: datetime.now(UTC),
            schedule=self._schedule,
            emit=self._emit,
            fate_of=lambda run_id, index: Fate(DRIVEN),
            on_stop=lambda arn: self.driver.stop(arn) if self.driver else None,
            rng=random.Random(),
        )

    def call(self, operation: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for one request, as ECS answers it."""
        method = OPERATIONS.get(operation)
        if method is None:
            return 400, _error("InvalidAction", f"the local ECS does not serve {operation}")
        definition = None
        if operation == "RunTask":
            definition = self.definition(str(params.get("taskDefinition")))
            if definition is None:
                return 400, _error(*NO_DEFINITION)
        try:
            with self.lock:
                answer = getattr(self.model, method)(**params)
        except ClientError as error:
            extra = {
                k: v for k, v in error.response.items() if k not in ("Error", "ResponseMetadata")
            }
            return 400, _error(
                error.response["Error"]["Code"], error.response["Error"]["Message"], **extra
            )
        except (ParamValidationError, NotImplementedError, TypeError) as error:
            return 400, _error("InvalidParameterException", str(error))
        if definition is not None and self.driver is not None:
            for task in answer["tasks"]:
                self.driver.start(task, definition)
        return 200, wire(answer)

    def definition(self, name: str) -> TaskDefinition | None:
        """A task definition by ARN (with or without its revision) or family[:revision]."""
        for arn, definition in self.definitions.items():
            family_revision = arn.rsplit("/", 1)[-1]
            if name in (arn, arn.rsplit(":", 1)[0], family_revision, definition.family):
                return definition
        return None

    def interrupt(self, run_id: str) -> tuple[int, dict[str, Any]]:
        """Interrupt the run's task that runs now, as the platform would (`EcsModel.interrupt`)."""
        with self.lock:
            running = [
                arn
                for arn in self.model.live(run_id)
                if self.model.tasks[arn]["desiredStatus"] == "RUNNING"
            ]
            if not running:
                return 404, {"message": f"run {run_id} has no task running"}
            self.model.interrupt(running[-1])
            return 200, {"taskArn": running[-1]}

    def _schedule(self, when: datetime, action: Callable[[], None]) -> None:
        def locked() -> None:
            with self.lock:
                action()

        seconds = (when - datetime.now(UTC)).total_seconds()
        self._timers.after(max(0.0, seconds), locked)

    def _emit(self, task: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        self._deliver(state_change_event(task, now, self.stack.region, self.stack.account))


def _error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"__type": code, "message": message, **extra}


def wire(value: Any) -> Any:
    """A model answer as ECS's JSON protocol sends it: times as epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire(item) for item in value]
    return value
