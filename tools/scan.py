"""Checkov over every resource a stack declares, offline: `python -m tools.scan`.

Checkov does not read Pulumi programs, but pulumi-aws is bridged from the Terraform AWS provider:
each resource type is a Terraform type, each property a Terraform argument in camelCase. So the
program runs under Pulumi mocks (as `make plan` runs it), every pulumi-aws resource is written
as a resource of a Terraform plan (`terraform show -json`'s format, which `checkov --framework
terraform_plan` reads), and checkov, installed in a virtualenv of its own, reads that file.

Per stack it prints the resources exported, the checks passed and failed, each failed check with
its resource, and the resources that no check evaluated (so that a type or property checkov
does not know is seen, not silently passed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from offline.program import PROJECT_ROOT, AwsMocks, ProgramRun, run_program, stack_file_config

CHECKOV = PROJECT_ROOT / "venv-scan" / "bin" / "checkov"
OUTPUT_DIR = PROJECT_ROOT / "build" / "scan"

# Each Pulumi type the program declares, and the Terraform type it bridges, as pulumi-aws's
# provider/cmd/pulumi-resource-aws/bridge-metadata.json ("renames" → "resources") records them.
# Most follow aws:<module>/<name>:<Name> → aws_<module>_<snake name>; ec2 drops its module
# (aws_security_group). A type missing here is an error, not a guess.
TERRAFORM_TYPES = {
    "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
    "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "aws_cloudwatch_log_metric_filter",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:dynamodb/resourcePolicy:ResourcePolicy": "aws_dynamodb_resource_policy",
    "aws:dynamodb/table:Table": "aws_dynamodb_table",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "aws_ecr_repository_policy",
    "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": (
        "aws_ecs_cluster_capacity_providers"
    ),
    "aws:ecs/service:Service": "aws_ecs_service",
    "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:lambda/function:Function": "aws_lambda_function",
    "aws:lambda/alias:Alias": "aws_lambda_alias",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": (
        "aws_lambda_function_event_invoke_config"
    ),
    "aws:lambda/permission:Permission": "aws_lambda_permission",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:scheduler/schedule:Schedule": "aws_scheduler_schedule",
    "aws:scheduler/scheduleGroup:ScheduleGroup": "aws_scheduler_schedule_group",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:sqs/queue:Queue": "aws_sqs_queue",
    "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
    "aws:ssm/parameter:Parameter": "aws_ssm_parameter",
}

# Terraform blocks that may repeat are lists of objects; the bridge names them in the plural
# (rule → rules) where Terraform names them in the singular. Every list of objects the program
# sets is named here, by the Pulumi type and the path of property names to it.
BLOCK_NAMES = {
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "metricQueries"): "metric_query",
    ("aws:dynamodb/table:Table", "attributes"): "attribute",
    ("aws:dynamodb/table:Table", "globalSecondaryIndexes"): "global_secondary_index",
    ("aws:dynamodb/table:Table", "globalSecondaryIndexes.keySchemas"): "key_schema",
    ("aws:ec2/securityGroup:SecurityGroup", "egress"): "egress",
    ("aws:ec2/securityGroup:SecurityGroup", "ingress"): "ingress",
    ("aws:ecr/repository:Repository", "encryptionConfigurations"): "encryption_configuration",
    ("aws:ecs/cluster:Cluster", "settings"): "setting",
    (
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
        "defaultCapacityProviderStrategies",
    ): "default_capacity_provider_strategy",
    ("aws:ecs/service:Service", "capacityProviderStrategies"): "capacity_provider_strategy",
    ("aws:ecs/taskDefinition:TaskDefinition", "volumes"): "volume",
    ("aws:iam/role:Role", "inlinePolicies"): "inline_policy",
    ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "rules"): "rule",
    (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "rules",
    ): "rule",
}

# Properties the bridge renamed beyond camelCase (pulumi-aws provider/resources.go): the
# function's name is Terraform's function_name, a permission's function its function_name.
PROPERTY_NAMES = {
    ("aws:lambda/function:Function", "name"): "function_name",
    ("aws:lambda/permission:Permission", "function"): "function_name",
}

# Properties that are Terraform maps, not blocks: their keys are data and stay as written.
MAP_PROPERTIES = frozenset({"tags", "tagsAll", "variables"})

# Values that are not data a Terraform plan holds (the function's code archive).
NOT_DATA = (pulumi.Asset, pulumi.Archive)

# Attributes by which one resource names another: a property holding one of these values of
# another resource becomes a reference to it, as it is in a real plan (where it is not known
# until that resource exists), so that checkov's checks across resources (CKV2_*) connect them.
IDENTITY_ATTRIBUTES = ("id", "arn", "name")


@dataclass(frozen=True)
class Skip:
    check: str
    terraform_type: str
    why: str
    source: str
    """The checkov source or AWS documentation that shows the check is wrong here."""
    name: str | None = None
    """The one resource (its Pulumi name) the check is wrong for; None: every one of the type."""

    def covers(self, failure: Failure) -> bool:
        if self.check != failure.check:
            return False
        if self.name is not None:
            return failure.address == f"{self.terraform_type}.{address_name(self.name)}"
        return failure.address.startswith(f"{self.terraform_type}.")


# Checks that are wrong for these resources, each with the source that shows why. A skipped
# failure is still printed, with its reason; it does not count against the goal.
SKIPS = (
    Skip(
        "CKV_AWS_116",
        "aws_lambda_function",
        "an async failure goes to an on-failure destination (an SQS queue, or the topic for the "
        "alarm forwarder), set on "
        "aws_lambda_function_event_invoke_config; the check reads only the function's "
        "dead_letter_config (checkov LambdaDLQConfigured.py), which AWS documents as the "
        "alternative to a destination",
        "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
    ),
    Skip(
        "CKV_AWS_117",
        "aws_lambda_function",
        "the functions call only AWS service endpoints (ECS, DynamoDB, SQS, SNS, Logs) and no "
        "resource inside a VPC; a function runs in a VPC owned by Lambda and is connected to "
        "one only to reach resources in it",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    ),
    Skip(
        "CKV_AWS_144",
        "aws_s3_bucket",
        "the checkpoint bucket holds checkpoints, which a run rewrites and the lifecycle rule "
        "expires after runRetentionDays; replication copies objects for compliance, latency or "
        "disaster recovery, none of which a checkpoint needs; the access log bucket keeps the "
        "stack's own record in its region, which an organisation's log archive copies by a "
        "replication rule of its own, to a destination the stack does not know",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html",
    ),
    Skip(
        "CKV2_AWS_62",
        "aws_s3_bucket",
        "event notifications send object events to a consumer that acts on them; nothing "
        "consumes checkpoint events (a task reads its own prefix on resume) or the delivery "
        "of an access log",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html",
    ),
    Skip(
        "CKV_AWS_115",
        "aws_lambda_function",
        "reserved concurrency takes that much from every other function of the account and caps "
        "this one: a capped trigger throttles its callers, a capped supervisor delays events; "
        "Lambda keeps 100 of the account's concurrency unreserved, so an account at a low quota "
        "could not deploy the stack at all",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html",
    ),
    Skip(
        "CKV_AWS_272",
        "aws_lambda_function",
        "code signing checks that a package was signed by an AWS Signer profile in a release "
        "pipeline; these packages are assembled by the program from the repository at "
        "`pulumi up`, by the principal that deploys the stack, with no signing step to check",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html",
    ),
    Skip(
        "CKV_AWS_50",
        "aws_lambda_function",
        "X-Ray traces each invocation's calls for performance analysis, billed per trace; it "
        "guards nothing, and each function already logs one JSON line per request with its "
        "request id",
        "https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html",
    ),
    Skip(
        "CKV_AWS_18",
        "aws_s3_bucket",
        "the bucket the checkpoint bucket's server access logs go to: S3 advises that a "
        "destination bucket not have server access logging itself (logging into itself, each "
        "delivery is logged without end), and its only writer is S3's log delivery",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html",
        name="checkpoints-access-logs-bucket",
    ),
    Skip(
        "CKV_AWS_145",
        "aws_s3_bucket",
        "the bucket the checkpoint bucket's server access logs go to: S3 takes default "
        "encryption on a destination bucket only with SSE-S3 (default SSE-KMS is not supported "
        "there, and logs it cannot deliver are lost), so it is SSE-S3 on every stack",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html",
        name="checkpoints-access-logs-bucket",
    ),
    Skip(
        "CKV_AWS_382",
        "aws_security_group",
        "the tasks' group allows every egress, as a security group does by default, and no "
        "ingress: jobs call their own APIs and databases on the ports those use; a stack that "
        "must narrow egress names its own groups (network.securityGroupIds), and in a "
        "network.create VPC without NAT nothing is routed beyond the VPC endpoints",
        "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
    ),
    Skip(
        "CKV2_AWS_34",
        "aws_ssm_parameter",
        "the stack's only parameters record which digest it pushed under which image tag, both "
        "listed by the repository to whoever may read it: String is the type for data that is "
        "not sensitive, SecureString the one for data that is; what matters is who may write "
        "them, which IAM decides, and a SecureString would make every preview decrypt",
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
        "sysman-paramstore-securestring.html",
    ),
)

# Checks that only ask for a customer managed KMS key where an AWS owned or AWS managed key
# already encrypts. Stacks other than prod leave them to the `kms` option.
CMK_CHECKS = {
    "CKV_AWS_119": "DynamoDB table encrypted with a customer managed key",
    "CKV_AWS_136": "ECR repository encrypted with KMS (not AES256)",
    "CKV_AWS_145": "S3 bucket encrypted with KMS by default (not SSE-S3)",
    "CKV_AWS_158": "CloudWatch log group encrypted with a KMS key",
    "CKV_AWS_297": "EventBridge Scheduler schedule encrypted with a customer managed key",
    # The alarm forwarder's variables (the topic's ARN, the alarms' names), which Lambda encrypts
    # at rest with its AWS managed key; with `kms` the stack has no forwarder.
    "CKV_AWS_173": "Lambda environment variables encrypted with a customer managed key",
}
# A check other stacks leave to an option, as they leave the checks above to `kms`: the default
# VPC has no NAT, so its tasks reach ECR by a public IP; `network.create` gives a private one.
DEFAULT_VPC_CHECKS = {
    "CKV_AWS_333": "ECS service without a public IP",
}
LEFT_TO = {
    **{check: "customer managed key, left to kms" for check in CMK_CHECKS},
    **{
        check: "public IP in the default VPC, left to network.create"
        for check in DEFAULT_VPC_CHECKS
    },
}
STRICT_STACKS = frozenset({"prod"})
"""Stacks whose goal is no finding at all: the customer managed key checks count there too."""


@dataclass
class Export:
    plan: dict[str, Any]
    addresses: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Terraform address → (Pulumi type, Pulumi name)."""
    not_exported: list[tuple[str, str, str]] = field(default_factory=list)
    """(Pulumi type, name, why) of each resource left out."""


class RecordingMocks(AwsMocks):
    """The plan's mocks, also keeping each resource's ID (which the program run does not)."""

    def __init__(self, region: str):
        super().__init__(region)
        self.ids: dict[tuple[str, str], str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        resource_id, state = super().new_resource(args)
        self.ids[(args.typ, args.name)] = resource_id
        return [resource_id, state]


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def address_name(name: str) -> str:
    """A Pulumi resource name as a Terraform resource name (letters, digits, `_` and `-`)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"_{cleaned}"


def _values(resource_type: str, value: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for key, item in value.items():
        if item is None or isinstance(item, NOT_DATA):
            continue
        here = f"{path}.{key}" if path else key
        if key in MAP_PROPERTIES:
            converted[snake(key)] = dict(item)
        elif isinstance(item, Mapping):
            converted[snake(key)] = [_values(resource_type, item, here)]
        elif isinstance(item, list) and any(isinstance(i, Mapping) for i in item):
            name = BLOCK_NAMES.get((resource_type, here))
            if name is None:
                raise UnmappedBlock(resource_type, here)
            converted[name] = [_values(resource_type, i, here) for i in item]
        else:
            converted[PROPERTY_NAMES.get((resource_type, here), snake(key))] = _number(item)
    return converted


def _number(value: Any) -> Any:
    """Pulumi hands every number over as a float (protobuf's Struct has no integers); a
    Terraform plan writes a whole number as one, and checkov checks `isinstance(..., int)`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


class UnmappedBlock(LookupError):
    def __init__(self, resource_type: str, path: str):
        super().__init__(
            f"{resource_type}: {path} is a list of blocks with no Terraform name in BLOCK_NAMES"
        )


def export(run: ProgramRun, ids: Mapping[tuple[str, str], str]) -> Export:
    """The run's pulumi-aws resources as a Terraform plan (`terraform show -json`)."""
    exported = Export(plan={})
    resources: list[dict[str, Any]] = []
    identities: dict[str, list[tuple[str, str]]] = {}
    for resource in sorted(run.resources, key=lambda r: (r.type, r.name)):
        if not resource.custom:
            if not resource.type.startswith("longjobs:"):
                why = "a component of another package, opaque under mocks: its children unseen"
                exported.not_exported.append((resource.type, resource.name, why))
            continue  # our own components: their children are the resources
        terraform_type = TERRAFORM_TYPES.get(resource.type)
        if terraform_type is None:
            why = (
                "no Terraform type in TERRAFORM_TYPES"
                if resource.type.startswith("aws:")
                else "not a pulumi-aws resource"
            )
            exported.not_exported.append((resource.type, resource.name, why))
            continue
        address = f"{terraform_type}.{address_name(resource.name)}"
        exported.addresses[address] = (resource.type, resource.name)
        state = dict(resource.state)
        state["id"] = ids.get((resource.type, resource.name))
        for attribute in IDENTITY_ATTRIBUTES:
            known = state.get(attribute)
            if isinstance(known, str) and known:
                identities.setdefault(known, []).append((address, attribute))
        resources.append(
            {
                "address": address,
                "mode": "managed",
                "type": terraform_type,
                "name": address_name(resource.name),
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "schema_version": 0,
                "values": _values(resource.type, resource.inputs),
            }
        )
    configuration = [_link(r, identities) for r in resources]
    exported.plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": [
            {
                "address": r["address"],
                "mode": "managed",
                "type": r["type"],
                "name": r["name"],
                "provider_name": r["provider_name"],
                "change": {"actions": ["create"], "before": None, "after": r["values"]},
            }
            for r in resources
        ],
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": "hashicorp/aws"}},
            "root_module": {"resources": configuration},
        },
    }
    return exported


def _link(resource: dict[str, Any], identities: Mapping[str, list[tuple[str, str]]]):
    """The resource's configuration: an argument naming another resource becomes a reference
    to it, and leaves the planned values (a real plan knows it only after apply)."""

    own = {resource["values"].get(a) for a in IDENTITY_ATTRIBUTES}

    def target(value: Any) -> str | None:
        if not isinstance(value, str) or value in own:
            return None
        found = {
            f"{address}.{attribute}"
            for address, attribute in identities.get(value, [])
            if address != resource["address"]
        }
        return found.pop() if len(found) == 1 else None  # none, or ambiguous

    def references(values: dict[str, Any]) -> dict[str, Any]:
        expressions: dict[str, Any] = {}
        for key, value in list(values.items()):
            if isinstance(value, list) and any(isinstance(v, dict) for v in value):
                blocks = [references(v) for v in value]
                if any(blocks):
                    expressions[key] = blocks
                continue
            items = value if isinstance(value, list) else [value]
            found = [t for t in (target(v) for v in items) if t is not None]
            if not found:
                continue
            if isinstance(value, list):
                values[key] = [None if target(v) else v for v in value]
            else:
                del values[key]
            expressions[key] = {"references": [r for t in found for r in (t, t.rsplit(".", 1)[0])]}
        return expressions

    return {
        "address": resource["address"],
        "mode": "managed",
        "type": resource["type"],
        "name": resource["name"],
        "provider_config_key": "aws",
        "expressions": references(resource["values"]),
        "schema_version": 0,
    }


@dataclass(frozen=True)
class Failure:
    check: str
    address: str
    name: str
    guideline: str


@dataclass
class Report:
    stack: str
    exported: int
    passed: int
    failed: list[Failure]
    skipped: list[tuple[Failure, Skip]]
    not_evaluated: list[str]
    not_exported: list[tuple[str, str, str]]

    @property
    def missed(self) -> list[Failure]:
        """The failures that miss the stack's goal."""
        if self.stack in STRICT_STACKS:
            return list(self.failed)
        return [f for f in self.failed if f.check not in LEFT_TO]

    @property
    def unmapped(self) -> list[tuple[str, str, str]]:
        """pulumi-aws resources left out for want of a Terraform type."""
        return [r for r in self.not_exported if r[0].startswith("aws:")]


def run_checkov(plan_file: Path, checkov: Path = CHECKOV) -> dict[str, Any]:
    completed = subprocess.run(
        [
            str(checkov),
            "--file",
            str(plan_file),
            "--framework",
            "terraform_plan",
            "--output",
            "json",
            "--skip-download",
            "--no-fail-on-crash",
        ],
        capture_output=True,
        text=True,
        check=False,
        # Offline: no query to PyPI for a newer checkov (it asks at import otherwise).
        env={**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"},
    )
    if completed.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {completed.returncode}: {completed.stderr}")
    output = json.loads(completed.stdout)
    reports = output if isinstance(output, list) else [output]
    plan_reports = [r for r in reports if r.get("check_type") == "terraform_plan"]
    if not plan_reports:
        # checkov prints a summary with no results when it found nothing to check
        return {"results": {"passed_checks": [], "failed_checks": []}}
    return plan_reports[0]


def read_report(stack: str, exported: Export, checkov_report: Mapping[str, Any]) -> Report:
    results = checkov_report.get("results", {})
    evaluated: set[str] = set()
    passed = 0
    failed: list[Failure] = []
    skipped: list[tuple[Failure, Skip]] = []
    for check in results.get("passed_checks", []):
        evaluated.add(check["resource"])
        passed += 1
    for check in results.get("failed_checks", []):
        evaluated.add(check["resource"])
        failure = Failure(
            check["check_id"], check["resource"], check["check_name"], check.get("guideline") or ""
        )
        skip = next((s for s in SKIPS if s.covers(failure)), None)
        if skip is None:
            failed.append(failure)
        else:
            skipped.append((failure, skip))
    not_evaluated = sorted(set(exported.addresses) - evaluated)
    return Report(
        stack,
        len(exported.addresses),
        passed,
        sorted(failed, key=lambda f: (f.check, f.address)),
        skipped,
        not_evaluated,
        exported.not_exported,
    )


def scan(stack_file: Path, checkov: Path = CHECKOV) -> Report:
    region = str(stack_file_config(stack_file).get("aws:region", "us-east-1"))
    mocks = RecordingMocks(region)
    run = run_program(stack_file, mocks=mocks)
    exported = export(run, mocks.ids)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    plan_file = OUTPUT_DIR / f"{run.stack}.tfplan.json"
    plan_file.write_text(json.dumps(exported.plan, indent=1, default=str))
    return read_report(run.stack, exported, run_checkov(plan_file, checkov))


def lines(report: Report) -> Iterable[str]:
    yield (
        f"scan {report.stack}: {report.exported} resources exported, {report.passed} checks "
        f"passed, {len(report.failed)} failed ({len(report.missed)} missing the goal), "
        f"{len(report.skipped)} skipped"
    )
    for failure in report.failed:
        mark = "missed" if failure in report.missed else LEFT_TO[failure.check]
        yield f"  {mark}: {failure.check} {failure.address}: {failure.name}"
    for failure, skip in report.skipped:
        yield f"  skipped: {failure.check} {failure.address}: see {skip.source}"
    for address in report.not_evaluated:
        yield f"  not evaluated by any check: {address}"
    for resource_type, name, why in report.not_exported:
        yield f"  not exported: {resource_type} {name}: {why}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stack",
        action="append",
        help="stack name (Pulumi.<stack>.yaml); every stack file when not given",
    )
    parser.add_argument("--checkov", type=Path, default=CHECKOV, help="the checkov command")
    args = parser.parse_args(argv)
    checkov: Path = args.checkov
    names = args.stack or sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in PROJECT_ROOT.glob("Pulumi.*.yaml")
    )
    if not checkov.exists():
        print(f"{checkov}: not found; `make scan` installs it", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        stack_file = PROJECT_ROOT / f"Pulumi.{name}.yaml"
        if not stack_file.is_file():
            print(f"{stack_file.name}: no such stack file", file=sys.stderr)
            return 2
        try:
            report = scan(stack_file, checkov)
        except UnmappedBlock as error:
            print(f"{error}", file=sys.stderr)
            return 2
        for line in lines(report):
            print(line)
        # A resource left unscanned, or a finding that misses the stack's goal, fails the scan.
        if report.unmapped or report.missed:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
