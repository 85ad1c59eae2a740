"""The job images, built with Docker and run as ECS runs them: an init process, SIGTERM on stop,
a read-only root filesystem with a writable volume at /tmp and at each scratch path.

On Fargate a scratch volume is a bind mount that is owned by root with mode 0755 unless the image
declares the same path as a VOLUME, whose owner and mode it then takes ("Use bind mounts with
Amazon ECS", considerations). Here each scratch path is a fresh Docker volume, which Docker fills
from the image's directory with its owner and mode; the test also asserts that the image declares
the path, which is what makes Fargate do the same.

The Dockerfiles name each base image by digest, which no image made here can have (Docker
resolves `name:tag@sha256:...` locally only through a RepoDigest, which only a pull or a push
records): each image is built from its real folder with a copy of its Dockerfile that names the
base's local stand-in (`stand-in.invalid/...`, made by base_images.sh) instead. The stand-ins offer
what the jobs use; they are not the real bases, and these tests say nothing of those.

Needs a Docker engine and the stand-ins. Without them these tests skip, unless
LONGJOBS_REQUIRE_DOCKER=1 (CI sets it), where they fail instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.containers.s3_server import PREFIX, URI, local_s3

ROOT = Path(__file__).resolve().parents[2]
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
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
    """The pinned reference (`name:tag@sha256:...`) of the job's first FROM."""
    for line in (ROOT / "containers" / job / "Dockerfile").read_text().splitlines():
        if line.upper().startswith("FROM "):
            return line.split()[1]
    raise AssertionError(f"{job} has no FROM")


def stand_in(reference: str) -> str:
    """The local stand-in base_images.sh makes for a pinned reference: its registry host
    replaced by `stand-in.invalid` (a name that never resolves), its digest dropped."""
    name = reference.split("@")[0]
    return f"stand-in.invalid/{name.split('/', 1)[1]}"


def made_for(image: str) -> str | None:
    label = '{{index .Config.Labels "longjobs.stand-in-for"}}'
    found = docker("image", "inspect", "--format", label, image, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def with_stand_ins(job: str, into: Path) -> Path:
    """A copy of the job's Dockerfile whose FROM lines name the local stand-ins."""
    lines = (ROOT / "containers" / job / "Dockerfile").read_text().splitlines()
    for i, line in enumerate(lines):
        words = line.split()
        if words[:1] == ["FROM"] and "@sha256:" in words[1]:
            lines[i] = " ".join(["FROM", stand_in(words[1]), *words[2:]])
    dockerfile = into / f"{job}.Dockerfile"
    dockerfile.write_text("\n".join(lines) + "\n")
    return dockerfile


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


def ca_secret() -> list[str]:
    """The machine's CA bundle as the build secret `ca`, which the report image's pip trusts:
    PyPI is reached through whatever TLS proxy this machine's own pip goes through."""
    for bundle in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), CA_BUNDLE):
        if bundle and Path(bundle).is_file():
            return ["--secret", f"id=ca,src={bundle}"]
    return []


def missing() -> str | None:
    if not Path(DOCKER).exists():
        return f"no Docker client at {DOCKER}"
    if docker("info", check=False, timeout=30).returncode != 0:
        return "no Docker engine is running"
    for job in ("hello-world", "report"):
        pinned = base_image(job)
        if made_for(stand_in(pinned)) != pinned:
            return f"no stand-in for {pinned}: run tests/images/base_images.sh"
    return None


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    reason = missing()
    if reason:
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    tags: dict[str, str] = {}
    dockerfiles = tmp_path_factory.mktemp("dockerfiles")

    def build_job(job: str) -> str:
        """The job's image, built once for every test of the module (none changes it)."""
        if job in tags:
            return tags[job]
        tag = f"longjobs-test/{job}:{uuid.uuid4().hex[:12]}"
        folder = str(ROOT / "containers" / job)
        dockerfile = str(with_stand_ins(job, dockerfiles))
        docker("build", "--quiet", *ca_secret(), "--file", dockerfile, "--tag", tag, folder,
               timeout=600)  # fmt: skip
        tags[job] = tag
        return tag

    yield build_job
    if tags:
        docker("rmi", "--force", *tags.values(), check=False)


@pytest.mark.parametrize("job", ["hello-world", "report"])
def test_each_image_is_built_on_the_stand_in_for_its_pinned_base_and_says_so(build, job):
    # The stand-in's label reaches the image built on it: this image is not the one the
    # Dockerfile pins, and says which one it stands in for.
    image = build(job)
    assert made_for(image) == base_image(job)


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


def test_report_image_checkpoints_to_s3_and_a_new_container_does_only_the_rest(build, tmp_path):
    """Two attempts of one run on two tasks: nothing on the first one's disk survives it, the
    second finds the checkpoint in S3 (moto's server on this machine, reached over the host's
    network as the task reaches S3) and does only the rest."""
    image = build("report")
    ecs = ecs_run_options(image)
    tmp_path.chmod(0o777)  # the job runs as an unprivileged user
    job_env = [
        "-e", "REPORT_DAY=2026-11-01", "-e", "REPORT_ROWS=2000", "-e", "REPORT_BATCH=200",
        "-e", f"LONGJOBS_CHECKPOINT_URI={URI}",
    ]  # fmt: skip
    with local_s3() as s3:
        job_env += [f"--env={name}={value}" for name, value in s3.environment().items()]
        network = ["--network", "host"]
        first = docker(
            "run", "--detach", *ecs, *network, *job_env, "-e", "REPORT_STEP_SECONDS=2", image
        ).stdout.strip()
        try:
            deadline = time.monotonic() + 30
            while '"progress"' not in docker("logs", first).stdout:
                assert time.monotonic() < deadline, docker("logs", first).stdout
                time.sleep(0.2)
            docker("stop", "--time", "120", first)
            exit_code = int(docker("wait", first).stdout.strip())
            logs = [json.loads(line) for line in docker("logs", first).stdout.splitlines()]
        finally:
            docker("rm", "--force", first, check=False)
        assert exit_code == 143, logs
        assert logs[-1]["event"] == "interrupted" and logs[-1]["checkpoint"] == URI
        stopped_at = logs[-1]["row"]
        assert s3.keys() == [f"{PREFIX}checkpoint.json", f"{PREFIX}rows.csv.partial"]

        output = ["--volume", f"{tmp_path}:/data", "-e", "REPORT_OUTPUT=/data"]
        second = docker("run", "--rm", *ecs, *network, *job_env, *output, image, check=False)
        assert second.returncode == 0, second.stdout + second.stderr
        logs = [json.loads(line) for line in second.stdout.splitlines()]
        assert {"event": "resumed", "row": stopped_at, "checkpoint": URI} in logs
        steps = [e["step"] for e in logs if e["event"] == "progress"]
        assert steps == list(range(stopped_at // 200 + 1, 11))  # only the rest
        assert s3.keys() == []
    # The report is exactly what one uninterrupted run writes.
    fresh = tmp_path / "fresh"
    fresh_env = {"PATH": os.environ["PATH"], "REPORT_DAY": "2026-11-01", "REPORT_ROWS": "2000",
                 "REPORT_BATCH": "200", "REPORT_OUTPUT": str(fresh)}  # fmt: skip
    script = ROOT / "containers" / "report" / "report.py"
    subprocess.run([sys.executable, str(script)], env=fresh_env, check=True, capture_output=True)
    assert (tmp_path / "rows.csv").read_bytes() == (fresh / "rows.csv").read_bytes()
    assert (tmp_path / "summary.json").read_text() == (fresh / "summary.json").read_text()
