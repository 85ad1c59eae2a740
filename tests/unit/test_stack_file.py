"""Reading stack files: what the Pulumi CLI's YAML readers would disagree on is refused."""

from __future__ import annotations

import textwrap

import pytest

from components.config import ConfigError
from tools.program import run_program
from tools.stack_file import StackFileError, read_config

STACK = """\
config:
  aws:region: eu-west-1
  longjobs:jobs:
    report:
      environment:
        ZIP: 01234
        VERSION: 1.10
        VERBOSE: yes
        DAY: 2026-11-01
        NAME: "01234"
        ROWS: '5000'
      parameters: [LIMIT]
      schedules:
        nightly:
          expression: cron(30 2 * * ? *)
          environment:
            LIMIT: 1_000
"""


def write(tmp_path, text: str, name: str = "Pulumi.check.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_unquoted_environment_values_are_refused_with_what_was_written(tmp_path):
    values, problems = read_config(write(tmp_path, STACK))
    tail = "(and the Pulumi CLI's readers may read it otherwise); environment values are strings"
    assert problems == [
        f'longjobs:jobs.report.environment.ZIP: 01234 is not quoted, so YAML reads it as 668 {tail}: write ZIP: "01234"',
        f'longjobs:jobs.report.environment.VERSION: 1.10 is not quoted, so YAML reads it as 1.1 {tail}: write VERSION: "1.10"',
        f'longjobs:jobs.report.environment.VERBOSE: yes is not quoted, so YAML reads it as true {tail}: write VERBOSE: "yes"',
        f'longjobs:jobs.report.environment.DAY: 2026-11-01 is not quoted, so YAML reads it as 2026-11-01 {tail}: write DAY: "2026-11-01"',
        f'longjobs:jobs.report.schedules.nightly.environment.LIMIT: 1_000 is not quoted, so YAML reads it as 1000 {tail}: write LIMIT: "1_000"',
    ]  # fmt: skip
    environment = values["longjobs:jobs"]["report"]["environment"]
    assert (environment["NAME"], environment["ROWS"]) == ("01234", "5000")


def test_the_plan_reports_them_with_every_other_problem(tmp_path):
    text = STACK.replace("    report:\n", "    report:\n      cpu: 300\n")
    with pytest.raises(ConfigError) as caught:
        run_program(write(tmp_path, text))
    keys = [problem.split(": ", 1)[0] for problem in caught.value.problems]
    assert keys == [
        "longjobs:jobs.report.environment.ZIP",
        "longjobs:jobs.report.environment.VERSION",
        "longjobs:jobs.report.environment.VERBOSE",
        "longjobs:jobs.report.environment.DAY",
        "longjobs:jobs.report.schedules.nightly.environment.LIMIT",
        "longjobs:jobs.report.cpu",
    ]


def test_a_key_given_twice_is_refused_naming_both_lines(tmp_path):
    text = """\
    config:
      longjobs:jobs:
        report:
          environment:
            ROWS: "1"
            ROWS: "2"
    """
    with pytest.raises(StackFileError) as caught:
        read_config(write(tmp_path, text))
    assert str(caught.value) == (
        "Pulumi.check.yaml:6:9: 'ROWS' is given twice in one mapping (first at line 5); one YAML "
        "reader refuses this and another keeps the last value: keep one"
    )


def test_a_syntax_error_is_one_line_with_file_line_and_column(tmp_path):
    text = """\
    config:
      longjobs:jobs:
        report: {cpu: 256
    """
    with pytest.raises(StackFileError) as caught:
        read_config(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("Pulumi.check.yaml:4:1: ")
