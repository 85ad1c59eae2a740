"""IAM privilege escalation: one catalogue for the policy pack and the stack config.

The catalogue is Rhino Security Labs' "AWS IAM Privilege Escalation – Methods and Mitigation"
(rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/, its part 2, and the
method list kept in github.com/RhinoSecurityLabs/AWS-IAM-Privilege-Escalation); the numbers below
are that list's. The policy pack refuses every method in any policy document; the stack config
refuses a job's statements that grant the IAM and STS ones on a resource pattern that could match
the job's own task role (or any other identity of the account).

IAM matches actions case-insensitively, with `*` (any run of characters) and `?` (one character)
as wildcards, and a resource pattern's `*` runs across `:` and `/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PASS_ROLE = "iam:PassRole"
ASSUME_ROLE = "sts:AssumeRole"

# Methods that need one permission: granting it is enough to escalate.
ESCALATION_ACTIONS: dict[str, int] = {
    "iam:CreatePolicyVersion": 1,
    "iam:SetDefaultPolicyVersion": 2,
    "iam:CreateAccessKey": 4,
    "iam:CreateLoginProfile": 5,
    "iam:UpdateLoginProfile": 6,
    "iam:AttachUserPolicy": 7,
    "iam:AttachGroupPolicy": 8,
    "iam:AttachRolePolicy": 9,
    "iam:PutUserPolicy": 10,
    "iam:PutGroupPolicy": 11,
    "iam:PutRolePolicy": 12,
    "iam:AddUserToGroup": 13,
    "iam:UpdateAssumeRolePolicy": 14,  # with sts:AssumeRole, which any role can be made to trust
    "lambda:UpdateFunctionCode": 18,
    "glue:UpdateDevEndpoint": 20,
    "codestar:CreateProjectFromTemplate": 23,
    "lambda:UpdateFunctionConfiguration": 26,
    "sagemaker:CreatePresignedNotebookInstanceUrl": 28,
}


@dataclass(frozen=True)
class Combination:
    """A method that needs several permissions; with `passes_to`, one of them is iam:PassRole
    to that service (an iam:PassedToService condition that leaves it out defuses the method)."""

    method: int
    actions: tuple[str, ...]
    passes_to: str | None = None


ESCALATION_COMBINATIONS: tuple[Combination, ...] = (
    Combination(3, ("ec2:RunInstances",), "ec2.amazonaws.com"),
    Combination(15, ("lambda:CreateFunction", "lambda:InvokeFunction"), "lambda.amazonaws.com"),
    Combination(16, ("lambda:CreateFunction", "lambda:AddPermission"), "lambda.amazonaws.com"),
    Combination(
        17, ("lambda:CreateFunction", "lambda:CreateEventSourceMapping"), "lambda.amazonaws.com"
    ),
    Combination(19, ("glue:CreateDevEndpoint",), "glue.amazonaws.com"),
    Combination(21, ("cloudformation:CreateStack",), "cloudformation.amazonaws.com"),
    Combination(
        22,
        ("datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"),
        "datapipeline.amazonaws.com",
    ),
    Combination(24, ("codestar:CreateProject",), "codestar.amazonaws.com"),
    Combination(25, ("codestar:CreateProject", "codestar:AssociateTeamMember")),
    Combination(
        27,
        ("sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"),
        "sagemaker.amazonaws.com",
    ),
)

# The catalogue's IAM and STS actions: each acts on an IAM identity (a role, user, group or
# managed policy), so granted on one the job's own task role could be, it lets the job raise
# its own rights. iam:PassRole and sts:AssumeRole are parts of several methods.
IDENTITY_ESCALATION_ACTIONS: tuple[str, ...] = (
    *(action for action in ESCALATION_ACTIONS if action.startswith("iam:")),
    PASS_ROLE,
    ASSUME_ROLE,
)


def wildcard_to_regex(pattern: str) -> re.Pattern[str]:
    """IAM's wildcards (`*` any run, `?` one character), case-insensitive."""
    escaped = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(f"^{escaped}$", re.IGNORECASE)


def action_matches(pattern: str, action: str) -> bool:
    return wildcard_to_regex(pattern).match(action) is not None


def identity_escalations(action_pattern: str) -> list[str]:
    """The catalogue's IAM and STS actions that `action_pattern` covers, in catalogue order."""
    return [a for a in IDENTITY_ESCALATION_ACTIONS if action_matches(action_pattern, a)]


def why_escalation(action: str) -> str:
    """Which of the catalogue's methods an IAM or STS action of it is, for a message."""
    if action in ESCALATION_ACTIONS:
        return f"method {ESCALATION_ACTIONS[action]}"
    if action == PASS_ROLE:
        methods = [str(c.method) for c in ESCALATION_COMBINATIONS if c.passes_to]
        return f"part of methods {', '.join(methods)}"
    return f"part of method {ESCALATION_ACTIONS['iam:UpdateAssumeRolePolicy']}"


# The ARNs of IAM identities in any account: arn:<partition>:iam::<account>:<type>/<path/name>.
# A resource pattern could match one when some ARN of that shape matches it. A template is a
# sequence of steps: one given character, or a set of characters repeated zero or more times
# (None: any character).
_PARTITION = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_ACCOUNT = frozenset("0123456789")
IDENTITY_TYPES = ("role", "user", "group", "policy")
_Step = tuple[str, bool] | tuple[frozenset[str] | None, bool]


def _template(kind: str) -> tuple[_Step, ...]:
    def given(text: str) -> list[_Step]:
        return [(character, False) for character in text]

    return (
        *given("arn:"), (_PARTITION, True), *given(":iam::"), (_ACCOUNT, True),
        *given(f":{kind}/"), (None, True),
    )  # fmt: skip


_IDENTITY_TEMPLATES = tuple(_template(kind) for kind in IDENTITY_TYPES)


def could_match_identity(resource: str) -> bool:
    """Whether a resource pattern with a wildcard could match a role, user, group or managed
    policy ARN of the account (`*`, `arn:aws:iam::*:role/*`, `arn:*:iam::123456789012:role/j*`,
    `arn:aws:*`...). A pattern without wildcards names one resource and matches no other."""
    if "*" not in resource and "?" not in resource:
        return False
    return any(_intersects(resource.lower(), template) for template in _IDENTITY_TEMPLATES)


def _intersects(pattern: str, template: tuple[_Step, ...]) -> bool:
    """Whether some string matches both the IAM wildcard `pattern` and `template`.

    meet[i][j]: the rest of the pattern from i and the rest of the template from j can make the
    same string; filled from the ends back, each cell reading cells further on.
    """
    rows, columns = len(pattern), len(template)
    meet = [[False] * (columns + 1) for _ in range(rows + 1)]
    meet[rows][columns] = True
    for i in range(rows, -1, -1):
        for j in range(columns, -1, -1):
            if i == rows and j == columns:
                continue
            if i < rows and pattern[i] == "*":
                # The pattern's `*` ends here, or it also takes what the template's step makes.
                meet[i][j] = meet[i + 1][j] or (j < columns and meet[i][j + 1])
            elif j < columns and template[j][1]:
                allowed = template[j][0]
                takes_next = i < rows and (
                    pattern[i] == "?" or allowed is None or pattern[i] in allowed
                )
                # The repeated set makes nothing more, or it makes the pattern's next character.
                meet[i][j] = meet[i][j + 1] or (takes_next and meet[i + 1][j])
            elif i < rows and j < columns:
                same = pattern[i] == "?" or pattern[i] == template[j][0]
                meet[i][j] = same and meet[i + 1][j + 1]
    return meet[0][0]
