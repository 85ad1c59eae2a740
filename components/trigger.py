"""JobTrigger: the Lambda that starts, inspects and stops this stack's jobs, and its role."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import policies
from components.cluster import JobCluster
from components.config import PROJECT_ROOT
from components.context import StackContext
from components.job import FargateJob
from components.network import JobNetwork
from functions.trigger import contract

FUNCTION_DIR = PROJECT_ROOT / "functions" / "trigger"
RUNTIME = aws.lambda_.Runtime.PYTHON3D14
LOG_RETENTION_DAYS = 30
# Lambda retries a failed async invocation at most twice; then the event goes to the queue.
ASYNC_RETRIES = 2
ASYNC_MAX_EVENT_AGE_SECONDS = 6 * 3600
FAILURE_RETENTION_SECONDS = 14 * 24 * 3600


def trigger_config(
    cluster_arn: str,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    assign_public_ip: bool,
    jobs: dict[str, tuple[str, str, str, Sequence[str]]],
) -> contract.TriggerConfig:
    """The contract object the handler reads; `jobs` maps name → (task definition ARN,
    container name, capacity, secret names)."""
    return contract.TriggerConfig(
        cluster_arn=cluster_arn,
        subnet_ids=tuple(subnet_ids),
        security_group_ids=tuple(security_group_ids),
        assign_public_ip=assign_public_ip,
        jobs={
            name: contract.JobTarget(
                task_definition_arn=arn,
                container_name=container,
                capacity=capacity,
                reserved_environment=tuple(sorted(secrets)),
            )
            for name, (arn, container, capacity, secrets) in jobs.items()
        },
    )


def package(config_json: str) -> pulumi.AssetArchive:
    """The deployment package: the function's folder plus the config file the components wrote."""
    assets: dict[str, pulumi.Asset] = {
        path.name: pulumi.FileAsset(str(path)) for path in sorted(Path(FUNCTION_DIR).glob("*.py"))
    }
    assets[contract.CONFIG_FILE] = pulumi.StringAsset(config_json)
    return pulumi.AssetArchive(assets)


class JobTrigger(pulumi.ComponentResource):
    log_group: aws.cloudwatch.LogGroup
    failure_queue: aws.sqs.Queue
    role: aws.iam.Role
    function: aws.lambda_.Function
    invoke_config: aws.lambda_.FunctionEventInvokeConfig

    config_json: pulumi.Output[str]
    """The contract file shipped with the function."""

    def __init__(
        self,
        name: str,
        context: StackContext,
        cluster: JobCluster,
        network: JobNetwork,
        jobs: Sequence[FargateJob],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobTrigger", name, None, opts)
        self._context = context
        child = pulumi.ResourceOptions(parent=self)
        self.log_group_name = f"/{context.project}/{context.stack}/lambda/{name}"
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=self.log_group_name,
            retention_in_days=LOG_RETENTION_DAYS,
            tags=context.tags_for(),
            opts=child,
        )
        self.failure_queue = aws.sqs.Queue(
            f"{name}-failures",
            message_retention_seconds=FAILURE_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=context.tags_for(),
            opts=child,
        )
        self.config_json = self._config_json(cluster, network, jobs)
        self.role = aws.iam.Role(
            f"{name}-role",
            description="longjobs trigger: start, inspect and stop this stack's jobs",
            assume_role_policy=policies.assume_role("lambda.amazonaws.com"),
            tags=context.tags_for(),
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=policies.to_json(self.statements(jobs)),
            opts=pulumi.ResourceOptions(parent=self.role),
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            description="longjobs: start, inspect and stop jobs on ECS Fargate",
            runtime=RUNTIME,
            architectures=["arm64"],
            handler="handler.handler",
            code=self.config_json.apply(package),
            role=self.role.arn,
            memory_size=256,
            timeout=30,
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="Text", log_group=self.log_group.name
            ),
            tags=context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
        )
        self.invoke_config = aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=self.function.name,
            maximum_retry_attempts=ASYNC_RETRIES,
            maximum_event_age_in_seconds=ASYNC_MAX_EVENT_AGE_SECONDS,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=self.failure_queue.arn
                )
            ),
            opts=child,
        )
        self.register_outputs(
            {
                "functionName": self.function.name,
                "functionArn": self.function.arn,
                "failureQueueUrl": self.failure_queue.url,
            }
        )

    def _config_json(
        self, cluster: JobCluster, network: JobNetwork, jobs: Sequence[FargateJob]
    ) -> pulumi.Output[str]:
        targets = {
            job.job: pulumi.Output.all(
                job.task_definition.arn,
                job.container_name,
                job.config.capacity,
                sorted(job.config.secrets),
            )
            for job in jobs
        }
        return pulumi.Output.all(
            cluster.arn, network.subnet_ids, network.security_group_ids, targets
        ).apply(
            lambda args: contract.dumps(
                trigger_config(args[0], args[1], args[2], network.assign_public_ip, args[3])
            )
        )

    def statements(self, jobs: Sequence[FargateJob]) -> list[policies.Statement]:
        ctx = self._context
        on_cluster = {"ArnEquals": {"ecs:cluster": ctx.arn("ecs", f"cluster/{ctx.cluster_name}")}}
        cluster_tasks = ctx.arn("ecs", f"task/{ctx.cluster_name}/*")
        return [
            {
                "Sid": "RunJobs",
                "Effect": "Allow",
                "Action": "ecs:RunTask",
                # Any revision of this stack's job families, on this stack's cluster only.
                "Resource": [ctx.arn("ecs", f"task-definition/{job.family}:*") for job in jobs],
                "Condition": on_cluster,
            },
            {
                "Sid": "TagJobsAtStart",
                "Effect": "Allow",
                "Action": "ecs:TagResource",
                "Resource": cluster_tasks,
                "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
            },
            {
                "Sid": "InspectAndStopJobs",
                "Effect": "Allow",
                "Action": ["ecs:DescribeTasks", "ecs:StopTask"],
                "Resource": cluster_tasks,
                "Condition": on_cluster,
            },
            {
                "Sid": "PassJobRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": [
                    arn for job in jobs for arn in (job.execution_role.arn, job.task_role.arn)
                ],
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": ctx.log_streams_arn(self.log_group_name),
            },
            {
                "Sid": "FailureQueue",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": self.failure_queue.arn,
            },
        ]
