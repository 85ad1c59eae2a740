"""`make demo`, as a newcomer runs it: every step happens and it exits 0; without Docker, one
line saying so and pointing to `make plan`."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.local.conftest import ROOT, needs_docker

STEPS = [
    "1. Start the dev stack locally",
    "2. Run hello-world",
    "3. Start the report job",
    "4. Interrupt it as Fargate Spot reclaims capacity",
    "5. The retry resumed from the checkpoint",
    "6. The run's record",
    "7. Its notice on the notifications topic",
    "8. Stop everything",
]


def demo(**environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "local.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **environment},
    )


def test_without_docker_it_says_so_in_one_line_and_points_to_make_plan(tmp_path):
    result = demo(DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock")
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("make demo needs Docker: no Docker engine answers (")
    assert line.endswith("); `make plan` shows what the stack declares without one")


def test_every_step_happens(tmp_path):
    needs_docker()
    result = demo()
    assert result.returncode == 0, result.stdout + result.stderr
    said = result.stdout
    assert [step for step in STEPS if step in said] == STEPS
    assert "attempt 1 on spot: SpotInterruption, exit 143" in said
    assert '"event": "resumed"' in said
    assert '"status": "SUCCEEDED", "attempts": 2' in said
