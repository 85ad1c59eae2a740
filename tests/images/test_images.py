"""The job images, built with Docker and run as ECS runs them (an init process, SIGTERM on stop).

Needs a Docker engine and the base images (or their stand-ins from base_images.sh). Without them
these tests skip, unless LONGJOBS_REQUIRE_DOCKER=1 (CI sets it), where they fail instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
REQUIRED = os.environ.get("LONGJOBS_REQUIRE_DOCKER") == "1"


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DOCKER, *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )


def base_image(job: str) -> str:
    for line in (ROOT / "containers" / job / "Dockerfile").read_text().splitlines():
        if line.upper().startswith("FROM "):
            return line.split()[1]
    raise AssertionError(f"{job} has no FROM")


def missing() -> str | None:
    if not Path(DOCKER).exists():
        return f"no Docker client at {DOCKER}"
    if docker("info", check=False, timeout=30).returncode != 0:
        return "no Docker engine is running"
    for job in ("hello-world", "report"):
        if docker("image", "inspect", base_image(job), check=False).returncode != 0:
            return f"base image {base_image(job)} is missing: run tests/images/base_images.sh"
    return None


@pytest.fixture(scope="module")
def build():
    reason = missing()
    if reason:
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    tags: list[str] = []

    def build_job(job: str) -> str:
        tag = f"longjobs-test/{job}:{uuid.uuid4().hex[:12]}"
        docker("build", "--quiet", "--tag", tag, str(ROOT / "containers" / job))
        tags.append(tag)
        return tag

    yield build_job
    if tags:
        docker("rmi", "--force", *tags, check=False)


def test_hello_world_image_prints_its_variable_as_nobody(build):
    image = build("hello-world")
    result = docker("run", "--rm", "--init", "-e", "HELLO_WORLD=Hello from Fargate", image)
    assert result.stdout == "Hello from Fargate\n"
    assert docker("inspect", "--format", "{{.Config.User}}", image).stdout.strip() == "65534:65534"


def test_report_image_stops_cleanly_on_sigterm_and_resumes(build, tmp_path):
    image = build("report")
    assert docker("inspect", "--format", "{{.Config.User}}", image).stdout.strip() == "10001:10001"
    tmp_path.chmod(0o777)  # the job runs as an unprivileged user
    job_env = [
        "-e", "REPORT_DAY=2026-11-01", "-e", "REPORT_ROWS=2000", "-e", "REPORT_BATCH=200",
        "-e", "REPORT_OUTPUT=/data",
    ]  # fmt: skip
    volume = ["--volume", f"{tmp_path}:/data"]
    container = docker(
        "run", "--detach", "--init", *volume, *job_env, "-e", "REPORT_STEP_SECONDS=2", image
    ).stdout.strip()
    try:
        deadline = time.monotonic() + 30
        while '"progress"' not in docker("logs", container).stdout:
            assert time.monotonic() < deadline, docker("logs", container).stdout
            time.sleep(0.2)
        started = time.monotonic()
        docker("stop", "--time", "120", container)  # what ECS does, with stopTimeout 120
        stopped_in = time.monotonic() - started
        exit_code = int(docker("wait", container).stdout.strip())
        logs = [json.loads(line) for line in docker("logs", container).stdout.splitlines()]
    finally:
        docker("rm", "--force", container, check=False)
    assert exit_code == 143
    assert stopped_in < 10
    assert logs[-1]["event"] == "interrupted"
    assert (tmp_path / "checkpoint.json").exists()

    resumed = docker("run", "--rm", "--init", *volume, *job_env, image)
    events = [json.loads(line)["event"] for line in resumed.stdout.splitlines()]
    assert "resumed" in events and events[-1] == "done"
    assert len((tmp_path / "rows.csv").read_text().splitlines()) == 2001
