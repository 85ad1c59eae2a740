"""JobCluster: the ECS cluster every job runs in, with Fargate and Fargate Spot capacity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from longjobs_contract.capacity import ON_DEMAND, PROVIDERS

ContainerInsights = Literal["enabled", "enhanced", "disabled"]
"""The values ECS takes for the cluster setting `containerInsights`."""


@dataclass(frozen=True)
class JobClusterArgs:
    context: StackContext
    """The stack the cluster is named and tagged for, and its key, if any."""
    container_insights: ContainerInsights
    """The cluster's `containerInsights` setting, which overrides the account's default (ECS API
    reference, ClusterSetting)."""


class JobCluster(pulumi.ComponentResource):
    """The ECS cluster, named `<prefix>`, with Fargate and Fargate Spot capacity."""

    cluster: aws.ecs.Cluster
    """The cluster, with Container Insights as the stack's config chooses."""
    capacity_providers: aws.ecs.ClusterCapacityProviders
    """FARGATE and FARGATE_SPOT, on-demand by default."""

    arn: pulumi.Output[str]
    """The cluster's ARN."""
    name: pulumi.Output[str]
    """The cluster's name."""

    def __init__(
        self,
        name: str,
        args: JobClusterArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobCluster", name, None, opts)
        self.cluster = self._create_cluster(name, args.context, args.container_insights)
        self.capacity_providers = self._create_capacity_providers(name)
        self.arn = self.cluster.arn
        self.name = self.cluster.name
        self.register_outputs({"arn": self.arn, "name": self.name})

    def _create_cluster(
        self, name: str, context: StackContext, container_insights: ContainerInsights
    ) -> aws.ecs.Cluster:
        return aws.ecs.Cluster(
            f"{name}-cluster",
            name=context.cluster_name,
            # Always written, "disabled" included, so the account's default never decides.
            settings=[
                aws.ecs.ClusterSettingArgs(name="containerInsights", value=container_insights)
            ],
            # With the stack's key, each task's ephemeral storage is encrypted with it too
            # (otherwise with a key Fargate owns).
            configuration=(
                aws.ecs.ClusterConfigurationArgs(
                    managed_storage_configuration=(
                        aws.ecs.ClusterConfigurationManagedStorageConfigurationArgs(
                            fargate_ephemeral_storage_kms_key_id=context.key_arn
                        )
                    )
                )
                if context.key_arn
                else None
            ),
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
