"""mypy over the code (pyproject.toml's [tool.mypy]: its files and the modules it reads), as a
test, so that it runs beside the others on a worker of its own instead of before them all."""

from __future__ import annotations

from mypy import api

from offline.program import PROJECT_ROOT


def test_mypy_finds_no_type_error(monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)  # its files and cache are relative to the project
    report, errors, status = api.run([])
    assert status == 0, report + errors
    assert report.startswith("Success: no issues found in ")
