"""JobCluster: the ECS cluster every job runs in, with Fargate and Fargate Spot capacity."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from longjobs_contract.capacity import ON_DEMAND, PROVIDERS


class JobCluster(pulumi.ComponentResource):
    """The ECS cluster, named `<prefix>`, with Fargate and Fargate Spot capacity."""

    cluster: aws.ecs.Cluster
    """The cluster, with Container Insights on."""
    capacity_providers: aws.ecs.ClusterCapacityProviders
    """FARGATE and FARGATE_SPOT, on-demand by default."""

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
        self.cluster = self._create_cluster(name, context)
        self.capacity_providers = self._create_capacity_providers(name)
        self.arn = self.cluster.arn
        self.name = self.cluster.name
        self.register_outputs({"arn": self.arn, "name": self.name})

    def _create_cluster(self, name: str, context: StackContext) -> aws.ecs.Cluster:
        return aws.ecs.Cluster(
            f"{name}-cluster",
            name=context.cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            tags=context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_capacity_providers(self, name: str) -> aws.ecs.ClusterCapacityProviders:
        return aws.ecs.ClusterCapacityProviders(
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
