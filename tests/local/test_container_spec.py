"""What the local ECS runs for a task: the dev stack's task definitions as the program declares
them, with a run's overrides, as Fargate would run them."""

from __future__ import annotations

import dataclasses

import pytest

from local.containers import ContainerSpec, container_spec
from local.stack import LocalStack
from longjobs_contract.runs import log_stream

TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/longjobs-dev/0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def report_definition(dev):
    stack = LocalStack(dev, dev.trigger_config)
    return stack.task_definitions()[dev.outputs["jobs"]["report"]["taskDefinitionArn"]]


def task(**override) -> dict:
    container = {"name": "report", **override}
    return {"taskArn": TASK_ARN, "overrides": {"containerOverrides": [container]}}


def spec(definition, task_, secrets=None) -> ContainerSpec:
    images = {definition.family: "longjobs-local/dev-report:latest"}
    return container_spec(task_, definition, images, {"AWS_REGION": "us-east-1"}, secrets or {})


def test_the_report_runs_as_its_task_definition_declares(report_definition):
    environment = [
        {"name": "LONGJOBS_RUN_ID", "value": "r1"},
        {"name": "REPORT_ROWS", "value": "7"},
    ]
    shown = spec(report_definition, task(environment=environment))
    assert shown == ContainerSpec(
        name="report",
        image="longjobs-local/dev-report:latest",
        command=None,
        entry_point=None,
        # The run's override wins over the definition's REPORT_ROWS.
        environment={"AWS_REGION": "us-east-1", "REPORT_ROWS": "7", "LONGJOBS_RUN_ID": "r1"},
        nano_cpus=1_000_000_000,
        memory_mib=2048,
        read_only=True,
        scratch=("/tmp",),
        init=True,
        user=None,
        stop_timeout=120,
        platform="linux/arm64",
        log_group="/longjobs/dev/report",
        log_stream=log_stream(TASK_ARN, "report"),
    )


def test_a_run_command_replaces_the_definitions(report_definition):
    assert spec(report_definition, task(command=["python", "-V"])).command == ["python", "-V"]


def test_a_secret_takes_its_value_from_the_local_file_by_name(report_definition):
    container = {
        **report_definition.containers[0],
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/db"}],
    }
    definition = dataclasses.replace(report_definition, containers=[container])
    assert (
        spec(definition, task(), {"DB_PASSWORD": "s3cret"}).environment["DB_PASSWORD"] == "s3cret"
    )
    with pytest.raises(
        ValueError, match="^ResourceInitializationError: .* no value for DB_PASSWORD$"
    ):
        spec(definition, task())


def test_without_a_stop_timeout_fargate_waits_30_seconds(report_definition):
    container = {k: v for k, v in report_definition.containers[0].items() if k != "stopTimeout"}
    definition = dataclasses.replace(report_definition, containers=[container])
    assert spec(definition, task()).stop_timeout == 30
