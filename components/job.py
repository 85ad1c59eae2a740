"""FargateJob: everything one job needs to run on Fargate, from its config."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_aws as aws

from components import policies
from components.cluster import CAPACITY_PROVIDERS, JobCluster
from components.config import PROJECT_ROOT, JobConfig
from components.context import StackContext
from components.image import JobImage, Registry
from components.network import JobNetwork

# Spot gives two minutes' warning with SIGTERM; ECS allows a stopTimeout of at most 120 s.
STOP_TIMEOUT_SECONDS = 120
ECS_TASKS = "ecs-tasks.amazonaws.com"
ECR_PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]
_PRIVATE_ECR = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repository>[^:@]+)"
)


def secret_resources(value_from: str) -> list[str]:
    """The IAM resources for a secret reference as ECS `valueFrom` accepts it.

    A Secrets Manager reference may carry `:json-key:version-stage:version-id` after the
    secret's ARN, and may name the secret without the six random characters AWS appends. A
    name that ends like those characters (`db-master`) may still be partial: both are granted.
    """
    parts = value_from.split(":")
    if parts[2] != "secretsmanager":
        return [value_from]
    arn = ":".join(parts[:7])
    partial = f"{arn}-??????"
    return [arn, partial] if re.search(r"-[A-Za-z0-9]{6}$", parts[6]) else [partial]


def container_definitions(
    job: str, config: JobConfig, image: str, log_group: str, region: str
) -> list[dict[str, Any]]:
    """The job's one container, named after the job (the trigger's overrides rely on that)."""
    container: dict[str, Any] = {
        "name": job,
        "image": image,
        "essential": True,
        "environment": [{"name": k, "value": v} for k, v in sorted(config.environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(config.secrets.items())],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": "job",
            },
        },
        "stopTimeout": STOP_TIMEOUT_SECONDS,
        # An init process forwards SIGTERM to the job and reaps its children.
        "linuxParameters": {"initProcessEnabled": True},
    }
    if config.entry_point:
        container["entryPoint"] = list(config.entry_point)
    if config.command:
        container["command"] = list(config.command)
    return [container]


class FargateJob(pulumi.ComponentResource):
    image: JobImage | None
    log_group: aws.cloudwatch.LogGroup
    execution_role: aws.iam.Role
    task_role: aws.iam.Role
    task_definition: aws.ecs.TaskDefinition
    service: aws.ecs.Service

    image_uri: pulumi.Output[str]
    container_name: str

    def __init__(
        self,
        name: str,
        config: JobConfig,
        context: StackContext,
        cluster: JobCluster,
        network: JobNetwork,
        registry: Registry | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        """`registry` is required for a job that builds its image."""
        super().__init__("longjobs:index:FargateJob", name, None, opts)
        self.job = name
        self.config = config
        self.container_name = name
        self._context = context
        if config.build is not None:
            self.image = JobImage(
                name,
                job=name,
                folder=PROJECT_ROOT / config.build,
                architecture=config.architecture,
                context=context,
                registry=registry,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.image_uri = self.image.image_uri
        else:
            self.image = None
            self.image_uri = pulumi.Output.from_input(config.image)
        self.family = f"{context.prefix}-{name}"
        self.log_group_name = f"/{context.project}/{context.stack}/{name}"
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=self.log_group_name,
            retention_in_days=config.log_retention_days,
            tags=context.tags_for(name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.execution_role = self._create_execution_role()
        self.task_role = self._create_task_role()
        self.task_definition = self._create_task_definition()
        self.service = self._create_service(cluster, network)
        self.register_outputs(
            {
                "taskDefinitionArn": self.task_definition.arn,
                "imageUri": self.image_uri,
                "serviceName": self.service.name,
            }
        )

    def _task_trust_policy(self) -> str:
        # Only tasks of this account may assume the task role (the confused-deputy guard the
        # ECS task role documentation gives). The execution role keeps the documented plain
        # trust: ECS assumes it before a task exists.
        ctx = self._context
        return policies.assume_role(
            ECS_TASKS,
            {
                "ArnLike": {"aws:SourceArn": ctx.arn("ecs", "*")},
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
            },
        )

    def execution_statements(self) -> list[policies.Statement]:
        """Pull this job's image, write its log group, read its declared secrets: nothing else."""
        statements: list[policies.Statement] = []
        repository_arn: str | None = None
        if self.image is not None:
            repository_arn = self.image.repository_arn
        else:
            match = _PRIVATE_ECR.match(self.config.image or "")
            if match:
                repository_arn = (
                    f"arn:{self._context.partition}:ecr:{match['region']}:{match['account']}"
                    f":repository/{match['repository']}"
                )
        if repository_arn is not None:
            statements += [
                # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
                {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
                 "Resource": "*"},
                {"Sid": "EcrPull", "Effect": "Allow", "Action": ECR_PULL_ACTIONS,
                 "Resource": repository_arn},
            ]  # fmt: skip
        statements.append(
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": self._context.log_streams_arn(self.log_group_name),
            }
        )
        ssm = sorted(v for v in self.config.secrets.values() if ":ssm:" in v)
        secrets_manager = sorted(
            {
                resource
                for value_from in self.config.secrets.values()
                if ":ssm:" not in value_from
                for resource in secret_resources(value_from)
            }
        )
        if ssm:
            statements.append(
                {"Sid": "SsmSecrets", "Effect": "Allow", "Action": "ssm:GetParameters",
                 "Resource": ssm}
            )  # fmt: skip
        if secrets_manager:
            statements.append(
                {"Sid": "SecretsManagerSecrets", "Effect": "Allow",
                 "Action": "secretsmanager:GetSecretValue", "Resource": secrets_manager}
            )  # fmt: skip
        return statements

    def _create_execution_role(self) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{self.job}-execution-role",
            description=f"longjobs {self.job}: pull the image, write logs, read secrets",
            assume_role_policy=policies.assume_role(ECS_TASKS),
            tags=self._context.tags_for(self.job),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.execution_policy = aws.iam.RolePolicy(
            f"{self.job}-execution-policy",
            role=role.id,
            policy=policies.to_json(self.execution_statements()),
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role

    def _create_task_role(self) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{self.job}-task-role",
            description=f"longjobs {self.job}: what the job's code may do",
            assume_role_policy=self._task_trust_policy(),
            tags=self._context.tags_for(self.job),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.task_policy: aws.iam.RolePolicy | None = None
        if self.config.policy_statements:
            self.task_policy = aws.iam.RolePolicy(
                f"{self.job}-task-policy",
                role=role.id,
                policy=json.dumps(
                    policies.document([s.document() for s in self.config.policy_statements])
                ),
                opts=pulumi.ResourceOptions(parent=role),
            )
        self.task_policy_attachments = [
            aws.iam.RolePolicyAttachment(
                f"{self.job}-task-managed-{index}",
                role=role.name,
                policy_arn=arn,
                opts=pulumi.ResourceOptions(parent=role),
            )
            for index, arn in enumerate(self.config.managed_policy_arns)
        ]
        return role

    def _create_task_definition(self) -> aws.ecs.TaskDefinition:
        config, ctx = self.config, self._context
        definitions = pulumi.Output.all(self.image_uri, self.log_group.name).apply(
            lambda args: json.dumps(
                container_definitions(self.job, config, args[0], args[1], ctx.region)
            )
        )
        return aws.ecs.TaskDefinition(
            f"{self.job}-task",
            family=self.family,
            cpu=str(config.cpu),
            memory=str(config.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX",
                cpu_architecture=config.architecture.upper(),
            ),
            ephemeral_storage=(
                aws.ecs.TaskDefinitionEphemeralStorageArgs(size_in_gib=config.ephemeral_storage_gib)
                if config.ephemeral_storage_gib
                else None
            ),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            container_definitions=definitions,
            tags=ctx.tags_for(self.job, config.tags),
            # The execution role must be able to pull and log before a task can start.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.execution_policy]),
        )

    def _create_service(self, cluster: JobCluster, network: JobNetwork) -> aws.ecs.Service:
        return aws.ecs.Service(
            f"{self.job}-service",
            name=self.job,
            cluster=cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=self.config.service.desired_count,
            capacity_provider_strategies=[
                aws.ecs.ServiceCapacityProviderStrategyArgs(
                    capacity_provider=CAPACITY_PROVIDERS[self.config.capacity], weight=1
                )
            ],
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=network.subnet_ids,
                security_groups=network.security_group_ids,
                assign_public_ip=network.assign_public_ip,
            ),
            # Switching a job between Spot and on-demand updates the service in place; without
            # this the provider replaces it, stopping its workers first.
            force_new_deployment=True,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
            ),
            enable_ecs_managed_tags=True,
            propagate_tags="TASK_DEFINITION",
            wait_for_steady_state=False,
            tags=self._context.tags_for(self.job, self.config.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster.capacity_providers]),
        )
