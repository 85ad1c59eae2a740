"""deploy/github_oidc: the OIDC provider and the workflows' roles, under Pulumi mocks, and their
documents linted by parliament as tests/policy/test_parliament.py lints the stack's."""

from __future__ import annotations

import json
import runpy
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from deploy.github_oidc import permissions
from deploy.github_oidc.resource_actions import ACTIONS
from deploy.github_oidc.settings import NAMESPACE, SettingsError, parse
from offline.program import MOCK_ACCOUNT, PROJECT_ROOT, run_program

PROGRAM = PROJECT_ROOT / "deploy" / "github_oidc" / "__main__.py"
SETTINGS = {
    "repository": "octo-org/longjobs",
    "ownerId": "123456",
    "repositoryId": "789012",
    "stacks": ["dev", "prod"],
}
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
SUB = "token.actions.githubusercontent.com:sub"

# The lookups the longjobs program makes (offline/program.py's mocks answer each), and what
# each asks of IAM as the caller (the provider's data source's AWS call).
LOOKUP_ACTIONS = {
    "aws:index/getCallerIdentity:getCallerIdentity": (),  # STS asks no permission for it
    "aws:index/getRegion:getRegion": (),  # the provider's own configuration
    "aws:index/getPartition:getPartition": (),
    "aws:iam/getSessionContext:getSessionContext": ("iam:GetRole",),
    "aws:ssm/getParametersByPath:getParametersByPath": ("ssm:GetParametersByPath",),
    "aws:ec2/getVpc:getVpc": ("ec2:DescribeVpcs",),
    "aws:ec2/getSubnets:getSubnets": ("ec2:DescribeSubnets",),
    "aws:ec2/getSubnet:getSubnet": ("ec2:DescribeSubnets",),
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": ("ecr:GetAuthorizationToken",),
    "aws:ecr/getRepositories:getRepositories": ("ecr:DescribeRepositories",),
    "aws:ecr/getRepository:getRepository": ("ecr:DescribeRepositories",),
    "aws:ecr/getImages:getImages": ("ecr:ListImages",),
}


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[tuple[str, str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        state = dict(inputs)
        if args.typ in (ROLE, POLICY):
            state["arn"] = (
                f"arn:aws:iam::{MOCK_ACCOUNT}:{args.typ.split('/')[1].split(':')[0]}{inputs['path']}{inputs['name']}"
            )
        elif args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            state["arn"] = (
                f"arn:aws:iam::{MOCK_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
            )
        self.resources.append((args.typ, args.name, state))
        return [f"{args.name}-id", state]

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": MOCK_ACCOUNT,
                "arn": "arn:aws:iam::123456789012:user/admin",
                "userId": "AIDA",
                "id": MOCK_ACCOUNT,
            }
        if args.token == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": "aws",
            }
        raise LookupError(args.token)


def run(values: dict[str, Any]) -> tuple[list[tuple[str, str, dict[str, Any]]], dict[str, Any]]:
    pulumi.runtime.set_all_config(
        {f"{NAMESPACE}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    )
    mocks = Mocks()
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=NAMESPACE, stack="github", preview=False)
    outputs: dict[str, Any] = {}

    def program():
        runpy.run_path(str(PROGRAM), run_name="__main__")
        stack: Any = runtime_settings.get_root_resource()
        return pulumi.Output.from_input(stack.outputs).apply(outputs.update)

    _sync_await(run_pulumi_func(lambda: _sync_await(pulumi.Output.from_input(program()).future())))
    return mocks.resources, outputs


@pytest.fixture(scope="module")
def declared() -> list[tuple[str, str, dict[str, Any]]]:
    return run(SETTINGS)[0]


def one(declared, type_token: str, name: str) -> dict[str, Any]:
    (found,) = [s for t, n, s in declared if (t, n) == (type_token, name)]
    return found


def role_statements(declared, kind: str) -> list[dict[str, Any]]:
    return [
        statement
        for t, n, s in declared
        if t == POLICY and n.startswith(f"{kind}-policy-")
        for statement in json.loads(s["policy"])["Statement"]
    ]


def actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in s["Action"]}


def test_the_provider_is_githubs_for_sts():
    declared, outputs = run(SETTINGS)
    provider = one(declared, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github")
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]
    assert sorted(outputs) == ["deployRoleArn", "previewRoleArn"]


def test_an_existing_provider_is_used_not_made_again():
    arn = f"arn:aws:iam::{MOCK_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    declared, _ = run({**SETTINGS, "providerArn": arn})
    assert [t for t, _, _ in declared if "openIdConnectProvider" in t] == []
    trust = json.loads(one(declared, ROLE, "preview-role")["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Federated": arn}


def test_pull_requests_assume_the_preview_role_in_both_subject_forms(declared):
    trust = json.loads(one(declared, ROLE, "preview-role")["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {
                "Federated": f"arn:aws:iam::{MOCK_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    SUB: [
                        "repo:octo-org/longjobs:pull_request",
                        "repo:octo-org@123456/longjobs@789012:pull_request",
                    ],
                }
            },
        }
    ]


def test_only_each_stacks_environment_assumes_the_deploy_role(declared):
    trust = json.loads(one(declared, ROLE, "deploy-role")["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"]["StringEquals"][SUB] == [
        "repo:octo-org/longjobs:environment:dev",
        "repo:octo-org@123456/longjobs@789012:environment:dev",
        "repo:octo-org/longjobs:environment:prod",
        "repo:octo-org@123456/longjobs@789012:environment:prod",
    ]


def test_the_preview_role_may_make_every_lookup_of_the_program_and_nothing_else(declared):
    made = {
        i for stack in ("Pulumi.dev.yaml", "Pulumi.prod.yaml") for i in run_program(stack).invokes
    }
    assert sorted(made - set(LOOKUP_ACTIONS)) == [], "a lookup this test does not know"
    needed = {a for i in made for a in LOOKUP_ACTIONS[i]}
    granted = actions(role_statements(declared, "preview"))
    assert needed <= granted
    # awsx's Vpc (network.create), opaque under mocks, asks for the region's zones itself.
    vpc = {"ec2:DescribeAvailabilityZones"}
    assert granted <= {a for each in LOOKUP_ACTIONS.values() for a in each} | vpc | {
        "ecr:DescribeImages"
    }


def declared_kinds() -> set[str]:
    """The kinds of resource the example stacks declare that the provider manages (custom
    resources), and awsx's VPC, whose own resources are opaque under mocks."""
    return {
        r.type
        for stack in ("Pulumi.dev.yaml", "Pulumi.prod.yaml")
        for r in run_program(stack).resources
        if r.custom or r.type == "awsx:ec2:Vpc"
    }


def missing_and_extra(kinds: set[str], granted: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Per kind, the actions it needs that no grant has; the granted actions no kind and no
    lookup needs."""
    missing = {
        kind: sorted(set(ACTIONS[kind]) - granted)
        for kind in kinds
        if not set(ACTIONS[kind]) <= granted
    }
    needed = {a for kind in kinds for a in ACTIONS[kind]}
    needed |= {a for each in LOOKUP_ACTIONS.values() for a in each}
    return missing, sorted(granted - needed - {"ec2:DescribeAvailabilityZones"})


def test_the_deploy_role_may_make_every_call_each_declared_kind_needs_and_no_other(declared):
    kinds = declared_kinds()
    assert "aws:sqs/queue:Queue" in kinds and "awsx:ec2:Vpc" in kinds
    assert sorted(kinds - set(ACTIONS)) == [], (
        "a kind of resource resource_actions.py does not know"
    )
    granted = actions(role_statements(declared, "deploy"))
    assert missing_and_extra(kinds, granted) == ({}, [])


def test_a_missing_or_extra_grant_is_named_with_its_kind(declared):
    granted = actions(role_statements(declared, "deploy")) - {"sqs:CreateQueue"}
    missing, extra = missing_and_extra(declared_kinds(), granted | {"sqs:PurgeQueue"})
    assert missing == {"aws:sqs/queue:Queue": ["sqs:CreateQueue"]}
    assert extra == ["sqs:PurgeQueue"]


def test_a_stack_without_kms_or_a_network_of_its_own_gets_neither():
    declared, _ = run({**SETTINGS, "stacks": ["dev"]})
    granted = actions(role_statements(declared, "deploy"))
    assert [a for a in granted if a.startswith("kms:")] == []
    assert "ec2:CreateVpc" not in granted
    assert "ec2:CreateSecurityGroup" in granted


def test_named_resources_are_the_stacks_own(declared):
    scoped = [r for s in role_statements(declared, "deploy") for r in s["Resource"] if r != "*"]
    own = (
        "longjobs-dev",
        "longjobs-prod",
        "/longjobs/dev/",
        "/longjobs/prod/",
        "longjobs-github-deploy",
    )
    shared = (
        "arn:aws:ecr:{}:123456789012:repository/*",  # the repositories' list: see permissions.py
        "arn:aws:ec2:{}:123456789012:*",
        "arn:aws:kms:{}:123456789012:key/*",
    )
    regions = ("us-east-1", "eu-west-2")
    allowed = {s.format(r) for s in shared for r in regions}
    assert [r for r in scoped if not any(o in r for o in own) and r not in allowed] == []


def test_the_checkpoint_buckets_are_named_as_the_stack_names_them(declared):
    buckets = next(s for s in role_statements(declared, "deploy") if s["Sid"] == "Buckets")
    dev = run_program("Pulumi.dev.yaml")
    names = sorted(
        f"arn:aws:s3:::{r.inputs['bucket']}" for r in dev.by_type("aws:s3/bucket:Bucket")
    )
    assert names and set(names) <= set(buckets["Resource"])


def test_each_policy_fits_a_managed_policys_size(declared):
    sizes = [len("".join(s["policy"].split())) for t, _, s in declared if t == POLICY]
    assert sizes and max(sizes) <= permissions.MAX_POLICY


# parliament's findings that AWS's documentation shows wrong here, each with the page.
ALLOWED = {
    (
        "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
        "s3:PutBucketPolicy",
    ): "Deploying the buckets' policies is PutBucketPolicy; a role that deploys a bucket policy "
    "can write one (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html).",
    (
        "RESOURCE_MISMATCH",
        "dynamodb:PutResourcePolicy",
    ): "PutResourcePolicy attaches a policy to a table or a stream "
    "(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html); "
    "parliament's catalogue knows the stream only.",
    (
        "UNKNOWN_FEDERATION_SOURCE",
        "oidc-provider/token.actions.githubusercontent.com",
    ): "IAM trusts any OIDC provider an account creates, GitHub's among them "
    "(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html); "
    "parliament knows a fixed list of federation sources.",
    (
        "MALFORMED",
        "neither Resource nor NotResource",
    ): "A trust policy names no Resource: the role it is attached to is its resource "
    "(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).",
}


def lint(document: str) -> list[tuple[str, str]]:
    import parliament  # its catalogue loads at import: only in the worker that lints

    found = []
    for finding in parliament.analyze_policy_string(document).findings:
        detail = json.dumps(finding.detail)
        known = next((key for key in ALLOWED if key[0] == finding.issue and key[1] in detail), None)
        if known is None:
            found.append((finding.issue, detail))
    return found


def test_parliament_finds_nothing_in_either_role(declared):
    documents = [s["policy"] for t, _, s in declared if t == POLICY]
    documents += [s["assumeRolePolicy"] for t, _, s in declared if t == ROLE]
    assert len(documents) == 5
    assert [f for d in documents for f in lint(d)] == []


def test_parliament_catches_an_action_on_the_wrong_resource():
    statement = {
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::longjobs-dev-x"],
    }
    assert [
        issue for issue, _ in lint(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    ] == ["RESOURCE_MISMATCH"]


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {**SETTINGS, "repository": "octo-org"},
            "longjobs-github-oidc:repository: 'octo-org'; allowed: the GitHub repository as owner/name (octo-org/longjobs)",
        ),
        (
            {**SETTINGS, "ownerId": "octo"},
            "longjobs-github-oidc:ownerId: 'octo'; allowed: the numeric id GitHub gives it (`gh api repos/OWNER/NAME --jq '.owner.id, .id'`)",
        ),
        (
            {**SETTINGS, "stacks": ["staging"]},
            "longjobs-github-oidc:stacks: ['staging']; allowed: each of ['dev', 'prod'] at most once",
        ),
        (
            {**SETTINGS, "stack": ["dev"]},
            "longjobs-github-oidc:stack: unknown key; allowed: ownerId, providerArn, repository, repositoryId, stacks",
        ),
    ],
)
def test_bad_settings_are_one_line_each(values: dict[str, Any], problem: str):
    with pytest.raises(SettingsError) as raised:
        parse(values)
    assert raised.value.problems == [problem]


def test_the_program_refuses_bad_settings_without_declaring_anything():
    with pytest.raises(Exception, match="longjobs-github-oidc:repositoryId: ''; allowed") as raised:
        run({k: v for k, v in SETTINGS.items() if k != "repositoryId"})
    assert isinstance(raised.value, pulumi.RunError) or "RunError" in type(raised.value).__name__
