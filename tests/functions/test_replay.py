"""The replay (tools/replay.py) over a few dozen runs, with a fixed seed: every run ends where
the README says, starts no task more than its scenario allows, and is reported final once."""

from __future__ import annotations

import pytest

from tools import replay

RUNS = 40


@pytest.fixture(scope="module")
def summary() -> replay.Summary:
    return replay.replay(total=RUNS, seed=11, wave_size=RUNS, workers=1)


def test_no_run_is_lost_duplicated_or_ends_wrong(summary):
    assert summary.runs == RUNS
    assert (summary.lost, summary.duplicate_tasks, summary.wrong) == (0, 0, 0)


def test_every_run_is_reported_final_exactly_once(summary):
    assert summary.scenarios.get("re-run refused")  # the seed plays the case of the bug
    assert summary.not_once == 0
