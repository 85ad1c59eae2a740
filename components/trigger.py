"""JobTrigger: the Lambda that starts, inspects and stops this stack's jobs, and its role."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import encryption, functions, policies
from components.cluster import JobCluster
from components.context import StackContext
from components.job import FargateJob
from components.network import JobNetwork
from components.runs import RunRecords
from longjobs_contract import callers, run_event, trigger_config
from longjobs_contract.trigger_config import TriggerConfig

FUNCTION_FILES = ("handler.py",)
"""The function's own files (functions/trigger/)."""
TIMEOUT_SECONDS = 120
"""Room for the five AWS calls a run can make, each with its retries (the handler's client
budget: 20 s a call), and margin."""
# Lambda retries a failed async invocation at most twice; then the event goes to the queue.
ASYNC_RETRIES = 2
ASYNC_MAX_EVENT_AGE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class JobTriggerArgs:
    context: StackContext
    """The stack the function is named, tagged and encrypted for."""
    cluster: JobCluster
    """The cluster the trigger runs tasks in."""
    network: JobNetwork
    """The subnets and security groups of the tasks it runs."""
    jobs: Sequence[FargateJob]
    """Every job of the stack: the trigger may run each, and no other task definition."""
    runs: RunRecords
    """The table the trigger records runs in."""
    run_retention_days: int
    """How long a run's record, and the function's logs, are kept."""
    notifications_topic: str
    """The ARN of the topic each run's final state is published to."""
    allowed_callers: Sequence[str]
    """Accounts and roles of other accounts that may invoke the trigger (`allowedCallers`)."""
    supervisor_failure_queue: str | None = None
    """The name of the supervisor's failure queue, whose events its pass takes again."""


class JobTrigger(pulumi.ComponentResource):
    log_group: aws.cloudwatch.LogGroup
    """The function's logs: `/<project>/<stack>/lambda/trigger`."""
    failure_queue: aws.sqs.Queue
    """Async invocations that failed after Lambda's retries: `<prefix>-trigger-failures`."""
    failure_queue_policy: aws.sqs.QueuePolicy
    """Requests to the queue over TLS only."""
    role: aws.iam.Role
    """The function's least-privilege role."""
    policy: aws.iam.RolePolicy | None
    """Its inline policy."""
    function: aws.lambda_.Function
    """The trigger: `<prefix>-trigger`."""
    invoke_config: aws.lambda_.FunctionEventInvokeConfig
    """Async retries and the failure queue."""
    schedules_alias: aws.lambda_.Alias
    """`schedules`, on $LATEST: what the stack's schedules invoke, and nothing else may (a
    permission on the unqualified function does not reach an alias), so the trigger tells a
    schedule's firing from a caller's request by the ARN it was invoked by."""
    schedules_invoke_config: aws.lambda_.FunctionEventInvokeConfig
    """The alias's own async retries and failure queue, the same as the function's."""
    caller_aliases: dict[str, aws.lambda_.Alias]
    """One alias per `allowedCallers` entry, `caller-…`: what that caller invokes, and the
    qualifier the trigger tells it by (`longjobs_contract.callers`)."""
    caller_invoke_configs: list[aws.lambda_.FunctionEventInvokeConfig]
    """Each caller alias's async retries and failure queue, the same as the function's."""
    caller_permissions: list[aws.lambda_.Permission]
    """One statement of the function's resource-based policy per `allowedCallers` entry, on
    that entry's alias."""

    config_json: pulumi.Output[str]
    """The contract file shipped with the function."""
    caller_policy: pulumi.Output[str]
    """An IAM policy document a caller attaches to its own role to invoke the trigger."""

    def __init__(
        self,
        name: str,
        args: JobTriggerArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobTrigger", name, None, opts)
        self._notifications_topic = args.notifications_topic
        self._supervisor_failure_queue = args.supervisor_failure_queue
        self._context = args.context
        self.function_name = args.context.name(name)
        self.package_files = functions.package_files("trigger", FUNCTION_FILES)
        self.log_group_name = f"{args.context.log_group_prefix}lambda/{name}"
        self.log_group = functions.create_log_group(
            name, self.log_group_name, args.context, args.run_retention_days, self
        )
        self.failure_queue = functions.create_failure_queue(name, args.context, self)
        self.failure_queue_policy = functions.create_queue_policy(
            f"{name}-failures", self.failure_queue
        )
        self._allowed_callers = tuple(args.allowed_callers)
        self.config_json = self._config_json(
            args.cluster, args.network, args.jobs, args.runs, args.run_retention_days
        )
        self.role, self.policy = policies.role_with_policy(
            name,
            description="longjobs trigger: start, inspect and stop this stack's jobs",
            trust=policies.assume_role("lambda.amazonaws.com"),
            statements=self.statements(args.jobs, args.runs),
            path=args.context.iam_path,
            tags=args.context.tags_for(),
            parent=self,
        )
        self.function = functions.create_function(
            name,
            function_name=self.function_name,
            description="longjobs: start, inspect and stop jobs on ECS Fargate",
            handler=functions.handler_name("trigger", "handler"),
            code=self.config_json.apply(lambda text: functions.package(self.package_files, text)),
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
            max_event_age_seconds=ASYNC_MAX_EVENT_AGE_SECONDS,
        )
        self.schedules_alias = aws.lambda_.Alias(
            f"{name}-schedules",
            name=run_event.SCHEDULES_ALIAS,
            description="longjobs: what the stack's schedules invoke; callers invoke the function",
            function_name=self.function.name,
            function_version="$LATEST",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.schedules_invoke_config = functions.create_invoke_config(
            name,
            self.function,
            self.failure_queue.arn,
            ASYNC_RETRIES,
            self,
            max_event_age_seconds=ASYNC_MAX_EVENT_AGE_SECONDS,
            alias=("schedules", self.schedules_alias),
        )
        self.caller_invoke_configs = []
        self.caller_aliases = self._create_caller_aliases(name, args.allowed_callers)
        self.caller_permissions = self._create_caller_permissions(name)
        self.caller_policy = self._caller_policy()
        self.register_outputs(
            {
                "functionName": self.function.name,
                "functionArn": self.function.arn,
                "failureQueueUrl": self.failure_queue.url,
                "logGroupName": self.log_group.name,
            }
        )

    def _create_caller_aliases(
        self, name: str, entries: Sequence[str]
    ) -> dict[str, aws.lambda_.Alias]:
        """One alias per caller, on $LATEST, with the same async retries and failure queue as
        the function: the alias it invokes tells the trigger who asked
        (`longjobs_contract.callers`)."""
        made = {}
        for entry in entries:
            alias_name = callers.alias(entry)
            made[entry] = aws.lambda_.Alias(
                f"{name}-{alias_name}",
                name=alias_name,
                # An alias's description holds up to 256 characters; a role's path may be longer.
                description=f"longjobs: what {entry[:200]} invokes",
                function_name=self.function.name,
                function_version="$LATEST",
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.caller_invoke_configs.append(
                functions.create_invoke_config(
                    name,
                    self.function,
                    self.failure_queue.arn,
                    ASYNC_RETRIES,
                    self,
                    max_event_age_seconds=ASYNC_MAX_EVENT_AGE_SECONDS,
                    alias=(alias_name, made[entry]),
                )
            )
        return made

    def _create_caller_permissions(self, name: str) -> list[aws.lambda_.Permission]:
        """Invoke for each caller, on its own alias only: not on the function, another
        caller's alias or the schedules'. A role ARN grants that role only; an account id grants
        that account, whose own IAM policies then decide which of its roles may call (Lambda
        developer guide, "Granting Lambda function access to other accounts"); an organization
        id grants every account of that organization, as Principal "*" with PrincipalOrgID
        (AddPermission in the Lambda API reference), each account's IAM policies deciding
        again. A permission on an alias covers that alias alone (Lambda developer guide, "Using
        Lambda aliases in event sources and permissions policies")."""
        permissions = []
        for caller, alias in self.caller_aliases.items():
            statement_id = caller_statement_id(caller)
            organization = caller if caller.startswith("o-") else None
            permissions.append(
                aws.lambda_.Permission(
                    f"{name}-{statement_id}",
                    statement_id=statement_id,
                    action="lambda:InvokeFunction",
                    function=self.function.name,
                    qualifier=alias.name,
                    principal="*" if organization else caller,
                    principal_org_id=organization,
                    opts=pulumi.ResourceOptions(parent=self.function),
                )
            )
        return permissions

    def _caller_policy(self) -> pulumi.Output[str]:
        """Invoke on the unqualified ARN, which callers of the stack's own account use: a
        permission on it covers neither versions nor aliases (the schedules' and the other
        accounts' callers' stay theirs)."""
        return policies.to_json(
            [
                {
                    "Sid": "InvokeLongjobsTrigger",
                    "Effect": "Allow",
                    "Action": "lambda:InvokeFunction",
                    "Resource": self.function.arn,
                }
            ]
        )

    def _config_json(
        self,
        cluster: JobCluster,
        network: JobNetwork,
        jobs: Sequence[FargateJob],
        runs: RunRecords,
        run_retention_days: int,
    ) -> pulumi.Output[str]:
        """The contract file, from the targets the jobs built for themselves."""
        targets = pulumi.Output.all(*(job.target for job in jobs))
        names = [job.job_name for job in jobs]
        # The bucket the platform gave every job, whose `<job>/` prefix each task role may use.
        (checkpoint_bucket,) = {job.checkpoint_bucket for job in jobs}

        def dumps(args: list) -> str:
            cluster_arn, subnet_ids, security_group_ids, table_name, resolved = args
            config = TriggerConfig(
                cluster_arn=cluster_arn,
                subnet_ids=tuple(subnet_ids),
                security_group_ids=tuple(security_group_ids),
                assign_public_ip=network.assign_public_ip,
                runs_table=table_name,
                run_retention_days=run_retention_days,
                checkpoint_bucket=checkpoint_bucket,
                notifications_topic=self._notifications_topic,
                supervisor_failure_queue=self._supervisor_failure_queue,
                callers=self._allowed_callers,
                jobs=dict(zip(names, resolved, strict=True)),
            )
            return trigger_config.dumps(config)

        return pulumi.Output.all(
            cluster.arn, network.subnet_ids, network.security_group_ids, runs.table_name, targets
        ).apply(dumps)

    def statements(self, jobs: Sequence[FargateJob], runs: RunRecords) -> list[policies.Statement]:
        ctx = self._context
        run_jobs = policies.run_jobs_statements(
            ctx,
            [job.family for job in jobs],
            [arn for job in jobs for arn in (job.execution_role.arn, job.task_role.arn)],
        )
        return [
            *run_jobs[:2],
            policies.run_tasks_statement(ctx),
            run_jobs[2],
            *functions.own_statements(ctx, self.log_group_name, self.failure_queue),
            {
                "Sid": "RecordRuns",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                "Resource": runs.arn,
            },
            {
                "Sid": "ListRuns",
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": runs.index_arns,
            },
            *encryption.key_use_statements(
                ctx, "RunsTableKey", encryption.TABLE_KEY_ACTIONS, ["dynamodb"]
            ),
            # Lambda sends a failed invocation to the failure queue as this role.
            *encryption.key_use_statements(
                ctx, "FailureQueueKey", encryption.PRODUCER_KEY_ACTIONS, ["sqs"]
            ),
        ]


def caller_statement_id(caller: str) -> str:
    """The statement id of a caller's permission: `invoked-by-<account>` for an account,
    `invoked-by-<organization id>` for an organization, `invoked-by-role-<12 hex of the ARN's
    SHA-256>` for a role (statement ids take letters, digits, '-' and '_' only)."""
    if caller.isdigit() or caller.startswith("o-"):
        return f"invoked-by-{caller}"
    return f"invoked-by-role-{hashlib.sha256(caller.encode()).hexdigest()[:12]}"
