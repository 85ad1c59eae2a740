"""The image tag: what makes the image, and nothing else, changes it; a base image not pinned by
digest is refused, as a tag-only base could change under an unchanged tag."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from components.dockerfile import base_images
from components.image import image_tag
from offline.program import PROJECT_ROOT

ALPINE = "public.ecr.aws/docker/library/alpine:3.22.2"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the hello-world build folder, to change."""
    copy = tmp_path / "hello-world"
    shutil.copytree(PROJECT_ROOT / "containers" / "hello-world", copy)
    return copy


def with_from(folder: Path, *lines: str) -> Path:
    """The folder, its Dockerfile's lines before the first COPY replaced with `lines`."""
    dockerfile = folder / "Dockerfile"
    text = dockerfile.read_text()
    dockerfile.write_text("\n".join(lines) + "\n" + text[text.index("COPY") :])
    return folder


def test_image_tag_follows_the_build_context(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    first = image_tag(tmp_path, "arm64")
    assert image_tag(tmp_path, "arm64") == first
    assert image_tag(tmp_path, "x86_64") != first
    (tmp_path / "app.py").write_text("print(2)\n")
    changed = image_tag(tmp_path, "arm64")
    assert changed != first
    (tmp_path / "app.py").rename(tmp_path / "main.py")
    assert image_tag(tmp_path, "arm64") != changed
    # Docker tags: at most 128 characters of [A-Za-z0-9_.-].
    assert len(first) <= 128 and first.replace("-", "").isalnum()


def test_the_tag_changes_when_the_base_digest_does(folder):
    before = image_tag(with_from(folder, f"FROM {ALPINE}@{DIGEST_A}"), "arm64")
    after = image_tag(with_from(folder, f"FROM {ALPINE}@{DIGEST_B}"), "arm64")
    assert before != after


def test_the_tag_changes_when_a_base_named_by_a_build_arg_does(folder):
    # The Dockerfile's text is the same: only the base the build arg names differs.
    with_from(folder, f"ARG BASE={ALPINE}@{DIGEST_A}", "FROM ${BASE}")
    first = image_tag(folder, "arm64", {"BASE": f"{ALPINE}@{DIGEST_A}"})
    assert image_tag(folder, "arm64", {"BASE": f"{ALPINE}@{DIGEST_B}"}) != first


def test_the_tag_changes_with_a_build_arg_the_platform_or_any_file(folder):
    tag = image_tag(folder, "arm64")
    assert image_tag(folder, "arm64", {"GREETING": "hello"}) != tag
    assert image_tag(folder, "arm64", {"GREETING": "hello"}) != image_tag(
        folder, "arm64", {"GREETING": "hell", "O": ""}
    )
    assert image_tag(folder, "x86_64").startswith("x86_64-")
    assert image_tag(folder, "x86_64").removeprefix("x86_64-") != tag.removeprefix("arm64-")
    (folder / "hello.sh").chmod(0o644)
    not_executable = image_tag(folder, "arm64")
    assert not_executable != tag  # the executable bit is part of the image
    (folder / "notes.txt").write_text("")
    assert image_tag(folder, "arm64") != not_executable


def test_the_same_build_has_the_same_tag_from_any_checkout(folder):
    here = PROJECT_ROOT / "containers" / "hello-world"
    assert image_tag(folder, "arm64") == image_tag(here, "arm64")
    assert image_tag(here, "arm64") == image_tag(here, "arm64", {})


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (
            [f"FROM {ALPINE}"],
            f"line 1: FROM {ALPINE} is not pinned by digest",
        ),
        (
            ["# syntax=docker/dockerfile:1", f"FROM {ALPINE}@{DIGEST_A}"],
            "line 1: # syntax=docker/dockerfile:1 is not pinned by digest",
        ),
        (
            [f"FROM {ALPINE}@{DIGEST_A}", "COPY --from=busybox:1.37 /bin/busybox /bin/"],
            "line 2: COPY --from=busybox:1.37 is not pinned by digest",
        ),
        (
            [f"FROM {ALPINE}@{DIGEST_A}", "RUN --mount=type=bind,from=busybox:1.37,target=/b ls"],
            "line 2: RUN --mount from=busybox:1.37 is not pinned by digest",
        ),
        (["ARG BASE", "FROM ${BASE}"], "line 2: FROM ${BASE}: a variable it uses has no value"),
        (
            # An instruction continued over lines is named by its first line.
            [
                f"FROM {ALPINE}@{DIGEST_A} AS build",
                "RUN echo one \\",
                "    # a comment inside the instruction",
                "    two",
                "",
                "FROM busybox:1.37",
            ],
            "line 6: FROM busybox:1.37 is not pinned by digest",
        ),
    ],
)
def test_a_base_image_not_pinned_by_digest_is_refused(folder, lines, problem):
    with pytest.raises(ValueError) as refused:
        image_tag(with_from(folder, *lines), "arm64")
    assert str(refused.value).startswith(f"{folder / 'Dockerfile'}: {problem}")
    if "not pinned" in problem:
        assert str(refused.value).endswith(
            "write it as name:tag@sha256:<digest> (`docker buildx imagetools inspect "
            "name:tag` prints the digest)"
        )


def test_scratch_and_earlier_stages_are_no_base_image(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        f"ARG BASE={ALPINE}@{DIGEST_A}\n"
        "FROM ${BASE} AS Build\n"
        "RUN echo built > /out\n"
        "FROM scratch\n"
        "COPY --from=build /out /out\n"
        "COPY --from=0 /bin/sh /bin/sh\n"
        "FROM build\n"
        "RUN --mount=type=bind,from=build,target=/b ls /b\n"
    )
    assert base_images(dockerfile, {}) == ([f"{ALPINE}@{DIGEST_A}"], [])


@pytest.mark.parametrize("job", ["hello-world", "report"])
def test_the_example_images_build_from_digest_pinned_bases(job):
    images, problems = base_images(PROJECT_ROOT / "containers" / job / "Dockerfile", {})
    assert problems == []
    assert len(images) == 1 and "@sha256:" in images[0]
