"""Who may assume each role: the repository's workflows, by the `sub` claim of GitHub's token.

GitHub's subject claim names the repository and the job's context: `pull_request` for a pull
request's jobs, `environment:<name>` for a job in a GitHub environment ("OIDC token claims",
GitHub Docs: docs.github.com/actions/reference/security/oidc). Repositories created from
2026-07-15 (and older ones that opt in) name the owner and the repository with their numeric ids
too, `repo:octo-org@123456/octo-repo@789012:...`, so that a recycled name mints no token that
matches (github.blog/changelog/2026-04-23-immutable-subject-claims-for-github-actions-oidc-tokens).
Both forms are accepted, each exactly: StringEquals, no wildcard.
"""

from __future__ import annotations

from typing import Any

from deploy.github_oidc.settings import Settings

ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
"""configure-aws-credentials' default audience (its README, "OIDC Audience")."""


def subjects(settings: Settings, context: str) -> list[str]:
    """The `sub` claims of this repository's jobs in `context`, in both forms."""
    owner, name = settings.repository.split("/")
    return [
        f"repo:{owner}/{name}:{context}",
        f"repo:{owner}@{settings.owner_id}/{name}@{settings.repository_id}:{context}",
    ]


def trust_policy(provider_arn: str, claims: list[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{ISSUER}:aud": AUDIENCE, f"{ISSUER}:sub": claims}},
            }
        ],
    }


def preview_trust(settings: Settings, provider_arn: str) -> dict[str, Any]:
    """The pull requests' jobs (.github/workflows/preview.yml)."""
    return trust_policy(provider_arn, subjects(settings, "pull_request"))


def deploy_trust(settings: Settings, provider_arn: str) -> dict[str, Any]:
    """The jobs in each stack's GitHub environment (.github/workflows/up.yml); which branches may
    deploy to an environment is the environment's own rule in GitHub."""
    claims = [c for s in settings.stacks for c in subjects(settings, f"environment:{s.name}")]
    return trust_policy(provider_arn, claims)
