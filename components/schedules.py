"""JobSchedules: EventBridge Scheduler schedules that run jobs through the trigger."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import encryption, functions, policies
from components.config.types import scheduler_name
from components.context import StackContext
from components.job import FargateJob
from components.trigger import JobTrigger
from longjobs_contract.run_event import schedule_event

RETRY_ATTEMPTS = 3
MAX_EVENT_AGE_SECONDS = 3600
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class JobSchedulesArgs:
    context: StackContext
    """The stack the schedules are named, tagged and encrypted for."""
    jobs: Sequence[FargateJob]
    """Every job of the stack: each of its `schedules` becomes one."""
    trigger: JobTrigger
    """The function each schedule invokes."""


class JobSchedules(pulumi.ComponentResource):
    group: aws.scheduler.ScheduleGroup
    """The stack's schedule group, named `<prefix>`."""
    dead_letter_queue: aws.sqs.Queue
    """Firings the trigger could not take after Scheduler's retries."""
    dead_letter_queue_policy: aws.sqs.QueuePolicy
    """Requests to the queue over TLS only."""
    role: aws.iam.Role
    """What Scheduler assumes to invoke the trigger."""
    policy: aws.iam.RolePolicy | None
    """Its inline policy."""
    schedules: dict[str, dict[str, aws.scheduler.Schedule]]
    """Job name → schedule name → schedule."""

    def __init__(
        self,
        name: str,
        args: JobSchedulesArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobSchedules", name, None, opts)
        self._context = args.context
        self.group = self._create_group(name)
        self.dead_letter_queue = self._create_dead_letter_queue(name)
        self.dead_letter_queue_policy = functions.create_queue_policy(
            f"{name}-dead-letters", self.dead_letter_queue
        )
        self.role, self.policy = policies.role_with_policy(
            name,
            description="longjobs schedules: invoke the trigger, park undeliverable runs",
            trust=policies.assume_role("scheduler.amazonaws.com", self.trust_conditions()),
            statements=self.statements(args.trigger),
            path=args.context.iam_path,
            tags=args.context.tags_for(),
            parent=self,
        )
        self.schedules = {
            job.job_name: {
                schedule: self._create_schedule(job, schedule, args.trigger)
                for schedule in job.config.schedules
            }
            for job in args.jobs
        }
        self.register_outputs(
            {
                "groupName": self.group.name,
                "deadLetterQueueUrl": self.dead_letter_queue.url,
                "arns": self.arns(),
            }
        )

    def _create_group(self, name: str) -> aws.scheduler.ScheduleGroup:
        return aws.scheduler.ScheduleGroup(
            f"{name}-group",
            name=self._context.prefix,
            tags=self._context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_dead_letter_queue(self, name: str) -> aws.sqs.Queue:
        return aws.sqs.Queue(
            f"{name}-dead-letters",
            name=self._context.name(f"{name}-dead-letters"),
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            **encryption.queue(self._context),
            tags=self._context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def trust_conditions(self) -> dict[str, dict[str, str]]:
        """Scheduler assumes the role for this stack's schedule group only, in this account: the
        confused-deputy guard of the EventBridge Scheduler User Guide ("Confused deputy
        prevention"), which names the group's whole ARN and warns against a schedule's ARN or a
        name prefix."""
        ctx = self._context
        return {
            "StringEquals": {"aws:SourceAccount": ctx.account_id},
            "ArnEquals": {"aws:SourceArn": ctx.arn("scheduler", f"schedule-group/{ctx.prefix}")},
        }

    def arns(self) -> dict[str, dict[str, pulumi.Output[str]]]:
        return {
            job: {name: schedule.arn for name, schedule in schedules.items()}
            for job, schedules in self.schedules.items()
        }

    def statements(self, trigger: JobTrigger) -> list[policies.Statement]:
        return [
            {
                "Sid": "InvokeTrigger",
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                # The alias only: the trigger takes a schedule's firing from it alone.
                "Resource": trigger.schedules_alias.arn,
            },
            {
                "Sid": "DeadLetters",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": self.dead_letter_queue.arn,
            },
            # Scheduler decrypts a schedule's input as this role (EventBridge Scheduler, "Data
            # at rest encryption"), and sends to the encrypted dead-letter queue as it.
            *self._input_key_statements(),
            *encryption.key_use_statements(
                self._context, "DeadLettersKey", encryption.PRODUCER_KEY_ACTIONS, ["sqs"]
            ),
        ]

    def _input_key_statements(self) -> list[policies.Statement]:
        ctx = self._context
        return encryption.key_use_statements(
            ctx,
            "ScheduleInputKey",
            ["kms:Decrypt"],
            ["scheduler"],
            string_like={
                "kms:EncryptionContext:aws:scheduler:schedule:arn": ctx.arn(
                    "scheduler", f"schedule/{ctx.prefix}/*"
                )
            },
        )

    def _create_schedule(
        self, job: FargateJob, schedule: str, trigger: JobTrigger
    ) -> aws.scheduler.Schedule:
        config = job.config.schedules[schedule]
        # `job.schedule`: '.' is in neither name, so job `a` + `b-c` and `a-b` + `c` stay apart.
        name = scheduler_name(job.job_name, schedule)
        return aws.scheduler.Schedule(
            name,
            name=name,
            group_name=self.group.name,
            description=f"longjobs: run {job.job_name} ({schedule})",
            schedule_expression=config.expression,
            schedule_expression_timezone=config.timezone,
            state="ENABLED" if config.enabled else "DISABLED",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            kms_key_arn=self._context.key_arn,
            target=aws.scheduler.ScheduleTargetArgs(
                arn=trigger.schedules_alias.arn,
                role_arn=self.role.arn,
                input=json.dumps(schedule_event(job.job_name, schedule, config.environment)),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
                ),
                dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(
                    arn=self.dead_letter_queue.arn
                ),
            ),
            # The role must be able to invoke the trigger before the first firing.
            opts=pulumi.ResourceOptions(parent=self, depends_on=policies.created(self.policy)),
        )
