"""Each final state's one notice, published by the reconciliation pass: taken with a write over
the revision read, published to the notifications topic, then marked sent (`notices` composes
what it says)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from functions.common import clock, records
from functions.supervisor import concurrency, notices, supervisor
from longjobs_contract import runs, trigger_config

MAX_NOTICES = 25
"""Notices published per pass; more wait for the next minute's pass."""
NOTICE_TAKEOVER = timedelta(minutes=5)
MARK_SENT_PAUSES = (0.5, 1.0, 2.0, None)
"""Seconds between the tries to mark a published notice sent (each try is botocore's two)."""


def publish_due(
    config: trigger_config.TriggerConfig,
    store: records.RunStore,
    now: datetime,
    failed: Callable[[str, Exception], None],
    deadline: float,
    workers: int,
) -> int:
    """Publish each final state still due, once, until `deadline` (on `clock.monotonic`): take
    the notice (a write over the revision read), publish it, then mark it sent. A notice taken
    but not marked sent within NOTICE_TAKEOVER (its publisher died) is taken over and
    published again."""
    if clock.monotonic() >= deadline:
        return 0
    published: list[int] = []

    def publish(record: dict[str, Any]) -> None:
        try:
            published.append(_publish(config, store, record, now))
        except Exception as error:
            failed(record[runs.Record.RUN_ID], error)

    # Side by side as the runs are: a notice waits on DynamoDB, CloudWatch Logs and SNS.
    concurrency.each(store.due_notices(MAX_NOTICES), publish, workers=workers, until=deadline)
    return sum(published)


def _publish(
    config: trigger_config.TriggerConfig,
    store: records.RunStore,
    record: dict[str, Any],
    now: datetime,
) -> int:
    """Publish one run's notice; 0 when another pass has it."""
    claimed = record.get(runs.Record.NOTIFY_CLAIM)
    if claimed and now - datetime.fromisoformat(claimed.replace("Z", "+00:00")) < NOTICE_TAKEOVER:
        return 0
    stamp = records.timestamp(now)
    if not store.update(record, {runs.Record.NOTIFY_CLAIM: stamp}, final_ok=True):
        return 0  # another pass took it
    taken = {**record, runs.Record.REVISION: int(record.get(runs.Record.REVISION, 0)) + 1}
    target = records.job_of(record, config)
    last = (record[runs.Record.ATTEMPTS] or [{}])[-1]
    lines: list[str] = []
    link = None
    if target is not None and last.get("taskArn"):
        stream = runs.log_stream(last["taskArn"], target.container_name)
        lines = notices.last_lines(supervisor.logs, target.log_group, stream)
        link = notices.console_link(config.region, target.log_group, stream)
    subject, message = notices.compose(record, lines, link)
    supervisor.sns.publish(
        TopicArn=config.notifications_topic,
        Subject=subject,
        Message=message,
        MessageAttributes={
            "runId": {"DataType": "String", "StringValue": record[runs.Record.RUN_ID]},
            "job": {"DataType": "String", "StringValue": record[runs.Record.JOB]},
            "status": {"DataType": "String", "StringValue": record[runs.Record.STATUS]},
        },
    )
    _mark_sent(store, taken, stamp)
    return 1


def _mark_sent(store: records.RunStore, taken: dict[str, Any], stamp: str) -> None:
    """Mark a published notice sent. Once published, a failure here would have it published
    again after NOTICE_TAKEOVER: the write is tried again over a few seconds of throttling or
    a passing failure, and over the run read again when another writer (an attempt's late news)
    got there first while the notice is still this pass's (its claim is `stamp`)."""
    for pause in MARK_SENT_PAUSES:
        try:
            if store.update(
                taken,
                {runs.Record.NOTIFIED_AT: stamp},
                remove=(runs.Record.NOTIFY_DUE, runs.Record.NOTIFY_CLAIM),
                final_ok=True,
            ):
                return
            fresh = store.get(taken[runs.Record.RUN_ID])
            if fresh is None or fresh.get(runs.Record.NOTIFY_CLAIM) != stamp:
                return  # marked, or taken over by another pass: not this pass's any more
            taken = fresh
        except ClientError:
            if pause is None:
                raise
            clock.sleep(pause)
