"""IAM rules: no wildcard actions, iam:PassRole only on named roles for named services, no
privilege-escalation actions, no administrator managed policies.

The privilege-escalation catalogue (Rhino Security Labs' "AWS IAM Privilege Escalation – Methods
and Mitigation") lives in `longjobs_contract.iam_escalation`, which the stack config checks a
job's statements against too. A rule sees one document at a time: two policies on one role that
together make a combination are not caught here.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from longjobs_contract import control_plane
from longjobs_contract.iam_escalation import (
    ASSUME_ROLE,
    ESCALATION_ACTIONS,
    ESCALATION_COMBINATIONS,
    PASS_ROLE,
    Combination,
    action_matches,
)

from .documents import Document, Statement, documents, names_one_role
from .props import as_list, get

# AWS managed policies that hand over the account (or IAM, which is the same thing).
POLICY_ATTACHMENT_TYPES = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    }
)


def _readable(args: ResourceValidationArgs) -> list[Document]:
    return [d for d in documents(args) if isinstance(d, Document)]


def no_wildcard_actions(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No `*` or `service:*` action, nor NotAction, in an Allow statement."""
    for document in documents(args):
        if isinstance(document, ValueError):
            report_violation(f"{document}: write valid policy JSON so it can be checked.", None)
            continue
        for statement in document.statements:
            if not statement.allows:
                continue
            if statement.not_actions:
                report_violation(
                    f"{statement.label} allows every action but its NotAction: "
                    "list the actions the role needs in Action instead.",
                    None,
                )
            for action in statement.actions:
                service, _, name = action.partition(":")
                if action == "*" or "*" in service:
                    report_violation(
                        f"{statement.label} allows every action of every service ({action!r}): "
                        "list the actions the role needs instead.",
                        None,
                    )
                elif name == "*":
                    report_violation(
                        f"{statement.label} allows every {service} action ({action!r}): "
                        f"list the {service} actions the role needs instead.",
                        None,
                    )


def pass_role_scoped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """iam:PassRole only on named roles, and only to the services named by iam:PassedToService."""
    for document in _readable(args):
        for statement in document.statements:
            if not statement.grants(PASS_ROLE):
                continue
            unnamed = [r for r in statement.resources if not names_one_role(r)]
            if statement.not_resources or not statement.resources or unnamed:
                shown = ", ".join(repr(r) for r in unnamed) or (
                    "NotResource" if statement.not_resources else "no Resource"
                )
                report_violation(
                    f"{statement.label} lets iam:PassRole pass any role ({shown}): name each "
                    "role in Resource (arn:aws:iam::<account>:role/<path>/<name>), no wildcard "
                    "in the name.",
                    None,
                )
            if not statement.condition_values("iam:PassedToService"):
                report_violation(
                    f"{statement.label} lets iam:PassRole pass roles to any service: add "
                    '"Condition": {"StringEquals": {"iam:PassedToService": '
                    '"<service>.amazonaws.com"}} naming the service that uses the roles.',
                    None,
                )


def no_privilege_escalation(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """None of Rhino Security Labs' privilege-escalation methods, alone or combined."""
    for document in _readable(args):
        allows = [s for s in document.statements if s.allows]
        for statement in allows:
            found = [a for a in ESCALATION_ACTIONS if statement.grants(a)]
            if found:
                methods = ", ".join(f"{a} (method {ESCALATION_ACTIONS[a]})" for a in found)
                report_violation(
                    f"{statement.label} allows privilege escalation: {methods}: remove "
                    "these actions; change IAM and function code from a deployment pipeline, "
                    "not from a workload's role.",
                    None,
                )
            if statement.grants(ASSUME_ROLE) and not all(
                names_one_role(r) for r in statement.resources or ["*"]
            ):
                report_violation(
                    f"{statement.label} allows sts:AssumeRole on any role: name each role it "
                    "may assume in Resource (arn:aws:iam::<account>:role/<path>/<name>).",
                    None,
                )
        for combination in ESCALATION_COMBINATIONS:
            if _escalates(allows, combination):
                needed = ([PASS_ROLE] if combination.passes_to else []) + list(combination.actions)
                fix = (
                    f"limit iam:PassedToService to services other than {combination.passes_to}, "
                    "or drop one of them."
                    if combination.passes_to
                    else "drop one of them."
                )
                report_violation(
                    f"{document.where.capitalize()} allows {' + '.join(needed)}, privilege "
                    f"escalation method {combination.method}: {fix}",
                    None,
                )


def _escalates(allows: list[Statement], combination: Combination) -> bool:
    if not all(any(s.grants(a) for s in allows) for a in combination.actions):
        return False
    if combination.passes_to is None:
        return True
    return any(_passes_to(s, combination.passes_to) for s in allows if s.grants(PASS_ROLE))


def _passes_to(statement: Statement, service: str) -> bool:
    services = statement.condition_values("iam:PassedToService")
    return services is None or any(action_matches(p, service) for p in services)


def no_administrator_policies(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """No AWS managed policy that reaches the stack's own resources is attached (the catalogue
    the config reads too: `longjobs_contract.control_plane.MANAGED_POLICIES`)."""
    if args.resource_type in POLICY_ATTACHMENT_TYPES:
        arns = [get(args.props, "policyArn")]
    elif args.resource_type == "aws:iam/role:Role":
        arns = as_list(get(args.props, "managedPolicyArns"))
    else:
        return
    for arn in arns:
        problem = control_plane.managed_policy_problem(str(arn or ""))
        if problem:
            report_violation(
                f"Attaches the managed policy {problem} (for a longjobs job: its "
                "policyStatements).",
                None,
            )
