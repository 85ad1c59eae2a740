"""Static checks of every job image's Dockerfile."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

CONTAINERS = Path(__file__).resolve().parents[2] / "containers"
EXAMPLES = ("hello-world", "report")
"""The project's own example jobs. A job a user adds is checked by `make plan` (a base image
pinned by digest, a USER other than root: components/dockerfile.py; hadolint's error-level
findings: components/config/dockerfiles.py), not held to the examples' stricter habits here
(ECR Public bases, a version tag beside the digest, hadolint at its default threshold)."""
DOCKERFILES = [CONTAINERS / name / "Dockerfile" for name in EXAMPLES]


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    lines = dockerfile.read_text().replace("\\\n", " ").splitlines()
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in lines)
        if line and not line.startswith("#")
    ]


def test_every_example_job_has_a_dockerfile():
    assert all(path.is_file() for path in DOCKERFILES)


# A base image from ECR Public, by a version tag for readers and by the digest that tag names for
# the build: a tag can be moved to other content, a digest cannot ("Pull an image by digest",
# docker pull reference), and the image tag the program pushes covers the base by its digest.
PINNED = re.compile(
    r"public\.ecr\.aws/[a-z0-9._/-]+"
    r":(?P<tag>\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?)@(?P<digest>sha256:[0-9a-f]{64})"
)


def unpinned_bases(dockerfile: Path) -> list[str]:
    """Each FROM image (not an earlier stage) that is not `public.ecr.aws/...:<version>@<digest>`,
    and each name:tag given two digests."""
    stages: set[str] = set()
    digests: dict[str, set[str]] = {}
    found = []
    for keyword, argument in instructions(dockerfile):
        if keyword != "FROM":
            continue
        words = [word for word in argument.split() if not word.startswith("--")]
        if words[0].lower() not in stages:
            match = PINNED.fullmatch(words[0])
            if match is None:
                found.append(words[0])
            else:
                digests.setdefault(words[0].split("@")[0], set()).add(match["digest"])
        if len(words) == 3 and words[1].upper() == "AS":
            stages.add(words[2].lower())
    return found + sorted(name for name, seen in digests.items() if len(seen) > 1)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_base_image_is_pinned_to_a_version_and_its_digest(dockerfile):
    assert unpinned_bases(dockerfile) == []


def test_the_digest_rule_is_awake(tmp_path):
    digest = "sha256:" + "0" * 64
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM public.ecr.aws/docker/library/alpine:3.22.2 AS tag-only\n"
        f"FROM public.ecr.aws/docker/library/alpine@{digest} AS digest-only\n"
        f"FROM public.ecr.aws/docker/library/alpine:latest@{digest}\n"
        f"FROM docker.io/library/alpine:3.22.2@{digest}\n"
        f"FROM public.ecr.aws/docker/library/python:3.13.9-slim@{digest}\n"
        f"FROM public.ecr.aws/docker/library/python:3.13.9-slim@sha256:{'1' * 64}\n"
        "FROM tag-only\n"
    )
    assert unpinned_bases(bad) == [
        "public.ecr.aws/docker/library/alpine:3.22.2",
        f"public.ecr.aws/docker/library/alpine@{digest}",
        f"public.ecr.aws/docker/library/alpine:latest@{digest}",
        f"docker.io/library/alpine:3.22.2@{digest}",
        "public.ecr.aws/docker/library/python:3.13.9-slim",
    ]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_runs_as_a_non_root_user(dockerfile):
    users = [argument for keyword, argument in instructions(dockerfile) if keyword == "USER"]
    assert users, "no USER: the job would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_copied_files_exist(dockerfile):
    for keyword, argument in instructions(dockerfile):
        if keyword in ("COPY", "ADD") and "--from=" not in argument:  # not from another stage
            sources = [part for part in argument.split() if not part.startswith("--")][:-1]
            for source in sources:
                assert (dockerfile.parent / source).exists(), source


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_finds_nothing(dockerfile):
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([str(hadolint), str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_awake(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM alpine\nRUN apt-get install curl\n")
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([str(hadolint), str(bad)], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3006" in result.stdout


def test_the_report_images_python_packages_are_pinned_and_hashed():
    folder = CONTAINERS / "report"
    [install] = [a for k, a in instructions(folder / "Dockerfile") if k == "RUN" and "pip" in a]
    assert "--require-hashes" in install and "--only-binary=:all:" in install
    requirements = (folder / "requirements.txt").read_text().replace("\\\n", " ").splitlines()
    pinned = [line.split() for line in requirements if line and not line.startswith("#")]
    assert [p[0].split("==")[0] for p in pinned] == [
        "boto3",
        "botocore",
        "jmespath",
        "python-dateutil",
        "s3transfer",
        "six",
        "urllib3",
    ]
    assert all(len(p) == 2 and p[1].startswith("--hash=sha256:") for p in pinned), pinned
