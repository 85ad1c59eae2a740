"""JobNetwork: the subnets and security groups tasks run in: from config, the default VPC, or a
new VPC of the stack's own (`network.create`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components import policies
from components.config import NAMESPACE, NetworkConfig
from components.config.models import VpcConfig
from components.context import StackContext

NAT_GATEWAY_STRATEGIES = {
    "single": awsx.ec2.NatGatewayStrategy.SINGLE,
    "onePerAz": awsx.ec2.NatGatewayStrategy.ONE_PER_AZ,
    "none": awsx.ec2.NatGatewayStrategy.NONE,
}
# What a task needs from outside its VPC when it has no NAT gateway (ECS developer guide,
# "Amazon ECS interface VPC endpoints" and "Migrating to Linux platform version 1.4.0"): its
# image from ECR (the API and the registry, the layers from S3) and the awslogs driver.
# Secrets Manager and SSM only when a job's secrets are kept there.
INTERFACE_SERVICES = ("ecr.api", "ecr.dkr", "logs")
SECRET_SERVICES = ("secretsmanager", "ssm")
GATEWAY_SERVICE = "s3"
# Endpoint service names are `<prefix>.<region>.<service>`, the prefix `com.amazonaws` but for
# the services each partition names otherwise. In the China regions ECR's take
# `cn.com.amazonaws` (DescribeVpcEndpointServices there, as aws-cdk's
# InterfaceVpcEndpointAwsService records it); CloudWatch Logs, Secrets Manager, SSM and the S3
# gateway keep `com.amazonaws`. Other partitions (the ISO regions) are not known here.
SERVICE_NAME_PREFIXES: dict[str, dict[str, str]] = {
    "aws": {},
    "aws-us-gov": {},
    "aws-cn": {"ecr.api": "cn.com.amazonaws", "ecr.dkr": "cn.com.amazonaws"},
}
DEFAULT_SERVICE_NAME_PREFIX = "com.amazonaws"
HTTPS = 443
# Flow logs are kept a year: AWS Foundational Security Best Practices' CloudWatch.16 asks at
# least 365 days of a log group.
FLOW_LOG_RETENTION_DAYS = 365


class NoDefaultVpcError(Exception):
    pass


class UnknownPartitionError(Exception):
    pass


def endpoint_service_name(context: StackContext, service: str) -> str:
    """The VPC endpoint service name of an AWS service in the stack's region."""
    if context.partition not in SERVICE_NAME_PREFIXES:
        raise UnknownPartitionError(
            f"{NAMESPACE}:network.create.natGateways none: the VPC endpoint service names of "
            f"partition {context.partition} are not known here; allowed there: natGateways "
            "single or onePerAz"
        )
    prefix = SERVICE_NAME_PREFIXES[context.partition].get(service, DEFAULT_SERVICE_NAME_PREFIX)
    return f"{prefix}.{context.region}.{service}"


def endpoint_services(secret_services: frozenset[str]) -> tuple[str, ...]:
    """The interface endpoints tasks need without NAT: ECR, logs, and their secrets' services."""
    return INTERFACE_SERVICES + tuple(s for s in SECRET_SERVICES if s in secret_services)


@dataclass(frozen=True)
class JobNetworkArgs:
    config: NetworkConfig
    """The stack's `network`: subnets and groups to use, or a VPC to create."""
    context: StackContext
    """The stack the network's resources are named and tagged for."""
    secret_services: frozenset[str] = frozenset()
    """The services the jobs' secrets are kept in (`secretsmanager`, `ssm`): each gets an
    interface endpoint in a new VPC without NAT."""


class JobNetwork(pulumi.ComponentResource):
    """Where tasks run: the subnets and security groups of the config, the default VPC's default
    subnets, or the private subnets of a VPC it creates; with a new egress-only group unless the
    config names groups."""

    security_group: aws.ec2.SecurityGroup | None
    """The egress-only group `<prefix>-tasks`, created when the config names no security groups."""
    vpc: awsx.ec2.Vpc | None
    """The VPC made for the stack (`network.create`), else None."""
    default_security_group: aws.ec2.DefaultSecurityGroup | None
    """The new VPC's default group, holding no rules."""
    flow_log: aws.ec2.FlowLog | None
    """The new VPC's flow log, every packet accepted or rejected, to `flow_log_group`."""
    flow_log_group: aws.cloudwatch.LogGroup | None
    """`/<project>/<stack>/vpc/flow-logs` (no job's log group can be named so: a job name holds
    no '/')."""
    endpoint_security_group: aws.ec2.SecurityGroup | None
    """`<prefix>-endpoints`: HTTPS in from the tasks' group only (`natGateways: none`)."""
    endpoints: dict[str, aws.ec2.VpcEndpoint]
    """Service (`ecr.api`, `s3`, ...) → its VPC endpoint: the S3 gateway in every new VPC, the
    interface endpoints with `natGateways: none`; empty without `network.create`."""

    subnet_ids: pulumi.Output[list[str]]
    """The subnets tasks run in."""
    security_group_ids: pulumi.Output[list[str]]
    """The security groups tasks get."""
    assign_public_ip: bool
    """Whether tasks get a public IP (they need a route to ECR)."""
    vpc_id: pulumi.Output[str] | None
    """The id of the VPC made for the stack, else None."""

    def __init__(
        self,
        name: str,
        args: JobNetworkArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobNetwork", name, None, opts)
        self.vpc = None
        self.vpc_id = None
        self.default_security_group = None
        self.flow_log = None
        self.flow_log_group = None
        self.endpoint_security_group = None
        self.endpoints = {}
        self.security_group = None
        self.assign_public_ip = args.config.public_ip
        if args.config.create is not None:
            self._create_network(name, args.config.create, args.context, args.secret_services)
        else:
            self._use_existing_network(name, args.config, args.context)
        self.register_outputs(
            {
                "subnetIds": self.subnet_ids,
                "securityGroupIds": self.security_group_ids,
                "vpcId": self.vpc_id,
            }
        )

    def _use_existing_network(
        self, name: str, config: NetworkConfig, context: StackContext
    ) -> None:
        default_vpc_id = _default_vpc_id() if config.subnet_ids is None else None
        self.subnet_ids = pulumi.Output.from_input(
            list(config.subnet_ids)
            if config.subnet_ids is not None
            else _default_subnet_ids(str(default_vpc_id))
        )
        if config.security_group_ids is None:
            vpc_id = default_vpc_id or _vpc_of(config.subnet_ids)
            self.security_group = self._create_security_group(name, vpc_id, context)
            self.security_group_ids = self.security_group.id.apply(lambda group_id: [group_id])
        else:
            self.security_group_ids = pulumi.Output.from_input(list(config.security_group_ids))

    def _create_network(
        self,
        name: str,
        create: VpcConfig,
        context: StackContext,
        secret_services: frozenset[str],
    ) -> None:
        self.vpc = self._create_vpc(name, create, context)
        self.vpc_id = self.vpc.vpc_id
        # With NAT, tasks run in the private subnets (a route to the zone's NAT gateway); without
        # it, in the isolated ones (no route out at all but the VPC endpoints).
        self.subnet_ids = (
            self.vpc.isolated_subnet_ids
            if create.nat_gateways == "none"
            else self.vpc.private_subnet_ids
        ).apply(list)
        self.security_group = self._create_security_group(name, self.vpc_id, context)
        self.security_group_ids = self.security_group.id.apply(lambda group_id: [group_id])
        self.default_security_group = self._create_default_security_group(name, context)
        self.flow_log_group, self.flow_log = self._create_flow_log(name, context)
        if create.nat_gateways == "none":
            self.endpoint_security_group = self._create_endpoint_security_group(name, context)
            self.endpoints = self._create_endpoints(name, context, secret_services)
        if context.partition in SERVICE_NAME_PREFIXES:
            # Image layers and checkpoints go to S3: through a gateway endpoint they cost
            # nothing, where a NAT gateway bills every GB.
            self.endpoints[GATEWAY_SERVICE] = self._create_s3_gateway(name, context)

    def _create_vpc(self, name: str, create: VpcConfig, context: StackContext) -> awsx.ec2.Vpc:
        # Private (or isolated) subnets for the tasks; public ones only to hold NAT gateways.
        if create.nat_gateways == "none":
            specs = [awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.ISOLATED)]
        else:
            specs = [
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE),
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC),
            ]
        # The subnet layout is in the name: awsx replaces subnets create-before-delete, and a
        # new layout in the same VPC overlaps the old one's CIDR blocks (InvalidSubnet.Conflict),
        # so a new layout is a new VPC, made before the old one is deleted.
        layout = "isolated" if create.nat_gateways == "none" else "nat"
        return awsx.ec2.Vpc(
            f"{name}-vpc-{layout}-{create.zones}az",
            cidr_block=create.cidr_block,
            # Named zones, or awsx's first ones of the region (getAvailabilityZones).
            availability_zone_names=create.availability_zone_names,
            number_of_availability_zones=(
                None if create.availability_zone_names else create.availability_zones
            ),
            subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
            subnet_specs=specs,
            nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(
                strategy=NAT_GATEWAY_STRATEGIES[create.nat_gateways]
            ),
            # Interface endpoints with private DNS need both (Amazon VPC User Guide, "DNS
            # attributes for your VPC").
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=context.tags_for(extra={"Name": context.prefix}),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_security_group(
        self, name: str, vpc_id: pulumi.Input[str], context: StackContext
    ) -> aws.ec2.SecurityGroup:
        # Jobs call out (ECR, logs, their own APIs); nothing calls in.
        return aws.ec2.SecurityGroup(
            f"{name}-egress-only",
            name=context.name("tasks"),
            vpc_id=vpc_id,
            description="longjobs tasks: egress only",
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    cidr_blocks=["0.0.0.0/0"],
                    ipv6_cidr_blocks=["::/0"],
                    description="all outbound",
                )
            ],
            tags=context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_default_security_group(
        self, name: str, context: StackContext
    ) -> aws.ec2.DefaultSecurityGroup:
        # The VPC's default group allows all traffic among its members until its rules are
        # removed (AWS FSBP EC2.2 / CIS: the default group restricts all traffic). Adopting it
        # with no rules removes them.
        return aws.ec2.DefaultSecurityGroup(
            f"{name}-default-group",
            vpc_id=self.vpc_id,
            ingress=[],
            egress=[],
            tags=context.tags_for(extra={"Name": context.name("default-no-traffic")}),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_flow_log(
        self, name: str, context: StackContext
    ) -> tuple[aws.cloudwatch.LogGroup, aws.ec2.FlowLog]:
        """Every accepted and rejected packet of the VPC to CloudWatch Logs (AWS FSBP EC2.6)."""
        group_name = f"{context.log_group_prefix}vpc/flow-logs"
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=group_name,
            retention_in_days=FLOW_LOG_RETENTION_DAYS,
            kms_key_id=context.key_arn,
            tags=context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The trust the Amazon VPC User Guide gives ("IAM role for publishing flow logs to
        # CloudWatch Logs"), with its confused-deputy conditions: this account's flow logs only.
        trust = policies.assume_role(
            "vpc-flow-logs.amazonaws.com",
            {
                "StringEquals": {"aws:SourceAccount": context.account_id},
                "ArnLike": {"aws:SourceArn": context.arn("ec2", "vpc-flow-log/*")},
            },
        )
        # The guide's permissions less logs:CreateLogGroup (the group is made here), each on
        # this group; DescribeLogGroups names no group, so it is allowed on the account's groups
        # of the region (names only, no log data).
        statements: list[policies.Statement] = [
            {
                "Sid": "FlowLogStreams",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": context.log_streams_arn(group_name),
            },
            {
                "Sid": "FlowLogStreamsList",
                "Effect": "Allow",
                "Action": "logs:DescribeLogStreams",
                "Resource": context.arn("logs", f"log-group:{group_name}:*"),
            },
            {
                "Sid": "FlowLogGroupsList",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                # A list of the account's groups: it takes no resource ARN (the VPC User Guide's
                # flow log role policy gives "*").
                "Resource": "*",
            },
        ]
        role, policy = policies.role_with_policy(
            f"{name}-flow-logs",
            description="VPC flow logs: publish the stack VPC's flow logs to its log group",
            trust=trust,
            statements=statements,
            path=context.iam_path,
            tags=context.tags_for(),
            parent=self,
        )
        flow_log = aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            tags=context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=policies.created(policy)),
        )
        return group, flow_log

    def _create_endpoint_security_group(
        self, name: str, context: StackContext
    ) -> aws.ec2.SecurityGroup:
        if self.security_group is None:
            raise ValueError("the tasks' security group comes before the endpoints'")
        return aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            name=context.name("endpoints"),
            vpc_id=self.vpc_id,
            description="longjobs VPC endpoints: HTTPS from the tasks only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=HTTPS,
                    to_port=HTTPS,
                    security_groups=[self.security_group.id],
                    description="HTTPS from the tasks",
                )
            ],
            # Endpoints answer; they never call out. No rule: no egress.
            egress=[],
            tags=context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_endpoints(
        self, name: str, context: StackContext, secret_services: frozenset[str]
    ) -> dict[str, aws.ec2.VpcEndpoint]:
        if self.vpc is None or self.endpoint_security_group is None:
            raise ValueError("the VPC and the endpoints' group come before the endpoints")
        endpoints = {
            service: aws.ec2.VpcEndpoint(
                f"{name}-{service}",
                vpc_id=self.vpc_id,
                service_name=endpoint_service_name(context, service),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.subnet_ids,
                security_group_ids=[self.endpoint_security_group.id],
                tags=context.tags_for(extra={"Name": context.name(service)}),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for service in endpoint_services(secret_services)
        }
        return endpoints

    def _create_s3_gateway(self, name: str, context: StackContext) -> aws.ec2.VpcEndpoint:
        """S3's gateway endpoint, on the route tables of every subnet of the VPC (awsx makes one
        a subnet)."""
        if self.vpc is None:
            raise ValueError("the VPC comes before its S3 gateway")
        route_table_ids: pulumi.Output[list[str]] = self.vpc.route_tables.apply(_ids)
        return aws.ec2.VpcEndpoint(
            f"{name}-{GATEWAY_SERVICE}",
            vpc_id=self.vpc_id,
            service_name=endpoint_service_name(context, GATEWAY_SERVICE),
            vpc_endpoint_type="Gateway",
            route_table_ids=route_table_ids,
            tags=context.tags_for(extra={"Name": context.name(GATEWAY_SERVICE)}),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _ids(route_tables: Sequence[aws.ec2.RouteTable]) -> pulumi.Output[list[str]]:
    return pulumi.Output.all(*[table.id for table in route_tables])


def _default_vpc_id() -> str:
    try:
        return aws.ec2.get_vpc(default=True).id
    except Exception as error:  # the provider reports "no matching EC2 VPC found"
        raise NoDefaultVpcError(
            f"this account and region have no default VPC ({error}); set "
            f"{NAMESPACE}:network.subnetIds (and optionally securityGroupIds, assignPublicIp), "
            f"or {NAMESPACE}:network.create"
        ) from None


def _vpc_of(subnet_ids: list[str] | None) -> str:
    """The VPC of the subnets the config names (ECS requires a task's subnets in one VPC)."""
    if not subnet_ids:
        raise ValueError("no subnets to find the VPC of")
    return aws.ec2.get_subnet(id=subnet_ids[0]).vpc_id


def _default_subnet_ids(vpc_id: str) -> list[str]:
    subnets = aws.ec2.get_subnets(
        filters=[
            aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc_id]),
            aws.ec2.GetSubnetsFilterArgs(name="default-for-az", values=["true"]),
        ]
    )
    if not subnets.ids:
        raise NoDefaultVpcError(
            f"the default VPC {vpc_id} has no default subnets; set {NAMESPACE}:network.subnetIds"
        )
    return sorted(subnets.ids)
