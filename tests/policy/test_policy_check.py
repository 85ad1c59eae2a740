"""`python -m tools.policy_check`: the offline run of every rule over a stack's resources."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel

from policy.pack import POLICIES
from tools import policy_check
from tools.program import run_program

WRITABLE_ROOT = (
    "advisory ecs-readonly-root-filesystem: aws:ecs/taskDefinition:TaskDefinition {job}-task: "
    "Container '{job}' can write to its root filesystem: set readonlyRootFilesystem: true and "
    "mount a volume where the job writes, or opt out with the task definition tag "
    "longjobs:readonly-root=opt-out."
)


def run_check(argv: list[str]) -> tuple[int, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = policy_check.main(argv)
    return code, out.getvalue().splitlines(), err.getvalue()


def test_the_dev_stack_passes_with_its_advisories_listed():
    code, lines, err = run_check(["--stack", "dev"])
    resources = len(run_program("Pulumi.dev.yaml").resources)
    assert (code, err) == (0, "")
    assert lines == [
        f"policy: {resources} resources checked, {len(POLICIES)} rules run, 2 violations",
        "  " + WRITABLE_ROOT.format(job="hello-world"),
        "  " + WRITABLE_ROOT.format(job="report"),
    ]


def test_a_mandatory_violation_fails_the_check(tmp_path: Path):
    levels = tmp_path / "levels.json"
    levels.write_text(json.dumps({"ecs-readonly-root-filesystem": "mandatory"}))
    code, lines, _ = run_check(["--stack", "dev", "--policy-pack-config", str(levels)])
    assert code == 1
    assert lines[1] == "  " + WRITABLE_ROOT.format(job="hello-world").replace(
        "advisory", "mandatory", 1
    )


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
