"""JobSchedules: EventBridge Scheduler schedules that run jobs through the trigger."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components import policies
from components.config import scheduler_name
from components.context import StackContext
from components.job import FargateJob
from components.trigger import JobTrigger

RETRY_ATTEMPTS = 3
MAX_EVENT_AGE_SECONDS = 3600
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
# Scheduler fills this in per invocation, so a redelivered invocation carries the same key
# and the trigger starts nothing twice.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def schedule_input(job: str, schedule: str, environment: dict[str, str]) -> str:
    """The trigger event a schedule sends: the same shape as an ad-hoc run."""
    return json.dumps(
        {
            "job": job,
            "environment": dict(sorted(environment.items())),
            "idempotencyKey": f"schedule:{job}/{schedule}:{SCHEDULED_TIME}",
        }
    )


class JobSchedules(pulumi.ComponentResource):
    group: aws.scheduler.ScheduleGroup
    dead_letter_queue: aws.sqs.Queue
    role: aws.iam.Role
    schedules: dict[str, dict[str, aws.scheduler.Schedule]]
    """Job name → schedule name → schedule."""

    def __init__(
        self,
        name: str,
        context: StackContext,
        jobs: Sequence[FargateJob],
        trigger: JobTrigger,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobSchedules", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.group = aws.scheduler.ScheduleGroup(
            f"{name}-group", name=context.prefix, tags=context.tags_for(), opts=child
        )
        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dead-letters",
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=context.tags_for(),
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            description="longjobs schedules: invoke the trigger, park undeliverable runs",
            assume_role_policy=policies.assume_role(
                "scheduler.amazonaws.com",
                {"StringEquals": {"aws:SourceAccount": context.account_id}},
            ),
            tags=context.tags_for(),
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=policies.to_json(self.statements(trigger)),
            opts=pulumi.ResourceOptions(parent=self.role),
        )
        self.schedules = {
            job.job: {
                schedule: self._create_schedule(job, schedule, trigger)
                for schedule in job.config.schedules
            }
            for job in jobs
        }
        self.register_outputs({"groupName": self.group.name, "arns": self.arns()})

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
                "Resource": trigger.function.arn,
            },
            {
                "Sid": "DeadLetters",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": self.dead_letter_queue.arn,
            },
        ]

    def _create_schedule(
        self, job: FargateJob, schedule: str, trigger: JobTrigger
    ) -> aws.scheduler.Schedule:
        config = job.config.schedules[schedule]
        # `job.schedule`: '.' is in neither name, so job `a` + `b-c` and `a-b` + `c` stay apart.
        name = scheduler_name(job.job, schedule)
        return aws.scheduler.Schedule(
            name,
            name=name,
            group_name=self.group.name,
            description=f"longjobs: run {job.job} ({schedule})",
            schedule_expression=config.expression,
            schedule_expression_timezone=config.timezone,
            state="ENABLED" if config.enabled else "DISABLED",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=trigger.function.arn,
                role_arn=self.role.arn,
                input=schedule_input(job.job, schedule, config.environment),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
                ),
                dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(
                    arn=self.dead_letter_queue.arn
                ),
            ),
            # The role must be able to invoke the trigger before the first firing.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
        )
