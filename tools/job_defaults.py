"""The plan's per-job runtime defaults: what a job's container may do once it runs on Fargate.

Each is a default a first deploy meets without having written it: a read-only root filesystem
with only its scratch paths writable, an architecture the machine building the image may not
have, Spot capacity, and what an interruption does to a run.
"""

from __future__ import annotations

import json
import platform
from typing import Any

from components.config import JobConfig, StackConfig
from components.config.models import TMP
from longjobs_contract.capacity import PROVIDERS, SPOT
from offline.program import ProgramRun

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
# ECS stops a container after 30 s on Fargate when its definition sets no stopTimeout.
DEFAULT_STOP_TIMEOUT_SECONDS = 30
# platform.machine()'s words for the two architectures Fargate runs (Linux says x86_64 and
# aarch64, macOS x86_64 and arm64, Windows AMD64 and ARM64).
MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
PLATFORMS = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}


def print_runtime_defaults(run: ProgramRun, config: StackConfig) -> None:
    print("\nRuntime defaults: what each job's container may do on Fargate")
    stop_timeouts = _stop_timeouts(run)
    for name, job in sorted(config.jobs.items()):
        source = job.build or job.image
        print(f"  {name}  ({source})")
        for label, value in job_defaults(job, stop_timeouts.get(name), platform.machine()):
            print(f"    {label:<16} {value}")


def job_defaults(job: JobConfig, stop_timeout: int | None, machine: str) -> list[tuple[str, str]]:
    """(label, line) pairs for one job; `machine`: what platform.machine() says here."""
    return [
        ("root filesystem", _root(job)),
        ("architecture", _architecture(job, machine)),
        ("capacity", _capacity(job)),
        ("interruption", _interruption(job, stop_timeout)),
    ]


def _root(job: JobConfig) -> str:
    if not job.readonly_root_filesystem:
        return "writable everywhere (readonlyRootFilesystem: false)"
    # Scratch volumes are bind mounts on the task's ephemeral storage, emptied when the task
    # stops ("Use bind mounts with Amazon ECS").
    writable = ", ".join([TMP, *job.scratch_paths])
    return (
        f"read-only; writable: {writable} (emptied when the task stops; add paths with "
        "scratchPaths)"
    )


def _architecture(job: JobConfig, machine: str) -> str:
    line = f"{job.architecture} ({PLATFORMS[job.architecture]})"
    here = MACHINES.get(machine.lower())
    if job.build is None:
        return f"{line}: the image must hold a {PLATFORMS[job.architecture]} variant"
    if here == job.architecture:
        return f"{line}, built natively on this {machine} machine"
    # Docker builds another architecture's image under QEMU, registered with the kernel's
    # binfmt_misc (Docker's "Multi-platform builds", QEMU): Docker Desktop has it, Docker Engine
    # on Linux needs it installed.
    return (
        f"{line}: this machine is {machine}, so building the image needs emulation "
        "(QEMU registered with binfmt_misc; see docs/troubleshooting.md)"
    )


def _capacity(job: JobConfig) -> str:
    provider = PROVIDERS[job.capacity]
    if job.capacity == SPOT:
        return (
            f"Fargate Spot ({provider}): AWS may stop a task at any time with SIGTERM and two "
            "minutes' warning"
        )
    return (
        f"Fargate on-demand ({provider}): no Spot interruptions; Fargate may still retire a "
        "task for maintenance"
    )


def _interruption(job: JobConfig, stop_timeout: int | None) -> str:
    grace = stop_timeout if stop_timeout is not None else DEFAULT_STOP_TIMEOUT_SECONDS
    stop = f"SIGTERM, then SIGKILL {grace} s later (the container's stopTimeout)"
    if job.interruption_retries == 0:
        return f"{stop}; the run is not re-run (interruptionRetries: 0): it ends FAILED"
    return (
        f"{stop}; the run is re-run up to {job.interruption_retries} times "
        f"(interruptionRetries), on {job.on_interruption} capacity (onInterruption)"
    )


def _stop_timeouts(run: ProgramRun) -> dict[str, int | None]:
    """Each job's container's stopTimeout as its task definition declares it, by container
    name (each job's one container is named after the job)."""
    found: dict[str, int | None] = {}
    for task in run.by_type(TASK_DEFINITION):
        for container in json.loads(task.inputs["containerDefinitions"]):
            timeout: Any = container.get("stopTimeout")
            found[container["name"]] = int(timeout) if timeout is not None else None
    return found
