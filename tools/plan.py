"""Print what `pulumi up` would declare for a stack, offline, with what it costs.

    python -m tools.plan [--stack dev]

Runs the real program with the stack's config file under Pulumi mocks: no Pulumi CLI, no AWS
account. Prints every resource, each job's container as its task definition declares it, every
IAM role with its trust and statements, every resource policy (the runs table's, the topic's,
the queues' and the bucket's) statement by statement, the costs a user budgets by, and the stack
outputs.
Exit codes: 0 planned; 1 the stack's config or its file has problems (each printed, one line
each); 2 no such stack file, or arguments argparse refuses; 3 the program failed for another
reason (a defect: Python's traceback is printed). `make plan` itself exits 2 whenever this
command fails, as make does for any failing command.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from pathlib import Path
from typing import Any

import yaml

from components.config import StackConfig
from offline.program import MOCK_ACCOUNT, PROJECT, PROJECT_ROOT, ProgramRun, Resource, run_program
from tools.costs import print_costs
from tools.job_defaults import DEFAULT_STOP_TIMEOUT_SECONDS, print_runtime_defaults
from tools.lifecycle_costs import print_lifecycle_costs

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"

# What is worth seeing of each resource type, by input key.
KEY_SETTINGS: dict[str, tuple[str, ...]] = {
    "aws:ecs/cluster:Cluster": ("name", "settings", "configuration"),
    "aws:kms/key:Key": ("enableKeyRotation", "deletionWindowInDays"),
    "aws:kms/alias:Alias": ("name",),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", "metricName", "alarmActions"),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": ("logGroupName", "pattern"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "rules",
    ),
    "aws:s3/bucketLogging:BucketLogging": ("targetBucket", "targetPrefix"),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": (
        "capacityProviders",
        "defaultCapacityProviderStrategies",
    ),
    "aws:ec2/securityGroup:SecurityGroup": ("vpcId", "ingress", "egress"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("vpcId", "ingress", "egress"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("serviceName", "vpcEndpointType", "privateDnsEnabled"),
    "aws:ec2/flowLog:FlowLog": ("trafficType", "logDestinationType"),
    "aws:ecr/repository:Repository": (
        "name",
        "imageTagMutability",
        "imageScanningConfiguration",
        "encryptionConfigurations",
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("repository",),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("repository", "policy"),
    "aws:ssm/parameter:Parameter": ("name", "type", "insecureValue"),
    "aws:iam/rolePolicy:RolePolicy": ("role",),
    "docker:index/image:Image": ("imageName", "build.platform"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays", "kmsKeyId"),
    "aws:iam/role:Role": ("description",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn",),
    "aws:ecs/taskDefinition:TaskDefinition": (
        "family",
        "cpu",
        "memory",
        "runtimePlatform",
        "ephemeralStorage",
    ),
    "aws:ecs/service:Service": (
        "name",
        "desiredCount",
        "capacityProviderStrategies",
        "networkConfiguration.assignPublicIp",
    ),
    "aws:sqs/queue:Queue": ("messageRetentionSeconds", "kmsMasterKeyId", "sqsManagedSseEnabled"),
    "aws:lambda/function:Function": ("runtime", "architectures", "handler", "timeout"),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": (
        "maximumRetryAttempts",
        "destinationConfig.onFailure.destination",
    ),
    "aws:scheduler/scheduleGroup:ScheduleGroup": ("name",),
    "aws:cloudwatch/eventRule:EventRule": ("name", "eventPattern"),
    "aws:cloudwatch/eventTarget:EventTarget": (
        "arn",
        "retryPolicy",
        "deadLetterConfig.arn",
    ),
    "aws:lambda/permission:Permission": ("principal", "sourceArn"),
    "aws:sqs/queuePolicy:QueuePolicy": ("queueUrl",),
    "aws:dynamodb/table:Table": (
        "name",
        "billingMode",
        "ttl",
        "pointInTimeRecovery",
        "serverSideEncryption",
    ),
    "aws:sns/topic:Topic": ("name", "kmsMasterKeyId"),
    "aws:sns/topicSubscription:TopicSubscription": ("protocol", "endpoint"),
    "aws:scheduler/schedule:Schedule": (
        "scheduleExpression",
        "scheduleExpressionTimezone",
        "state",
        "target.input",
        "kmsKeyArn",
    ),
}


def _get(inputs: dict[str, Any], dotted: str) -> Any:
    value: Any = inputs
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _integral(value: Any) -> Any:
    """Mocks hand numbers over as floats; show 30, not 30.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(_integral(value), separators=(",", ":"), sort_keys=True)


def describe(resource: Resource) -> str:
    keys = KEY_SETTINGS.get(resource.type, ())
    settings = []
    for key in keys:
        value = _get(resource.inputs, key)
        if value not in (None, [], {}):
            settings.append(f"{key.rsplit('.', 1)[-1]}={_compact(value)}")
    return "  ".join(settings)


def print_resources(run: ProgramRun) -> None:
    custom = [r for r in run.resources if r.custom]
    components = [r for r in run.resources if not r.custom]
    print(f"\nResources: {len(custom)} cloud resources in {len(components)} components")
    for resource in sorted(custom, key=lambda r: (r.type, r.name)):
        print(f"  {resource.type:<62} {resource.name:<32} {describe(resource)}")
    print("\nComponents")
    for resource in components:
        print(f"  {resource.type:<62} {resource.name}")


def print_container_definitions(run: ProgramRun) -> None:
    """Each task definition's containers, read from the containerDefinitions it declares."""
    print("\nContainers, as each task definition's containerDefinitions declares them")
    for task in sorted(run.by_type(TASK_DEFINITION), key=lambda r: r.inputs["family"]):
        for container in json.loads(task.inputs["containerDefinitions"]):
            print(f"  {container['name']}  (task definition {task.inputs['family']})")
            for label, values in container_settings(container):
                print(f"    {label:<13} {values[0]}")
                for value in values[1:]:
                    print(f"    {'':<13} {value}")


def container_settings(container: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """What a reviewer checks in one container definition, as (label, lines) pairs."""
    environment = [f"{e['name']}={_shown(e['value'])}" for e in container.get("environment", [])]
    # Secret ARNs name where a value lives, never the value itself.
    secrets = [f"{s['name']} from {s['valueFrom']}" for s in container.get("secrets", [])]
    stop_timeout = container.get("stopTimeout")
    return [
        ("image", [container["image"]]),
        ("environment", environment or ["(none)"]),
        ("secrets", secrets or ["(none)"]),
        ("entry point", [_exec_form(container.get("entryPoint"))]),
        ("command", [_exec_form(container.get("command"))]),
        (
            "stop timeout",
            [
                f"{_integral(stop_timeout)} s"
                if stop_timeout is not None
                else f"(not set: ECS's default, {DEFAULT_STOP_TIMEOUT_SECONDS} s)"
            ],
        ),
    ]


def _shown(value: str) -> str:
    """A value as written, quoted only when plain text would hide something (blanks, newlines)."""
    plain = bool(value) and value == value.strip() and "\n" not in value
    return value if plain else json.dumps(value)


def _exec_form(words: list[str] | None) -> str:
    return json.dumps(words) if words else "(the image's)"


def describe_trust(assume_role_policy: str) -> str:
    """Who may assume a role and on which condition, one clause per trust statement."""
    clauses = []
    for statement in json.loads(assume_role_policy)["Statement"]:
        principal = statement["Principal"]
        who = principal.get("Service", principal) if isinstance(principal, dict) else principal
        who = ", ".join(who) if isinstance(who, list) else _compact(who)
        clause = who if statement.get("Effect") == "Allow" else f"{statement['Effect']} {who}"
        if "Condition" in statement:
            clause += f" if {describe_condition(statement['Condition'])}"
        clauses.append(clause)
    return "; ".join(clauses)


def describe_condition(condition: dict[str, dict[str, Any]]) -> str:
    """An IAM Condition block compactly: `StringEquals aws:SourceAccount=123456789012`."""
    tests = []
    for operator, keys in condition.items():
        for key, value in keys.items():
            if isinstance(value, list):
                tests.append(f"{operator} {key} in [{', '.join(map(str, value))}]")
            else:
                tests.append(f"{operator} {key}={value}")
    return ", ".join(tests)


def print_iam(run: ProgramRun) -> None:
    print("\nIAM: every role, who may assume it and every statement it is given")
    policies_by_role: dict[str, list[dict[str, Any]]] = {}
    for policy in run.by_type("aws:iam/rolePolicy:RolePolicy"):
        policies_by_role.setdefault(policy.inputs["role"], []).extend(
            json.loads(policy.inputs["policy"])["Statement"]
        )
    attachments: dict[str, list[str]] = {}
    for attachment in run.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        attachments.setdefault(attachment.inputs["role"], []).append(attachment.inputs["policyArn"])
    for role in run.by_type("aws:iam/role:Role"):
        print(f"  role {role.name}  (assumed by {describe_trust(role.inputs['assumeRolePolicy'])})")
        statements = policies_by_role.get(role.state["name"], [])
        for statement in statements:
            actions = statement["Action"]
            actions = ", ".join(actions) if isinstance(actions, list) else actions
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            print(f"    {statement['Effect']} {actions}")
            for resource in resources:
                print(f"        on {resource}")
            if "Condition" in statement:
                print(f"      if {describe_condition(statement['Condition'])}")
        for arn in attachments.get(role.state["name"], []):
            print(f"    managed policy {arn}")
        if not statements and not attachments.get(role.state["name"]):
            print("    (no permissions)")


# The resource policies of what the stack keeps: each type, what its target is called and the
# input naming it.
RESOURCE_POLICIES: dict[str, tuple[str, str]] = {
    "aws:dynamodb/resourcePolicy:ResourcePolicy": ("table", "resourceArn"),
    "aws:sns/topicPolicy:TopicPolicy": ("topic", "arn"),
    "aws:sqs/queuePolicy:QueuePolicy": ("queue", "queueUrl"),
    "aws:s3/bucketPolicy:BucketPolicy": ("bucket", "bucket"),
}


def print_resource_policies(run: ProgramRun) -> None:
    """Who else may use the table, the topic, the queues and the bucket, and on what condition:
    each resource policy, statement by statement."""
    print("\nResource policies: who may use what the stack keeps, statement by statement")
    for type_token, (kind, target) in RESOURCE_POLICIES.items():
        for resource in sorted(run.by_type(type_token), key=lambda r: r.name):
            print(f"  {kind} {resource.inputs[target]}  ({resource.name})")
            for statement in json.loads(resource.inputs["policy"])["Statement"]:
                print_policy_statement(statement)


def print_policy_statement(statement: dict[str, Any]) -> None:
    """`Sid: Effect principal`, its actions, each resource, and its condition."""
    actions = statement["Action"]
    actions = ", ".join(actions) if isinstance(actions, list) else actions
    resources = statement["Resource"]
    sid = statement.get("Sid", "(no Sid)")
    print(f"    {sid}: {statement['Effect']} {describe_principal(statement)}")
    print(f"      {actions}")
    for resource in resources if isinstance(resources, list) else [resources]:
        print(f"        on {resource}")
    if "Condition" in statement:
        print(f"      if {describe_condition(statement['Condition'])}")


def describe_principal(statement: dict[str, Any]) -> str:
    """`every principal` for `*`, else the accounts, roles or services named."""
    principal = statement["Principal"]
    if principal in ("*", {"AWS": "*"}):
        return "every principal"
    if not isinstance(principal, dict):
        return str(principal)
    named = [n for kind in ("AWS", "Service") for n in _as_list(principal.get(kind))]
    return ", ".join(named)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def print_key_policy(run: ProgramRun, config: StackConfig) -> None:
    """The key policy of the stack's key: the one it creates, or what a key it is given must
    allow (the stack cannot change the policy of a key it did not create)."""
    if config.kms is None:
        return
    keys = run.by_type("aws:kms/key:Key")
    if keys:
        print("\nKMS key (created): its key policy, statement by statement")
        key_statements = json.loads(keys[0].inputs["policy"])["Statement"]
    else:
        print(
            f"\nKMS key {config.kms}: its key policy must also hold these statements, or the "
            "services below cannot use it (with your account id in place of the mock's)"
        )
        from components.context import StackContext
        from components.keys import service_statements

        context = StackContext(
            project=PROJECT, stack=run.stack, account_id=MOCK_ACCOUNT, region=run.region,
            partition="aws",
        )  # fmt: skip
        key_statements = service_statements(context)
    for statement in key_statements:
        principal = statement["Principal"]
        who = principal.get("Service") or principal.get("AWS")
        actions = statement["Action"]
        actions = ", ".join(actions) if isinstance(actions, list) else actions
        print(f"  {statement['Sid']}: {who}")
        print(f"    Allow {actions}")
        if "Condition" in statement:
            print(f"      if {describe_condition(statement['Condition'])}")


PLANNED = 0
CONFIG_PROBLEMS = 1
NO_STACK = 2  # argparse exits 2 too, for arguments it refuses
PROGRAM_FAILED = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--file", help="a stack config file elsewhere, named Pulumi.<stack>.yaml")
    args = parser.parse_args(argv)
    stack_file = Path(args.file) if args.file else PROJECT_ROOT / f"Pulumi.{args.stack}.yaml"
    if not stack_file.is_file():
        print(_no_stack_file(stack_file, args.file is None), file=sys.stderr)
        return NO_STACK
    try:
        return _plan(stack_file)
    except Exception:
        # Not the user's config (that is exit 1, one line a problem): a defect, shown whole, with
        # a code of its own so that a script can tell the two apart.
        traceback.print_exc()
        return PROGRAM_FAILED


def _plan(stack_file: Path) -> int:
    from components.config import ConfigError

    try:
        run = run_program(stack_file, logger=_diagnostics())
    except ConfigError as error:
        print(f"{stack_file.name}: {error}", file=sys.stderr)
        return CONFIG_PROBLEMS
    except yaml.YAMLError as error:
        print(_unreadable(stack_file, error), file=sys.stderr)
        return CONFIG_PROBLEMS
    if run.config is None:
        raise RuntimeError("__main__.py validated no StackConfig the plan could read")
    print(
        f"longjobs plan: stack {run.stack}, region {run.region}, mock account {MOCK_ACCOUNT} "
        f"(offline, under Pulumi mocks; `pulumi up` would declare the same resources)"
    )
    print_resources(run)
    print_container_definitions(run)
    print_runtime_defaults(run, run.config)
    print_iam(run)
    print_resource_policies(run)
    print_key_policy(run, run.config)
    print_costs(run, run.config)
    print_lifecycle_costs()
    print("\nStack outputs")
    print(json.dumps(run.outputs, indent=2, sort_keys=True))
    return PLANNED


class _Diagnostic(logging.Handler):
    """A message the program logs (`pulumi.log.warn`), as the Pulumi CLI shows it:
    `warning: <message>` on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"{record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)


def _diagnostics() -> logging.Logger:
    logger = logging.getLogger("longjobs.plan")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(_Diagnostic())
    return logger


def _unreadable(stack_file: Path, error: yaml.YAMLError) -> str:
    """One line for a stack file YAML cannot read, naming the file once."""
    message = " ".join(str(error).split())
    if message.startswith(stack_file.name):
        return message
    return f"{stack_file.name}: not valid YAML: {message}"


def _no_stack_file(stack_file: Path, by_name: bool) -> str:
    """One line naming the missing file and, for a stack name, the stacks there are."""
    if not by_name:
        return f"no stack file {stack_file}"
    stacks = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in _stack_files())
    return f"no stack file {stack_file.name}; stacks here: {', '.join(stacks) or 'none'}"


def _stack_files() -> list[Path]:
    # Pulumi.<stack>.yaml; the project file, Pulumi.yaml, does not match.
    return [p for p in PROJECT_ROOT.glob("Pulumi.*.yaml") if p.is_file()]


if __name__ == "__main__":
    sys.exit(main())
