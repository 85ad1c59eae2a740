"""FargateJob: everything one job needs to run on Fargate, from its config."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import checkpoints, encryption, policies
from components.cluster import JobCluster
from components.config import JobConfig
from components.config.contract import job_contract
from components.config.models import TMP
from components.config.paths import PROJECT_ROOT
from components.context import StackContext
from components.image import JobImage, JobImageArgs, Registry
from components.network import JobNetwork
from longjobs_contract.capacity import PROVIDERS
from longjobs_contract.jobs import JobContract
from longjobs_contract.runs import LOG_STREAM_PREFIX
from longjobs_contract.tags import READONLY_ROOT, READONLY_ROOT_OPT_OUT

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


def scratch_volumes(config: JobConfig) -> list[tuple[str, str]]:
    """The job's scratch volumes as (volume name, container path): /tmp with a read-only root,
    then each of `scratchPaths`, named after its place in the list.

    On Fargate a task volume with only a name is a bind mount on the task's ephemeral storage,
    emptied when the task stops ("Use bind mounts with Amazon ECS"). Fargate makes it owned by
    root with mode 0755 unless the image declares the same path with VOLUME, whose owner and mode
    it then takes: an image that runs as another user declares each scratch path so. With a
    writable root /tmp keeps the image's own directory, as the job was built to use it.
    """
    volumes = [("tmp", TMP)] if config.readonly_root_filesystem else []
    return volumes + [(f"scratch-{i}", path) for i, path in enumerate(config.scratch_paths)]


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
                "awslogs-stream-prefix": LOG_STREAM_PREFIX,
            },
        },
        "stopTimeout": STOP_TIMEOUT_SECONDS,
        # An init process forwards SIGTERM to the job and reaps its children.
        "linuxParameters": {"initProcessEnabled": True},
        "readonlyRootFilesystem": config.readonly_root_filesystem,
    }
    mount_points = [
        {"sourceVolume": name, "containerPath": path, "readOnly": False}
        for name, path in scratch_volumes(config)
    ]
    if mount_points:
        container["mountPoints"] = mount_points
    if config.entry_point:
        container["entryPoint"] = list(config.entry_point)
    if config.command:
        container["command"] = list(config.command)
    return [container]


@dataclass(frozen=True)
class FargateJobArgs:
    config: JobConfig
    """The job's entry of the stack's `jobs`."""
    context: StackContext
    """The stack the job's resources are named and tagged for, and its key, if any."""
    cluster: JobCluster
    """The cluster the job's service runs in."""
    network: JobNetwork
    """The subnets and security groups the job's tasks get."""
    checkpoint_bucket: str
    """The stack's checkpoint bucket, whose `<job>/` prefix the task role may use."""
    registry: Registry | None = None
    """Where the job's image is pushed: required for a job that builds its image."""
    pushers: Sequence[str] = ()
    """IAM role or user ARNs that may push the job's image besides the deploying principal."""


class FargateJob(pulumi.ComponentResource):
    """One job: its image, roles, log group, task definition and service."""

    image: JobImage | None
    """The ECR repository and build, or None for a job that runs a given `image`."""
    log_group: aws.cloudwatch.LogGroup
    """Where the job's container writes: `/<project>/<stack>/<job>`."""
    execution_role: aws.iam.Role
    """What ECS uses to start a task: pull the image, write logs, read the job's secrets."""
    task_role: aws.iam.Role
    """What the job's code may do: its checkpoints, and exactly the statements and managed
    policies of its config."""
    task_definition: aws.ecs.TaskDefinition
    """The Fargate task definition, family `<prefix>-<job>`."""
    service: aws.ecs.Service
    """The ECS service: `desiredCount` tasks always running (0 by default)."""

    image_uri: pulumi.Output[str]
    """The image the task definition runs (by digest when built here)."""
    target: pulumi.Output[JobContract]
    """What the trigger needs to run this job."""

    def __init__(
        self,
        name: str,
        args: FargateJobArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:FargateJob", name, None, opts)
        self.job_name = name
        self.config = args.config
        self.container_name = name
        self.family = f"{args.context.prefix}-{name}"
        self.log_group_name = f"{args.context.log_group_prefix}{name}"
        self.checkpoint_bucket = args.checkpoint_bucket
        self._context = args.context
        self.image, self.image_uri = self._create_image(args.registry, args.pushers)
        self.log_group = self._create_log_group()
        self.execution_role, self.execution_policy = self._create_execution_role()
        self.task_role, self.task_policy = self._create_task_role()
        self.task_policy_attachments = self._attach_managed_policies()
        self.task_definition = self._create_task_definition()
        self.service = self._create_service(args.cluster, args.network)
        self.target = self.task_definition.arn.apply(self._target)
        self.register_outputs(
            {
                "taskDefinitionArn": self.task_definition.arn,
                "imageUri": self.image_uri,
                "serviceName": self.service.name,
            }
        )

    def _target(self, task_definition_arn: str) -> JobContract:
        return job_contract(self.job_name, self.config, task_definition_arn, self.log_group_name)

    def _create_image(
        self, registry: Registry | None, pushers: Sequence[str]
    ) -> tuple[JobImage | None, pulumi.Output[str]]:
        if self.config.build is None:
            return None, pulumi.Output.from_input(str(self.config.image))
        if registry is None:
            raise ValueError(f"job {self.job_name} builds its image: a registry is required")
        image = JobImage(
            self.job_name,
            JobImageArgs(
                job=self.job_name,
                folder=PROJECT_ROOT / self.config.build,
                architecture=self.config.architecture,
                context=self._context,
                registry=registry,
                pushers=pushers,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return image, image.image_uri

    def _create_log_group(self) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            f"{self.job_name}-logs",
            name=self.log_group_name,
            retention_in_days=self.config.log_retention_days,
            kms_key_id=self._context.key_arn,
            tags=self._context.tags_for(self.job_name),
            opts=pulumi.ResourceOptions(parent=self),
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
        if self.image is not None:
            # The stack's repositories are encrypted with its key, when it has one.
            statements += encryption.key_use_statements(
                self._context, "ImageKey", ["kms:Decrypt"], ["ecr"]
            )
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
        if self.config.secrets_kms_key_arns:
            statements.append(self._secrets_key_statement())
        return statements

    def _secrets_key_statement(self) -> policies.Statement:
        """Decrypt with the keys the job's secrets are encrypted with, only as Secrets Manager
        or SSM reads a secret of this job's (each in the secret's own region)."""
        services = sorted(
            {encryption.via_service(*arn.split(":")[2:4]) for arn in self.config.secrets.values()}
        )
        return {
            "Sid": "SecretsKeys",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": list(self.config.secrets_kms_key_arns),
            "Condition": {"StringEquals": {"kms:ViaService": services}},
        }

    def _create_execution_role(self) -> tuple[aws.iam.Role, aws.iam.RolePolicy | None]:
        return policies.role_with_policy(
            f"{self.job_name}-execution",
            description=f"longjobs {self.job_name}: pull the image, write logs, read secrets",
            trust=policies.assume_role(ECS_TASKS),
            statements=self.execution_statements(),
            path=self._context.iam_path,
            tags=self._context.tags_for(self.job_name),
            parent=self,
        )

    def task_statements(self) -> list[policies.Statement]:
        """The platform's own (the job's checkpoints under `<job>/`), then the job's."""
        return [
            *checkpoints.checkpoint_statements(
                self._context, self.checkpoint_bucket, self.job_name
            ),
            *(s.document() for s in self.config.policy_statements),
        ]

    def _create_task_role(self) -> tuple[aws.iam.Role, aws.iam.RolePolicy | None]:
        return policies.role_with_policy(
            f"{self.job_name}-task",
            description=f"longjobs {self.job_name}: what the job's code may do",
            trust=self._task_trust_policy(),
            statements=self.task_statements(),
            path=self._context.iam_path,
            tags=self._context.tags_for(self.job_name),
            parent=self,
        )

    def _attach_managed_policies(self) -> list[aws.iam.RolePolicyAttachment]:
        return [
            aws.iam.RolePolicyAttachment(
                f"{self.job_name}-task-managed-{index}",
                role=self.task_role.name,
                policy_arn=arn,
                opts=pulumi.ResourceOptions(parent=self.task_role),
            )
            for index, arn in enumerate(self.config.managed_policy_arns)
        ]

    def _create_task_definition(self) -> aws.ecs.TaskDefinition:
        config, ctx = self.config, self._context
        # The policy pack reads this tag as the job's own opt-out of its read-only root rule.
        opt_out = {} if config.readonly_root_filesystem else {READONLY_ROOT: READONLY_ROOT_OPT_OUT}
        definitions = pulumi.Output.all(self.image_uri, self.log_group.name).apply(
            lambda args: json.dumps(
                container_definitions(self.job_name, config, args[0], args[1], ctx.region)
            )
        )
        return aws.ecs.TaskDefinition(
            f"{self.job_name}-task",
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
            volumes=[
                aws.ecs.TaskDefinitionVolumeArgs(name=name) for name, _ in scratch_volumes(config)
            ]
            or None,
            tags=ctx.tags_for(self.job_name, {**config.tags, **opt_out}),
            # The execution role must be able to pull and log before a task can start.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=policies.created(self.execution_policy)
            ),
        )

    def _create_service(self, cluster: JobCluster, network: JobNetwork) -> aws.ecs.Service:
        return aws.ecs.Service(
            f"{self.job_name}-service",
            name=self.job_name,
            cluster=cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=self.config.service.desired_count,
            capacity_provider_strategies=[
                aws.ecs.ServiceCapacityProviderStrategyArgs(
                    capacity_provider=PROVIDERS[self.config.capacity], weight=1
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
            tags=self._context.tags_for(self.job_name, self.config.tags),
            # Without NAT, a task reaches ECR and CloudWatch Logs only once the VPC endpoints
            # exist: a service started before them fails its first tasks, which trips its
            # deployment circuit breaker.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[cluster.capacity_providers, *network.endpoints.values()],
            ),
        )
