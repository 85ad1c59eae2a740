"""IAM privilege escalation: one catalogue for the policy pack and the stack config.

The catalogue is Rhino Security Labs' "AWS IAM Privilege Escalation – Methods and Mitigation"
(rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/, its part 2, and the
method list kept in github.com/RhinoSecurityLabs/AWS-IAM-Privilege-Escalation); the numbers below
are that list's. The policy pack refuses every method in any policy document; the stack config
refuses a job's statements that grant the IAM and STS ones on a resource pattern that could match
the job's own task role (or any other identity of the account), and the single-permission
methods of other services on any resource (the combinations are the pack's alone).

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


# The catalogue's single-permission methods outside IAM: each changes what runs under another
# identity's role (a function, a Glue development endpoint, a CodeStar project, a notebook), so
# granted on any resource it escalates; the policy pack and the stack config refuse them alike.
SERVICE_ESCALATION_ACTIONS: tuple[str, ...] = tuple(
    action for action in ESCALATION_ACTIONS if not action.startswith("iam:")
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


def service_escalations(action_pattern: str) -> list[str]:
    """The catalogue's methods outside IAM that `action_pattern` covers, in catalogue order."""
    return [a for a in SERVICE_ESCALATION_ACTIONS if action_matches(action_pattern, a)]


def why_escalation(action: str) -> str:
    """Which of the catalogue's methods an IAM or STS action of it is, for a message."""
    if action in ESCALATION_ACTIONS:
        return f"method {ESCALATION_ACTIONS[action]}"
    if action == PASS_ROLE:
        methods = [str(c.method) for c in ESCALATION_COMBINATIONS if c.passes_to]
        return f"part of methods {', '.join(methods)}"
    return f"part of method {ESCALATION_ACTIONS['iam:UpdateAssumeRolePolicy']}"


# The ARNs of IAM identities in any account: arn:<partition>:iam::<account>:<type>/<path/name>.
# A resource pattern could match one when some ARN of that shape matches it.
PARTITION_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
ACCOUNT_CHARACTERS = frozenset("0123456789")
IDENTITY_TYPES = ("role", "user", "group", "policy")


@dataclass(frozen=True)
class AnyBut:
    """Any character but these (a name's part of an ARN, which holds no `:`)."""

    excluded: frozenset[str]


Step = tuple[str | frozenset[str] | AnyBut | None, bool]
"""One step of a template: what it makes (one given character, one of a set, any but some, or
None for any character) and whether it repeats (zero or more times) or makes exactly one."""


def given(text: str) -> list[Step]:
    """The steps that make `text`, lower-cased (patterns are compared lower-cased)."""
    return [(character, False) for character in text.lower()]


def _template(kind: str) -> tuple[Step, ...]:
    return (
        *given("arn:"), (PARTITION_CHARACTERS, True), *given(":iam::"), (ACCOUNT_CHARACTERS, True),
        *given(f":{kind}/"), (None, True),
    )  # fmt: skip


_IDENTITY_TEMPLATES = tuple(_template(kind) for kind in IDENTITY_TYPES)


def could_match_identity(resource: str) -> bool:
    """Whether a resource pattern with a wildcard could match a role, user, group or managed
    policy ARN of the account (`*`, `arn:aws:iam::*:role/*`, `arn:*:iam::123456789012:role/j*`,
    `arn:aws:*`...). A pattern without wildcards names one resource and matches no other."""
    if "*" not in resource and "?" not in resource:
        return False
    return any(meets(resource, template) for template in _IDENTITY_TEMPLATES)


def meets(pattern: str, template: tuple[Step, ...]) -> bool:
    """Whether some string matches both the IAM wildcard `pattern` (case-insensitively) and
    `template`.

    A search over pairs (place in the pattern, place in the template) from (0, 0): each pair
    says the strings made so far agree; reaching both ends means one string matches both.
    """
    pattern = pattern.lower()
    rows, columns = len(pattern), len(template)
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == rows and j == columns:
            return True
        todo += _next_pairs(pattern, template, i, j)
    return False


def _next_pairs(pattern: str, template: tuple[Step, ...], i: int, j: int) -> list[tuple[int, int]]:
    rows, columns = len(pattern), len(template)
    found = []
    if i < rows and pattern[i] == "*":
        # The pattern's `*` ends here, or it also takes what the template's step makes.
        found.append((i + 1, j))
        if j < columns:
            found.append((i, j + 1))
    if j < columns and template[j][1]:
        # The repeated step makes nothing more, or it makes the pattern's next character.
        found.append((i, j + 1))
        if i < rows and pattern[i] != "*" and _takes(template[j][0], pattern[i]):
            found.append((i + 1, j))
    elif i < rows and j < columns and pattern[i] != "*" and _takes(template[j][0], pattern[i]):
        found.append((i + 1, j + 1))
    return found


def _takes(allowed: str | frozenset[str] | AnyBut | None, character: str) -> bool:
    """Whether a step that makes `allowed` can make the pattern's `character` (`?`: any)."""
    if character == "?" or allowed is None:
        return True
    if isinstance(allowed, AnyBut):
        return character not in allowed.excluded
    return character == allowed if isinstance(allowed, str) else character in allowed
