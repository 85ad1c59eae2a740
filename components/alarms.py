"""StackAlarms: what the stack did not do, told on the notifications topic: requests the trigger
refused (an async caller or a schedule gets no answer to read), runs whose record the job's rules
refuse, the supervisor's failed invocations, and anything left in a queue of what failed (the
functions' failure queues, the schedules' dead letters)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarm_forwarder import AlarmForwarder
from components.context import StackContext
from components.schedules import JobSchedules
from components.supervisor import JobSupervisor
from components.trigger import JobTrigger
from longjobs_contract import alarms as stack_alarms

REFUSED_PATTERN = '{ $.outcome = "validation-error" }'
"""The trigger's log line of a refused request (handler.py logs one JSON line per request)."""
REFUSED_METRIC = "RefusedRequests"
REFUSED_RECORD_PATTERN = f'{{ $.outcome = "{stack_alarms.REFUSED_RECORD}" }}'
"""The functions' log line of a run whose recorded request the job's rules refuse
(functions/common/attempts.py prints one for each, whichever function sends)."""
REFUSED_RECORDS_METRIC = "RefusedRecords"
NO_CAPACITY_PATTERN = f'{{ $.outcome = "{stack_alarms.NO_CAPACITY}" }}'
"""The supervisor's log line of an invocation that failed on purpose: its re-run found no
capacity, the next attempt is recorded, and Lambda's retry sends it (an expected outcome)."""
NO_CAPACITY_METRIC = "SupervisorNoCapacity"
REAL_ERRORS = "errors - FILL(handled, 0)"
"""The supervisor's errors alarm's metric math: Lambda's `Errors` (every failed invocation, a
broken deploy's and a timeout's too, which print no line) less the handled ones (CloudWatch
User Guide, "Using metric math"; FILL makes a period without a handled one count 0)."""
PERIOD_SECONDS = 300
ALARM_ACTIONS_PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com"


@dataclass(frozen=True)
class StackAlarmsArgs:
    context: StackContext
    """The stack the alarms are named and tagged for; with its key, they publish themselves."""
    trigger: JobTrigger
    """Whose refused requests and failure queue are watched."""
    supervisor: JobSupervisor
    """Whose failed invocations and failure queue are watched."""
    schedules: JobSchedules | None
    """Whose dead-letter queue is watched, when the stack has schedules."""
    topic_arn: pulumi.Input[str]
    """The notifications topic the alarms tell."""
    forwarder: AlarmForwarder | None
    """What the alarms invoke to tell the topic, without the stack's key; None with it, when
    they publish to the topic themselves."""


class StackAlarms(pulumi.ComponentResource):
    """`<prefix>-refused-requests`, `<prefix>-refused-records`, `<prefix>-supervisor-errors` and
    one `<prefix>-<queue>` alarm per queue of what failed; each goes into ALARM on the first one
    in five minutes and tells the notifications topic: itself when the topic is encrypted with
    the stack's key, through the alarm forwarder otherwise."""

    refused_requests: aws.cloudwatch.LogMetricFilter
    """Counts the trigger's refused requests as `longjobs/<prefix>` `RefusedRequests`."""
    refused_records: list[aws.cloudwatch.LogMetricFilter]
    """Count, in each function's log group, the runs whose recorded request the job's rules
    refuse, as `longjobs/<prefix>` `RefusedRecords`."""
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    """Alarm name → the alarm."""
    permissions: list[aws.lambda_.Permission]
    """Without the stack's key: each alarm may invoke the forwarder, which publishes for it
    (CloudWatch cannot use the AWS managed key `alias/aws/sns`)."""

    def __init__(
        self,
        name: str,
        args: StackAlarmsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:StackAlarms", name, None, opts)
        if (args.forwarder is None) != bool(args.context.key_arn):
            raise ValueError("the alarms need the forwarder exactly when the stack has no key")
        self._context = args.context
        self.refused_requests = self._create_refused_requests_filter(name, args.trigger)
        self.no_capacity = self._create_no_capacity_filter(name, args.supervisor)
        self.refused_records = [
            self._create_refused_records_filter(name, function, log_group)
            for function, log_group in (
                ("trigger", args.trigger.log_group),
                ("supervisor", args.supervisor.log_group),
            )
        ]
        trigger_failures, supervisor_failures, dead_letters = stack_alarms.QUEUES
        queues = {trigger_failures: args.trigger.failure_queue}
        queues[supervisor_failures] = args.supervisor.failure_queue
        if args.schedules is not None:
            queues[dead_letters] = args.schedules.dead_letter_queue
        names = [
            args.context.name(stack_alarms.REFUSED_REQUESTS),
            args.context.name(stack_alarms.REFUSED_RECORDS),
            args.context.name(stack_alarms.SUPERVISOR_ERRORS),
            *(args.context.name(q) for q in queues),
        ]
        self.permissions = (
            self._create_permissions(name, names, args.forwarder) if args.forwarder else []
        )
        action = args.forwarder.function.arn if args.forwarder else args.topic_arn
        self.alarms = {
            names[0]: self._create_refused_requests_alarm(names[0], action),
            names[1]: self._create_refused_records_alarm(names[1], action),
            names[2]: self._create_supervisor_errors_alarm(names[2], args.supervisor, action),
            **{
                alarm: self._create_queue_alarm(alarm, queue, action)
                for alarm, queue in zip(names[3:], queues.values(), strict=True)
            },
        }
        self.register_outputs({"alarmNames": list(self.alarms)})

    def _create_refused_requests_filter(
        self, name: str, trigger: JobTrigger
    ) -> aws.cloudwatch.LogMetricFilter:
        return aws.cloudwatch.LogMetricFilter(
            f"{name}-refused-requests",
            name=self._context.name(stack_alarms.REFUSED_REQUESTS),
            log_group_name=trigger.log_group.name,
            pattern=REFUSED_PATTERN,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=REFUSED_METRIC, namespace=self.namespace, value="1", unit="Count"
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_refused_records_filter(
        self, name: str, function: str, log_group: aws.cloudwatch.LogGroup
    ) -> aws.cloudwatch.LogMetricFilter:
        return aws.cloudwatch.LogMetricFilter(
            f"{name}-{function}-refused-records",
            name=self._context.name(f"{function}-{stack_alarms.REFUSED_RECORDS}"),
            log_group_name=log_group.name,
            pattern=REFUSED_RECORD_PATTERN,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=REFUSED_RECORDS_METRIC, namespace=self.namespace, value="1", unit="Count"
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_refused_records_alarm(
        self, alarm: str, action: pulumi.Input[str]
    ) -> aws.cloudwatch.MetricAlarm:
        return self._alarm(
            alarm,
            action,
            description=(
                "A run's recorded request broke its job's rules, so the functions sent nothing "
                "for it and ended it FAILED: its record was written around the trigger (who can "
                "write the runs table?), or the job's rules were tightened since it began. The "
                "functions' log groups have its line: filter on "
                f"{REFUSED_RECORD_PATTERN}."
            ),
            namespace=self.namespace,
            metric_name=REFUSED_RECORDS_METRIC,
            statistic="Sum",
        )

    @property
    def namespace(self) -> str:
        return f"longjobs/{self._context.prefix}"

    def _create_permissions(
        self, name: str, alarm_names: list[str], forwarder: AlarmForwarder
    ) -> list[aws.lambda_.Permission]:
        # One statement per alarm, on its exact ARN (CloudWatch User Guide, "Lambda alarm
        # actions": the resource policy names the alarm as source ARN and the account).
        return [
            aws.lambda_.Permission(
                f"{name}-{self._short(alarm)}-invokes-forwarder",
                statement_id=f"alarm-{self._short(alarm)}",
                action="lambda:InvokeFunction",
                function=forwarder.function.name,
                principal=ALARM_ACTIONS_PRINCIPAL,
                source_account=self._context.account_id,
                source_arn=self._alarm_arn(alarm),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for alarm in alarm_names
        ]

    def _short(self, alarm: str) -> str:
        """An alarm's name without the stack's prefix."""
        return alarm.removeprefix(f"{self._context.prefix}-")

    def _alarm_arn(self, alarm: str) -> str:
        return self._context.arn("cloudwatch", f"alarm:{alarm}")

    def _create_refused_requests_alarm(
        self, alarm: str, action: pulumi.Input[str]
    ) -> aws.cloudwatch.MetricAlarm:
        return self._alarm(
            alarm,
            action,
            description=(
                "The trigger refused a request (bad input): an async caller or a schedule gets "
                "no answer, so its run never started. The trigger's log group has the request's "
                'line: filter on { $.outcome = "validation-error" }.'
            ),
            namespace=self.namespace,
            metric_name=REFUSED_METRIC,
            statistic="Sum",
        )

    def _create_no_capacity_filter(
        self, name: str, supervisor: JobSupervisor
    ) -> aws.cloudwatch.LogMetricFilter:
        return aws.cloudwatch.LogMetricFilter(
            f"{name}-supervisor-no-capacity",
            name=self._context.name("supervisor-no-capacity"),
            log_group_name=supervisor.log_group.name,
            pattern=NO_CAPACITY_PATTERN,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=NO_CAPACITY_METRIC, namespace=self.namespace, value="1", unit="Count"
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_supervisor_errors_alarm(
        self, alarm: str, supervisor: JobSupervisor, action: pulumi.Input[str]
    ) -> aws.cloudwatch.MetricAlarm:
        def metric(
            query: str, namespace: str, name: str, dimensions: dict[str, pulumi.Input[str]] | None
        ) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=namespace,
                    metric_name=name,
                    dimensions=dimensions,
                    stat="Sum",
                    period=PERIOD_SECONDS,
                ),
                return_data=False,
            )

        return aws.cloudwatch.MetricAlarm(
            self._short(alarm),
            name=alarm,
            alarm_description=(
                "The supervisor failed an invocation: a broken deploy (its config file, its "
                "code), a timeout, or an AWS call failing past its retries (a re-run that found "
                "no capacity fails on purpose, so that Lambda retries it, and is not counted). "
                "Runs may not move and notices may wait. Read its log group "
                f"{supervisor.log_group_name}: each failed request's line has "
                '{ $.outcome = "failed" } and the error. Once it works, its reconciliation '
                "pass takes the failed events again from its failure queue and asks ECS about "
                "the runs whose events never came: nothing to replay by hand."
            ),
            metric_queries=[
                metric(
                    "errors", "AWS/Lambda", "Errors", {"FunctionName": supervisor.function.name}
                ),
                metric("handled", self.namespace, NO_CAPACITY_METRIC, None),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="real",
                    expression=REAL_ERRORS,
                    label="Failed invocations, less those without capacity",
                    return_data=True,
                ),
            ],
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[action],
            tags=self._context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.permissions),
        )

    def _create_queue_alarm(
        self, alarm: str, queue: aws.sqs.Queue, action: pulumi.Input[str]
    ) -> aws.cloudwatch.MetricAlarm:
        return self._alarm(
            alarm,
            action,
            description=self._queue_description(alarm),
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            statistic="Maximum",
            dimensions={"QueueName": queue.name},
        )

    def _queue_description(self, alarm: str) -> str:
        if self._short(alarm) != stack_alarms.QUEUES[1]:
            return (
                f"A message waits in {alarm}: what a function or a schedule could not deliver "
                "after its retries. Read it from the queue (its URL is a stack output), act, "
                "then delete it."
            )
        # functions/supervisor/failed_events.py: the pass takes the queue's events again.
        return (
            f"A task state change event waits in {alarm}: the supervisor failed it through "
            "Lambda's two retries (about three minutes), or EventBridge could not deliver it "
            "for a day, so the supervisor has been failing for a while. Its reconciliation "
            "pass takes these events again by itself, every minute, once it works: read why "
            "it fails in its log group (the supervisor-errors alarm tells of the same), fix "
            "it, and leave the messages to the pass: once ECS forgets a stopped task (about "
            "an hour), its event is the only record of how the task ended."
        )

    def _alarm(
        self,
        alarm: str,
        action: pulumi.Input[str],
        *,
        description: str,
        namespace: str,
        metric_name: str,
        statistic: str,
        dimensions: dict[str, pulumi.Input[str]] | None = None,
    ) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            self._short(alarm),
            name=alarm,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dimensions,
            statistic=statistic,
            period=PERIOD_SECONDS,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            # No data is nothing refused, nothing queued.
            treat_missing_data="notBreaching",
            alarm_actions=[action],
            tags=self._context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.permissions),
        )
