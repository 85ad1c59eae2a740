"""The local runtime reads a stack's config with the model `make plan` uses: the same problems,
one line each, a non-zero exit, and nothing started."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.local.conftest import ROOT

BAD = """config:
  aws:region: eu-west-1
  longjobs:jobs:
    hello-world:
      cpu: 300
      memory: 512
      retries: -1
"""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_bad_config_is_refused_with_every_problem_as_make_plan_words_it(tmp_path):
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text(BAD)
    outputs = tmp_path / "outputs.json"
    local = run("longjobs", "dev", "--stack", str(stack), "--outputs", str(outputs))
    plan = run("tools.plan", "--file", str(stack))
    # Bad input is the command's exit 2 (docs/exit-codes.md); `make plan` exits 1 for it.
    assert (local.returncode, plan.returncode) == (2, 1)
    assert local.stdout == ""
    assert local.stderr == "longjobs dev: " + plan.stderr
    problems = [line for line in local.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 2, local.stderr
    assert "Traceback" not in local.stderr
    assert not outputs.exists()


def test_a_missing_stack_is_one_line_naming_the_stacks_there(tmp_path):
    local = run("longjobs", "dev", "--stack", "nosuch", "--outputs", str(tmp_path / "o.json"))
    plan = run("tools.plan", "--stack", "nosuch")
    assert (local.returncode, plan.returncode) == (2, 2)
    assert local.stderr.splitlines() == [
        f"longjobs dev: no stack file {ROOT / 'Pulumi.nosuch.yaml'}; stacks here: dev, prod"
    ]


def test_without_docker_dev_and_run_local_say_so_in_one_line_and_exit_8(tmp_path):
    nowhere = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    for args, where in (
        (["dev", "--outputs", str(tmp_path / "o.json")], "longjobs dev"),
        (["run", "hello-world", "--local"], "longjobs run"),
    ):
        said = subprocess.run(
            [sys.executable, "-m", "longjobs", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env=nowhere,
        )
        assert said.returncode == 8, said.stderr
        [line] = said.stderr.splitlines()
        assert line.startswith(f"{where}: no Docker engine answers (")
        assert line.endswith("`make plan` shows what the stack declares without one")
    assert not (tmp_path / "o.json").exists()
