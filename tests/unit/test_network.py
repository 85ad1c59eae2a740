"""`network.create`: a new VPC from awsx, its flow logs and default group, and, without NAT, the
VPC endpoints tasks need.

awsx's `ec2.Vpc` is a remote (multi-language) component: under mocks it is one opaque resource
with no children, so these tests check what it is asked for (its inputs) and that what it
answers (`vpcId`, its subnet ids by type, its route tables) reaches the resources made here
and the tasks. The subnets, route tables and NAT gateways it makes are its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi_aws as aws
import pytest
import yaml

from components.context import StackContext
from components.network import (
    UnknownPartitionError,
    endpoint_service_name,
    endpoint_services,
)
from functions.common import attempts, records
from longjobs_contract import run_event, runs, trigger_config
from offline.program import MOCK_ACCOUNT, VPC, AwsMocks, ProgramRun, run_program
from tests.unit.helpers import dev_config, statements, trust

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SSM_SECRET = f"arn:aws:ssm:eu-west-2:{MOCK_ACCOUNT}:parameter/report/db"
SECRETS_MANAGER_SECRET = f"arn:aws:secretsmanager:eu-west-2:{MOCK_ACCOUNT}:secret:report/api"
# A region other than the dev stack's: service names must follow the stack's region.
REGION = "eu-west-2"


def only_vpc(run):
    (vpc,) = run.by_type(VPC)
    return vpc


def created(
    create: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    mocks: AwsMocks | None = None,
) -> ProgramRun:
    """The dev stack in REGION with `network.create` (and the report job's secrets)."""
    config = dev_config()
    config["aws:region"] = REGION
    config["longjobs:network"] = {"create": create or {}}
    if secrets:
        config["longjobs:jobs"]["report"]["secrets"] = secrets
    return run_program(config=config, mocks=mocks)


@pytest.fixture(scope="module")
def endpoints_only() -> tuple[ProgramRun, AwsMocks]:
    mocks = AwsMocks(REGION)
    return created({"natGateways": "none"}, mocks=mocks), mocks


@pytest.fixture(scope="module")
def single() -> ProgramRun:
    return created()


def vpc_state(run: ProgramRun) -> dict[str, Any]:
    return only_vpc(run).state


def group_id(run: ProgramRun, name: str) -> str:
    """A security group's id, the tail of its ARN."""
    return run.one(SECURITY_GROUP, name).state["arn"].rsplit("/", 1)[-1]


def tasks_group_id(run: ProgramRun) -> str:
    return group_id(run, "network-egress-only")


@pytest.mark.parametrize(
    ("create", "strategy", "subnets"),
    [
        ({}, "Single", [{"type": "Private"}, {"type": "Public"}]),
        ({"natGateways": "single"}, "Single", [{"type": "Private"}, {"type": "Public"}]),
        ({"natGateways": "onePerAz"}, "OnePerAz", [{"type": "Private"}, {"type": "Public"}]),
        ({"natGateways": "none"}, "None", [{"type": "Isolated"}]),
    ],
)
def test_the_vpc_is_asked_for_the_nat_choice_and_its_subnets(create, strategy, subnets):
    vpc = only_vpc(created(create))
    assert vpc.inputs == {
        "cidrBlock": "10.0.0.0/16",
        "numberOfAvailabilityZones": 2,
        "subnetStrategy": "Auto",
        "subnetSpecs": subnets,
        "natGateways": {"strategy": strategy},
        "enableDnsHostnames": True,
        "enableDnsSupport": True,
        "tags": {"team": "platform", "longjobs:stack": "dev", "Name": "longjobs-dev"},
    }
    assert not vpc.custom  # a component, opaque under mocks


def test_zones_and_block_reach_the_vpc():
    vpc = only_vpc(created({"availabilityZones": 3, "cidrBlock": "172.20.0.0/20"}))
    assert (vpc.inputs["numberOfAvailabilityZones"], vpc.inputs["cidrBlock"]) == (
        3,
        "172.20.0.0/20",
    )


def test_with_nat_tasks_run_in_the_private_subnets_without_a_public_ip(single):
    vpc = vpc_state(single)
    assert len(vpc["privateSubnetIds"]) == 2
    network = single.one("aws:ecs/service:Service", "report-service").inputs["networkConfiguration"]
    assert network == {
        "subnets": vpc["privateSubnetIds"],
        "securityGroups": [tasks_group_id(single)],
        "assignPublicIp": False,
    }
    assert single.outputs["network"] == {
        "subnetIds": vpc["privateSubnetIds"],
        "securityGroupIds": [tasks_group_id(single)],
        "assignPublicIp": False,
        "vpcId": vpc["vpcId"],
    }
    assert "aws:ec2/getVpc:getVpc" not in single.invokes  # no default VPC needed


def test_the_tasks_group_is_in_the_new_vpc_and_egress_only(single):
    group = single.one(SECURITY_GROUP, "network-egress-only")
    assert group.inputs["vpcId"] == vpc_state(single)["vpcId"]
    assert group.inputs["name"] == "longjobs-dev-tasks"
    assert not group.inputs.get("ingress")


def test_runs_the_trigger_starts_get_the_vpcs_subnets_and_no_public_ip(endpoints_only):
    run, _ = endpoints_only
    config = trigger_config.loads(run.trigger_config)
    request = run_event.parse_run({"job": "report", "idempotencyKey": "k"}, config.jobs, "r")
    record = records.new_record(runs.run_id("report", "k"), request, records.now())
    params = attempts.run_task_request(config, record, attempts.Attempt(1, "spot"))
    assert params["networkConfiguration"] == {
        "awsvpcConfiguration": {
            "subnets": vpc_state(run)["isolatedSubnetIds"],
            "assignPublicIp": "DISABLED",
            "securityGroups": [tasks_group_id(run)],
        }
    }


@pytest.mark.parametrize("nat", ["single", "onePerAz"])
def test_with_nat_only_the_free_s3_gateway_endpoint_is_made(nat):
    # Image layers and checkpoints through the gateway cost nothing; through NAT, each GB.
    run = created({"natGateways": nat}, secrets={"DB": SSM_SECRET})
    [gateway] = run.by_type(ENDPOINT)
    assert gateway.inputs["vpcEndpointType"] == "Gateway"
    assert gateway.inputs["serviceName"] == f"com.amazonaws.{REGION}.s3"
    assert gateway.inputs["routeTableIds"]
    assert [g.name for g in run.by_type(SECURITY_GROUP)] == ["network-egress-only"]


@pytest.mark.parametrize(
    ("secrets", "interfaces"),
    [
        ({}, ["ecr.api", "ecr.dkr", "logs"]),
        ({"DB": SSM_SECRET}, ["ecr.api", "ecr.dkr", "logs", "ssm"]),
        ({"API": SECRETS_MANAGER_SECRET}, ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]),
        (
            {"DB": SSM_SECRET, "API": SECRETS_MANAGER_SECRET},
            ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"],
        ),
    ],
)
def test_without_nat_each_service_tasks_need_gets_an_endpoint(secrets, interfaces):
    run = created({"natGateways": "none"}, secrets=secrets)
    by_name = {e.name: e.inputs for e in run.by_type(ENDPOINT)}
    assert sorted(by_name) == sorted(f"network-{s}" for s in [*interfaces, "s3"])
    for service in interfaces:
        assert by_name[f"network-{service}"]["serviceName"] == f"com.amazonaws.{REGION}.{service}"
        assert by_name[f"network-{service}"]["vpcEndpointType"] == "Interface"
    assert by_name["network-s3"]["serviceName"] == f"com.amazonaws.{REGION}.s3"
    assert by_name["network-s3"]["vpcEndpointType"] == "Gateway"


def test_interface_endpoints_are_in_the_tasks_subnets_behind_their_own_group(endpoints_only):
    run, _ = endpoints_only
    vpc = vpc_state(run)
    group = group_id(run, "network-endpoints")
    interfaces = [e for e in run.by_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]
    assert len(interfaces) == 3
    for endpoint in interfaces:
        assert endpoint.inputs["vpcId"] == vpc["vpcId"]
        assert endpoint.inputs["subnetIds"] == vpc["isolatedSubnetIds"]
        assert endpoint.inputs["securityGroupIds"] == [group]
        assert endpoint.inputs["privateDnsEnabled"] is True


def test_the_endpoints_group_lets_in_https_from_the_tasks_only(endpoints_only):
    run, _ = endpoints_only
    group = run.one(SECURITY_GROUP, "network-endpoints")
    assert group.inputs["name"] == "longjobs-dev-endpoints"
    assert group.inputs["vpcId"] == vpc_state(run)["vpcId"]
    assert group.inputs["ingress"] == [
        {
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "securityGroups": [tasks_group_id(run)],
            "description": "HTTPS from the tasks",
        }
    ]
    assert group.inputs["egress"] == []


def test_the_s3_gateway_is_on_the_route_tables_the_vpc_answered(endpoints_only):
    run, mocks = endpoints_only
    gateway = run.one(ENDPOINT, "network-s3")
    assert len(mocks.child_ids) == 2  # one isolated subnet, so one route table, per zone
    assert gateway.inputs["routeTableIds"] == list(mocks.child_ids.values())
    assert gateway.inputs["vpcId"] == vpc_state(run)["vpcId"]
    assert "subnetIds" not in gateway.inputs and "securityGroupIds" not in gateway.inputs


@pytest.mark.parametrize("nat", ["single", "none"])
def test_the_default_group_of_the_vpc_holds_no_rules(nat):
    run = created({"natGateways": nat})
    group = run.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-group")
    assert group.inputs["vpcId"] == vpc_state(run)["vpcId"]
    assert (group.inputs["ingress"], group.inputs["egress"]) == ([], [])


def test_every_packet_of_the_vpc_is_logged_to_a_group_kept_a_year(single):
    flow_log = single.one("aws:ec2/flowLog:FlowLog", "network-flow-log")
    group = single.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    role = single.one("aws:iam/role:Role", "network-flow-logs-role")
    assert group.inputs["name"] == "/longjobs/dev/vpc/flow-logs"
    assert group.inputs["retentionInDays"] == 365
    assert flow_log.inputs["vpcId"] == vpc_state(single)["vpcId"]
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    assert flow_log.inputs["logDestination"] == group.state["arn"]
    assert flow_log.inputs["iamRoleArn"] == role.state["arn"]
    assert role.inputs["path"] == "/longjobs-dev/"


def test_only_this_accounts_flow_logs_may_assume_the_role(single):
    assert trust(single, "network-flow-logs-role") == {
        "Effect": "Allow",
        "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{REGION}:{MOCK_ACCOUNT}:vpc-flow-log/*"},
        },
    }


def test_the_flow_log_role_may_write_its_group_only(single):
    group = f"arn:aws:logs:{REGION}:{MOCK_ACCOUNT}:log-group:/longjobs/dev/vpc/flow-logs"
    found = statements(single, "network-flow-logs-policy")
    assert found == [
        {
            "Sid": "FlowLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{group}:log-stream:*",
        },
        {
            "Sid": "FlowLogStreamsList",
            "Effect": "Allow",
            "Action": "logs:DescribeLogStreams",
            "Resource": f"{group}:*",
        },
        {
            "Sid": "FlowLogGroupsList",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            # A list call on the account's groups: it takes no resource ARN.
            "Resource": "*",
        },
    ]
    for statement in found:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in action for action in actions)
        # Only the list call, which takes no resource ARN, is on "*".
        assert statement["Resource"] != "*" or actions == ["logs:DescribeLogGroups"]


def test_without_create_nothing_of_it_is_made(dev):
    assert not dev.by_type(VPC)
    assert not dev.by_type(ENDPOINT)
    assert not dev.by_type("aws:ec2/flowLog:FlowLog")
    assert not dev.by_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")


def test_a_stack_file_with_create_is_planned(tmp_path: Path):
    config = dev_config()
    config["longjobs:network"] = {"create": {"availabilityZones": 3, "natGateways": "onePerAz"}}
    stack_file = tmp_path / "Pulumi.hardened.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}))
    run = run_program(stack_file)
    assert run.stack == "hardened"
    assert only_vpc(run).inputs["natGateways"] == {"strategy": "OnePerAz"}
    assert len(run.outputs["network"]["subnetIds"]) == 3
    assert run.outputs["network"]["vpcId"] == vpc_state(run)["vpcId"]
    assert run.config is not None and run.config.network.create is not None


def context(partition: str, region: str) -> StackContext:
    return StackContext("longjobs", "dev", MOCK_ACCOUNT, region, partition)


@pytest.mark.parametrize(
    ("partition", "region", "service", "name"),
    [
        ("aws", "us-east-1", "ecr.dkr", "com.amazonaws.us-east-1.ecr.dkr"),
        ("aws-us-gov", "us-gov-west-1", "ecr.api", "com.amazonaws.us-gov-west-1.ecr.api"),
        ("aws-cn", "cn-north-1", "ecr.api", "cn.com.amazonaws.cn-north-1.ecr.api"),
        ("aws-cn", "cn-northwest-1", "ecr.dkr", "cn.com.amazonaws.cn-northwest-1.ecr.dkr"),
        ("aws-cn", "cn-north-1", "logs", "com.amazonaws.cn-north-1.logs"),
        ("aws-cn", "cn-north-1", "secretsmanager", "com.amazonaws.cn-north-1.secretsmanager"),
        ("aws-cn", "cn-north-1", "s3", "com.amazonaws.cn-north-1.s3"),
    ],
)
def test_service_names_follow_the_partition(partition, region, service, name):
    assert endpoint_service_name(context(partition, region), service) == name


def test_a_partition_whose_names_are_not_known_is_refused():
    with pytest.raises(UnknownPartitionError, match="partition aws-iso.*single or onePerAz"):
        endpoint_service_name(context("aws-iso", "us-iso-east-1"), "ecr.api")


def test_secret_services_add_their_endpoints_in_a_fixed_order():
    assert endpoint_services(frozenset({"ssm", "secretsmanager"})) == (
        "ecr.api",
        "ecr.dkr",
        "logs",
        "secretsmanager",
        "ssm",
    )


@pytest.mark.parametrize(
    ("create", "name"),
    [
        ({"natGateways": "none"}, "network-vpc-isolated-2az"),
        ({"natGateways": "single"}, "network-vpc-nat-2az"),
        ({"natGateways": "onePerAz", "availabilityZones": 3}, "network-vpc-nat-3az"),
    ],
)
def test_a_new_subnet_layout_is_a_new_vpc(create, name):
    # awsx replaces subnets create-before-delete: a new layout inside the same VPC would
    # overlap the old subnets' CIDR blocks (pulumi-awsx#910), so the layout names the VPC.
    assert only_vpc(created(create)).name == name


@pytest.mark.parametrize(("nat", "waits_for"), [("none", 4), ("single", 1)])
def test_services_start_only_once_the_vpc_endpoints_exist(monkeypatch, nat, waits_for):
    # Without NAT a task reaches ECR and CloudWatch Logs through the endpoints alone: a service
    # declared before them would fail its first tasks and trip its deployment circuit breaker.
    import components.job

    seen: dict[str, list[str]] = {}
    original = components.job.aws.ecs.Service

    def recording(resource_name, *args, **kwargs):
        seen[resource_name] = [
            d._name for d in kwargs["opts"].depends_on if isinstance(d, aws.ec2.VpcEndpoint)
        ]
        return original(resource_name, *args, **kwargs)

    monkeypatch.setattr(components.job.aws.ecs, "Service", recording)
    created({"natGateways": nat})
    assert sorted(seen) == ["hello-world-service", "report-service"]
    for endpoints in seen.values():
        assert len(endpoints) == waits_for


def test_an_image_or_a_secret_of_another_region_is_refused_without_nat():
    # The endpoints answer for the stack's region only (here eu-west-2).
    from components.config import ConfigError

    config = dev_config()
    config["aws:region"] = REGION
    config["longjobs:network"] = {"create": {"natGateways": "none"}}
    hello = config["longjobs:jobs"]["hello-world"]
    hello.pop("build", None)
    hello["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:1"
    secret = "arn:aws:ssm:us-east-1:123456789012:parameter/report/token"
    config["longjobs:jobs"]["report"]["secrets"] = {"TOKEN": secret}
    mocks = AwsMocks(REGION)
    with pytest.raises(ConfigError) as error:
        run_program(config=config, mocks=mocks)
    assert error.value.problems == [
        "longjobs:jobs.hello-world.image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:1' "
        "is in us-east-1, and with network.create.natGateways none tasks reach only ECR in "
        f"{REGION} (through VPC endpoints); allowed: an image in a private ECR repository of "
        f"{REGION} (<account>.dkr.ecr.{REGION}.amazonaws.com/<name>), build, or natGateways "
        "single or onePerAz",
        f"longjobs:jobs.report.secrets.TOKEN: {secret!r} is in us-east-1; with "
        f"network.create.natGateways none tasks reach ssm in {REGION} only; allowed: a secret "
        "of the stack's region, or natGateways single or onePerAz",
    ]
    assert mocks.resources == []
    # With NAT, another region is reachable: nothing to refuse.
    config["longjobs:network"] = {"create": {"natGateways": "single"}}
    assert run_program(config=config).by_type(VPC)


def test_named_zones_go_to_awsx_instead_of_a_count():
    # Fargate runs tasks in some zones of a region only (e.g. us-west-1, ap-northeast-1): the
    # config may name them instead of taking the region's first ones.
    vpc = only_vpc(created({"availabilityZoneNames": [f"{REGION}a", f"{REGION}c"]}))
    assert vpc.inputs["availabilityZoneNames"] == [f"{REGION}a", f"{REGION}c"]
    assert "numberOfAvailabilityZones" not in vpc.inputs
    assert vpc.name == "network-vpc-nat-2az"
    counted = only_vpc(created({"availabilityZones": 3}))
    assert counted.inputs["numberOfAvailabilityZones"] == 3
    assert "availabilityZoneNames" not in counted.inputs


def test_a_zone_of_another_region_is_refused_before_anything_is_declared():
    from components.config import ConfigError

    mocks = AwsMocks(REGION)
    with pytest.raises(ConfigError) as error:
        created({"availabilityZoneNames": ["us-east-1a"]}, mocks=mocks)
    assert error.value.problems == [
        f"longjobs:network.create.availabilityZoneNames: 'us-east-1a' is not a zone of {REGION}, "
        f"where the stack deploys; allowed: {REGION} and a letter"
    ]
    assert mocks.resources == []


def test_tasks_run_in_one_subnet_of_each_named_zone():
    run = created({"availabilityZoneNames": [f"{REGION}a", f"{REGION}b", f"{REGION}c"]})
    assert len(run.outputs["network"]["subnetIds"]) == 3
