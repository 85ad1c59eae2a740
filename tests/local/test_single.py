"""One job's container without the lifecycle (`longjobs run JOB --local`): the run's overrides
checked by the trigger's rules, its output on the terminal, its exit code the command's."""

from __future__ import annotations

import subprocess
import sys

from tests.local.conftest import ROOT, TEST_STACK, needs_docker


def run(*args: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "longjobs",
        "--stack",
        str(TEST_STACK),
        "run",
        *args,
        "--local",
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_a_job_runs_with_the_runs_overrides_and_its_exit_code_is_the_answer():
    needs_docker()
    hello = run("hello-world", "-e", "HELLO_WORLD=overridden")
    assert (hello.returncode, hello.stdout) == (0, "overridden\n"), hello.stderr
    failing = run("failing")
    assert (failing.returncode, failing.stdout) == (3, "about to fail\n"), failing.stderr


def test_an_override_the_job_does_not_allow_is_one_line_and_runs_nothing():
    result = run("hello-world", "-e", "NOT_ALLOWED=1")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "longjobs run: environment: 'NOT_ALLOWED' is not a variable this job lets a run set; "
        "allowed: HELLO_WORLD"
    ]
