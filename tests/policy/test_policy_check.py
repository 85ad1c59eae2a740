"""`python -m tools.policy_check`: the offline run of every rule over a stack's resources."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import yaml
from pulumi_policy import EnforcementLevel

from offline.program import run_program
from policy.pack import POLICIES
from tests.unit.helpers import dev_config
from tools import policy_check

SECRET_IN_ENVIRONMENT = (
    "{level} ecs-no-secrets-in-environment: aws:ecs/taskDefinition:TaskDefinition report-task: "
    "Container 'report' sets DB_PASSWORD in plain text and its name says it is a secret: store "
    "it in SSM Parameter Store or Secrets Manager and pass its ARN in secrets (for a longjobs "
    "job: its secrets), not in environment."
)


def run_check(argv: list[str]) -> tuple[int, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = policy_check.main(argv)
    return code, out.getvalue().splitlines(), err.getvalue()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_example_stack_passes_with_no_violation(stack):
    code, lines, err = run_check(["--stack", stack])
    resources = len(run_program(f"Pulumi.{stack}.yaml").resources)
    assert (code, err) == (0, "")
    assert lines == [
        f"policy: {resources} resources checked, {len(POLICIES)} rules run, 0 violations"
    ]


@pytest.fixture
def leaky_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A stack whose report job holds a password in its environment (the config accepts it; the
    pack does not)."""
    config = dev_config()
    config["longjobs:jobs"]["report"]["environment"]["DB_PASSWORD"] = "hunter2"
    (tmp_path / "Pulumi.leaky.yaml").write_text(yaml.safe_dump({"config": config}))
    monkeypatch.setattr(policy_check, "PROJECT_ROOT", tmp_path)
    return "leaky"


def test_a_mandatory_violation_fails_the_check(leaky_stack: str):
    code, lines, _ = run_check(["--stack", leaky_stack])
    assert code == 1
    assert lines[1:] == ["  " + SECRET_IN_ENVIRONMENT.format(level="mandatory")]


def test_an_advisory_violation_is_listed_and_passes(leaky_stack: str, tmp_path: Path):
    levels = tmp_path / "levels.json"
    levels.write_text(json.dumps({"ecs-no-secrets-in-environment": "advisory"}))
    code, lines, _ = run_check(["--stack", leaky_stack, "--policy-pack-config", str(levels)])
    assert code == 0
    assert lines[1:] == ["  " + SECRET_IN_ENVIRONMENT.format(level="advisory")]


def test_a_disabled_rule_does_not_run(tmp_path: Path):
    levels = tmp_path / "levels.json"
    levels.write_text(
        json.dumps({"ecs-readonly-root-filesystem": {"enforcementLevel": "disabled"}})
    )
    code, lines, _ = run_check(["--policy-pack-config", str(levels)])
    assert code == 0
    assert lines[0].endswith(f", {len(POLICIES) - 1} rules run, 0 violations")


def test_levels_read_as_the_cli_reads_them(tmp_path: Path):
    levels = tmp_path / "levels.json"
    levels.write_text(json.dumps({"all": "advisory", "logs-retention-set": "mandatory"}))
    read = policy_check.load_levels(levels)
    assert read.pop("logs-retention-set") == EnforcementLevel.MANDATORY
    assert set(read.values()) == {EnforcementLevel.ADVISORY}
    assert len(read) == len(POLICIES) - 1


def test_an_unknown_policy_name_or_stack_is_refused(tmp_path: Path):
    levels = tmp_path / "levels.json"
    levels.write_text(json.dumps({"logs-retention": "mandatory"}))
    with pytest.raises(ValueError, match=r"no policy named logs-retention; have iam-no-wildcard"):
        policy_check.load_levels(levels)
    code, lines, err = run_check(["--stack", "nope"])
    assert (code, lines, err) == (2, [], "Pulumi.nope.yaml: no such stack file\n")
