"""The trigger's config contract, the one shape both the components and the handler use."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

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


def test_the_name_pattern_is_anchored_for_every_consumer():
    # Components may use it with re.match or a pydantic pattern (a search): it must hold whole.
    assert contract.ENV_NAME_PATTERN == r"^[A-Za-z_][A-Za-z0-9_]*$"
    assert re.search(contract.ENV_NAME_PATTERN, "A-B") is None
    assert re.search(contract.ENV_NAME_PATTERN, "ok_1")


def test_a_boolean_is_not_version_1():
    data = json.loads(contract.dumps(CONFIG))
    data["version"] = True
    with pytest.raises(ValueError, match="version must be 1, not True"):
        contract.loads(json.dumps(data))


@pytest.mark.parametrize("text", ["", "[]", "{not json"])
def test_loads_refuses_what_is_not_a_config_object(text):
    with pytest.raises(ValueError):
        contract.loads(text)


def test_components_and_handler_share_one_definition():
    from functions.trigger import contract as packaged

    assert Path(packaged.__file__).resolve() == Path(contract.__file__).resolve()
    assert packaged.loads(contract.dumps(CONFIG)) == packaged.loads(packaged.dumps(CONFIG))


FUNCTION_DIR = Path(__file__).resolve().parents[2] / "functions" / "trigger"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


def test_the_contract_needs_only_the_standard_library():
    assert imported_modules(FUNCTION_DIR / "contract.py") <= set(sys.stdlib_module_names)


def test_the_handler_needs_only_what_the_lambda_runtime_has():
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore", "contract"}
    assert imported_modules(FUNCTION_DIR / "handler.py") <= allowed


def test_the_handler_reads_its_config_beside_itself_once(monkeypatch, tmp_path):
    import handler

    (tmp_path / contract.CONFIG_FILE).write_text(contract.dumps(CONFIG))
    monkeypatch.delenv(contract.CONFIG_PATH_VARIABLE, raising=False)
    monkeypatch.setattr(handler, "__file__", str(tmp_path / "handler.py"))
    handler.load_config.cache_clear()
    try:
        assert handler.load_config() == CONFIG
        (tmp_path / contract.CONFIG_FILE).unlink()
        assert handler.load_config() == CONFIG  # cached: read once per execution environment
    finally:
        handler.load_config.cache_clear()


def test_importing_the_handler_reads_no_config(tmp_path):
    # A cold start does only the client: a missing file is found at the first request.
    code = "import handler; print(handler.load_config.cache_info().currsize)"
    environment = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        contract.CONFIG_PATH_VARIABLE: str(tmp_path / "missing.json"),
        "PYTHONPATH": str(FUNCTION_DIR),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "0"
