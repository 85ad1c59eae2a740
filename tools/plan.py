"""Print what `pulumi up` would declare for a stack, offline, with each job's Fargate cost.

    python -m tools.plan [--stack dev]

Runs the real program with the stack's config file under Pulumi mocks: no Pulumi CLI, no AWS
account. Invalid config prints every problem and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tools.program import MOCK_ACCOUNT, PROJECT_ROOT, ProgramRun, Resource, run_program

# What is worth seeing of each resource type, by input key.
KEY_SETTINGS: dict[str, tuple[str, ...]] = {
    "aws:ecs/cluster:Cluster": ("name", "settings"),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": (
        "capacityProviders",
        "defaultCapacityProviderStrategies",
    ),
    "aws:ec2/securityGroup:SecurityGroup": ("vpcId", "ingress", "egress"),
    "aws:ecr/repository:Repository": (
        "name",
        "imageTagMutability",
        "imageScanningConfiguration",
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("repository",),
    "aws:iam/rolePolicy:RolePolicy": ("role",),
    "docker:index/image:Image": ("imageName", "build.platform"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays"),
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
    "aws:sqs/queue:Queue": ("messageRetentionSeconds",),
    "aws:lambda/function:Function": ("runtime", "architectures", "handler", "timeout"),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": (
        "maximumRetryAttempts",
        "destinationConfig.onFailure.destination",
    ),
    "aws:scheduler/scheduleGroup:ScheduleGroup": ("name",),
    "aws:scheduler/schedule:Schedule": (
        "scheduleExpression",
        "scheduleExpressionTimezone",
        "state",
        "target.input",
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
        trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
        print(f"  role {role.name}  (assumed by {trust['Principal']['Service']})")
        statements = policies_by_role.get(role.state["name"], [])
        for statement in statements:
            actions = statement["Action"]
            actions = ", ".join(actions) if isinstance(actions, list) else actions
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            condition = (
                f"  if {_compact(statement['Condition'])}" if "Condition" in statement else ""
            )
            print(f"    {statement['Effect']} {actions}")
            for resource in resources:
                print(f"        on {resource}")
            if condition:
                print(f"      {condition.strip()}")
        for arn in attachments.get(role.state["name"], []):
            print(f"    managed policy {arn}")
        if not statements and not attachments.get(role.state["name"]):
            print("    (no permissions)")


def print_costs(config) -> None:
    from components import fargate

    print(
        f"\nFargate cost per task-hour, USD (AWS Fargate public prices, Linux, "
        f"{fargate.PRICES_REGION}, checked {fargate.PRICES_CHECKED}; billed per second, "
        f"one-minute minimum; Spot varies, shown at its advertised best of "
        f"{fargate.SPOT_MAX_DISCOUNT:.0%} off)"
    )
    print(
        f"  {'job':<20} {'vCPU':>5} {'GiB':>6}  {'runs on':<16} "
        f"{'arm64':>9} {'arm64 Spot':>11} {'x86_64':>9} {'x86 Spot':>9}"
    )
    for name, job in config.jobs.items():
        costs = {
            arch: fargate.hourly_cost(job.cpu, job.memory, arch, job.ephemeral_storage_gib)
            for arch in ("arm64", "x86_64")
        }
        spot = {arch: fargate.spot_hourly_cost_floor(cost) for arch, cost in costs.items()}
        print(
            f"  {name:<20} {job.cpu / 1024:>5g} {job.memory / 1024:>6g}  "
            f"{job.architecture + ' ' + job.capacity:<16} "
            f"{costs['arm64']:>9.5f} {spot['arm64']:>11.5f} "
            f"{costs['x86_64']:>9.5f} {spot['x86_64']:>9.5f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--file", help="a stack config file elsewhere, named Pulumi.<stack>.yaml")
    args = parser.parse_args(argv)
    stack_file = Path(args.file) if args.file else PROJECT_ROOT / f"Pulumi.{args.stack}.yaml"
    if not stack_file.is_file():
        print(f"no stack file {stack_file.name}", file=sys.stderr)
        return 2
    from components.config import ConfigError

    try:
        run = run_program(stack_file)
    except ConfigError as error:
        print(f"{stack_file.name}: {error}", file=sys.stderr)
        return 1
    from components.config import from_pulumi_config

    print(
        f"longjobs plan: stack {run.stack}, region {run.region}, mock account {MOCK_ACCOUNT} "
        f"(offline, under Pulumi mocks; `pulumi up` would declare the same resources)"
    )
    print_resources(run)
    print_iam(run)
    print_costs(from_pulumi_config())
    print("\nStack outputs")
    print(json.dumps(run.outputs, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
