"""Fixtures for the trigger handler: the contract and task definitions the program declares."""

from __future__ import annotations

import dataclasses
import itertools
import os

import boto3
import pytest
from moto import mock_aws

# The handler creates its client at import: give it a region and fake credentials first.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ[variable] = "testing"
# Each mock_aws() builds moto's EC2 backend afresh, and by default it loads ~2,600 public AMIs
# into it (twice: on first use and on reset). Fargate tasks use no AMI; no test reads one.
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"

from functions.trigger import handler  # noqa: E402
from longjobs_contract import run_event, trigger_config  # noqa: E402
from longjobs_contract.jobs import JobContract  # noqa: E402
from offline.moto import register_task_definitions  # noqa: E402
from tests.functions.runs_table import create_runs_table  # noqa: E402

REGION = "us-east-1"
# moto replaces boto3's default session with None while it mocks, by default, so every
# `boto3.client` in a test made a new session whose loader parsed the service model again (EC2's
# takes 0.1 s). Keeping the one default session keeps its parsed models; its clients are mocked
# alike, as moto hooks botocore's sending, not the session.
MOTO_CONFIG = {"core": {"reset_boto3_session": False}}


@pytest.fixture(scope="session")
def dev_trigger_config(dev) -> trigger_config.TriggerConfig:
    return trigger_config.loads(dev.trigger_config)


@pytest.fixture
def config_file(dev, tmp_path, monkeypatch):
    """Point the handler at the contract file the components wrote for it."""
    path = tmp_path / trigger_config.CONFIG_FILE
    path.write_text(dev.trigger_config)
    monkeypatch.setenv(trigger_config.CONFIG_PATH_VARIABLE, str(path))
    handler.load_config.cache_clear()
    yield path
    handler.load_config.cache_clear()


# What a run of PROD's jobs may set: generous, so the property tests can draw many names from it.
# Each job declares its own variables and these; `report` keeps DB_PASSWORD, its secret, out.
REPORT_VARIABLES = ("BIG", "REPORT_DAY", "REPORT_ROWS", "V")
SHARED_VARIABLES = tuple(f"VAR_{index:02}" for index in range(40))
# A stack written out by hand, independent of the program: the Stubber tests state the exact
# RunTask requests it must produce.
PROD = trigger_config.TriggerConfig(
    cluster_arn="arn:aws:ecs:eu-west-1:123456789012:cluster/longjobs-prod",
    subnet_ids=("subnet-0123456789abcdef0", "subnet-0fedcba9876543210"),
    security_group_ids=("sg-0123456789abcdef0",),
    assign_public_ip=False,
    runs_table="longjobs-prod-runs",
    run_retention_days=90,
    checkpoint_bucket="longjobs-prod-checkpoints-123456789012-eu-west-1",
    notifications_topic="arn:aws:sns:eu-west-1:123456789012:longjobs-prod-notifications",
    jobs={
        "report": JobContract(
            log_group="/longjobs/prod/jobs",
            task_definition_arn=(
                "arn:aws:ecs:eu-west-1:123456789012:task-definition/longjobs-prod-report:7"
            ),
            container_name="report",
            capacity="spot",
            reserved_environment=("DB_PASSWORD",),
            overridable_environment=tuple(sorted(REPORT_VARIABLES + SHARED_VARIABLES)),
            allow_command_override=True,
        ),
        "import": JobContract(
            log_group="/longjobs/prod/jobs",
            task_definition_arn=(
                "arn:aws:ecs:eu-west-1:123456789012:task-definition/longjobs-prod-import:2"
            ),
            container_name="importer",
            capacity="on-demand",
            # Not report's secret here: another job's secret names are that job's business only.
            # No command override: the job that forbids one.
            overridable_environment=tuple(sorted(("DB_PASSWORD", *SHARED_VARIABLES))),
        ),
    },
)


@pytest.fixture
def prod_config(config_file) -> trigger_config.TriggerConfig:
    """The handler reads PROD instead of the dev program's contract."""
    config_file.write_text(trigger_config.dumps(PROD))
    handler.load_config.cache_clear()
    return PROD


TRIGGER_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:longjobs-prod-trigger"


class Context:
    """What Lambda passes a handler: the request id, and the ARN it was invoked by (a caller
    invokes the unqualified function; a schedule, the schedules' alias)."""

    def __init__(
        self,
        request_id: str = "8f5b3c1e-7d2a-4e8b-9c3f-1a2b3c4d5e6f",
        invoked_function_arn: str = TRIGGER_ARN,
    ):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn


def scheduler_context(request_id: str = "5c1e8f5b-2a7d-4e8b-9c3f-6f1a2b3c4d5e") -> Context:
    """How EventBridge Scheduler's firing reaches the trigger: through its alias."""
    return Context(request_id, f"{TRIGGER_ARN}:{run_event.SCHEDULES_ALIAS}")


_invocations = itertools.count(1)


def another_invocation() -> Context:
    """An invocation of its own: Lambda gives each invocation a new request id, and keeps one
    only across its own retries of that invocation (the `context` fixture, used again, is such
    a retry). A repeat by a caller, another delivery of an event, or a pass is one of these."""
    return Context(f"00000000-0000-4000-8000-{next(_invocations):012x}")


@pytest.fixture
def context() -> Context:
    """One invocation; used again, Lambda's retry of it (the same request id)."""
    return Context()


@pytest.fixture
def aws(dev, dev_trigger_config, config_file, monkeypatch):
    """moto with the stack's cluster, task definitions and runs table; the handler's clients
    point at it.

    moto checks that subnets exist, so the contract file is rewritten with the subnets and
    security group of moto's default VPC; everything else is as the components wrote it.
    """
    with mock_aws(config=MOTO_CONFIG):
        ec2 = boto3.client("ec2", region_name=REGION)
        subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
        groups = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["default"]}]
        )
        moto_network = dataclasses.replace(
            dev_trigger_config,
            subnet_ids=tuple(sorted(s["SubnetId"] for s in subnets["Subnets"])),
            security_group_ids=(groups["SecurityGroups"][0]["GroupId"],),
        )
        config_file.write_text(trigger_config.dumps(moto_network))
        handler.load_config.cache_clear()
        ecs = boto3.client("ecs", region_name=REGION)
        cluster_name = dev_trigger_config.cluster_arn.rsplit("/", 1)[-1]
        ecs.create_cluster(clusterName=cluster_name)
        ecs.put_cluster_capacity_providers(
            cluster=cluster_name,
            capacityProviders=["FARGATE", "FARGATE_SPOT"],
            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        )
        register_task_definitions(ecs, dev)
        monkeypatch.setattr(handler, "ecs", ecs)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_runs_table(dynamodb, dev)
        monkeypatch.setattr(handler, "dynamodb", dynamodb)
        yield ecs
