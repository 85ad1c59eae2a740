"""The request's one log line: what its steps bind, printed once when it ends."""

from __future__ import annotations

import json

import pytest

from functions.common import request_log


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_request_prints_what_its_steps_bound_in_one_line(capsys):
    with request_log.request("r-1"):
        request_log.bind(action="run", outcome="started")
        request_log.bind(outcome="duplicate", runId="x")
        request_log.append("errors", "first")
        request_log.append("errors", "second")
    assert lines(capsys) == [
        {
            "requestId": "r-1",
            "action": "run",
            "outcome": "duplicate",
            "runId": "x",
            "errors": ["first", "second"],
        }
    ]


def test_a_request_that_raises_still_prints_its_line(capsys):
    with pytest.raises(RuntimeError), request_log.request("r-2"):
        request_log.bind(outcome="failed")
        raise RuntimeError("boom")
    assert lines(capsys) == [{"requestId": "r-2", "outcome": "failed"}]


def test_fields_stay_with_their_request(capsys):
    with request_log.request("r-3"):
        request_log.bind(job="a")
    request_log.bind(job="outside")  # no request: nothing to add to, nothing printed
    with request_log.request("r-4"):
        pass
    assert lines(capsys) == [{"requestId": "r-3", "job": "a"}, {"requestId": "r-4"}]
