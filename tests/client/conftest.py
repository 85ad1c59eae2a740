"""The client against a dev stack in one process (tests/client/world.py): moto's DynamoDB,
CloudWatch Logs and SNS, the ECS model, the real trigger and supervisor handlers."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from moto import mock_aws

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ[variable] = "testing"
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"

import longjobs.aws  # noqa: E402
import longjobs.stack  # noqa: E402
from functions.supervisor import supervisor  # noqa: E402
from functions.trigger import handler  # noqa: E402
from longjobs import Stack  # noqa: E402
from longjobs.outputs import parse  # noqa: E402
from longjobs_contract import trigger_config  # noqa: E402
from tests.client.world import VirtualClock, World, start_of_world  # noqa: E402
from tests.functions.runs_table import create_runs_table  # noqa: E402

MOTO_CONFIG = {"core": {"reset_boto3_session": False}}


@pytest.fixture
def outputs_file(dev, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(dev.outputs))
    return path


@pytest.fixture
def world(dev, tmp_path, monkeypatch):
    """The dev stack running in process; the client's sessions and clock are the world's."""
    config = trigger_config.loads(dev.trigger_config)
    region = config.region
    with mock_aws(config=MOTO_CONFIG):
        dynamodb = boto3.client("dynamodb", region_name=region)
        create_runs_table(dynamodb, dev)
        logs = boto3.client("logs", region_name=region)
        for group in sorted({job.log_group for job in config.jobs.values()}):
            logs.create_log_group(logGroupName=group)
        sns = boto3.client("sns", region_name=region)
        sns.create_topic(Name=config.notifications_topic.rsplit(":", 1)[-1])
        if config.supervisor_failure_queue:
            sqs = boto3.client("sqs", region_name=region)
            sqs.create_queue(QueueName=config.supervisor_failure_queue)
            monkeypatch.setattr(supervisor, "sqs", sqs)
        path = tmp_path / trigger_config.CONFIG_FILE
        path.write_text(dev.trigger_config)
        monkeypatch.setenv(trigger_config.CONFIG_PATH_VARIABLE, str(path))
        handler.load_config.cache_clear()
        supervisor.load_config.cache_clear()
        world = World(
            VirtualClock(start_of_world()), config, logs, dev.outputs["triggerFunctionArn"], path
        )
        for module in (handler, supervisor):
            monkeypatch.setattr(module, "dynamodb", dynamodb)
            monkeypatch.setattr(module, "ecs", world.ecs)
        monkeypatch.setattr(supervisor, "sns", sns)
        monkeypatch.setattr(supervisor, "logs", logs)
        world.clock.after(60, world.reconcile)
        monkeypatch.setattr(longjobs.aws, "session", lambda: session_of(world))
        monkeypatch.setattr(longjobs.stack, "SystemClock", lambda: world.clock)
        yield world
        handler.load_config.cache_clear()
        supervisor.load_config.cache_clear()


def session_of(world: World) -> boto3.session.Session:
    """A boto3 session whose Lambda calls reach the world's trigger (before moto sees them)."""
    session = boto3.session.Session()
    session.events.register_first("before-send.lambda.Invoke", world.invoke)
    return session


@pytest.fixture
def stack(world, dev) -> Stack:
    return Stack(parse(json.dumps(dev.outputs), "the dev stack's outputs"))
