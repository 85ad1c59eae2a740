"""Run the real Pulumi program offline, under mocks that answer like AWS would.

Used by `make plan` and by the tests: the program, its config file and its components are the
real ones; only the engine and the cloud are simulated. `preview=False`, so every `apply` runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import runpy
import sys
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pulumi
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

if TYPE_CHECKING:
    from components.config import StackConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

PROJECT = "longjobs"  # Pulumi.yaml's name
MOCK_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
"""The mocks' region for a stack whose config sets no aws:region."""
VPC = "awsx:ec2:Vpc"
# How the engine marks a resource reference in a property value (pulumi.runtime.rpc).
RESOURCE_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
RESOURCE_SIGNATURE = "5cf8f73096256a8f31e491e813e4eb8e"
DEFAULT_VPC = "vpc-0d1e2f3a4b5c6d7e8"
DEFAULT_SUBNETS = [
    "subnet-0a1b2c3d4e5f60718",
    "subnet-0b1c2d3e4f5a60718",
    "subnet-0c1d2e3f4a5b60718",
]


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    custom: bool


@dataclass
class ProgramRun:
    stack: str
    region: str
    resources: list[Resource]
    outputs: dict[str, Any]
    invokes: list[str] = field(default_factory=list)
    config: StackConfig | None = None
    """The validated config the program declared its resources from."""

    def by_type(self, type_token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str) -> Resource:
        found = [r for r in self.by_type(type_token) if r.name == name]
        if len(found) != 1:
            names = sorted(r.name for r in self.by_type(type_token))
            raise LookupError(f"{len(found)} {type_token} named {name!r}; have {names}")
        return found[0]

    @property
    def trigger_config(self) -> str:
        """The contract file the components wrote into the trigger's package."""
        from longjobs_contract.trigger_config import CONFIG_FILE

        function = self.one("aws:lambda/function:Function", "trigger-function")
        return function.inputs["code"].assets[CONFIG_FILE].text


def _suffix(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:7]


def _ec2_id(prefix: str, name: str) -> str:
    """An EC2 id as AWS makes them (`subnet-` and 17 hex digits), the same for the same name."""
    return f"{prefix}-{hashlib.sha256(name.encode()).hexdigest()[:17]}"


class InvokeFailed(grpc.RpcError):
    """An invoke the provider rejects, delivered to the program as the engine delivers it."""

    def __init__(self, details: str):
        super().__init__(details)
        self._details = details

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._details


class AwsMocks(pulumi.runtime.Mocks):
    """Resource state and invoke results in the shapes pulumi-aws returns (camelCase keys)."""

    def __init__(
        self,
        region: str,
        *,
        default_vpc: bool = True,
        pushed: dict[str, dict[str, str]] | None = None,
        repository_keys: dict[str, str] | None = None,
        parameters: dict[str, str] | None = None,
        caller_arn: str = f"arn:aws:iam::{MOCK_ACCOUNT}:user/plan",
        role_paths: dict[str, str] | None = None,
    ):
        """`pushed`: the ECR repositories that exist, each with its images as {tag: digest};
        `repository_keys`: those encrypted with a KMS key (repository -> key ARN), the others
        with AES256; `parameters`: the SSM parameters that exist (name -> String value);
        `caller_arn`: who runs the program, as STS GetCallerIdentity names it (an assumed role
        as `arn:aws:sts::<account>:assumed-role/<role>/<session>`); `role_paths`: the IAM path
        of each role by name, as IAM GetRole answers, `/` when not given."""
        self.region = region
        self.default_vpc = default_vpc
        self.pushed = pushed or {}
        self.repository_keys = repository_keys or {}
        self.parameters = parameters or {}
        self.caller_arn = caller_arn
        self.role_paths = role_paths or {}
        self.resources: list[Resource] = []
        self.invokes: list[str] = []
        self.child_ids: dict[str, str] = {}
        """URN → id of the children remote components answer with (awsx's route tables)."""

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        where = self.region if region is None else region
        return f"arn:aws:{service}:{where}:{MOCK_ACCOUNT}:{resource}"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        state = dict(inputs)
        name = inputs.get("name") or f"{args.name}-{_suffix(args.name)}"
        resource_id = f"{args.name}-id"
        computed: dict[str, Any] = {}
        t = args.typ
        if t == "aws:sns/topic:Topic":
            computed = {"name": name, "arn": self.arn("sns", name)}
            resource_id = computed["arn"]
        elif t == "aws:cloudwatch/eventRule:EventRule":
            computed = {"name": name, "arn": self.arn("events", f"rule/{name}")}
        elif t == "aws:s3/bucket:Bucket":
            resource_id = inputs["bucket"]
            computed = {"bucket": resource_id, "arn": f"arn:aws:s3:::{resource_id}"}
        elif t == "aws:dynamodb/table:Table":
            computed = {"name": name, "arn": self.arn("dynamodb", f"table/{name}")}
        elif t == "aws:ecs/cluster:Cluster":
            computed = {"name": name, "arn": self.arn("ecs", f"cluster/{name}")}
        elif t == "aws:ecr/repository:Repository":
            computed = {
                "name": name,
                "arn": self.arn("ecr", f"repository/{name}"),
                "registryId": MOCK_ACCOUNT,
                "repositoryUrl": f"{MOCK_ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com/{name}",
            }
        elif t == "aws:ssm/parameter:Parameter":
            computed = {"name": name, "arn": self.arn("ssm", f"parameter{name}")}
            resource_id = name
        elif t == "aws:ecr/repositoryPolicy:RepositoryPolicy":
            computed = {"registryId": MOCK_ACCOUNT}
            resource_id = inputs["repository"]
        elif t == "docker:index/image:Image":
            repository = inputs["imageName"].rsplit(":", 1)[0]
            digest = hashlib.sha256(inputs["imageName"].encode()).hexdigest()
            computed = {"repoDigest": f"{repository}@sha256:{digest}"}
        elif t == "aws:iam/role:Role":
            path = inputs.get("path", "/")
            computed = {"name": name, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:role{path}{name}"}
            resource_id = name
        elif t == "aws:cloudwatch/logGroup:LogGroup":
            computed = {"arn": self.arn("logs", f"log-group:{inputs['name']}")}
        elif t == "aws:ecs/taskDefinition:TaskDefinition":
            family = inputs["family"]
            without = self.arn("ecs", f"task-definition/{family}")
            computed = {
                "arn": f"{without}:1",
                "arnWithoutRevision": without,
                "revision": 1,
            }
        elif t == "aws:ecs/service:Service":
            cluster = str(inputs.get("cluster", "")).rsplit("/", 1)[-1]
            resource_id = self.arn("ecs", f"service/{cluster}/{name}")
            computed = {"name": name}
        elif t == "aws:sqs/queue:Queue":
            computed = {
                "name": name,
                "arn": self.arn("sqs", name),
                "url": f"https://sqs.{self.region}.amazonaws.com/{MOCK_ACCOUNT}/{name}",
            }
            resource_id = computed["url"]
        elif t == "aws:lambda/function:Function":
            computed = {"name": name, "arn": self.arn("lambda", f"function:{name}")}
            resource_id = name
        elif t == "aws:lambda/alias:Alias":
            # The alias ARN is the function's, qualified by the alias's name.
            function = inputs["functionName"]
            computed = {"arn": self.arn("lambda", f"function:{function}:{name}")}
            resource_id = computed["arn"]
        elif t == "aws:scheduler/scheduleGroup:ScheduleGroup":
            computed = {
                "name": name,
                "arn": self.arn("scheduler", f"schedule-group/{name}"),
            }
        elif t == "aws:scheduler/schedule:Schedule":
            group = inputs.get("groupName", "default")
            computed = {"arn": self.arn("scheduler", f"schedule/{group}/{name}")}
        elif t == "aws:cloudwatch/metricAlarm:MetricAlarm":
            computed = {"arn": self.arn("cloudwatch", f"alarm:{name}")}
        elif t == "aws:kms/key:Key":
            resource_id = str(uuid.UUID(hashlib.sha256(args.name.encode()).hexdigest()[:32]))
            computed = {"keyId": resource_id, "arn": self.arn("kms", f"key/{resource_id}")}
        elif t == "aws:ec2/securityGroup:SecurityGroup":
            resource_id = _ec2_id("sg", args.name)
            computed = {"arn": self.arn("ec2", f"security-group/{resource_id}")}
        elif t == "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
            resource_id = _ec2_id("sg", args.name)
        elif t == "aws:ec2/vpcEndpoint:VpcEndpoint":
            resource_id = _ec2_id("vpce", args.name)
        elif t == "aws:ec2/flowLog:FlowLog":
            resource_id = _ec2_id("fl", args.name)
        elif t == VPC:
            # A component's state is its outputs, some named like its inputs (natGateways).
            state = self._vpc_outputs(args.name, inputs)
        state.update(computed)
        self.resources.append(Resource(t, args.name, inputs, state, bool(args.custom)))
        return [resource_id, state]

    def _vpc_outputs(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """What awsx's Vpc answers, in its shapes: one subnet of each spec per zone (subnet ids
        by type), a route table per subnet (as resource references, as the engine sends them),
        and the VPC's id. Its children are not registered: under mocks the remote component is
        one opaque resource, so only its inputs and these outputs can be tested."""
        named = inputs.get("availabilityZoneNames")
        zones = len(named) if named else int(inputs.get("numberOfAvailabilityZones", 3))
        types = [spec["type"] for spec in inputs.get("subnetSpecs", [])]
        subnets: dict[str, list[str]] = {"Private": [], "Public": [], "Isolated": []}
        route_tables = []
        for zone in range(1, zones + 1):
            for kind in types:
                subnet_name = f"{name}-{kind.lower()}-{zone}"
                subnets[kind].append(_ec2_id("subnet", subnet_name))
                route_tables.append(
                    self._registered("aws:ec2/routeTable:RouteTable", subnet_name, "rtb")
                )
        return {
            "vpcId": _ec2_id("vpc", name),
            "privateSubnetIds": subnets["Private"],
            "publicSubnetIds": subnets["Public"],
            "isolatedSubnetIds": subnets["Isolated"],
            "routeTables": route_tables,
        }

    def _registered(self, type_token: str, name: str, id_prefix: str) -> dict[str, str]:
        """A resource registered with the mock monitor, as a resource reference to it.

        The SDK turns a reference into a resource by asking the monitor for it by URN; the
        monitor answers from its registrations, which only it makes, so the component's child
        is registered here as the engine would have registered it.
        """
        monitor = settings.get_monitor()
        if not isinstance(monitor, MockMonitor):
            raise RuntimeError("resource references need the mock monitor")
        urn = monitor.make_urn("", type_token, name)
        resource_id = _ec2_id(id_prefix, name)
        self.child_ids[urn] = resource_id
        monitor.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, {})
        return {RESOURCE_SIGNATURE_KEY: RESOURCE_SIGNATURE, "urn": urn, "id": resource_id}

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.invokes.append(args.token)
        token, a = args.token, args.args
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": MOCK_ACCOUNT,
                "arn": self.caller_arn,
                "userId": "AIDAPLAN",
                "id": MOCK_ACCOUNT,
            }
        if token == "aws:iam/getSessionContext:getSessionContext":
            return self._session_context(a["arn"])
        if token == "aws:ssm/getParametersByPath:getParametersByPath":
            return self._parameters_by_path(a["path"], bool(a.get("recursive")))
        if token == "aws:index/getRegion:getRegion":
            return {"region": self.region, "name": self.region, "id": self.region}
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": "aws",
            }
        if token == "aws:ec2/getVpc:getVpc":
            if not self.default_vpc:
                raise InvokeFailed("no matching EC2 VPC found")
            return {"id": DEFAULT_VPC, "default": True, "cidrBlock": "172.31.0.0/16"}
        if token == "aws:ec2/getSubnets:getSubnets":
            return {"ids": DEFAULT_SUBNETS, "id": self.region}
        if token == "aws:ec2/getSubnet:getSubnet":
            return {"id": a.get("id"), "vpcId": "vpc-0123456789abcdef0"}
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "userName": "AWS",
                "password": "mock-password",
                "authorizationToken": "QVdTOm1vY2stcGFzc3dvcmQ=",
                "proxyEndpoint": f"https://{MOCK_ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com",
                "expiresAt": "2100-01-01T00:00:00Z",
                "id": self.region,
            }
        if token == "aws:ecr/getRepositories:getRepositories":
            return {"names": sorted(self.pushed), "id": self.region}
        if token == "aws:ecr/getImages:getImages":
            repository = a["repositoryName"]
            if repository not in self.pushed:
                raise InvokeFailed(f"RepositoryNotFoundException: {repository}")
            images = [
                {"imageTag": tag, "imageDigest": digest}
                for tag, digest in self.pushed[repository].items()
            ]
            return {"imageIds": images, "repositoryName": repository, "id": repository}
        if token == "aws:ecr/getRepository:getRepository":
            repository = a["name"]
            if repository not in self.pushed:
                raise InvokeFailed(f"RepositoryNotFoundException: {repository}")
            key = self.repository_keys.get(repository)
            encryption = (
                {"encryptionType": "KMS", "kmsKey": key}
                if key
                else {"encryptionType": "AES256", "kmsKey": ""}
            )
            return {"name": repository, "encryptionConfigurations": [encryption], "id": repository}
        raise LookupError(f"the offline mocks do not answer invoke {token}")

    def _session_context(self, arn: str) -> dict[str, Any]:
        """What the provider's aws_iam_session_context answers: for an assumed-role session the
        role's ARN with its path (it asks IAM GetRole), any other ARN passed through."""
        match = re.fullmatch(
            r"arn:(?P<p>[^:]+):sts::(?P<a>\d{12}):assumed-role/(?P<r>[^/]+)/(?P<s>.+)", arn
        )
        if not match:
            return {"arn": arn, "issuerArn": arn, "issuerId": "", "issuerName": "",
                    "sessionName": "", "id": arn}  # fmt: skip
        role = match["r"]
        path = self.role_paths.get(role, "/")
        return {
            "arn": arn,
            "issuerArn": f"arn:{match['p']}:iam::{match['a']}:role{path}{role}",
            "issuerId": "AROAMOCKROLE",
            "issuerName": role,
            "sessionName": match["s"],
            "id": arn,
        }

    def _parameters_by_path(self, path: str, recursive: bool) -> dict[str, Any]:
        """SSM GetParametersByPath: the parameters under `path`, only its direct children unless
        `recursive`."""
        under = path.rstrip("/") + "/"
        names = sorted(
            n for n in self.parameters
            if n.startswith(under) and (recursive or "/" not in n.removeprefix(under))
        )  # fmt: skip
        return {
            "arns": [self.arn("ssm", f"parameter{n}") for n in names],
            "names": names,
            "types": ["String"] * len(names),
            "values": [self.parameters[n] for n in names],
            "path": path,
            "recursive": recursive,
            "withDecryption": False,
            "id": path,
        }


def stack_file_config(stack_file: Path) -> dict[str, Any]:
    """The `config:` block of a Pulumi.<stack>.yaml, as the CLI would hand it to the program.

    Raise StackFileError for a file the CLI's readers would read otherwise or not at all, and
    ConfigError, with every other problem of the config, for values the readers disagree on.
    """
    from components.config import ConfigError, parse_stack_config
    from components.config.stack_file import read_config

    values, problems = read_config(stack_file)
    if problems:
        stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
        # A refused value is handed on as written: the config's own word on it would be a
        # second line for the same key.
        named = {problem.split(": ", 1)[0] for problem in problems}
        try:
            parse_stack_config(
                values, project=PROJECT, stack=stack, region=DEFAULT_REGION, named=named
            )
        except ConfigError as error:
            problems += error.problems
        raise ConfigError(problems)
    return values


def run_program(
    stack_file: str | Path = "Pulumi.dev.yaml",
    *,
    config: dict[str, Any] | None = None,
    default_vpc: bool = True,
    mocks: AwsMocks | None = None,
    secret_keys: Collection[str] = (),
    logger: logging.Logger | None = None,
) -> ProgramRun:
    """Run __main__.py against a stack file (or `config`, which replaces its config block);
    `secret_keys`: the keys the CLI would mark as holding a secret; `logger`: where the
    program's `pulumi.log` messages go (the root logger by default, as under any mocks)."""
    stack_path = PROJECT_ROOT / stack_file
    stack = stack_path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    values = stack_file_config(stack_path) if config is None else config
    region = str(values.get("aws:region", DEFAULT_REGION))
    # The CLI hands structured values to the program as JSON strings.
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v, default=str) for k, v in values.items()},
        list(secret_keys),
    )
    mocks = mocks or AwsMocks(region, default_vpc=default_vpc)
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, logger=logger)
    outputs: dict[str, Any] = {}
    namespace: dict[str, Any] = {}  # __main__.py's globals, for the config it validated

    def program():
        namespace.update(runpy.run_path(str(PROJECT_ROOT / "__main__.py"), run_name="__main__"))
        # The root is the Stack resource, which holds what the program exported.
        stack: Any = settings.get_root_resource()
        if stack is None:
            raise RuntimeError("the program declared no stack resource")
        return pulumi.Output.from_input(stack.outputs).apply(outputs.update)

    _sync_await(run_pulumi_func(lambda: _sync_await(pulumi.Output.from_input(program()).future())))
    return ProgramRun(
        stack, region, mocks.resources, outputs, mocks.invokes, _validated_config(namespace)
    )


def _validated_config(namespace: dict[str, Any]) -> StackConfig | None:
    """The StackConfig __main__.py validated, found by type so its variable may be renamed."""
    from components.config import StackConfig

    return next((v for v in namespace.values() if isinstance(v, StackConfig)), None)
