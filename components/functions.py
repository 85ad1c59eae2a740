"""What every Lambda function of the stack is shipped as: its own files, the files the functions
share (`functions/common/`), the contract package, and the functions' config file (the alarm
forwarder: only the shared files and contract modules it imports, and no config file)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import encryption, policies
from components.config.models import ALLOWED_LOG_RETENTION_DAYS
from components.config.paths import PROJECT_ROOT
from components.context import StackContext
from longjobs_contract import MODULES as CONTRACT_MODULES
from longjobs_contract import trigger_config

FUNCTIONS_DIR = PROJECT_ROOT / "functions"
CONTRACT_DIR = PROJECT_ROOT / "longjobs_contract"
COMMON_FILES = ("attempts.py", "clock.py", "records.py", "runtime.py", "request_log.py")
"""Shared by every function: the runs table as functions read and write it, attempts, the
clients' settings and config file, and the request's log line."""
RUNTIME = aws.lambda_.Runtime.PYTHON3D14


def handler_name(function: str, module: str) -> str:
    """Lambda's handler setting: the function's module by its import path in the package."""
    return f"{FUNCTIONS_DIR.name}.{function}.{module}.handler"


def package_files(
    function: str,
    own_files: Sequence[str],
    *,
    common_files: Sequence[str] = COMMON_FILES,
    contract_modules: Sequence[str] = CONTRACT_MODULES,
) -> dict[str, Path]:
    """Archive path → file: exactly what the function's package holds, config file aside: its
    own files, and the shared files and contract modules it imports (all of them by default).

    The files keep their paths from the project's root, so that the package's root (Lambda's
    /var/task, first on its sys.path) holds the `functions` package and the contract package,
    and each module imports the others by the one name they have everywhere."""
    paths = [
        FUNCTIONS_DIR / "__init__.py",
        *(FUNCTIONS_DIR / function / name for name in ("__init__.py", *own_files)),
        *(FUNCTIONS_DIR / "common" / name for name in ("__init__.py", *common_files)),
        *(CONTRACT_DIR / name for name in contract_modules),
    ]
    return {path.relative_to(PROJECT_ROOT).as_posix(): path for path in paths}


def package(files: dict[str, Path], config_json: str | None = None) -> pulumi.AssetArchive:
    """The deployment package: `files`, and the config file the components wrote if given."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        name: pulumi.FileAsset(str(path)) for name, path in files.items()
    }
    if config_json is not None:
        assets[trigger_config.CONFIG_FILE] = pulumi.StringAsset(config_json)
    return pulumi.AssetArchive(assets)


# Every function of the stack keeps what failed for two weeks.
FAILURE_RETENTION_SECONDS = 14 * 24 * 3600
MEMORY_MB = 256


MIN_LOG_RETENTION_DAYS = 365
"""A year at least: what an audit of who started and stopped what expects."""


def log_retention_days(run_retention_days: int) -> int:
    """How long the functions keep their logs: a year, or as long as the run records they
    explain if longer, in the nearest retention CloudWatch Logs offers at or above it."""
    wanted = max(MIN_LOG_RETENTION_DAYS, run_retention_days)
    return min(days for days in ALLOWED_LOG_RETENTION_DAYS if days >= wanted)


def create_log_group(
    name: str,
    group_name: str,
    context: StackContext,
    run_retention_days: int,
    parent: pulumi.Resource,
) -> aws.cloudwatch.LogGroup:
    """A function's log group, `/<project>/<stack>/lambda/<function>`, kept as long as the run
    records (`runRetentionDays`)."""
    return aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=group_name,
        retention_in_days=log_retention_days(run_retention_days),
        kms_key_id=context.key_arn,
        tags=context.tags_for(),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def failure_queue_name(name: str, context: StackContext) -> str:
    """`<prefix>-<function>-failures`."""
    return context.name(f"{name}-failures")


def create_failure_queue(
    name: str, context: StackContext, parent: pulumi.Resource
) -> aws.sqs.Queue:
    """`<prefix>-<function>-failures`: what a function could not take, kept two weeks."""
    return aws.sqs.Queue(
        f"{name}-failures",
        name=failure_queue_name(name, context),
        message_retention_seconds=FAILURE_RETENTION_SECONDS,
        **encryption.queue(context),
        tags=context.tags_for(),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def own_statements(
    context: StackContext, log_group_name: str, failure_queue: aws.sqs.Queue
) -> list[policies.Statement]:
    """What every function's role needs for itself: write its log group, and send what it could
    not take to its failure queue (Lambda's on-failure destination sends as the role)."""
    return [
        logs_statement(context, log_group_name),
        {
            "Sid": "FailureQueue",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": failure_queue.arn,
        },
    ]


def logs_statement(context: StackContext, log_group_name: str) -> policies.Statement:
    """Write the function's own log group, and no other."""
    return {
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": context.log_streams_arn(log_group_name),
    }


def create_queue_policy(
    name: str, queue: aws.sqs.Queue, statements: list[policies.Statement] | None = None
) -> aws.sqs.QueuePolicy:
    """A queue's one policy: requests over TLS only (what it holds are whole events, the
    callers' values included), and `statements`."""
    return aws.sqs.QueuePolicy(
        f"{name}-policy",
        queue_url=queue.url,
        policy=policies.to_json(
            [policies.deny_insecure_transport("sqs", queue.arn), *(statements or [])]
        ),
        opts=pulumi.ResourceOptions(parent=queue),
    )


def create_function(
    name: str,
    *,
    function_name: str,
    description: str,
    handler: str,
    code: pulumi.Input[pulumi.Archive],
    role: aws.iam.Role,
    policy: aws.iam.RolePolicy | None,
    timeout: int,
    log_group: aws.cloudwatch.LogGroup,
    context: StackContext,
    parent: pulumi.Resource,
    environment: Mapping[str, pulumi.Input[str]] | None = None,
) -> aws.lambda_.Function:
    """A function of the stack: Python on arm64, its logs in its own group, and `environment`
    as its environment variables if given."""
    return aws.lambda_.Function(
        f"{name}-function",
        name=function_name,
        description=description,
        runtime=RUNTIME,
        architectures=["arm64"],
        handler=handler,
        code=code,
        role=role.arn,
        memory_size=MEMORY_MB,
        timeout=timeout,
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="Text", log_group=log_group.name
        ),
        environment=(
            aws.lambda_.FunctionEnvironmentArgs(variables=dict(environment))
            if environment is not None
            else None
        ),
        tags=context.tags_for(),
        # The role must be able to do its work before the first invocation.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=policies.created(policy)),
    )


def create_invoke_config(
    name: str,
    function: aws.lambda_.Function,
    on_failure: pulumi.Input[str],
    retries: int,
    parent: pulumi.Resource,
    max_event_age_seconds: int | None = None,
    alias: tuple[str, aws.lambda_.Alias] | None = None,
) -> aws.lambda_.FunctionEventInvokeConfig:
    """Lambda's retries of a failed async invocation, then its record to `on_failure` (the ARN of
    a failure queue, or of a topic): of the unqualified function, or of an alias (each qualifier
    has its own, PutFunctionEventInvokeConfig in the Lambda API reference)."""
    return aws.lambda_.FunctionEventInvokeConfig(
        f"{name}-async" if alias is None else f"{name}-{alias[0]}-async",
        function_name=function.name,
        qualifier=alias[1].name if alias is not None else None,
        maximum_retry_attempts=retries,
        maximum_event_age_in_seconds=max_event_age_seconds,
        destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
            on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                destination=on_failure
            )
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
