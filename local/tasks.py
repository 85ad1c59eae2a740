"""Each local ECS task as a Docker container, run as Fargate runs the task definition's
container: its command and entry point (or a run's override), environment, secrets (values from
a local env file), LONGJOBS_* from the run's overrides, CPU and memory limits, a read-only root
with a fresh volume at each scratch path, the init process, the user, the stop timeout (SIGTERM,
then SIGKILL), and the CPU architecture when the engine has an image for it. Its output goes to
the run's awslogs stream in the local CloudWatch Logs. The container's real start and exit drive
the ECS model's task (`EcsModel.container_started` / `container_exited`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.types import Mount

from local.containers import ContainerSpec, container_spec
from local.ecs import LocalEcs
from local.stack import TaskDefinition
from local.timers import Timers, log

LABEL = "longjobs.local"
"""Every container the runtime starts carries it, valued with the runtime's own id."""
TASK_LABEL = "longjobs.task-arn"


@dataclass
class DockerTasks:
    """The local ECS's driver: one container a task, watched by a worker until it exits."""

    ecs: LocalEcs
    timers: Timers
    engine: docker.DockerClient
    logs: Any
    """A CloudWatch Logs client (the local AWS)."""
    images: dict[str, str]
    """Task definition family → the local image built for its job."""
    environment: dict[str, str]
    """What every container gets besides its definition's: the local AWS endpoint, a region."""
    secrets: dict[str, str]
    runtime_id: str
    extra_hosts: dict[str, str] = field(default_factory=dict)
    _containers: dict[str, Container] = field(default_factory=dict)
    _stop_timeouts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, task: dict[str, Any], definition: TaskDefinition) -> None:
        self.timers.soon(lambda: self._run(task, definition))

    def stop(self, arn: str) -> None:
        """SIGTERM now, SIGKILL after the container's stopTimeout (docker stop does both)."""
        with self._lock:
            container = self._containers.get(arn)
            timeout = self._stop_timeouts.get(arn, 30)
        if container is not None:
            self.timers.soon(lambda: _stop(container, timeout))

    def stop_all(self) -> None:
        """Stop every container this runtime started, each within its stop timeout, and
        remove it (with its volumes)."""
        found = self.engine.containers.list(
            all=True, filters={"label": f"{LABEL}={self.runtime_id}"}
        )
        with self._lock:
            timeouts = dict(self._stop_timeouts)

        def stop(container: Container) -> None:
            _stop(container, timeouts.get(container.labels.get(TASK_LABEL, ""), 30))
            _remove(container)

        # All at once: each may take its whole stop timeout.
        with ThreadPoolExecutor(max(1, len(found))) as stopping:
            list(stopping.map(stop, found))

    def _run(self, task: dict[str, Any], definition: TaskDefinition) -> None:
        arn = task["taskArn"]
        try:
            spec = container_spec(task, definition, self.images, self.environment, self.secrets)
        except ValueError as error:  # worded as ECS's stopped reason
            self._failed(arn, str(error))
            return
        try:
            container = self._create(arn, spec)
        except Exception as error:  # noqa: BLE001 - any of them is the task's failure to start
            self._failed(arn, f"CannotCreateContainerError: {_reason(error)}")
            return
        with self.ecs.lock:
            self.ecs.model.container_created(arn)
            stopping = self.ecs.model.tasks[arn]["desiredStatus"] == "STOPPED"
        exit_code: int | None = None
        try:
            if not stopping and not self._started(arn, container):
                return
            if not stopping:
                with self.ecs.lock:
                    self.ecs.model.container_started(arn)
                self._ship_logs(container, spec)
                exit_code = int(container.wait()["StatusCode"])
        finally:
            with self._lock:
                self._containers.pop(arn, None)
            with self.ecs.lock:
                self.ecs.model.container_exited(arn, exit_code)
            _remove(container)

    def _started(self, arn: str, container: Container) -> bool:
        """Start the container; a refusal (say, its entry point is not in the image) is the
        task's failure to start, as ECS stops it: TaskFailedToStart, CannotStartContainerError."""
        try:
            container.start()
            return True
        except docker.errors.DockerException as error:
            self._failed(arn, f"CannotStartContainerError: {_reason(error)}")
            return False

    def _failed(self, arn: str, reason: str) -> None:
        """The task stops TaskFailedToStart with `reason` (ECS developer guide, "Amazon ECS
        stopped task errors": CannotCreateContainerError, CannotStartContainerError, ...)."""
        with self.ecs.lock:
            self.ecs.model.failed_to_start(arn, reason)

    def _create(self, arn: str, spec: ContainerSpec) -> Container:
        labels = {LABEL: self.runtime_id, TASK_LABEL: arn}
        container = create_container(self.engine, spec, labels, self.extra_hosts)
        with self._lock:
            self._containers[arn] = container
            self._stop_timeouts[arn] = spec.stop_timeout
        return container

    def _ship_logs(self, container: Container, spec: ContainerSpec) -> None:
        """Every line the container writes, to its awslogs stream, as it comes; returns when
        the container's output ends (it exited)."""
        self.logs.create_log_stream(logGroupName=spec.log_group, logStreamName=spec.log_stream)
        for when, message in output_lines(container):
            self.logs.put_log_events(
                logGroupName=spec.log_group,
                logStreamName=spec.log_stream,
                logEvents=[{"timestamp": when, "message": message}],
            )


def create_container(
    engine: docker.DockerClient,
    spec: ContainerSpec,
    labels: dict[str, str],
    extra_hosts: dict[str, str],
) -> Container:
    """The container as Fargate would run it (see `container_spec`), created, not started."""
    options: dict[str, Any] = {
        "image": spec.image,
        "command": spec.command,
        "entrypoint": spec.entry_point,
        "environment": spec.environment,
        "nano_cpus": spec.nano_cpus,
        "mem_limit": f"{spec.memory_mib}m",
        "read_only": spec.read_only,
        "mounts": [Mount(target=path, source=None, type="volume") for path in spec.scratch],
        "init": spec.init,
        "stop_signal": "SIGTERM",
        "labels": labels,
        "extra_hosts": extra_hosts,
        "detach": True,
    }
    if spec.user:
        options["user"] = spec.user
    # The declared architecture, when the engine has the image for it; otherwise the engine's
    # own (a local image of another platform does not match).
    built = engine.images.get(spec.image).attrs.get("Architecture")
    if spec.platform.endswith(f"/{built}"):
        options["platform"] = spec.platform
    return engine.containers.create(**options)


def stop_container(container: Container, timeout: int) -> None:
    _stop(container, timeout)


def remove_container(container: Container) -> None:
    _remove(container)


def _stop(container: Container, timeout: int) -> None:
    try:
        container.stop(timeout=timeout)
    except docker.errors.NotFound:
        pass  # it exited and was removed meanwhile


def _reason(error: Exception) -> str:
    return str(getattr(error, "explanation", None) or error)


def _remove(container: Container) -> None:
    """Remove the container and its scratch volumes; after the task's exit is reported, as a
    removal can take long (vfs copies every layer)."""
    try:
        container.remove(v=True, force=True)
    except docker.errors.NotFound:
        pass  # removed already (by its watcher, or on the way out)
    except docker.errors.DockerException as error:
        log.warning("longjobs local: container %s not removed: %s", container.name, error)


def output_lines(container: Container) -> Iterator[tuple[int, str]]:
    """(epoch milliseconds, text) of each line the container writes, until it exits."""
    return _lines(container.logs(stream=True, follow=True, timestamps=True))


def _lines(chunks: Iterator[bytes]) -> Iterator[tuple[int, str]]:
    """(epoch milliseconds, text) for each line of `docker logs --timestamps` output."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield _line(line)
    if pending:
        yield _line(pending)


def _line(line: bytes) -> tuple[int, str]:
    stamp, _, text = line.decode("utf-8", "replace").partition(" ")
    # Docker's RFC 3339 time has nanoseconds; Python's parser takes up to microseconds.
    head, _, fraction = stamp.rstrip("Z").partition(".")
    when = datetime.fromisoformat(f"{head}.{fraction[:6] or '0'}+00:00")
    return int(when.timestamp() * 1000), text
