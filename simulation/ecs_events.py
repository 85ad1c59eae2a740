"""The "ECS Task State Change" event ECS sends for a task's change, as EventBridge delivers it:
the documented sample (ECS developer guide, "Amazon ECS task state change events") with the
task's own fields and state set on it. The simulation and the local runtime deliver these."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SAMPLE_FILE = (
    Path(__file__).resolve().parent.parent
    / "tests/functions/fixtures/ecs_task_state_change_fargate_running.json"
)
SAMPLE = SAMPLE_FILE.read_text()
# The sample's own times and stop fields: a task that has not reached them shows none.
UNSET_UNTIL_REACHED = (
    "startedAt",
    "stoppedAt",
    "stoppingAt",
    "pullStartedAt",
    "pullStoppedAt",
    "connectivityAt",
    "executionStoppedAt",
    "stopCode",
    "stoppedReason",
)


def timestamp(when: datetime) -> str:
    """ISO 8601 in UTC to the millisecond, as the events' times read."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def state_change_event(
    task: dict[str, Any], now: datetime, region: str, account: str
) -> dict[str, Any]:
    """The event for `task` (as DescribeTasks shows it) changed at `now`; events carry no tags."""
    event = json.loads(SAMPLE)
    detail = event["detail"]
    for key in UNSET_UNTIL_REACHED:
        detail.pop(key, None)
    for key, value in task.items():
        if key != "tags":
            detail[key] = timestamp(value) if isinstance(value, datetime) else value
    detail["updatedAt"] = timestamp(now)
    event.update(time=timestamp(now), region=region, account=account, resources=[task["taskArn"]])
    return event
