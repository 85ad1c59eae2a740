"""One JSON line per request: what the request's work binds as it goes, printed when it ends.

The fields live in a context variable set for the request, so any step binds what it learned
without a log passed down to it (Powertools' logger keeps its keys the same way, at the cost of
importing it). Metric filters and tests read these lines' keys: `outcome` above all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_fields: ContextVar[dict[str, Any] | None] = ContextVar("longjobs_request_fields", default=None)


@contextmanager
def request(request_id: str) -> Iterator[None]:
    """Collect the request's fields while the block runs, then print them, even when it raises
    (the error bound on the way out is what explains a failed invocation)."""
    fields: dict[str, Any] = {"requestId": request_id}
    token = _fields.set(fields)
    try:
        yield
    finally:
        _fields.reset(token)
        print(json.dumps(fields, sort_keys=True, default=str))


def request_id() -> str | None:
    """The current request's id (Lambda keeps it across its retries of an async invocation)."""
    current = _fields.get()
    return None if current is None else current.get("requestId")


def bind(**fields: Any) -> None:
    """Add fields to the current request's line; a later value for a key replaces the earlier.
    Outside a request (a step called on its own, as a benchmark does) there is no line to add to."""
    current = _fields.get()
    if current is not None:
        current.update(fields)


def append(key: str, value: Any) -> None:
    """Add `value` to the list the current request's line keeps under `key`."""
    current = _fields.get()
    if current is not None:
        current.setdefault(key, []).append(value)
