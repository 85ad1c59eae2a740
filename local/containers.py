"""What Fargate runs for a task, worked out from its task definition and the run's overrides
(ECS developer guide, "Amazon ECS task definition parameters for Fargate"; RunTask's
`overrides` in the API reference): the container as Docker is to run it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.stack import TaskDefinition

DEFAULT_STOP_TIMEOUT = 30
"""Fargate's stopTimeout when a container sets none (task definition parameters: "the default
is 30 seconds"); 120 at most."""
MAX_STOP_TIMEOUT = 120
CPU_UNITS = 1024
"""CPU units in one vCPU."""
PLATFORMS = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    command: list[str] | None
    entry_point: list[str] | None
    environment: dict[str, str]
    nano_cpus: int
    memory_mib: int
    read_only: bool
    scratch: tuple[str, ...]
    """The container paths of its scratch volumes: a fresh volume each."""
    init: bool
    user: str | None
    stop_timeout: int
    platform: str
    log_group: str
    log_stream: str


def container_spec(
    task: dict[str, Any],
    definition: TaskDefinition,
    images: dict[str, str],
    environment: dict[str, str],
    secrets: dict[str, str],
) -> ContainerSpec:
    """The task's one container; ValueError, worded as ECS's stopped reason, when it cannot run."""
    if len(definition.containers) != 1:
        raise ValueError(f"{definition.family}: the local runtime runs tasks of one container")
    [container] = definition.containers
    overrides = task.get("overrides") or {}
    override: dict[str, Any] = next(
        (o for o in overrides.get("containerOverrides", []) if o.get("name") == container["name"]),
        {},
    )
    image = images.get(definition.family)
    if image is None:
        raise ValueError(f"CannotPullContainerError: no local image for {definition.family}")
    options = container.get("logConfiguration", {}).get("options", {})
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    return ContainerSpec(
        name=container["name"],
        image=image,
        command=override.get("command") or container.get("command"),
        entry_point=container.get("entryPoint"),
        environment={
            **environment,
            **_pairs(container.get("environment", [])),
            **_secrets(container.get("secrets", []), secrets),
            **_pairs(override.get("environment", [])),
        },
        nano_cpus=int(int(overrides.get("cpu") or definition.cpu) * 1e9 / CPU_UNITS),
        memory_mib=int(overrides.get("memory") or definition.memory),
        read_only=bool(container.get("readonlyRootFilesystem")),
        scratch=tuple(m["containerPath"] for m in container.get("mountPoints", [])),
        init=bool(container.get("linuxParameters", {}).get("initProcessEnabled")),
        user=container.get("user"),
        stop_timeout=min(int(container.get("stopTimeout", DEFAULT_STOP_TIMEOUT)), MAX_STOP_TIMEOUT),
        platform=PLATFORMS[definition.architecture],
        # awslogs names a stream prefix/container-name/ecs-task-id ("Send Amazon ECS logs to
        # CloudWatch"); the supervisor's notices read it by that name.
        log_group=options["awslogs-group"],
        log_stream=f"{options['awslogs-stream-prefix']}/{container['name']}/{task_id}",
    )


def _pairs(items: list[dict[str, str]]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in items}


def _secrets(declared: list[dict[str, str]], values: dict[str, str]) -> dict[str, str]:
    """Each secret's value from the local secrets file, by the variable's name: never from AWS."""
    missing = [s["name"] for s in declared if s["name"] not in values]
    if missing:
        raise ValueError(
            "ResourceInitializationError: unable to pull secrets: the local secrets file "
            f"gives no value for {', '.join(missing)}"
        )
    return {s["name"]: values[s["name"]] for s in declared}
