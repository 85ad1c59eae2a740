"""Each job's image, built from containers/<job>/ with the local Docker engine.

The build runs `docker build` with BuildKit: the Dockerfiles use BuildKit's `COPY --chmod` and
`RUN --mount=type=secret`, which the Docker SDK's builder (the engine's legacy one) refuses
("the --chmod option requires BuildKit"). The Dockerfiles pin each base by digest; on a machine
that cannot reach a registry, a local stand-in made by tests/images/base_images.sh
(`stand-in.invalid/...`, labelled with the pinned reference it stands in for) is built on
instead, from a copy of the Dockerfile that names it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

import docker
import docker.errors
from filelock import FileLock

from offline.program import PROJECT_ROOT

DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
STAND_IN_LABEL = "longjobs.stand-in-for"
CONTEXT_LABEL = "longjobs.local.context"
"""The digest of the files a local image was built from: the same files are not built again."""
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt",)
LOCKS = PROJECT_ROOT / ".longjobs" / "local" / "builds"
"""One build of the same files at a time from this project (a lock file per context digest);
in the project, not a shared temporary folder another user's runtime may own."""


class BuildError(Exception):
    """A job's image could not be built; the message says which and why, in one line."""


def image_tag(stack: str, job: str) -> str:
    return f"longjobs-local/{stack}-{job}:latest"


def build_all(
    engine: docker.DockerClient, stack: str, builds: dict[str, str | None]
) -> dict[str, str]:
    """Job → the local image for it: built from its `build` folder, or the `image` it runs
    (None here: the engine must have it)."""
    return {job: build(engine, stack, job, folder) for job, folder in builds.items()}


def build(engine: docker.DockerClient, stack: str, job: str, build_folder: str | None) -> str:
    if build_folder is None:
        raise BuildError(f"{job}: runs a given image; the local runtime builds from containers/")
    folder = PROJECT_ROOT / build_folder
    if not (folder / "Dockerfile").is_file():
        raise BuildError(f"{job}: no {build_folder}/Dockerfile to build its image from")
    tag = image_tag(stack, job)
    with tempfile.TemporaryDirectory() as work:
        dockerfile = _with_stand_ins(engine, folder / "Dockerfile", Path(work))
        context = context_digest(folder, dockerfile)
        # Runtimes of other stacks starting beside this one build the same job folders: the
        # second to come waits for the first's build, then tags its image.
        LOCKS.mkdir(parents=True, exist_ok=True)
        with FileLock(LOCKS / f"{context[:32]}.lock"):
            if _built_from(engine, tag) == context:
                return tag  # built from these very files: nothing to do
            if _tagged_from_another(engine, context, tag):
                return tag
            command = [DOCKER, "build", "--quiet", *_ca_secret(), "--file", str(dockerfile)]
            built = subprocess.run(
                [*command, "--label", f"{CONTEXT_LABEL}={context}", "--tag", tag, str(folder)],
                capture_output=True,
                text=True,
                env={**os.environ, "DOCKER_BUILDKIT": "1"},
                timeout=900,
            )
    if built.returncode != 0:
        last = (built.stderr.strip().splitlines() or ["docker build failed"])[-1]
        raise BuildError(f"{job}: its image did not build: {last}")
    return tag


def context_digest(folder: Path, dockerfile: Path) -> str:
    """A digest of the build's inputs: every file of the folder (names, modes, contents) and the
    Dockerfile built, which names its bases by digest or by stand-in."""
    digest = hashlib.sha256(dockerfile.read_bytes())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder)}:{path.stat().st_mode:o}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _built_from(engine: docker.DockerClient, tag: str) -> str | None:
    try:
        return engine.images.get(tag).labels.get(CONTEXT_LABEL)
    except docker.errors.ImageNotFound:
        return None


def _tagged_from_another(engine: docker.DockerClient, context: str, tag: str) -> bool:
    """Tag an image already built from these files (for another stack) as `tag`; False when
    there is none."""
    built = engine.images.list(filters={"label": f"{CONTEXT_LABEL}={context}"})
    if not built:
        return False
    repository, _, version = tag.rpartition(":")
    return bool(built[0].tag(repository, version))


def _with_stand_ins(engine: docker.DockerClient, dockerfile: Path, work: Path) -> Path:
    """The Dockerfile, or a copy naming the local stand-in for each pinned base the engine
    does not have but has a stand-in for."""
    lines = dockerfile.read_text().splitlines()
    changed = False
    for index, line in enumerate(lines):
        words = line.split()
        if words[:1] != ["FROM"] or "@sha256:" not in words[1]:
            continue
        stand_in = _stand_in(engine, words[1])
        if stand_in:
            lines[index] = " ".join(["FROM", stand_in, *words[2:]])
            changed = True
    if not changed:
        return dockerfile
    copy = work / "Dockerfile"
    copy.write_text("\n".join(lines) + "\n")
    return copy


def _stand_in(engine: docker.DockerClient, pinned: str) -> str | None:
    try:
        engine.images.get(pinned)
        return None  # the real base is here
    except docker.errors.ImageNotFound:
        pass
    name = "stand-in.invalid/" + pinned.split("@")[0].split("/", 1)[1]
    try:
        labels = engine.images.get(name).labels
    except docker.errors.ImageNotFound:
        return None
    return name if labels.get(STAND_IN_LABEL) == pinned else None


def _ca_secret() -> list[str]:
    """The machine's CA bundle as the build secret `ca` (the report image's pip trusts it)."""
    for bundle in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), *CA_BUNDLES):
        if bundle and Path(bundle).is_file():
            return ["--secret", f"id=ca,src={bundle}"]
    return []
