"""One job's container without the lifecycle (`longjobs run JOB --local`): run as the local ECS
runs a task (local/containers.py), with the run's overrides checked by the trigger's own rules,
its LONGJOBS_* variables, its checkpoints in a local S3, its output on this terminal; the
container's exit code is the answer."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any, TextIO

from local.aws import LocalAws
from local.containers import container_spec
from local.dev import LocalError, load_stack
from local.tasks import create_container, output_lines, remove_container, stop_container
from longjobs_contract import run_event, runs, trigger_config
from longjobs_contract.errors import ValidationError


def run_local(
    stack_name: str,
    job: str,
    overrides: dict[str, Any] | None = None,
    *,
    secrets_file: Path | None = None,
    output: TextIO = sys.stdout,
) -> int:
    """Run the job's container once with `overrides` (the run event's `environment`,
    `command`); its exit code. LocalError for a stack, job or override it cannot run."""
    from local import docker_side

    stack = load_stack(stack_name)
    config = trigger_config.loads(stack.functions_config)
    try:
        request = run_event.parse_run(
            {"job": job, **(overrides or {})}, config.jobs, str(uuid.uuid4())
        )
    except ValidationError as error:
        raise LocalError(str(error)) from None
    engine = docker_side.engine()
    secrets = docker_side.read_secrets(secrets_file)
    images = docker_side.images(engine, stack, only=job)
    aws = LocalAws(stack)
    aws.start()
    try:
        gateway, endpoint = docker_side.container_endpoint(engine, aws)
        run_id = runs.run_id(job, request.idempotency_key)
        platform = {
            runs.RUN_ID_VARIABLE: run_id,
            runs.ATTEMPT_VARIABLE: "1",
            runs.CHECKPOINT_URI_VARIABLE: config.checkpoint_uri(job, run_id),
        }
        task_id = uuid.uuid4().hex
        task: dict[str, Any] = {
            "taskArn": f"{stack.cluster_arn.replace(':cluster/', ':task/')}/{task_id}",
            "overrides": request.overrides(platform),
        }
        definition = stack.task_definitions()[config.jobs[job].task_definition_arn]
        environment = docker_side.container_environment(stack.region, endpoint)
        try:
            spec = container_spec(task, definition, images, environment, secrets)
        except ValueError as error:
            raise LocalError(str(error)) from None
        labels = {
            "longjobs.local": f"single-{task_id[:12]}",
            "longjobs.task-arn": str(task["taskArn"]),
        }
        container = create_container(engine, spec, labels, {docker_side.CONTAINER_HOST: gateway})
        try:
            container.start()
            for _, line in output_lines(container):
                print(line, file=output, flush=True)
            return int(container.wait()["StatusCode"])
        except KeyboardInterrupt:
            stop_container(container, spec.stop_timeout)
            return int(container.wait()["StatusCode"])
        finally:
            remove_container(container)
    finally:
        aws.stop()
