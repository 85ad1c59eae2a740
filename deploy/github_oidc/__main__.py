"""GitHub's OIDC provider and the roles longjobs' workflows assume: `preview` for pull requests
(reads only), `deploy` for each stack's GitHub environment on main. Run once per account."""

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from deploy.github_oidc import permissions, trust  # noqa: E402
from deploy.github_oidc.settings import NAMESPACE, Settings, SettingsError, parse  # noqa: E402

config = pulumi.Config(NAMESPACE)
# The CLI hands a top-level value over as its text, a list as JSON.
raw = {key: config.get(key) for key in ("repository", "ownerId", "repositoryId", "providerArn")}
raw["stacks"] = config.get_object("stacks")
try:
    settings = parse({key: value for key, value in raw.items() if value is not None})
except SettingsError as error:
    raise pulumi.RunError(str(error)) from None

Trust = Callable[[Settings, str], dict[str, Any]]


def _trust_text(trust_of: Trust, provider: str) -> str:
    return json.dumps(trust_of(settings, provider))


identity = aws.get_caller_identity()
partition = aws.get_partition().partition
if settings.provider_arn:
    provider_arn: pulumi.Input[str] = settings.provider_arn
else:
    # IAM reads GitHub's signing keys itself: no thumbprint is needed ("Create an OpenID
    # Connect (OIDC) identity provider in IAM", IAM User Guide).
    provider = aws.iam.OpenIdConnectProvider(
        "github",
        url=f"https://{trust.ISSUER}",
        client_id_lists=[trust.AUDIENCE],
    )
    provider_arn = provider.arn

ROLES: dict[str, tuple[Trust, tuple[permissions.Grant, ...]]] = {
    "preview": (trust.preview_trust, permissions.PREVIEW),
    "deploy": (trust.deploy_trust, permissions.DEPLOY),
}
for kind, (trust_of, grants) in ROLES.items():
    name = f"longjobs-github-{kind}"
    role = aws.iam.Role(
        f"{kind}-role",
        name=name,
        path="/longjobs-github/",
        assume_role_policy=pulumi.Output.from_input(provider_arn).apply(
            functools.partial(_trust_text, trust_of)
        ),
        max_session_duration=3600,
    )
    # The role's own ARN is known before the role exists: the policies need not wait for it.
    role_arn = f"arn:{partition}:iam::{identity.account_id}:role/longjobs-github/{name}"
    found = permissions.statements(grants, settings, partition, identity.account_id, role_arn)
    for index, document in enumerate(permissions.documents(found), start=1):
        policy = aws.iam.Policy(
            f"{kind}-policy-{index}",
            name=f"{name}-{index}",
            path="/longjobs-github/",
            policy=json.dumps(document),
        )
        aws.iam.RolePolicyAttachment(
            f"{kind}-policy-{index}", role=role.name, policy_arn=policy.arn
        )
    pulumi.export(f"{kind}RoleArn", role.arn)
