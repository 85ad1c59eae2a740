"""A job's local image is built again when, and only when, the files it is built from change,
and once for runtimes of several stacks starting together."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import docker
import docker.errors

from local import images
from local.images import context_digest
from tests.local.conftest import ROOT, needs_docker


def test_the_digest_changes_with_a_files_contents_name_or_mode_and_with_the_dockerfile(tmp_path):
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM stand-in.invalid/x:1\n")
    (folder / "run.sh").write_text("echo one\n")
    dockerfile = folder / "Dockerfile"
    first = context_digest(folder, dockerfile)
    assert context_digest(folder, dockerfile) == first
    (folder / "run.sh").write_text("echo two\n")
    second = context_digest(folder, dockerfile)
    assert second != first
    os.chmod(folder / "run.sh", 0o755)
    third = context_digest(folder, dockerfile)
    assert third != second
    (folder / "run.sh").rename(folder / "start.sh")
    assert context_digest(folder, dockerfile) != third
    copy = tmp_path / "Dockerfile.copy"
    copy.write_text("FROM other\n")
    assert context_digest(folder, copy) != context_digest(folder, dockerfile)


def test_runtimes_starting_together_build_a_job_folder_once(tmp_path):
    needs_docker()
    folder = tmp_path / "hello"
    shutil.copytree(ROOT / "containers" / "hello-world", folder)
    (folder / "marker").write_text(uuid.uuid4().hex)  # files no image was built from yet
    engine = docker.from_env()
    builds: list[list[str]] = []
    real_run = subprocess.run

    def counted(command, **options):
        if command[1:2] == ["build"]:
            builds.append(command)
        return real_run(command, **options)

    stacks = [f"test-{uuid.uuid4().hex[:8]}-{side}" for side in ("a", "b")]
    try:
        with mock.patch.object(images.subprocess, "run", counted), ThreadPoolExecutor(2) as pool:
            tags = list(pool.map(lambda s: images.build(engine, s, "hello", str(folder)), stacks))
        assert len(builds) == 1
        assert len({engine.images.get(tag).id for tag in tags}) == 1
    finally:
        for stack in stacks:
            with contextlib.suppress(docker.errors.ImageNotFound):
                engine.images.remove(images.image_tag(stack, "hello"), force=True)
