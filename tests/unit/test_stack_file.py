"""Reading stack files: what the Pulumi CLI's YAML readers would disagree on is refused."""

from __future__ import annotations

import textwrap

import pytest

from components.config import ConfigError
from components.config.stack_file import StackFileError, read_config
from offline.program import run_program

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


OTHER_READERS = """\
config:
  longjobs:jobs:
    report:
      environment:
        SCALE: 1e3
        RATIO: 2.5e3
        MODE: 0o17
        MASK: 0x1F
        LIMIT: .inf
        EMPTY: ~
        SHORT_YES: y
        SHORT_NO: N
        LOUD: Yes
        SWITCH: off
        WHEN: 12:30
        DAY: 2026-1-5
        TEXT: e3
        WORD: yes-man
        VERSION: "1e3"
"""


def test_what_any_yaml_reader_would_not_keep_as_text_is_refused(tmp_path):
    values, problems = read_config(write(tmp_path, OTHER_READERS))
    head = "longjobs:jobs.report.environment"
    pyyaml = "(and the Pulumi CLI's readers may read it otherwise); environment values are strings"
    tail = "; environment values are strings"
    assert problems == [
        f'{head}.SCALE: 1e3 is not quoted, so the Pulumi CLI\'s YAML readers (yaml.v2 and yaml.v3) read it as the number 1000.0, though PyYAML keeps it text{tail}: write SCALE: "1e3"',
        f'{head}.RATIO: 2.5e3 is not quoted, so the Pulumi CLI\'s YAML readers (yaml.v2 and yaml.v3) read it as the number 2500.0, though PyYAML keeps it text{tail}: write RATIO: "2.5e3"',
        f'{head}.MODE: 0o17 is not quoted, so the Pulumi CLI\'s YAML readers (yaml.v2 and yaml.v3) read it as the number 15, though PyYAML keeps it text{tail}: write MODE: "0o17"',
        f'{head}.MASK: 0x1F is not quoted, so YAML reads it as 31 {pyyaml}: write MASK: "0x1F"',
        f'{head}.LIMIT: .inf is not quoted, so YAML reads it as inf {pyyaml}: write LIMIT: ".inf"',
        f'{head}.EMPTY: ~ is not quoted, so YAML reads it as null {pyyaml}: write EMPTY: "~"',
        f'{head}.SHORT_YES: y is not quoted, so yaml.v2, one of the Pulumi CLI\'s YAML readers, reads it as true, though PyYAML keeps it text{tail}: write SHORT_YES: "y"',
        f'{head}.SHORT_NO: N is not quoted, so yaml.v2, one of the Pulumi CLI\'s YAML readers, reads it as false, though PyYAML keeps it text{tail}: write SHORT_NO: "N"',
        f'{head}.LOUD: Yes is not quoted, so YAML reads it as true {pyyaml}: write LOUD: "Yes"',
        f'{head}.SWITCH: off is not quoted, so YAML reads it as false {pyyaml}: write SWITCH: "off"',
        f'{head}.WHEN: 12:30 is not quoted, so YAML reads it as 750 {pyyaml}: write WHEN: "12:30"',
        f'{head}.DAY: 2026-1-5 is not quoted, so yaml.v3, one of the Pulumi CLI\'s YAML readers, reads it as the date 2026-01-05, though PyYAML keeps it text{tail}: write DAY: "2026-1-5"',
    ]  # fmt: skip
    environment = values["longjobs:jobs"]["report"]["environment"]
    assert (environment["TEXT"], environment["WORD"], environment["VERSION"]) == (
        "e3",
        "yes-man",
        "1e3",
    )
    assert (environment["SCALE"], environment["EMPTY"]) == ("1e3", "~")


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


DISAGREED = """\
config:
  longjobs:runRetentionDays: 1:30
  longjobs:containerInsights: on
  longjobs:checkpointAccessLogs: yes
  longjobs:jobs:
    report:
      timeout: 2:00
      maxWaitForCapacity: 1:30:00
      retries: 1:30
      interruptionRetries: 0o3
      cpu: 01024
      memory: 2048
      command: [python, report.py, 1_000]
      service: {desiredCount: 1_000}
      tags: {release: 2026-11-01, owner: y, team: data}
      policyStatements:
        - Effect: Allow
          Action: s3:GetObject
          Resource: arn:aws:s3:::b/*
          Condition: {Bool: {aws:SecureTransport: yes}}
      schedules:
        nightly:
          expression: cron(30 2 * * ? *)
          enabled: on
        hourly:
          expression: rate(1 hour)
          enabled: .inf
"""


def test_unquoted_values_the_readers_disagree_on_are_refused_everywhere(tmp_path):
    values, problems = read_config(write(tmp_path, DISAGREED))
    head = "longjobs:jobs.report"
    go = "the Pulumi CLI's YAML readers (yaml.v2 and yaml.v3)"
    top = "and the Pulumi CLI hands it to the program as"
    assert problems == [
        f'longjobs:runRetentionDays: 1:30 is not quoted, so PyYAML reads it as the number 90 (base 60) {top} the text "1:30"; if you mean 90, write runRetentionDays: 90; allowed: a whole number from 1 to 3653',
        f"longjobs:containerInsights: on is not quoted, so PyYAML reads it as true {top} the text \"on\"; allowed: 'enabled', 'enhanced' or 'disabled'",
        f'longjobs:checkpointAccessLogs: yes is not quoted, so PyYAML reads it as true {top} the text "yes"; write checkpointAccessLogs: true; allowed: true (S3 server access logs of the checkpoint bucket, kept in a bucket of their own as long as the functions\' logs) or false',
        f'{head}.timeout: 2:00 is not quoted, so PyYAML reads it as the number 120 (base 60) and {go} as the text "2:00"; write timeout: 2h or timeout: 2m, as you mean it; allowed: 1 minute to 30 days, as seconds or like 45m, 2h, 1h30m',
        f'{head}.maxWaitForCapacity: 1:30:00 is not quoted, so PyYAML reads it as the number 5400 (base 60) and {go} as the text "1:30:00"; write maxWaitForCapacity: 1h30m; allowed: 1 minute to 1 day, as seconds or like 45m, 2h, 1h30m',
        f'{head}.retries: 1:30 is not quoted, so PyYAML reads it as the number 90 (base 60) and {go} as the text "1:30"; if you mean 90, write retries: 90; allowed: a whole number from 0 to 10',
        f'{head}.interruptionRetries: 0o3 is not quoted, so PyYAML reads it as the text "0o3" and {go} as the number 3; write interruptionRetries: 3; allowed: a whole number from 0 to 10',
        f"{head}.cpu: 01024 is not quoted, so PyYAML and {go} read it as the number 532 (octal) and a YAML 1.2 reader as the number 1024; write cpu: 532 or cpu: 1024, as you mean it; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU units; 1024 is 1 vCPU)",
        f'{head}.tags.release: 2026-11-01 is not quoted, so PyYAML and the Pulumi CLI\'s yaml.v3 read it as the date 2026-11-01 and the Pulumi CLI\'s yaml.v2 as the text "2026-11-01"; write release: "2026-11-01"; allowed: 0-256 letters, digits, spaces and _.:/=+-@',
        f'{head}.tags.owner: y is not quoted, so PyYAML and the Pulumi CLI\'s yaml.v3 read it as the text "y" and the Pulumi CLI\'s yaml.v2 as true; write owner: "y"; allowed: 0-256 letters, digits, spaces and _.:/=+-@',
        f'{head}.policyStatements.0.Condition.Bool.aws:SecureTransport: yes is not quoted, so PyYAML and the Pulumi CLI\'s yaml.v2 read it as true and the Pulumi CLI\'s yaml.v3 as the text "yes"; allowed: a value',
        f'{head}.schedules.nightly.enabled: on is not quoted, so PyYAML and the Pulumi CLI\'s yaml.v2 read it as true and the Pulumi CLI\'s yaml.v3 as the text "on"; write enabled: true; allowed: true or false',
        f"{head}.schedules.hourly.enabled: .inf is not quoted, so every reader reads it as infinity, which the Pulumi CLI cannot hand to the program (JSON has no such number); allowed: true or false",
    ]  # fmt: skip
    # What every reader reads alike is kept as read; a refused value is handed on as written.
    report = values["longjobs:jobs"]["report"]
    assert (report["memory"], report["command"], report["service"]) == (
        2048,
        ["python", "report.py", 1000],
        {"desiredCount": 1000},
    )
    assert (report["timeout"], report["tags"]["team"], values["longjobs:runRetentionDays"]) == (
        "2:00",
        "data",
        "1:30",
    )


def test_a_top_level_value_is_what_the_cli_hands_the_program(tmp_path):
    # The CLI hands a top-level scalar over as its text, quoted or not; the program reads JSON.
    text = """\
    config:
      aws:region: eu-west-1
      longjobs:runRetentionDays: "90"
      longjobs:checkpointAccessLogs: false
      longjobs:kms: create
      longjobs:jobs: {report: {}}
    """
    values, problems = read_config(write(tmp_path, text))
    assert problems == []
    assert values == {
        "aws:region": "eu-west-1",
        "longjobs:runRetentionDays": 90,
        "longjobs:checkpointAccessLogs": False,
        "longjobs:kms": "create",
        "longjobs:jobs": {"report": {}},
    }


def test_the_plan_names_a_refused_value_once(tmp_path):
    # The model's own word on a refused value would be a second line for the same key; a
    # dotted key of the same path is another problem, and is named.
    text = """\
    config:
      longjobs:runRetentionDays: 1:30
      longjobs:jobs.report.timeout: 2 hours
      longjobs:jobs:
        report:
          timeout: 2:00
          retries: 1:30
          cpu: 300
    """
    with pytest.raises(ConfigError) as caught:
        run_program(write(tmp_path, text))
    found = caught.value.problems
    assert [problem.split(": ", 1)[0] for problem in found] == [
        "longjobs:runRetentionDays",
        "longjobs:jobs.report.timeout",
        "longjobs:jobs.report.retries",
        "longjobs:jobs.report.timeout",
        "longjobs:jobs.report.cpu",
    ]
    assert found[3].startswith("longjobs:jobs.report.timeout: a dotted key is the path ")


def test_a_file_without_a_config_block_is_one_line(tmp_path):
    with pytest.raises(StackFileError) as caught:
        read_config(write(tmp_path, "encryptionsalt: v1:abc\n"))
    assert str(caught.value) == (
        "Pulumi.check.yaml: no config: block; a stack's settings go under config:, each key "
        "written namespace:key, like config: {longjobs:jobs: {report: {}}}"
    )


def test_config_keys_outside_the_config_block_are_one_line(tmp_path):
    text = """\
    aws:region: eu-west-1
    longjobs:jobs:
      report: {}
    """
    with pytest.raises(StackFileError) as caught:
        read_config(write(tmp_path, text))
    assert str(caught.value) == (
        "Pulumi.check.yaml:1:1: aws:region is outside config:, and Pulumi reads a stack's "
        "settings only from its config: block: indent it under config:"
    )


SECRETS = """\
config:
  aws:secretKey:
    secure: v1:AAAA
  longjobs:kms:
    secure: v1:BBBB
  longjobs:jobs:
    report:
      environment:
        DB_PASSWORD:
          secure: v1:CCCC
      secrets:
        API_TOKEN:
          secure: v1:DDDD
      tags:
        owner:
          secure: v1:EEEE
"""


def test_a_pulumi_secret_under_longjobs_is_refused_with_where_it_would_end_up(tmp_path):
    values, problems = read_config(write(tmp_path, SECRETS))
    what = "a secret (a value set with pulumi config set --secret)"
    assert problems == [
        f"longjobs:kms: {what} is not taken under longjobs:, whose values are written into resources in plaintext (task definitions, tags, policies, the trigger's package); allowed: plain values; a job reads a secret through its secrets: (an SSM parameter or Secrets Manager ARN)",
        f"longjobs:jobs.report.environment.DB_PASSWORD: {what} is not taken as an environment value: environment values are written in plaintext in the task definition; allowed: a string here, or the secret kept in SSM Parameter Store or Secrets Manager and named by its ARN under the job's secrets:",
        f"longjobs:jobs.report.secrets.API_TOKEN: {what} is not taken here: secrets: names where a secret is kept, and ECS reads it from there; allowed: the ARN of an SSM parameter or a Secrets Manager secret holding the value",
        f"longjobs:jobs.report.tags.owner: {what} is not taken under longjobs:, whose values are written into resources in plaintext (task definitions, tags, policies, the trigger's package); allowed: plain values; a job reads a secret through its secrets: (an SSM parameter or Secrets Manager ARN)",
    ]  # fmt: skip
    # The AWS provider's own secrets are its business.
    assert values["aws:secretKey"] == {"secure": "v1:AAAA"}


def test_a_value_under_a_key_the_config_does_not_take_is_left_to_that_key(tmp_path):
    # The key is the problem: what its value reads as is moot.
    text = """\
    config:
      longjobs:jobs:
        report:
          timout: 2:00
        Report_2: 1:30
    """
    with pytest.raises(ConfigError) as caught:
        run_program(write(tmp_path, text))
    assert [problem.split("; ", 1)[0] for problem in caught.value.problems] == [
        "longjobs:jobs.report.timout: unknown key 'timout'",
        "longjobs:jobs.Report_2: the name 'Report_2' is not allowed",
    ]


def test_an_empty_top_level_value_is_named_as_empty(tmp_path):
    text = """\
    config:
      longjobs:kms:
      longjobs:jobs: {report: {}}
    """
    _, problems = read_config(write(tmp_path, text))
    assert problems == [
        "longjobs:kms: the value is empty, so PyYAML reads it as null and the Pulumi CLI hands "
        'it to the program as the text ""; write a value, or leave the key out; allowed: '
        "'create' (the stack makes a key) or the ARN of a key in the stack's region, like "
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab (an alias is "
        "not taken)"
    ]


def test_a_setting_without_a_namespace_outside_config_is_one_line(tmp_path):
    text = """\
    encryptionsalt: v1:abc
    jobs:
      report: {}
    """
    with pytest.raises(StackFileError) as caught:
        read_config(write(tmp_path, text))
    assert str(caught.value) == (
        "Pulumi.check.yaml:2:1: jobs is outside config:, and Pulumi reads a stack's settings "
        "only from its config: block: indent it under config:, as longjobs:jobs"
    )
