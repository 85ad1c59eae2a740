"""When an EventBridge Scheduler expression fires (Scheduler user guide, "Schedule types":
cron(minutes hours day-of-month month day-of-week year), rate(value unit), at(time)), read with
the config model's own fields (components/config/schedule_expressions.py), which has already
refused any expression Scheduler would."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

from components.config.schedule_expressions import CRON_FIELDS, CronField

RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_period(expression: str) -> timedelta | None:
    match = RATE.fullmatch(expression)
    if not match:
        return None
    return timedelta(seconds=int(match[1]) * UNIT_SECONDS[match[2].rstrip("s")])


def at_time(expression: str) -> datetime | None:
    """A one-time schedule's time, naive: in the schedule's time zone."""
    match = AT.fullmatch(expression)
    return datetime.fromisoformat(match[1]) if match else None


def cron_matches(expression: str, local: datetime) -> bool:
    """Whether cron(...) fires in the minute of `local` (a time in the schedule's zone)."""
    fields = expression[len("cron(") : -1].split()
    day_of_week = local.isoweekday() % 7 + 1  # SUN = 1 ... SAT = 7
    values = (local.minute, local.hour, local.day, local.month, day_of_week, local.year)
    return all(
        text == "?" or any(_item(field, item, value, local) for item in text.split(","))
        for field, text, value in zip(CRON_FIELDS, fields, values, strict=True)
    )


def _item(field: CronField, item: str, value: int, local: datetime) -> bool:
    upper = item.upper()
    last_day = calendar.monthrange(local.year, local.month)[1]
    if field.name == "day-of-month" and upper in ("L", "LW"):
        return value == (last_day if upper == "L" else _nearest_weekday(local, last_day))
    if field.name == "day-of-month" and upper.endswith("W"):
        return value == _nearest_weekday(local, min(int(upper[:-1]), last_day))
    if field.name == "day-of-week" and upper == "L":
        return value == 7  # the week's last day, Saturday
    if field.name == "day-of-week" and upper.endswith("L"):
        return value == field.value(upper[:-1]) and local.day + 7 > last_day
    if field.name == "day-of-week" and "#" in upper:
        day, nth = upper.split("#")
        return value == field.value(day) and (local.day - 1) // 7 + 1 == int(nth)
    base, slash, step = item.partition("/")
    low, high = _range(field, base)
    if slash:
        high = field.high if "-" not in base else high
        return low <= value <= high and (value - low) % int(step) == 0
    return low <= value <= high


def _range(field: CronField, text: str) -> tuple[int, int]:
    if text == "*":
        return field.low, field.high
    low, dash, high = text.partition("-")
    first = field.value(low)
    last = field.value(high) if dash else first
    assert first is not None and last is not None, text  # the config model refused any other
    return first, last


def _nearest_weekday(local: datetime, day: int) -> int:
    """The weekday nearest `day` of the month, within the month (W)."""
    weekday = local.replace(day=day).weekday()  # Monday = 0
    if weekday == 5:
        return day - 1 if day > 1 else day + 2
    if weekday == 6:
        last = calendar.monthrange(local.year, local.month)[1]
        return day + 1 if day < last else day - 2
    return day
