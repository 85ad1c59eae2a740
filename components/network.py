"""JobNetwork: the subnets and security groups tasks run in, from config or the default VPC."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config import NAMESPACE, NetworkConfig
from components.context import StackContext


class NoDefaultVpcError(Exception):
    pass


class JobNetwork(pulumi.ComponentResource):
    """Where tasks run: the subnets and security groups of the config, else the default VPC's
    default subnets and a new egress-only group."""

    security_group: aws.ec2.SecurityGroup | None
    """The egress-only group `<prefix>-tasks`, created when the config names no security groups."""

    subnet_ids: pulumi.Output[list[str]]
    """The subnets tasks run in."""
    security_group_ids: pulumi.Output[list[str]]
    """The security groups tasks get."""
    assign_public_ip: bool
    """Whether tasks get a public IP (they need a route to ECR)."""

    def __init__(
        self,
        name: str,
        config: NetworkConfig,
        context: StackContext,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobNetwork", name, None, opts)
        default_vpc_id = _default_vpc_id() if config.subnet_ids is None else None
        self.subnet_ids = pulumi.Output.from_input(
            list(config.subnet_ids)
            if config.subnet_ids is not None
            else _default_subnet_ids(str(default_vpc_id))
        )
        self.security_group = None
        if config.security_group_ids is None:
            vpc_id = default_vpc_id or _vpc_of(config.subnet_ids)
            self.security_group = self._create_security_group(name, vpc_id, context)
            self.security_group_ids = self.security_group.id.apply(lambda group_id: [group_id])
        else:
            self.security_group_ids = pulumi.Output.from_input(list(config.security_group_ids))
        self.assign_public_ip = config.public_ip
        self.register_outputs(
            {"subnetIds": self.subnet_ids, "securityGroupIds": self.security_group_ids}
        )

    def _create_security_group(
        self, name: str, vpc_id: str, context: StackContext
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


def _default_vpc_id() -> str:
    try:
        return aws.ec2.get_vpc(default=True).id
    except Exception as error:  # the provider reports "no matching EC2 VPC found"
        raise NoDefaultVpcError(
            f"this account and region have no default VPC ({error}); set "
            f"{NAMESPACE}:network.subnetIds (and optionally securityGroupIds, assignPublicIp)"
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
