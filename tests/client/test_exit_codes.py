"""docs/exit-codes.md is the command's table, row by row, and the codes are distinct."""

from __future__ import annotations

from pathlib import Path

from longjobs import exit_codes

PAGE = Path(__file__).resolve().parents[2] / "docs" / "exit-codes.md"


def test_the_page_shows_the_table_row_by_row():
    rows = [
        line.strip("|").split("|", 1)
        for line in PAGE.read_text().splitlines()
        if line.startswith("| ") and line[2].isdigit()
    ]
    shown = [(code.strip(), meaning.strip()) for code, meaning in rows]
    assert shown[:-1] == [(str(code), meaning) for code, meaning in exit_codes.TABLE]
    assert shown[-1][0] == "1–255 (other)"


def test_each_code_means_one_thing():
    codes = [code for code, _ in exit_codes.TABLE]
    assert len(codes) == len(set(codes))
    assert set(exit_codes.OF_OUTCOME.values()) | {c for _, c in exit_codes.OF_ERROR} <= set(codes)


def test_a_jobs_own_code_passes_through_and_nothing_else_does():
    assert exit_codes.of_result("job-failed", 3) == 3
    assert exit_codes.of_result("job-failed", 300) == exit_codes.PLATFORM_FAILURE
    assert exit_codes.of_result("succeeded", 0) == 0
    assert exit_codes.of_result("stopped", 143) == exit_codes.STOPPED
