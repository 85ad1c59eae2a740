"""An SQS standard queue, as the supervisor's failure queue: what the simulation's Lambda sends
there, and what the reconciliation pass takes again.

From the SQS developer guide and API reference:
- Standard queues deliver at least once, in best-effort order ("Amazon SQS standard queues").
- ReceiveMessage with short polling (WaitTimeSeconds 0) samples a subset of SQS's servers: it
  may return fewer messages than are available, or none; long polling asks all of them
  ("Amazon SQS short and long polling"). A long poll of an empty queue waits its time: not
  modelled, the clock moves with the call's latency only.
- A received message stays in the queue, hidden for the visibility timeout, then visible again
  unless deleted ("Amazon SQS visibility timeout"); DeleteMessage takes the receipt handle of a
  receipt, and each receipt gets a new handle.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

MISSING_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"


@dataclass
class _Message:
    message_id: str
    body: str
    visible_at: float = 0.0
    handle: str | None = None


@dataclass
class Queue:
    """One queue, by name and URL, on an injected clock (seconds)."""

    name: str
    url: str
    now: Callable[[], float]
    rng: random.Random
    messages: list[_Message] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=itertools.count)

    def _check(self, url: str, operation: str) -> None:
        if url != self.url:
            raise ClientError(
                {
                    "Error": {
                        "Code": MISSING_QUEUE,
                        "Message": "The specified queue does not exist.",
                    }
                },
                operation,
            )

    def get_queue_url(self, **params: Any) -> dict[str, Any]:
        self._check(self.url if params.get("QueueName") == self.name else "", "GetQueueUrl")
        return {"QueueUrl": self.url}

    def send_message(self, **params: Any) -> dict[str, Any]:
        self._check(params["QueueUrl"], "SendMessage")
        message = _Message(f"m-{next(self._ids)}", str(params["MessageBody"]))
        self.messages.append(message)
        return {"MessageId": message.message_id}

    def send(self, body: dict[str, Any]) -> None:
        """What Lambda's on-failure destination sends."""
        self.send_message(QueueUrl=self.url, MessageBody=json.dumps(body))

    def receive_message(self, **params: Any) -> dict[str, Any]:
        self._check(params["QueueUrl"], "ReceiveMessage")
        now = self.now()
        visible = [m for m in self.messages if m.visible_at <= now]
        wanted = int(params.get("MaxNumberOfMessages", 1))
        if int(params.get("WaitTimeSeconds", 0)) > 0:
            sampled = visible[:wanted]  # long polling asks every server
        else:  # short polling samples some servers only: fewer than there are, maybe none
            sampled = [m for m in visible if self.rng.random() < 0.8][:wanted]
        timeout = float(params.get("VisibilityTimeout", 30))
        answer = []
        for message in sampled:
            message.visible_at = now + timeout
            message.handle = f"{message.message_id}/{next(self._ids)}"
            answer.append(
                {
                    "MessageId": message.message_id,
                    "ReceiptHandle": message.handle,
                    "Body": message.body,
                }
            )
        return {"Messages": answer} if answer else {}

    def delete_message(self, **params: Any) -> dict[str, Any]:
        self._check(params["QueueUrl"], "DeleteMessage")
        handle = params["ReceiptHandle"]
        self.messages = [m for m in self.messages if m.handle != handle]
        return {}
