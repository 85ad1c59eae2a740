"""Work side by side inside one invocation (functions/supervisor/concurrency.py): the items taken
are always the first ones, none is taken past the deadline, each worker's log fields join the
request's line, and a worker's error reaches the caller."""

from __future__ import annotations

import threading
import time

import pytest

from functions.common import clock, request_log
from functions.supervisor import concurrency


def test_items_are_worked_on_side_by_side():
    """Eight items that each wait 0.2 s take about 0.2 s with eight workers, not 1.6 s."""
    seen: list[int] = []
    began = time.monotonic()
    taken = concurrency.each(list(range(8)), lambda i: (time.sleep(0.2), seen.append(i)),
                             workers=8, until=clock.monotonic() + 60)  # fmt: skip
    assert taken == 8 and sorted(seen) == list(range(8))
    assert time.monotonic() - began < 1.0


def test_no_item_is_taken_past_the_deadline_and_the_taken_are_the_first(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(clock, "monotonic", lambda: now[0])
    lock = threading.Lock()
    done: list[int] = []

    def work(item: int) -> None:
        with lock:
            now[0] += 1.0  # each item costs a second of the budget
            done.append(item)

    taken = concurrency.each(list(range(10)), work, workers=3, until=4.0)
    assert taken == 4
    assert sorted(done) == [0, 1, 2, 3]


def test_what_a_worker_logs_joins_the_requests_line(capsys):
    with request_log.request("r-1"):
        concurrency.each(["a", "b", "c"], lambda item: request_log.append("seen", item),
                         workers=3, until=clock.monotonic() + 60)  # fmt: skip
    line = capsys.readouterr().out
    assert '"requestId": "r-1"' in line
    assert sorted(__import__("json").loads(line)["seen"]) == ["a", "b", "c"]


def test_a_workers_error_reaches_the_caller():
    def work(item: int) -> None:
        if item == 2:
            raise ValueError("item 2")

    with pytest.raises(ValueError, match="item 2"):
        concurrency.each(list(range(4)), work, workers=2, until=clock.monotonic() + 60)
