"""AlarmForwarder: the Lambda that passes the stack's alarms on to the notifications topic when
CloudWatch cannot publish there itself (the topic encrypted with `alias/aws/sns`: no `kms`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import functions, policies
from components.context import StackContext
from longjobs_contract import alarms as stack_alarms

FUNCTION_FILES = ("forwarder.py",)
"""The function's own files (functions/alarms/)."""
COMMON_FILES = ("runtime.py", "request_log.py")
"""The shared files it imports: the clients' settings and the request's log line."""
CONTRACT_MODULES = (
    "__init__.py",
    "alarms.py",
    # runtime.py imports trigger_config (for the config file the forwarder never reads), which
    # imports these: a test holds this list to what importing the handler loads.
    "capacity.py",
    "environment.py",
    "errors.py",
    "jobs.py",
    "loader_variables.py",
    "settings.py",
    "trigger_config.py",
)
"""The contract modules it imports."""
TIMEOUT_SECONDS = 30
"""Room for its one call, Publish, with its retries (20 s at most, runtime.py)."""
# Lambda retries a failed async invocation (an alarm action's) twice, then publishes the
# invocation record, the alarm's payload and the error, to the topic itself.
ASYNC_RETRIES = 2


def package_files() -> dict[str, Path]:
    """Exactly what the forwarder imports, and no config file."""
    return functions.package_files(
        stack_alarms.FORWARDER,
        FUNCTION_FILES,
        common_files=COMMON_FILES,
        contract_modules=CONTRACT_MODULES,
    )


@dataclass(frozen=True)
class AlarmForwarderArgs:
    context: StackContext
    """The stack the function is named and tagged for; it has no key of its own (`kms`)."""
    notifications_topic: pulumi.Input[str]
    """The ARN of the topic the alarms are told on, as the topic reports it, so that the async
    invoke config, whose on-failure destination it is too, waits for the topic."""
    alarm_names: Sequence[str]
    """The stack's alarms: the only ones the function passes on."""
    run_retention_days: int
    """The records' retention, which the function's logs follow as the others' do."""


class AlarmForwarder(pulumi.ComponentResource):
    """`<prefix>-alarms`: each of the stack's alarms invokes it (a Lambda alarm action) and it
    publishes what the alarm says. Apart from the supervisor, so that a broken supervisor does
    not silence the alarm that says so: no config file, and the least privilege of all the
    functions (Publish to the topic, write its logs)."""

    log_group: aws.cloudwatch.LogGroup
    """The function's logs: `/<project>/<stack>/lambda/alarms`."""
    role: aws.iam.Role
    """The function's least-privilege role."""
    policy: aws.iam.RolePolicy | None
    """Its inline policy."""
    function: aws.lambda_.Function
    """The forwarder: `<prefix>-alarms`."""
    invoke_config: aws.lambda_.FunctionEventInvokeConfig
    """Async retries, then the invocation's record to the topic."""

    def __init__(
        self,
        name: str,
        args: AlarmForwarderArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:AlarmForwarder", name, None, opts)
        self._context = args.context
        self._topic = args.notifications_topic
        self.function_name = args.context.name(stack_alarms.FORWARDER)
        self.log_group_name = f"{args.context.log_group_prefix}lambda/{stack_alarms.FORWARDER}"
        self.log_group = functions.create_log_group(
            name, self.log_group_name, args.context, args.run_retention_days, self
        )
        self.role, self.policy = policies.role_with_policy(
            name,
            description="longjobs alarm forwarder: publish the stack's alarms to its topic",
            trust=policies.assume_role("lambda.amazonaws.com"),
            statements=self.statements(),
            path=args.context.iam_path,
            tags=args.context.tags_for(),
            parent=self,
        )
        self.package_files = package_files()
        self.function = functions.create_function(
            name,
            function_name=self.function_name,
            description="longjobs: publish the stack's alarms to its notifications topic",
            handler=functions.handler_name(stack_alarms.FORWARDER, "forwarder"),
            code=functions.package(self.package_files),
            role=self.role,
            policy=self.policy,
            timeout=TIMEOUT_SECONDS,
            log_group=self.log_group,
            context=args.context,
            parent=self,
            environment={
                stack_alarms.TOPIC_VARIABLE: args.notifications_topic,
                stack_alarms.NAMES_VARIABLE: json.dumps(list(args.alarm_names)),
            },
        )
        # A forwarding that failed through Lambda's retries still reaches people: its record
        # (the alarm's payload and the error) is published to the topic as the function's role
        # ("Capturing records of Lambda asynchronous invocations": a standard SNS topic). A
        # failure queue would need an alarm of its own, told through this same function.
        self.invoke_config = functions.create_invoke_config(
            name, self.function, args.notifications_topic, ASYNC_RETRIES, self
        )
        self.register_outputs(
            {"functionName": self.function.name, "functionArn": self.function.arn}
        )

    def statements(self) -> list[policies.Statement]:
        """Write its log group; publish to the topic (the alarms, and the records of the
        invocations that failed). No key: the stack has none, and SNS's AWS managed key lets
        the account's publishers use it through SNS."""
        return [
            functions.logs_statement(self._context, self.log_group_name),
            {
                "Sid": "PublishAlarms",
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": self._topic,
            },
        ]
