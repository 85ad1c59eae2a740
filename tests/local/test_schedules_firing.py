"""The local schedules' firing code on a clock the test moves: each schedule fires once per time
it is due (cron in its time zone, rate from the runtime's start, at once), with the scheduled
time in its event, as EventBridge Scheduler does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.cron import cron_matches
from local.schedules import LocalSchedules, schedules_of

STARTED = datetime(2026, 3, 28, 23, 58, 30, tzinfo=UTC)
INPUT = '{"job": "report", "idempotencyKey": "schedule:report/s:<aws.scheduler.scheduled-time>"}'


def declared(expression: str, zone: str = "UTC") -> dict:
    return {
        "name": "report.s",
        "scheduleExpression": expression,
        "scheduleExpressionTimezone": zone,
        "state": "ENABLED",
        "target": {
            "arn": "arn:aws:lambda:eu-west-1:123456789012:function:t:schedules",
            "input": INPUT,
        },
    }


def fired(expression: str, zone: str = "UTC", seconds: int = 4 * 60) -> list[str]:
    """The events' idempotency keys, ticking every second for `seconds` from STARTED."""
    events: list[dict] = []
    local = LocalSchedules(
        schedules_of([declared(expression, zone)], STARTED), lambda s, e: events.append(e)
    )
    for second in range(seconds):
        local.tick(STARTED + timedelta(seconds=second))
    return [event["idempotencyKey"].split(":", 2)[2] for event in events]


def test_a_cron_schedule_fires_once_in_each_minute_it_matches():
    assert fired("cron(* * * * ? *)") == [
        "2026-03-28T23:58:00Z",
        "2026-03-28T23:59:00Z",
        "2026-03-29T00:00:00Z",
        "2026-03-29T00:01:00Z",
        "2026-03-29T00:02:00Z",
    ]


def test_a_cron_schedule_reads_its_time_zone():
    # 00:00 UTC on 29 March 2026 is 01:00 in Paris (CET, before the switch to summer time).
    assert fired("cron(0 1 * * ? *)", "Europe/Paris") == ["2026-03-29T00:00:00Z"]
    assert fired("cron(0 1 * * ? *)") == []


def test_a_rate_schedule_fires_a_period_after_the_start_and_every_period():
    assert fired("rate(1 minute)", seconds=3 * 60 + 1) == [
        "2026-03-28T23:59:30Z",
        "2026-03-29T00:00:30Z",
        "2026-03-29T00:01:30Z",
    ]


def test_a_one_time_schedule_fires_once_at_its_time():
    assert fired("at(2026-03-29T00:00:05)") == ["2026-03-29T00:00:05Z"]


def test_a_disabled_schedule_never_fires():
    schedule = {**declared("cron(* * * * ? *)"), "state": "DISABLED"}
    assert schedules_of([schedule], STARTED) == []


@pytest.mark.parametrize(
    ("expression", "when", "expected"),
    [
        ("cron(0/15 * ? * MON-FRI *)", datetime(2026, 12, 7, 9, 45), True),  # a Monday
        ("cron(0/15 * ? * MON-FRI *)", datetime(2026, 12, 6, 9, 45), False),  # a Sunday
        ("cron(0 12 L * ? *)", datetime(2026, 2, 28, 12, 0), True),
        ("cron(0 12 L * ? *)", datetime(2026, 2, 27, 12, 0), False),
        ("cron(0 12 ? * 3#2 *)", datetime(2026, 12, 8, 12, 0), True),  # the second Tuesday
        ("cron(0 12 ? * 3#2 *)", datetime(2026, 12, 1, 12, 0), False),
        ("cron(0 12 ? * 6L *)", datetime(2026, 12, 25, 12, 0), True),  # the last Friday
        ("cron(0 12 15W * ? *)", datetime(2026, 11, 16, 12, 0), True),  # 15 Nov 2026 is a Sunday
        ("cron(0 9 1 JAN ? 2027)", datetime(2026, 1, 1, 9, 0), False),
    ],
)
def test_cron_fields_as_scheduler_reads_them(expression, when, expected):
    assert cron_matches(expression, when) is expected
