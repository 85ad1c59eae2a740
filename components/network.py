"""JobNetwork: the subnets and security groups tasks run in, from config or the default VPC."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config import NAMESPACE, NetworkConfig
from components.context import StackContext


class NoDefaultVpcError(Exception):
    pass


class JobNetwork(pulumi.ComponentResource):
    security_group: aws.ec2.SecurityGroup | None
    """The egress-only group, created when the config names no security groups."""

    subnet_ids: pulumi.Output[list[str]]
    security_group_ids: pulumi.Output[list[str]]
    assign_public_ip: bool

    def __init__(
        self,
        name: str,
        config: NetworkConfig,
        context: StackContext,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobNetwork", name, None, opts)
        if config.subnet_ids is None:
            vpc_id = _default_vpc_id()
            subnet_ids = pulumi.Output.from_input(_default_subnet_ids(vpc_id))
        else:
            vpc_id = None  # looked up only if a security group must be created in it
            subnet_ids = pulumi.Output.from_input(list(config.subnet_ids))
        self.security_group = None
        if config.security_group_ids is None:
            if vpc_id is None:
                assert config.subnet_ids is not None
                vpc_id = aws.ec2.get_subnet(id=config.subnet_ids[0]).vpc_id
            self.security_group = self._create_security_group(name, vpc_id, context)
            security_group_ids = self.security_group.id.apply(lambda group_id: [group_id])
        else:
            security_group_ids = pulumi.Output.from_input(list(config.security_group_ids))
        self.subnet_ids = subnet_ids
        self.security_group_ids = security_group_ids
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
