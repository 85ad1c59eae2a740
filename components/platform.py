"""JobPlatform: the whole stack — cluster, network, jobs, trigger and schedules — from config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

from components.alarm_forwarder import AlarmForwarder, AlarmForwarderArgs
from components.alarms import StackAlarms, StackAlarmsArgs
from components.checkpoints import CheckpointBucket, CheckpointBucketArgs
from components.cluster import JobCluster, JobClusterArgs
from components.config import StackConfig
from components.config.models import KMS_CREATE
from components.context import StackContext
from components.functions import failure_queue_name, log_retention_days
from components.image import STACK_KEY, Registry
from components.job import FargateJob, FargateJobArgs
from components.keys import StackKey, StackKeyArgs
from components.network import JobNetwork, JobNetworkArgs
from components.notifications import RunNotifications, RunNotificationsArgs
from components.runs import RunRecords, RunRecordsArgs
from components.schedules import JobSchedules, JobSchedulesArgs
from components.supervisor import JobSupervisor, JobSupervisorArgs
from components.trigger import JobTrigger, JobTriggerArgs
from longjobs_contract import alarms as stack_alarms

SUPERVISOR = "supervisor"
"""The supervisor component's name, which names its resources (its failure queue)."""


@dataclass(frozen=True)
class JobPlatformArgs:
    config: StackConfig
    """The stack's config, validated."""
    context: StackContext
    """The account, region and stack the platform deploys to, and the tags of everything."""


class JobPlatform(pulumi.ComponentResource):
    key: StackKey | None
    """The stack's own KMS key, with `kms: create`."""
    kms_key_arn: pulumi.Input[str] | None
    """The key everything is encrypted with: the stack's own, the config's, or None."""
    cluster: JobCluster
    """The ECS cluster, with Fargate and Fargate Spot."""
    network: JobNetwork
    """Subnets and security groups the tasks use."""
    jobs: dict[str, FargateJob]
    """Job name → the job."""
    runs: RunRecords
    """The table every run is recorded in."""
    checkpoints: CheckpointBucket
    """The bucket where jobs keep their checkpoints, under `<job>/<run id>/`."""
    trigger: JobTrigger
    """The Lambda that starts, inspects and stops jobs."""
    notifications: RunNotifications
    """The topic each run's final state is published to."""
    supervisor: JobSupervisor
    """The Lambda that moves runs along as their tasks change state."""
    schedules: JobSchedules | None
    """The schedules, when any job has one."""
    forwarder: AlarmForwarder | None
    """The Lambda the alarms invoke to tell the topic, without the stack's key (`kms`)."""
    alarms: StackAlarms
    """Refused requests, the supervisor's errors and failure queues, told on the topic."""

    def __init__(
        self,
        name: str,
        args: JobPlatformArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        config = args.config
        super().__init__("longjobs:index:JobPlatform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key, context = self._create_key(config, args.context)
        self.kms_key_arn = context.key_arn
        self.cluster = JobCluster(
            "jobs",
            JobClusterArgs(context=context, container_insights=config.container_insights),
            opts=child,
        )
        self.network = JobNetwork(
            "network",
            JobNetworkArgs(
                config=config.network, context=context, secret_services=config.secret_services
            ),
            opts=child,
        )
        # One ECR registry per account and region: one set of push credentials for every build.
        registry = (
            Registry.current(STACK_KEY if config.kms == KMS_CREATE else config.kms)
            if any(job.build for job in config.jobs.values())
            else None
        )
        # The table's and the topic's policies name the functions' roles, and the functions need
        # the table and the topic first: the roles' ARNs are resolved once the roles exist.
        function_roles, resolve_function_roles = _role_arns_to_come()
        publisher_roles, resolve_publisher_roles = _role_arns_to_come()
        self.runs = RunRecords(
            "runs",
            RunRecordsArgs(context=context, function_role_arns=function_roles),
            opts=child,
        )
        self.checkpoints = CheckpointBucket(
            "checkpoints",
            CheckpointBucketArgs(
                context=context,
                retention_days=config.run_retention_days,
                # As long as the functions' logs: both tell who did what to the same runs.
                access_log_retention_days=(
                    log_retention_days(config.run_retention_days)
                    if config.checkpoint_access_logs
                    else None
                ),
            ),
            opts=child,
        )
        self.jobs = {
            job: FargateJob(
                job,
                FargateJobArgs(
                    config=job_config,
                    context=context,
                    cluster=self.cluster,
                    network=self.network,
                    checkpoint_bucket=self.checkpoints.name,
                    registry=registry,
                    pushers=config.image_pushers,
                ),
                opts=child,
            )
            for job, job_config in config.jobs.items()
        }
        self.notifications = RunNotifications(
            "notifications",
            RunNotificationsArgs(
                config=config.notifications, context=context, publisher_role_arns=publisher_roles
            ),
            opts=child,
        )
        self.trigger = JobTrigger(
            "trigger",
            JobTriggerArgs(
                context=context,
                cluster=self.cluster,
                network=self.network,
                jobs=list(self.jobs.values()),
                runs=self.runs,
                run_retention_days=config.run_retention_days,
                notifications_topic=self.notifications.arn,
                allowed_callers=config.allowed_callers,
                supervisor_failure_queue=failure_queue_name(SUPERVISOR, context),
            ),
            opts=child,
        )
        self.supervisor = JobSupervisor(
            SUPERVISOR,
            JobSupervisorArgs(
                context=context,
                cluster=self.cluster,
                jobs=list(self.jobs.values()),
                runs=self.runs,
                config_json=self.trigger.config_json,
                notifications_topic=self.notifications.arn,
                run_retention_days=config.run_retention_days,
            ),
            opts=child,
        )
        # CloudWatch cannot publish to a topic encrypted with SNS's AWS managed key: without the
        # stack's key, the alarms invoke a function of their own that publishes for them.
        self.forwarder = None
        if not context.key_arn:
            self.forwarder = AlarmForwarder(
                "alarm-forwarder",
                AlarmForwarderArgs(
                    context=context,
                    notifications_topic=self.notifications.topic_arn,
                    alarm_names=stack_alarms.names(context.prefix),
                    run_retention_days=config.run_retention_days,
                ),
                opts=child,
            )
        resolve_function_roles(pulumi.Output.all(self.trigger.role.arn, self.supervisor.role.arn))
        resolve_publisher_roles(
            pulumi.Output.all(
                self.supervisor.role.arn, *([self.forwarder.role.arn] if self.forwarder else [])
            )
        )
        self.schedules = None
        if any(job.schedules for job in config.jobs.values()):
            self.schedules = JobSchedules(
                "schedules",
                JobSchedulesArgs(
                    context=context, jobs=list(self.jobs.values()), trigger=self.trigger
                ),
                opts=child,
            )
        self.alarms = StackAlarms(
            "alarms",
            StackAlarmsArgs(
                context=context,
                trigger=self.trigger,
                supervisor=self.supervisor,
                schedules=self.schedules,
                topic_arn=self.notifications.arn,
                forwarder=self.forwarder,
            ),
            opts=child,
        )
        self.outputs = self._outputs()
        self.register_outputs(self.outputs)

    def _create_key(
        self, config: StackConfig, context: StackContext
    ) -> tuple[StackKey | None, StackContext]:
        """The stack's key when the config asks for one, and the context every other component
        gets: with the key the config names or creates, if any."""
        if config.kms is None:
            return None, context
        if config.kms == KMS_CREATE:
            key = StackKey(
                "key", StackKeyArgs(context=context), opts=pulumi.ResourceOptions(parent=self)
            )
            return key, context.with_key(key.arn)
        return None, context.with_key(config.kms)

    def _outputs(self) -> dict[str, Any]:
        """The stack outputs: a contract other stacks read, documented in docs/operations.md."""
        schedule_arns = self.schedules.arns() if self.schedules else {}
        return {
            "clusterArn": self.cluster.arn,
            "kmsKeyArn": self.kms_key_arn,
            "clusterName": self.cluster.name,
            "network": {
                "subnetIds": self.network.subnet_ids,
                "securityGroupIds": self.network.security_group_ids,
                "assignPublicIp": self.network.assign_public_ip,
                "vpcId": self.network.vpc_id,
            },
            "jobs": {
                name: {
                    "taskDefinitionArn": job.task_definition.arn,
                    "taskDefinitionFamily": job.task_definition.family,
                    "containerName": job.container_name,
                    "taskRoleArn": job.task_role.arn,
                    "executionRoleArn": job.execution_role.arn,
                    "logGroupName": job.log_group.name,
                    "repositoryUrl": job.image.repository_url if job.image else None,
                    "imageUri": job.image_uri,
                    "serviceName": job.service.name,
                    "capacity": job.config.capacity,
                    "scheduleArns": schedule_arns.get(name, {}),
                }
                for name, job in self.jobs.items()
            },
            "triggerFunctionName": self.trigger.function.name,
            "triggerFunctionArn": self.trigger.function.arn,
            "callerPolicy": self.trigger.caller_policy,
            # What each allowedCallers entry invokes: the trigger with this qualifier (an
            # alias of its own), by which the trigger knows who asked.
            "triggerCallerQualifiers": {
                entry: alias.name for entry, alias in self.trigger.caller_aliases.items()
            },
            "triggerFailureQueueUrl": self.trigger.failure_queue.url,
            "triggerLogGroupName": self.trigger.log_group.name,
            "runsTableName": self.runs.table_name,
            "checkpointBucket": self.checkpoints.bucket_name,
            "checkpointAccessLogBucket": (
                self.checkpoints.access_logs.bucket.bucket if self.checkpoints.access_logs else None
            ),
            "supervisorFunctionName": self.supervisor.function.name,
            "alarmForwarderFunctionName": (
                self.forwarder.function.name if self.forwarder else None
            ),
            "notificationsTopicArn": self.notifications.topic_arn,
            "supervisorFailureQueueUrl": self.supervisor.failure_queue.url,
            "schedulesDeadLetterQueueUrl": (
                self.schedules.dead_letter_queue.url if self.schedules else None
            ),
        }


def _role_arns_to_come() -> tuple[
    pulumi.Output[list[str]], Callable[[pulumi.Output[list[str]]], None]
]:
    """Role ARNs a component's policy names before the roles are declared, and the function
    that later gives them (`pulumi.deferred_output`): the policy depends on the roles as if
    they had been passed in."""
    return pulumi.deferred_output()
