"""The plan's price of the job lifecycle per million runs: the sums, redone by hand."""

from __future__ import annotations

import pytest

from tools import lifecycle_costs, plan


def test_the_sums_per_million_runs():
    costs = lifecycle_costs.per_million_runs()
    # 6 invocations at $0.20 a million, and 0.7 s at 0.25 GB at $0.0000133334 a GB-second.
    assert costs["Lambda (trigger and supervisor)"] == pytest.approx(1.2 + 0.7 * 0.25 * 13.3334)
    # 5 writes of 3 KB to the table and 3 indexes (60 units at $0.625 a million), 5 reads.
    assert costs["DynamoDB (the run records and their indexes)"] == pytest.approx(37.5 + 0.625)
    assert costs["SNS (one notice a run)"] == pytest.approx(0.5)
    assert costs["Step Functions standard workflow, for the same runs"] == pytest.approx(150.0)
    assert costs["longjobs lifecycle, in all"] == pytest.approx(
        1.2 + 0.7 * 0.25 * 13.3334 + 38.125 + 0.5
    )


def test_the_plan_prints_them(capsys):
    assert plan.main(["--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert "    longjobs lifecycle, in all                                  42.16" in out
    assert "    Step Functions standard workflow, for the same runs        150.00" in out
