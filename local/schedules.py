"""The stack's schedules, firing at their times as EventBridge Scheduler fires them: each
schedule's target input, its `<aws.scheduler.scheduled-time>` replaced with the time it fired
for, sent to its target (the trigger's schedules alias) once per time."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from local.cron import at_time, cron_matches, rate_period
from longjobs_contract.run_event import SCHEDULED_TIME

MINUTE = timedelta(minutes=1)


@dataclass
class Schedule:
    name: str
    expression: str
    zone: ZoneInfo
    target_arn: str
    input: str
    started: datetime
    """When the runtime took it (a rate schedule's first firing is one period after)."""
    fired: set[datetime] = field(default_factory=set)

    def due(self, now: datetime) -> datetime | None:
        """The time (UTC) this schedule fires for at `now`, if it has not fired for it yet."""
        when = self._time_at(now)
        return when if when is not None and when not in self.fired else None

    def _time_at(self, now: datetime) -> datetime | None:
        period = rate_period(self.expression)
        if period is not None:
            runs = (now - self.started) // period
            return self.started + runs * period if runs >= 1 else None
        at = at_time(self.expression)
        if at is not None:
            when = at.replace(tzinfo=self.zone).astimezone(UTC)
            return when if when <= now < when + MINUTE else None
        minute = now.astimezone(self.zone).replace(second=0, microsecond=0)
        return minute.astimezone(UTC) if cron_matches(self.expression, minute) else None

    def event(self, when: datetime) -> Any:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.loads(self.input.replace(SCHEDULED_TIME, stamp))


def schedules_of(declared: list[dict[str, Any]], started: datetime) -> list[Schedule]:
    """The enabled schedules among the program's declared ones."""
    return [
        Schedule(
            name=str(inputs["name"]),
            expression=str(inputs["scheduleExpression"]),
            zone=ZoneInfo(inputs.get("scheduleExpressionTimezone") or "UTC"),
            target_arn=str(inputs["target"]["arn"]),
            input=str(inputs["target"]["input"]),
            started=started,
        )
        for inputs in declared
        if inputs.get("state", "ENABLED") == "ENABLED"
    ]


@dataclass
class LocalSchedules:
    schedules: list[Schedule]
    fire: Callable[[Schedule, Any], None]
    """(schedule, its event): invoke its target (asynchronously, as Scheduler invokes Lambda)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tick(self, now: datetime) -> list[tuple[str, datetime]]:
        """Fire what is due at `now`, each schedule once per time; (name, time) of each fired."""
        fired = []
        with self._lock:
            for schedule in self.schedules:
                when = schedule.due(now)
                if when is not None:
                    schedule.fired.add(when)
                    fired.append((schedule, when))
        for schedule, when in fired:
            self.fire(schedule, schedule.event(when))
        return [(schedule.name, when) for schedule, when in fired]
