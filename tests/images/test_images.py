"""The job images, built with Docker and run as ECS runs them: an init process, SIGTERM on stop,
a read-only root filesystem with a writable volume at /tmp and at each scratch path.

On Fargate a scratch volume is a bind mount that is owned by root with mode 0755 unless the image
declares the same path as a VOLUME, whose owner and mode it then takes ("Use bind mounts with
Amazon ECS", considerations). Here each scratch path is a fresh Docker volume, which Docker fills
from the image's directory with its owner and mode; the test also asserts that the image declares
the path, which is what makes Fargate do the same.

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


def ecs_run_options(image: str, scratch_paths: tuple[str, ...] = ()) -> list[str]:
    """`docker run` options for what the task definition declares: an init process, a read-only
    root filesystem, a fresh writable volume at /tmp and at each scratch path."""
    declared = json.loads(docker("inspect", "--format", "{{json .Config.Volumes}}", image).stdout)
    scratch = ("/tmp", *scratch_paths)
    assert set(scratch) <= set(declared or {}), f"{image} declares no VOLUME for {scratch}"
    return [
        "--init",
        "--read-only",
        *(option for path in scratch for option in ("--mount", f"type=volume,target={path}")),
    ]


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


def test_hello_world_image_prints_its_variable_as_nobody_on_a_read_only_root(build):
    image = build("hello-world")
    ecs = ecs_run_options(image)
    result = docker("run", "--rm", *ecs, "-e", "HELLO_WORLD=Hello from Fargate", image)
    assert result.stdout == "Hello from Fargate\n"
    assert docker("inspect", "--format", "{{.Config.User}}", image).stdout.strip() == "65534:65534"
    # As the job's user, in the same container setup: /tmp is writable, the root is not.
    probe = "touch /tmp/x && echo tmp-ok; touch /x 2>&1 || true"
    probed = docker("run", "--rm", *ecs, "--entrypoint", "sh", image, "-c", probe)
    assert probed.stdout.splitlines() == ["tmp-ok", "touch: /x: Read-only file system"]


def test_report_image_stops_cleanly_on_sigterm_and_resumes(build, tmp_path):
    image = build("report")
    assert docker("inspect", "--format", "{{.Config.User}}", image).stdout.strip() == "10001:10001"
    tmp_path.chmod(0o777)  # the job runs as an unprivileged user
    job_env = [
        "-e", "REPORT_DAY=2026-11-01", "-e", "REPORT_ROWS=2000", "-e", "REPORT_BATCH=200",
        "-e", "REPORT_OUTPUT=/data",
    ]  # fmt: skip
    volume = ["--volume", f"{tmp_path}:/data"]
    ecs = ecs_run_options(image)
    container = docker(
        "run", "--detach", *ecs, *volume, *job_env, "-e", "REPORT_STEP_SECONDS=2", image
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

    resumed = docker("run", "--rm", *ecs, *volume, *job_env, image)
    events = [json.loads(line)["event"] for line in resumed.stdout.splitlines()]
    assert "resumed" in events and events[-1] == "done"
    assert len((tmp_path / "rows.csv").read_text().splitlines()) == 2001


def test_report_image_writes_to_its_scratch_volume_and_refuses_the_read_only_root(build):
    image = build("report")
    ecs = ecs_run_options(image)
    day = ["-e", "REPORT_DAY=2026-11-01", "-e", "REPORT_ROWS=500", "-e", "REPORT_BATCH=100"]
    # The defaults: the report and its checkpoint in /tmp, as user 10001.
    done = docker("run", "--rm", *ecs, *day, image)
    logs = [json.loads(line) for line in done.stdout.splitlines()]
    assert logs[0]["output"] == "/tmp/report-2026-11-01"
    assert logs[-1] == {"event": "done", "output": "/tmp/report-2026-11-01", "rows": 500}
    # Anywhere else on the root filesystem: refused before any work.
    refused = docker("run", "--rm", *ecs, *day, "-e", "REPORT_OUTPUT=/app/out", image, check=False)
    assert refused.returncode == 2
    assert json.loads(refused.stdout.splitlines()[-1]) == {
        "event": "bad-input",
        "error": "REPORT_OUTPUT is on a read-only filesystem (/app/out): point it at /tmp or "
        "another scratch path of the job",
    }
