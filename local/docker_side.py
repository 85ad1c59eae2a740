"""The runtime's Docker side: the engine, the jobs' images, the secrets file, and the driver
that runs the local ECS's tasks as containers reachable from the local AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker
import docker.errors

from local.aws import LocalAws
from local.dev import LocalError, Unavailable, new_runtime_id
from local.ecs import LocalEcs
from local.images import BuildError, build_all
from local.stack import LocalStack
from local.tasks import DockerTasks
from local.timers import Timers

ENGINE_TIMEOUT = 300
"""Seconds for one engine call: removing a container that wrote much takes long on vfs."""
CONTAINER_HOST = "host.docker.internal"
"""The name a container reaches the local AWS by (Docker Desktop's own name for its host)."""
ENGINE_ARCHITECTURES = {"x86_64": "X86_64", "amd64": "X86_64", "aarch64": "ARM64", "arm64": "ARM64"}
NO_DOCKER = (
    "no Docker engine answers ({reason}); `make plan` shows what the stack declares without one"
)


def engine() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=ENGINE_TIMEOUT)
        client.ping()
    except docker.errors.DockerException as error:
        raise Unavailable(NO_DOCKER.format(reason=" ".join(str(error).split())[:200])) from None
    return client


def images(
    client: docker.DockerClient, stack: LocalStack, only: str | None = None
) -> dict[str, str]:
    """Task definition family → the local image of its job (of every job, or `only` one),
    built now."""
    builds = {job: folder for job, folder in stack.builds().items() if only in (None, job)}
    try:
        built = build_all(client, stack.name, builds)
    except BuildError as error:
        raise LocalError(str(error)) from None
    jobs = stack.program.outputs["jobs"]
    return {jobs[job]["taskDefinitionFamily"]: tag for job, tag in built.items()}


def read_secrets(path: Path | None) -> dict[str, str]:
    """NAME=value lines (blank lines and # comments skipped): the local values of the jobs'
    secrets, which the runtime never reads from AWS."""
    if path is None:
        return {}
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, equals, value = text.partition("=")
        if not equals or not name.strip():
            raise LocalError(f"{path}:{number}: a secret is NAME=value, not {text[:40]!r}")
        values[name.strip()] = value
    return values


def driver(
    ecs: LocalEcs,
    timers: Timers,
    client: docker.DockerClient,
    aws: LocalAws,
    built: dict[str, str],
    secrets: dict[str, str],
) -> tuple[DockerTasks, list[str]]:
    """The tasks' driver, and what the user should know of how tasks run here."""
    gateway, endpoint = container_endpoint(client, aws)
    environment = container_environment(ecs.stack.region, endpoint)
    tasks = DockerTasks(
        ecs=ecs,
        timers=timers,
        engine=client,
        logs=aws.client("logs"),
        images=built,
        environment=environment,
        secrets=secrets,
        runtime_id=new_runtime_id(),
        extra_hosts={CONTAINER_HOST: gateway},
    )
    return tasks, _architecture_notes(client, ecs.stack)


def container_environment(region: str, endpoint: str) -> dict[str, str]:
    """What every container gets besides its definition's: the local AWS and a region."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        # The task role's credentials, which Fargate serves at AWS_CONTAINER_CREDENTIALS_*,
        # are placeholders here: the local AWS takes any (IAM is not enforced locally).
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }


def container_endpoint(client: docker.DockerClient, aws: LocalAws) -> tuple[str, str]:
    """(the address containers reach this machine at, the local AWS's URL for them).

    On Linux a container reaches the host at its bridge network's gateway, where a server on
    loopback is not listening: the local AWS listens there too (the same data: moto keeps its
    state per process), and containers name it by address, so that boto3 addresses S3 buckets
    by path (a bucket's virtual host name would not resolve). Elsewhere (Docker Desktop)
    `host-gateway` reaches the host's loopback."""
    config = client.networks.get("bridge").attrs.get("IPAM", {}).get("Config") or [{}]
    gateway = config[0].get("Gateway")
    if gateway:
        try:
            return gateway, aws.serve_on(gateway)
        except OSError:
            pass  # not an address of this machine: the engine runs in a VM
    port = aws.endpoint.rsplit(":", 1)[-1]
    return "host-gateway", f"http://{CONTAINER_HOST}:{port}"


def _architecture_notes(client: docker.DockerClient, stack: LocalStack) -> list[str]:
    engine_architecture = ENGINE_ARCHITECTURES.get(str(client.info().get("Architecture")), "")
    return [
        f"{definition.family} declares {definition.architecture}; this engine runs "
        f"{engine_architecture or 'another'}: its container runs as the engine's"
        for definition in stack.task_definitions().values()
        if definition.architecture != engine_architecture
    ]


def running_containers(client: docker.DockerClient, runtime_id: str) -> list[Any]:
    from local.tasks import LABEL

    return client.containers.list(all=True, filters={"label": f"{LABEL}={runtime_id}"})
