"""The stack's `<prefix>-supervisor-errors` alarm, as CloudWatch plays it, and its action.

CloudWatch evaluates the supervisor's `Errors` (Sum over 5 minutes, ALARM at 1 or more) once a
period; on a change into ALARM it runs the alarm's action once (CloudWatch User Guide, "Using
Amazon CloudWatch alarms": actions run on state changes): without the stack's key, a Lambda
alarm action, which CloudWatch invokes asynchronously with the documented payload ("Lambda alarm
actions"; tests/functions/fixtures/cloudwatch_alarm_lambda_action.json).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulation.scheduler import Simulator

PERIOD = 300.0
PAYLOAD = (
    Path(__file__).resolve().parent.parent
    / "tests/functions/fixtures/cloudwatch_alarm_lambda_action.json"
).read_text()


class ErrorsAlarm:
    """The supervisor's errors alarm: counts failed invocations, changes state each period."""

    def __init__(self, sim: Simulator, name: str, arn: str, action: Callable[[Any], None]):
        self.sim, self.name, self.arn, self.action = sim, name, arn, action
        self.state = "OK"
        self.errors: list[float] = []
        self.alarmed: list[float] = []
        """When it went into ALARM."""

    def failed(self) -> None:
        self.errors.append(self.sim.t)

    def evaluate(self) -> None:
        since = self.sim.t - PERIOD
        breaching = sum(1 for t in self.errors if t >= since) >= 1
        self.errors = [t for t in self.errors if t >= since]
        if breaching and self.state != "ALARM":
            self.state = "ALARM"
            self.alarmed.append(self.sim.t)
            self.sim.note(f"alarm {self.name}: ALARM")
            self.action(self.payload())
        elif not breaching:
            self.state = "OK"

    def payload(self) -> dict[str, Any]:
        event = json.loads(PAYLOAD)
        stamp = self.sim.now().isoformat()
        event.update(alarmArn=self.arn, time=stamp)
        event["alarmData"]["alarmName"] = self.name
        event["alarmData"]["state"] = {
            "value": "ALARM",
            "reason": "Threshold Crossed: 1 datapoint was greater than or equal to the threshold",
            "timestamp": stamp,
        }
        event["alarmData"]["configuration"]["description"] = "The supervisor is failing."
        return event
