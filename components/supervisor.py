"""JobSupervisor: the Lambda that moves runs along as their tasks change state, and the rule
that feeds it this stack's cluster's "ECS Task State Change" events."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import encryption, functions, policies
from components.cluster import JobCluster
from components.context import StackContext
from components.job import FargateJob
from components.runs import RunRecords
from longjobs_contract import lifecycle
from longjobs_contract.runs import BY_STATUS_INDEX, TO_NOTIFY_INDEX

TASK_STATE_CHANGES = "task-state-changes"
"""The rule feeding the supervisor: `<prefix>-task-state-changes`."""
FUNCTION_FILES = (
    "supervisor.py",
    "reconcile.py",
    "publishing.py",
    "notices.py",
    "failed_events.py",
    "concurrency.py",
)
"""The function's own files (functions/supervisor/)."""
TIMEOUT_SECONDS = 300
"""Room for an event's calls with their retries (three usually, up to ten when writers race and
a re-run falls back), and for a reconciliation pass over many runs."""
# EventBridge keeps trying to deliver an event for up to a day (its own default), then parks it
# in the dead-letter queue; Lambda retries a failed invocation twice, then the same queue.
DELIVERY_MAX_AGE_SECONDS = 24 * 3600
DELIVERY_RETRIES = 185
ASYNC_RETRIES = 2


def task_state_changes(cluster_arn: str) -> str:
    """The EventBridge pattern of this cluster's task state change events."""
    return json.dumps(
        {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Task State Change"],
            "detail": {"clusterArn": [cluster_arn]},
        }
    )


@dataclass(frozen=True)
class JobSupervisorArgs:
    context: StackContext
    """The stack the function and its rules are named, tagged and encrypted for."""
    cluster: JobCluster
    """The cluster whose task state changes the supervisor is fed."""
    jobs: Sequence[FargateJob]
    """Every job of the stack: the supervisor may re-run each, and no other task definition."""
    runs: RunRecords
    """The table of runs the supervisor moves along."""
    config_json: pulumi.Output[str]
    """The contract file the trigger ships, shipped with the supervisor too."""
    notifications_topic: str
    """The ARN of the topic each run's final state is published to."""
    run_retention_days: int
    """The records' retention, which the function's logs follow."""


class JobSupervisor(pulumi.ComponentResource):
    """`<prefix>-supervisor`, fed by the rule `<prefix>-task-state-changes`."""

    log_group: aws.cloudwatch.LogGroup
    """The function's logs: `/<project>/<stack>/lambda/supervisor`."""
    failure_queue: aws.sqs.Queue
    """Events EventBridge could not deliver, and invocations that failed after Lambda's retries:
    `<prefix>-supervisor-failures`."""
    queue_policy: aws.sqs.QueuePolicy
    """Lets the rule, and only it, park undeliverable events in the queue."""
    role: aws.iam.Role
    """The function's least-privilege role."""
    policy: aws.iam.RolePolicy | None
    """Its inline policy."""
    function: aws.lambda_.Function
    """The supervisor: `<prefix>-supervisor`."""
    invoke_config: aws.lambda_.FunctionEventInvokeConfig
    """Async retries and the failure queue."""
    rule: aws.cloudwatch.EventRule
    """This cluster's task state changes, on the default event bus."""
    permission: aws.lambda_.Permission
    """Lets the rule, and only it, invoke the function."""
    target: aws.cloudwatch.EventTarget
    """The rule's delivery to the function, with retries and the failure queue."""
    reconcile_rule: aws.cloudwatch.EventRule
    """Every minute: `<prefix>-reconcile`, the reconciliation pass and the timeouts."""
    reconcile_permission: aws.lambda_.Permission
    """Lets that rule invoke the function."""
    reconcile_target: aws.cloudwatch.EventTarget
    """Its delivery, with the pass's event."""

    def __init__(
        self,
        name: str,
        args: JobSupervisorArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobSupervisor", name, None, opts)
        self._context = args.context
        self._notifications_topic = args.notifications_topic
        self.function_name = args.context.name(name)
        self.rule_name = args.context.name(TASK_STATE_CHANGES)
        self.log_group_name = f"{args.context.log_group_prefix}lambda/{name}"
        self.log_group = functions.create_log_group(
            name, self.log_group_name, args.context, args.run_retention_days, self
        )
        self.failure_queue = functions.create_failure_queue(name, args.context, self)
        self.role, self.policy = policies.role_with_policy(
            name,
            description="longjobs supervisor: record task state changes, re-run what failed",
            trust=policies.assume_role("lambda.amazonaws.com"),
            statements=self.statements(args.jobs, args.runs),
            path=args.context.iam_path,
            tags=args.context.tags_for(),
            parent=self,
        )
        files = functions.package_files("supervisor", FUNCTION_FILES)
        self.function = functions.create_function(
            name,
            function_name=self.function_name,
            description="longjobs: record task state changes of runs, re-run what failed",
            handler=functions.handler_name("supervisor", "supervisor"),
            code=args.config_json.apply(lambda text: functions.package(files, text)),
            role=self.role,
            policy=self.policy,
            timeout=TIMEOUT_SECONDS,
            log_group=self.log_group,
            context=args.context,
            parent=self,
        )
        self.invoke_config = functions.create_invoke_config(
            name,
            self.function,
            self.failure_queue.arn,
            ASYNC_RETRIES,
            self,
            max_event_age_seconds=lifecycle.SUPERVISOR_EVENT_AGE_SECONDS,
        )
        self.rule = self._create_rule(args.cluster)
        self.queue_policy = self._create_queue_policy(name)
        self.permission = self._create_permission(name)
        self.target = self._create_target(name)
        self.reconcile_rule, self.reconcile_permission, self.reconcile_target = (
            self._create_reconciliation(name)
        )
        self.register_outputs(
            {
                "functionName": self.function.name,
                "ruleName": self.rule.name,
                "failureQueueUrl": self.failure_queue.url,
            }
        )

    def _create_rule(self, cluster: JobCluster) -> aws.cloudwatch.EventRule:
        return aws.cloudwatch.EventRule(
            "task-state-changes",
            name=self.rule_name,
            description="longjobs: this stack's task state changes, to the supervisor",
            event_pattern=cluster.arn.apply(task_state_changes),
            tags=self._context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_queue_policy(self, name: str) -> aws.sqs.QueuePolicy:
        # EventBridge writes a target's dead letters with the queue's own policy (EventBridge
        # user guide, "Using dead-letter queues to process undelivered events").
        statement = {
            "Sid": "TaskStateChangesDeadLetters",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": self.failure_queue.arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": self.rule.arn}},
        }
        # Nobody else may hand the pass an event to take again: within the account an identity
        # policy alone would let any principal send, so only a Deny limits them (IAM User Guide,
        # "Policy evaluation logic"). The two senders: the rule's dead letters (aws:SourceArn),
        # and Lambda's on-failure destination, which sends as the function's role
        # (aws:PrincipalArn; Lambda developer guide, "Capturing records of asynchronous
        # invocations"). Keys of one operator must all match for the Deny to apply, and a
        # negated operator matches a key the request lacks.
        others = {
            "Sid": "OnlyTheRuleAndTheSupervisorSend",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Resource": self.failure_queue.arn,
            "Condition": {
                "ArnNotEquals": {"aws:SourceArn": self.rule.arn, "aws:PrincipalArn": self.role.arn}
            },
        }
        return functions.create_queue_policy(
            f"{name}-failures", self.failure_queue, [statement, others]
        )

    def _create_permission(self, name: str) -> aws.lambda_.Permission:
        return aws.lambda_.Permission(
            f"{name}-invoked-by-rule",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="events.amazonaws.com",
            source_arn=self.rule.arn,
            opts=pulumi.ResourceOptions(parent=self.function),
        )

    def _create_target(self, name: str) -> aws.cloudwatch.EventTarget:
        return aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=self.rule.name,
            arn=self.function.arn,
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=DELIVERY_MAX_AGE_SECONDS,
                maximum_retry_attempts=DELIVERY_RETRIES,
            ),
            dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(
                arn=self.failure_queue.arn
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.permission, self.queue_policy]
            ),
        )

    def _create_reconciliation(
        self, name: str
    ) -> tuple[aws.cloudwatch.EventRule, aws.lambda_.Permission, aws.cloudwatch.EventTarget]:
        rule = aws.cloudwatch.EventRule(
            "reconcile",
            name=self._context.name("reconcile"),
            description="longjobs: the supervisor's reconciliation pass and timeouts",
            schedule_expression=lifecycle.RECONCILE_EVERY,
            tags=self._context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        permission = aws.lambda_.Permission(
            f"{name}-invoked-by-reconcile",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        target = aws.cloudwatch.EventTarget(
            f"{name}-reconcile-target",
            rule=rule.name,
            arn=self.function.arn,
            input=json.dumps(lifecycle.RECONCILE_EVENT),
            # A pass that is not delivered is replaced by the next one, a minute later.
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=60, maximum_retry_attempts=0
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        return rule, permission, target

    def statements(self, jobs: Sequence[FargateJob], runs: RunRecords) -> list[policies.Statement]:
        ctx = self._context
        return [
            *functions.own_statements(ctx, self.log_group_name, self.failure_queue),
            {
                "Sid": "RecordRuns",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
                "Resource": runs.arn,
            },
            {
                "Sid": "FindWaitingRuns",
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": [
                    f"{runs.arn}/index/{BY_STATUS_INDEX}",
                    f"{runs.arn}/index/{TO_NOTIFY_INDEX}",
                ],
            },
            {
                "Sid": "PublishFinalStates",
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": self._notifications_topic,
            },
            {
                "Sid": "ReadJobLogs",
                "Effect": "Allow",
                "Action": "logs:GetLogEvents",
                "Resource": [ctx.log_streams_arn(job.log_group_name) for job in jobs],
            },
            # The pass describes a hundred tasks a call: a task ECS has forgotten shows no tags,
            # so a tag condition would deny the whole call and stall the pass on that page.
            # Describing is read-only; it stays on the cluster's tasks, and stopping on runs'.
            {
                "Sid": "InspectTasks",
                "Effect": "Allow",
                "Action": "ecs:DescribeTasks",
                "Resource": ctx.arn("ecs", f"task/{ctx.cluster_name}/*"),
                "Condition": {
                    "ArnEquals": {"ecs:cluster": ctx.arn("ecs", f"cluster/{ctx.cluster_name}")}
                },
            },
            # Before the pass presumes a run's task gone it asks ECS for the tasks the run started
            # (ListTasks by startedBy). ListTasks is authorized on container instances (Service
            # Authorization Reference, Amazon ECS: ListTasks, resource container-instance,
            # condition key ecs:cluster): the cluster's, on the cluster.
            {
                "Sid": "ListRunTasks",
                "Effect": "Allow",
                "Action": "ecs:ListTasks",
                "Resource": ctx.arn("ecs", f"container-instance/{ctx.cluster_name}/*"),
                "Condition": {
                    "ArnEquals": {"ecs:cluster": ctx.arn("ecs", f"cluster/{ctx.cluster_name}")}
                },
            },
            # The pass takes again the events the function failed to take (failed_events.py).
            {
                "Sid": "TakeFailedEventsAgain",
                "Effect": "Allow",
                "Action": ["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
                "Resource": self.failure_queue.arn,
            },
            policies.run_tasks_statement(ctx, ("ecs:StopTask",)),
            *policies.run_jobs_statements(
                ctx,
                [job.family for job in jobs],
                [arn for job in jobs for arn in (job.execution_role.arn, job.task_role.arn)],
            ),
            *encryption.key_use_statements(
                ctx, "RunsTableKey", encryption.TABLE_KEY_ACTIONS, ["dynamodb"]
            ),
            # Publishing to the topic and sending to the failure queue encrypt with the key.
            *encryption.key_use_statements(
                ctx, "TopicAndFailureQueueKey", encryption.PRODUCER_KEY_ACTIONS, ["sns", "sqs"]
            ),
        ]
