"""`make plan`'s exit codes, as docs/operations.md lists them (config problems and a missing
stack file are tested in test_plan.py: 1 and 2)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from offline.program import PROJECT_ROOT
from tests.unit.test_plan import run_plan
from tools import plan


def test_arguments_the_command_does_not_take_exit_2_with_its_usage():
    with pytest.raises(SystemExit) as exited:
        run_plan(["--stak", "dev"])
    assert exited.value.code == 2


def test_a_failure_that_is_not_the_configs_exits_3_with_its_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the mocks answered nothing")

    monkeypatch.setattr(plan, "run_program", broken)
    code, out, err = run_plan(["--stack", "dev"])
    assert (code, out) == (3, "")
    assert err.startswith("Traceback (most recent call last):")
    assert err.splitlines()[-1] == "RuntimeError: the mocks answered nothing"


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_make_plan_exits_2_for_a_failing_plan_as_make_does_for_any_failing_command():
    # -o: the virtualenv counts as made; no pip install inside a test.
    made = subprocess.run(
        ["make", "--no-print-directory", "-o", "venv/.runtime", "plan", "STACK=no-such-stack"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 2
    # The stacks named after it are whatever stack files the project holds.
    assert made.stderr.startswith("no stack file Pulumi.no-such-stack.yaml; stacks here: dev, ")


def test_the_operations_page_lists_each_exit_code_the_command_has():
    page = (PROJECT_ROOT / "docs" / "operations.md").read_text()
    listed = re.findall(r"^\| `(\d)` \|", page, re.MULTILINE)
    codes = [plan.PLANNED, plan.CONFIG_PROBLEMS, plan.NO_STACK, plan.PROGRAM_FAILED]
    assert listed == [str(code) for code in codes]
