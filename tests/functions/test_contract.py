"""The trigger's config contract, the one shape both the components and the handler use."""

from __future__ import annotations

import json

import pytest

import contract

CONFIG = contract.TriggerConfig(
    cluster_arn="arn:aws:ecs:eu-west-1:123456789012:cluster/longjobs-prod",
    subnet_ids=("subnet-0123456789abcdef0",),
    security_group_ids=("sg-0123456789abcdef0",),
    assign_public_ip=False,
    jobs={
        "report": contract.JobTarget(
            task_definition_arn="arn:aws:ecs:eu-west-1:123456789012:task-definition/r:3",
            container_name="report",
            capacity="spot",
            reserved_environment=("DB_PASSWORD",),
        )
    },
)


def test_round_trip():
    assert contract.loads(contract.dumps(CONFIG)) == CONFIG


def test_the_file_is_compact_versioned_json():
    text = contract.dumps(CONFIG)
    assert json.loads(text)["version"] == contract.VERSION
    assert " " not in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=2), "version must be 1"),
        (lambda d: d.pop("clusterArn"), "clusterArn must be a non-empty str"),
        (lambda d: d.update(subnetIds="subnet-1"), "subnetIds must be a list"),
        (lambda d: d.update(assignPublicIp="yes"), "assignPublicIp must be a bool"),
        (lambda d: d["jobs"]["report"].update(capacity="cheap"), "jobs.report.capacity must be"),
        (
            lambda d: d["jobs"]["report"].pop("taskDefinitionArn"),
            "jobs.report.taskDefinitionArn must be a non-empty str",
        ),
    ],
)
def test_loads_names_the_bad_field(change, message):
    data = json.loads(contract.dumps(CONFIG))
    change(data)
    with pytest.raises(ValueError, match=message):
        contract.loads(json.dumps(data))


@pytest.mark.parametrize("name", ["REPORT_DAY", "_private", "a1"])
def test_valid_environment_names(name):
    assert contract.env_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("AWS_REGION", "reserved"),
        ("ecs_container_metadata_uri", "reserved"),
        ("1ST", "not a variable name"),
        ("A-B", "not a variable name"),
        ("NAME\n", "not a variable name"),
        ("", "not a variable name"),
        (5, "not a variable name"),
    ],
)
def test_invalid_environment_names(name, message):
    assert message in contract.env_name_problem(name)
