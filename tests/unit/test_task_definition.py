"""Container definitions checked against botocore's RegisterTaskDefinition model, offline."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from components.config import JobConfig
from components.job import container_definitions, secret_resources
from offline.program import run_program
from tests.unit.helpers import TASK_DEFINITION, containers, dev_config

MODEL = (
    boto3.session.Session(region_name="us-east-1")
    .client("ecs")
    .meta.service_model.operation_model("RegisterTaskDefinition")
    .input_shape
)


def register_request(task) -> dict:
    """The RegisterTaskDefinition request the provider would send for a mocked task definition."""
    inputs = task.inputs
    request = {
        "family": inputs["family"],
        "containerDefinitions": json.loads(inputs["containerDefinitions"]),
        "cpu": inputs["cpu"],
        "memory": inputs["memory"],
        "networkMode": inputs["networkMode"],
        "requiresCompatibilities": inputs["requiresCompatibilities"],
        "executionRoleArn": inputs["executionRoleArn"],
        "taskRoleArn": inputs["taskRoleArn"],
        "runtimePlatform": inputs["runtimePlatform"],
    }
    if "ephemeralStorage" in inputs:
        request["ephemeralStorage"] = {"sizeInGiB": int(inputs["ephemeralStorage"]["sizeInGib"])}
    if "volumes" in inputs:
        request["volumes"] = inputs["volumes"]
    return request


@pytest.mark.parametrize("job", ["hello-world", "report"])
def test_dev_task_definitions_match_the_ecs_api_model(dev, job):
    validate_parameters(register_request(dev.one(TASK_DEFINITION, f"{job}-task")), MODEL)


def test_every_optional_container_setting_matches_the_model():
    config = JobConfig.model_validate(
        {
            "image": "public.ecr.aws/docker/library/python:3.13-slim",
            "entryPoint": ["python"],
            "command": ["-m", "report"],
            "environment": {"A": "1"},
            "secrets": {"B": "arn:aws:ssm:us-east-1:123456789012:parameter/b"},
        }
    )
    definitions = container_definitions("report", config, config.image, "/l/g", "eu-west-1")
    validate_parameters({"family": "f", "containerDefinitions": definitions}, MODEL)


def test_every_job_gets_a_read_only_root_and_a_scratch_volume_at_tmp(dev):
    for job in ("hello-world", "report"):
        task = dev.one(TASK_DEFINITION, f"{job}-task")
        assert task.inputs["volumes"] == [{"name": "tmp"}]
        [container] = containers(dev, job)
        assert container["readonlyRootFilesystem"] is True
        assert container["mountPoints"] == [
            {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}
        ]
        assert "longjobs:readonly-root" not in task.inputs["tags"]


def test_scratch_paths_get_a_volume_each_and_an_opt_out_keeps_them_without_tmp():
    config = dev_config()
    jobs = config["longjobs:jobs"]
    jobs["report"]["scratchPaths"] = ["/var/cache/report", "/data"]
    jobs["hello-world"].update(readonlyRootFilesystem=False, scratchPaths=["/data"])
    run = run_program(config=config)
    report = run.one(TASK_DEFINITION, "report-task")
    assert report.inputs["volumes"] == [
        {"name": "tmp"},
        {"name": "scratch-0"},
        {"name": "scratch-1"},
    ]
    [container] = containers(run, "report")
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == [
        {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False},
        {"sourceVolume": "scratch-0", "containerPath": "/var/cache/report", "readOnly": False},
        {"sourceVolume": "scratch-1", "containerPath": "/data", "readOnly": False},
    ]
    validate_parameters(register_request(report), MODEL)
    # With a writable root, /tmp stays the image's own directory (a Fargate volume there would
    # be root's 0755 unless the image declares it); listed scratch paths are still mounted.
    hello = run.one(TASK_DEFINITION, "hello-world-task")
    assert hello.inputs["volumes"] == [{"name": "scratch-0"}]
    [container] = containers(run, "hello-world")
    assert container["readonlyRootFilesystem"] is False
    assert container["mountPoints"] == [
        {"sourceVolume": "scratch-0", "containerPath": "/data", "readOnly": False}
    ]
    assert hello.inputs["tags"]["longjobs:readonly-root"] == "opt-out"
    assert "longjobs:readonly-root" not in report.inputs["tags"]
    validate_parameters(register_request(hello), MODEL)


def test_a_writable_root_without_scratch_paths_declares_no_volume():
    config = JobConfig.model_validate(
        {"image": "public.ecr.aws/x/y:1", "readonlyRootFilesystem": False}
    )
    [definition] = container_definitions("job", config, "img", "/l/g", "us-east-1")
    assert definition["readonlyRootFilesystem"] is False
    assert "mountPoints" not in definition


def test_the_model_check_catches_a_misspelled_key():
    config = JobConfig.model_validate({"image": "public.ecr.aws/x/y:1"})
    [definition] = container_definitions("job", config, "img", "/l/g", "us-east-1")
    definition["stopTimeOut"] = 120
    with pytest.raises(ParamValidationError, match="stopTimeOut"):
        validate_parameters({"family": "f", "containerDefinitions": [definition]}, MODEL)


@pytest.mark.parametrize(
    ("value_from", "resource"),
    [
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/a/b",
            ["arn:aws:ssm:us-east-1:123456789012:parameter/a/b"],
        ),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123",
            [
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123-??????",
            ],
        ),
        (
            # A partial ARN whose name merely ends like the random suffix.
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-master:password::",
            [
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-master",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-master-??????",
            ],
        ),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db",
            ["arn:aws:secretsmanager:us-east-1:123456789012:secret:db-??????"],
        ),
    ],
)
def test_secret_resources(value_from, resource):
    assert secret_resources(value_from) == resource
