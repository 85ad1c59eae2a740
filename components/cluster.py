"""JobCluster: the ECS cluster every job runs in, with Fargate and Fargate Spot capacity."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from longjobs_contract.capacity import ON_DEMAND, PROVIDERS


class JobCluster(pulumi.ComponentResource):
    cluster: aws.ecs.Cluster
    capacity_providers: aws.ecs.ClusterCapacityProviders

    arn: pulumi.Output[str]
    """The cluster's ARN."""
    name: pulumi.Output[str]
    """The cluster's name."""

    def __init__(
        self,
        name: str,
        context: StackContext,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobCluster", name, None, opts)
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=context.cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            tags=context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=sorted(PROVIDERS.values()),
            # RunTask and services always pass a strategy; this covers anything that does not.
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=PROVIDERS[ON_DEMAND], weight=1
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.cluster.arn
        self.name = self.cluster.name
        self.register_outputs({"arn": self.arn, "name": self.name})
