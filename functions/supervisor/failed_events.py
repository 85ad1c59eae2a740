"""Task state change events the supervisor failed to take, taken again by its reconciliation
pass from its failure queue.

An event whose invocation failed past Lambda's two retries (a broken deploy, an outage longer
than three minutes) goes to the supervisor's on-failure destination, and one EventBridge could
not deliver for a day to its dead-letter queue: the same queue, which keeps them two weeks.
ECS forgets a stopped task about an hour after it stops, so after a longer outage these events
are the only record of how the task ended.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from functions.common import clock

TASK_STATE_CHANGE = "ECS Task State Change"
VISIBILITY_SECONDS = 30
"""How long a message taken but not applied stays hidden: less than the minute between passes,
so that the next pass sees it again, and does not take a queue whose messages are all hidden
for empty."""
WAIT_SECONDS = 1
"""Long polling: short polling samples some of SQS's servers and may answer none while
messages wait (SQS developer guide, "Amazon SQS short and long polling"), and an empty answer
is what ends the taking. It costs the pass a second when the queue is empty."""


def take_again(
    sqs: Any,
    queue_name: str,
    apply: Callable[[dict[str, Any]], Any],
    deadline: float,
    failed: Callable[[str, Exception], None],
) -> tuple[int, bool]:
    """Apply each task state change the queue holds, oldest first as SQS gives them, and delete
    what was applied or is nothing to apply, until the queue is empty or `deadline` (on
    `clock.monotonic`) has passed; how many were taken, and whether the queue was found empty
    (none left that could tell how a task ended). One that fails to apply stays, for a later
    pass."""
    url = _queue_url(sqs, queue_name)
    taken, left = 0, False
    while clock.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=WAIT_SECONDS,
            VisibilityTimeout=VISIBILITY_SECONDS,
        )
        messages = answer.get("Messages") or []
        if not messages:
            return taken, not left
        for message in messages:
            if clock.monotonic() >= deadline:
                return taken, False  # those left reappear for the next pass
            event = failed_event(message.get("Body"))
            if event is not None:
                try:
                    apply(event)
                except Exception as error:
                    failed("an event of the failure queue", error)
                    left = True
                    continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            taken += 1
    return taken, False


_urls: dict[str, str] = {}


def _queue_url(sqs: Any, queue_name: str) -> str:
    """The queue's URL, asked once per execution environment (it never changes for a name)."""
    if queue_name not in _urls:
        _urls[queue_name] = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    return _urls[queue_name]


def failed_event(body: Any) -> dict[str, Any] | None:
    """The task state change event a failure queue message holds, or None for anything else.

    Lambda's on-failure destination sends an invocation record whose `requestPayload` is the
    event (Lambda developer guide, "Capturing records of Lambda asynchronous invocations");
    EventBridge's dead-letter queue sends the event itself (EventBridge user guide, "Using
    dead-letter queues to process undelivered events"). A failed pass or alarm is nothing to
    take again: the next pass does its work."""
    try:
        data = json.loads(body) if isinstance(body, str) else None
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and isinstance(data.get("requestPayload"), dict):
        data = data["requestPayload"]
    if isinstance(data, dict) and data.get("detail-type") == TASK_STATE_CHANGE:
        return data
    return None
