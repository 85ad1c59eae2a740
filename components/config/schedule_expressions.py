"""EventBridge Scheduler expressions and time zones, checked by Scheduler's own rules.

The rules are those of the EventBridge Scheduler user guide ("Schedule types on EventBridge
Scheduler"): rate(value unit), cron(minutes hours day-of-month month day-of-week year) and
at(yyyy-mm-ddThh:mm:ss) in the schedule's time zone.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

ALLOWED = (
    "rate(VALUE UNIT) with minute(s)/hour(s)/day(s), cron(MINUTES HOURS DAY-OF-MONTH MONTH "
    "DAY-OF-WEEK YEAR) or at(yyyy-mm-ddThh:mm:ss)"
)
TIME_ZONE_ALLOWED = "an IANA time zone, like UTC or Europe/Paris"
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class CronField:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    """Names for low, low + 1, ... (JAN = 1, SUN = 1)."""
    special: Callable[[str], bool] | None = None
    """Items other than numbers, ranges and steps that this field accepts."""
    allowed: str = ""

    def value(self, text: str) -> int | None:
        upper = text.upper()
        if upper in self.names:
            return self.low + self.names.index(upper)
        if text.isdigit() and self.low <= int(text) <= self.high:
            return int(text)
        return None


def _day_of_month_special(item: str) -> bool:
    # L: the last day of the month; LW: its last weekday; 3W: the weekday nearest the 3rd.
    if item.upper() in ("L", "LW"):
        return True
    match = re.fullmatch(r"(\d{1,2})W", item, re.IGNORECASE)
    return match is not None and 1 <= int(match.group(1)) <= 31


def _day_of_week_special(item: str) -> bool:
    # L: the last day of the week; 6L: the last Friday of the month; 3#2: its second Tuesday.
    if item.upper() == "L":
        return True
    last = re.fullmatch(r"(\w+)L", item, re.IGNORECASE)
    if last:
        return _DAY_OF_WEEK.value(last.group(1)) is not None
    nth = re.fullmatch(r"(\w+)#([1-5])", item)
    return nth is not None and _DAY_OF_WEEK.value(nth.group(1)) is not None


_DAY_OF_WEEK = CronField(
    "day-of-week", 1, 7, DAYS, _day_of_week_special, "1-7 or SUN-SAT, with , - * ? / L #"
)
CRON_FIELDS = (
    CronField("minutes", 0, 59, allowed="0-59, with , - * /"),
    CronField("hours", 0, 23, allowed="0-23, with , - * /"),
    CronField("day-of-month", 1, 31, (), _day_of_month_special, "1-31, with , - * ? / L W"),
    CronField("month", 1, 12, MONTHS, allowed="1-12 or JAN-DEC, with , - * /"),
    _DAY_OF_WEEK,
    CronField("year", 1970, 2199, allowed="1970-2199, with , - * /"),
)


def _cron_item_ok(field: CronField, item: str) -> bool:
    base, slash, step = item.partition("/")
    if slash:
        if not step.isdigit() or int(step) < 1:
            return False
        return base == "*" or _cron_range_ok(field, base)
    if item == "*":
        return True
    if field.special is not None and field.special(item):
        return True
    return _cron_range_ok(field, item)


def _cron_range_ok(field: CronField, text: str) -> bool:
    low, dash, high = text.partition("-")
    if not dash:
        return field.value(low) is not None
    return field.value(low) is not None and field.value(high) is not None


def cron_problem(expression: str) -> str | None:
    """Why `cron(...)` breaks Scheduler's rules, naming the field, or None."""
    fields = expression[len("cron(") : -1].split()
    if len(fields) != len(CRON_FIELDS):
        return (
            f"{expression!r}: a cron expression has {len(CRON_FIELDS)} fields "
            f"({' '.join(f.name.upper() for f in CRON_FIELDS)}), not {len(fields)}"
        )
    for field, text in zip(CRON_FIELDS, fields, strict=True):
        if text == "?" and field.name in ("day-of-month", "day-of-week"):
            continue
        if not all(item and _cron_item_ok(field, item) for item in text.split(",")):
            return f"{expression!r}: {field.name} {text!r} is not allowed; allowed: {field.allowed}"
    if (fields[2] == "?") == (fields[4] == "?"):
        return (
            f"{expression!r}: exactly one of day-of-month and day-of-week must be '?' "
            "(Scheduler cannot take both)"
        )
    return None


def expression_problem(
    expression: str, timezone: str = "UTC", now: datetime | None = None
) -> str | None:
    """Why a Scheduler expression is malformed or can never fire, or None."""
    if expression.startswith("rate("):
        match = _RATE.fullmatch(expression)
        if not match:
            return f"{expression!r} is not a rate expression; allowed: {ALLOWED}"
        value, unit = int(match.group(1)), match.group(2)
        if value < 1:
            return f"{expression!r}: the rate must be at least 1"
        if (value == 1) == unit.endswith("s"):
            return f"{expression!r}: use a singular unit for 1 and a plural one otherwise"
        return None
    if expression.startswith("cron(") and expression.endswith(")"):
        return cron_problem(expression)
    match = _AT.fullmatch(expression)
    if match:
        try:
            when = datetime.fromisoformat(match.group(1))
        except ValueError:
            return f"{expression!r} is not a real date and time"
        zone = zoneinfo.ZoneInfo(timezone) if timezone in time_zones() else UTC
        if when.replace(tzinfo=zone) <= (now or datetime.now(UTC)):
            return f"{expression!r} is in the past ({timezone}): the schedule would never run"
        return None
    return f"{expression!r} is not allowed; allowed: {ALLOWED}"


@cache
def time_zones() -> frozenset[str]:
    """The IANA zones Python knows: read from disk once, not per schedule."""
    return frozenset(zoneinfo.available_timezones())


def time_zone_problem(name: str) -> str | None:
    if name not in time_zones():
        return f"{name!r} is not an IANA time zone; allowed: {TIME_ZONE_ALLOWED}"
    return None
