"""Who may reach what the stack keeps: a DynamoDB table's items, publishing to an SNS topic, and
the role EventBridge Scheduler assumes.

A table's and a topic's policies are resource policies: their Deny statements name every
principal (`"Principal": "*"`) and exempt the stack's own roles by `aws:PrincipalArn`, the
condition key that holds a role's ARN for every session of the role (IAM User Guide, "AWS global
condition context keys"). A Deny's exemption counts only when it names roles one by one: a
pattern (`role/*`) exempts whoever can make a role that matches it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from longjobs_contract.iam_escalation import action_matches

from .documents import ROLE, Document, Statement, names_one_role, read_document
from .props import as_list, get
from .stack import depends_on, of_type

TABLE = "aws:dynamodb/table:Table"
TABLE_POLICY = "aws:dynamodb/resourcePolicy:ResourcePolicy"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SCHEDULER = "scheduler.amazonaws.com"

# The actions on a table's items (Service Authorization Reference, "Actions defined by Amazon
# DynamoDB"); transactions and PartiQL statements are authorized as these, item by item.
ITEM_WRITES = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
ITEM_READS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:PartiQLSelect",
    "dynamodb:Query",
    "dynamodb:Scan",
)
# The reads that name an index's ARN (those with the index resource type in the same reference).
INDEX_READS = ("dynamodb:PartiQLSelect", "dynamodb:Query", "dynamodb:Scan")
# The actions that change or remove a table's policy: denied, the deployer could not change it
# again, and only the account's root user could still delete it (DeleteResourcePolicy, DynamoDB
# API Reference).
POLICY_ACTIONS = ("dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy")
PUBLISH = "sns:Publish"
PRINCIPAL_ARN = "aws:PrincipalArn"
# Besides a role, a Deny may exempt a service principal; its own Allow then says for which
# resources of which account it may act.
PRINCIPAL_SERVICE = "aws:PrincipalServiceName"
NEGATED_OPERATORS = frozenset({"arnnotequals", "arnnotlike", "stringnotequals", "stringnotlike"})


def dynamodb_items_only_named_roles(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    """Every table has a resource-based policy denying its items, read or written, to every
    principal but roles it names: on the table, and on each of its indexes for the reads that
    name one (a Query of an index is authorized on the index's ARN)."""
    policies = of_type(args.resources, TABLE_POLICY)
    for table in of_type(args.resources, TABLE):
        name = get(table.props, "name", table.name)
        attached = [p for p in policies if _attached(p, "resourceArn", table)]
        if not attached:
            report_violation(
                f"Table {name!r} has no resource-based policy: declare an "
                "aws.dynamodb.ResourcePolicy for it that denies reading and writing its items to "
                'every principal ("Principal": "*") but the roles that use them, named by '
                "ArnNotEquals aws:PrincipalArn.",
                table.urn,
            )
            continue
        statements = [s for p in attached for s in _statements(p)]
        open_to_others = []
        for resource, actions in _item_actions(table).items():
            allowed = [a for a in actions if not _denied_to_others(statements, a, resource)]
            if allowed:
                open_to_others.append(f"on {resource}: {', '.join(allowed)}")
        if open_to_others:
            report_violation(
                f"The resource-based policy of table {name!r} leaves to any principal whose own "
                f"policies allow it {'; '.join(open_to_others)}. Deny these to every principal "
                '("Principal": "*") on the table and `<table ARN>/index/*`, but the roles that '
                "use the items, named one by one by ArnNotEquals aws:PrincipalArn.",
                attached[0].urn,
            )


def _item_actions(table: PolicyResource) -> dict[str, tuple[str, ...]]:
    """The table's ARN and each of its indexes' ARNs, with the item actions that name it."""
    arn = str(get(table.props, "arn", ""))
    indexes = [get(index, "name") for index in get(table.props, "globalSecondaryIndexes", [])]
    return {
        arn: ITEM_WRITES + ITEM_READS,
        **{f"{arn}/index/{index}": INDEX_READS for index in indexes},
    }


def dynamodb_policy_keeps_its_owner(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """A table's policy never takes the deployer's right to change it: DynamoDB refuses such a
    policy unless `confirmRemoveSelfResourceAccess` says to apply it (PutResourcePolicy,
    DynamoDB API Reference), and no statement denies the policy's own actions."""
    if args.resource_type != TABLE_POLICY:
        return
    if get(args.props, "confirmRemoveSelfResourceAccess") is True:
        report_violation(
            "confirmRemoveSelfResourceAccess is true: DynamoDB would apply a policy that takes "
            "away the deployer's right to change it. Leave it unset, so that DynamoDB refuses "
            "such a policy.",
            None,
        )
    document = read_document("policy", get(args.props, "policy"))
    for statement in document.statements if isinstance(document, Document) else []:
        denied = [a for a in POLICY_ACTIONS if _covers(statement, a) and not statement.allows]
        if denied:
            report_violation(
                f"{statement.label} denies {', '.join(denied)}: the deployer could no longer "
                "change or remove the policy (only the account's root user could still delete "
                "it). Deny the item actions only.",
                None,
            )


def sns_publish_only_named_principals(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    """Every topic has a policy that denies Publish without TLS (Amazon SNS security best
    practices, "Enforce encryption of data in transit") and to every principal but the roles it
    names; a service it lets publish is held to the resources of one account (`aws:SourceArn`
    and `aws:SourceAccount`, against the confused deputy)."""
    policies = of_type(args.resources, TOPIC_POLICY)
    for topic in of_type(args.resources, TOPIC):
        name = get(topic.props, "name", topic.name)
        attached = [p for p in policies if _attached(p, "arn", topic)]
        if not attached:
            report_violation(
                f"Topic {name!r} has only SNS's default policy, under which any principal of the "
                "account whose IAM policies allow sns:Publish may publish: declare an "
                "aws.sns.TopicPolicy for it that denies sns:Publish to every principal "
                '("Principal": "*") but the roles that publish (ArnNotEquals aws:PrincipalArn) '
                "and without TLS (Bool aws:SecureTransport false).",
                topic.urn,
            )
            continue
        statements = [s for p in attached for s in _statements(p)]
        for problem in _topic_problems(statements):
            report_violation(f"The policy of topic {name!r} {problem}", attached[0].urn)


def _topic_problems(statements: list[Statement]) -> list[str]:
    problems = []
    if not any(_denies_insecure_publish(s) for s in statements):
        problems.append(
            "lets sns:Publish through without TLS: add a Deny of sns:Publish to every principal "
            "on the condition Bool aws:SecureTransport false."
        )
    if not any(_denies_to_others(s, PUBLISH, frozenset({PRINCIPAL_SERVICE})) for s in statements):
        problems.append(
            "lets any principal whose own policies allow it publish: add a Deny of sns:Publish to "
            'every principal ("Principal": "*") but the roles that publish, named one by one by '
            "ArnNotEquals aws:PrincipalArn."
        )
    for statement in statements:
        if statement.allows and _services(statement) and not _held_to_a_source(statement):
            problems.append(
                f"lets {', '.join(_services(statement))} act for any resource of any account "
                f"({statement.label}): add aws:SourceArn and aws:SourceAccount conditions."
            )
    return problems


def scheduler_role_trusts_its_group(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """A role EventBridge Scheduler may assume names the schedule group it serves and the
    account: `aws:SourceArn` a schedule group's ARN, not a schedule's or a name prefix's, and
    `aws:SourceAccount` (EventBridge Scheduler User Guide, "Confused deputy prevention")."""
    if args.resource_type != ROLE:
        return
    trust = read_document("trust policy", get(args.props, "assumeRolePolicy"))
    for statement in trust.statements if isinstance(trust, Document) else []:
        if not statement.allows or SCHEDULER not in _services(statement):
            continue
        groups = statement.condition_values("aws:SourceArn") or []
        missing = [k for k in ("aws:SourceAccount", "aws:SourceArn") if not _named(statement, k)]
        if missing:
            report_violation(
                f"{statement.label} lets EventBridge Scheduler assume the role with no "
                f"{' and no '.join(missing)} condition: add StringEquals aws:SourceAccount (the "
                "account) and ArnEquals aws:SourceArn (the schedule group's ARN, "
                "arn:<partition>:scheduler:<region>:<account>:schedule-group/<group>).",
                None,
            )
        elif not all(":schedule-group/" in group for group in groups):
            report_violation(
                f"{statement.label} names {', '.join(groups)} in aws:SourceArn: Scheduler "
                "assumes the role for a schedule group, so name the group's ARN "
                "(arn:<partition>:scheduler:<region>:<account>:schedule-group/<group>), not a "
                "schedule's or a name prefix.",
                None,
            )


def _named(statement: Statement, key: str) -> bool:
    return bool(statement.condition_values(key))


def _attached(policy: PolicyResource, prop: str, target: PolicyResource) -> bool:
    """Whether `policy`'s `prop` names `target`: by dependency, or by the same ARN."""
    if depends_on(policy, prop, target):
        return True
    arn = get(target.props, "arn")
    return arn is not None and get(policy.props, prop) == arn


def _statements(policy: PolicyResource) -> list[Statement]:
    document = read_document("policy", get(policy.props, "policy"))
    return document.statements if isinstance(document, Document) else []


def _everyone(statement: Statement) -> bool:
    principal = statement.principal
    if isinstance(principal, Mapping):
        return list(as_list(principal.get("AWS"))) == ["*"] and len(principal) == 1
    return principal == "*"


def _services(statement: Statement) -> list[str]:
    principal = statement.principal
    return (
        [str(s) for s in as_list(principal.get("Service"))]
        if isinstance(principal, Mapping)
        else []
    )


def _covers(statement: Statement, action: str) -> bool:
    return any(action_matches(pattern, action) for pattern in statement.actions)


def _on(statement: Statement, resource: str) -> bool:
    """Whether the statement's Resource covers `resource` (`*` and `?` as IAM reads them)."""
    return any(_arn_matches(pattern, resource) for pattern in statement.resources)


def _arn_matches(pattern: str, arn: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, arn) is not None


def _denied_to_others(statements: list[Statement], action: str, resource: str) -> bool:
    return any(_denies_to_others(s, action) and _on(s, resource) for s in statements)


def _denies_to_others(
    statement: Statement, action: str, also_exempting: frozenset[str] = frozenset()
) -> bool:
    """A Deny of `action` to every principal whose only exemptions are roles named one by one
    (and, where given, the keys `also_exempting` names, under a negated operator)."""
    if statement.allows or not _everyone(statement) or not _covers(statement, action):
        return False
    named: list[str] = []
    for operator, pairs in statement.conditions.items():
        if not isinstance(pairs, Mapping):
            return False
        for key, values in pairs.items():
            negated = str(operator).lower() in NEGATED_OPERATORS
            if negated and str(key).lower() == PRINCIPAL_ARN.lower():
                named += [str(v) for v in as_list(values)]
            elif not (negated and str(key).lower() in {k.lower() for k in also_exempting}):
                return False
    return bool(named) and all(names_one_role(arn) for arn in named)


def _denies_insecure_publish(statement: Statement) -> bool:
    secure = {
        str(key).lower(): values
        for operator, pairs in statement.conditions.items()
        if str(operator).lower() == "bool" and isinstance(pairs, Mapping)
        for key, values in pairs.items()
    }.get("aws:securetransport")
    return (
        not statement.allows
        and _everyone(statement)
        and _covers(statement, PUBLISH)
        and [str(v).lower() for v in as_list(secure)] == ["false"]
        and len(statement.conditions) == 1
    )


def _held_to_a_source(statement: Statement) -> bool:
    return _named(statement, "aws:SourceArn") and _named(statement, "aws:SourceAccount")
