"""A job's local image is built again when, and only when, the files it is built from change."""

from __future__ import annotations

import os

from local.images import context_digest


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
