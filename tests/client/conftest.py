"""The client against a dev stack in one process (tests/client/world.py): moto's DynamoDB,
CloudWatch Logs and SNS, the ECS model, the real trigger and supervisor handlers."""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ[variable] = "testing"
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"

from longjobs import Stack  # noqa: E402
from longjobs.outputs import parse  # noqa: E402
from tests.client.world import open_world  # noqa: E402


@pytest.fixture
def outputs_file(dev, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(dev.outputs))
    return path


@pytest.fixture
def world(dev, tmp_path):
    """The dev stack running in process; the client's sessions and clock are the world's."""
    with open_world(dev, tmp_path) as running:
        yield running


@pytest.fixture
def stack(world, dev) -> Stack:
    return Stack(parse(json.dumps(dev.outputs), "the dev stack's outputs"))
