"""The supervisor benchmark's call counts, which docs/development.md quotes, on a small pass."""

from __future__ import annotations

import re

from benchmarks import supervisor_bench

FIGURE = re.compile(r"\s+(?P<kind>.+?)\s+(?P<count>\d+)\s+(?P<calls>.+?)\s+(?P<verdict>met|MISSED)")


def test_the_call_counts_the_development_docs_quote(capsys):
    supervisor_bench.main(["--open-runs", "150"])
    lines = capsys.readouterr().out.splitlines()
    figures = {m["kind"]: (int(m["count"]), m["calls"], m["verdict"])
               for m in map(FIGURE.fullmatch, lines) if m}  # fmt: skip
    assert figures == {
        "started run": (2, "PutItem, RunTask", "met"),
        "RUNNING": (2, "GetItem, UpdateItem", "met"),
        "duplicate (the same RUNNING)": (1, "GetItem", "met"),
        "STOPPED, success": (2, "GetItem, UpdateItem", "met"),
        "late (PENDING after STOPPED)": (1, "GetItem", "met"),
        "STOPPED, re-run": (3, "GetItem, UpdateItem, RunTask", "met"),
    }
    # The pass's lease taken (UpdateItem), its position read (GetItem), two pages of RUNNING
    # (its position kept before the second: UpdateItem), one of PENDING, one of notices, two
    # DescribeTasks for 150 runs, and its position written as it gives the lease up
    # (UpdateItem): nothing of each run's own.
    assert lines[-1].strip() == "10: UpdateItem 3, GetItem, Query 4, DescribeTasks 2"
