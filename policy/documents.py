"""IAM policy documents: where a resource holds them, and their statements read once.

IAM matches actions case-insensitively, with `*` and `?` as wildcards; a statement's `Action` may
be one string or a list, and so may `Resource`; `Statement` may be one object or a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from longjobs_contract.iam_escalation import action_matches

from .props import as_json, as_list, get

# Resources whose `policy` property is an identity policy document (a JSON string).
POLICY_DOCUMENT_TYPES = frozenset(
    {
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/policy:Policy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
    }
)
# A role's `inlinePolicies` hold documents; its `assumeRolePolicy` is a trust policy, not checked.
ROLE = "aws:iam/role:Role"

_ROLE_ARN = re.compile(r"^arn:[^:]+:iam::[^:]*:role/(?P<path_and_name>.+)$")


@dataclass(frozen=True)
class Statement:
    """One statement of a document, its fields normalised to lists."""

    label: str
    """How a message names it: `statement 2 (Sid ReadInputs)`, after the document's place."""
    effect: str
    actions: list[str] = field(default_factory=list)
    not_actions: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    not_resources: list[str] = field(default_factory=list)
    conditions: Mapping[str, Any] = field(default_factory=dict)
    principal: Any = None
    """A resource policy's `Principal` as written (`*`, or `{"AWS": ...}`, `{"Service": ...}`);
    None in an identity policy."""

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def grants(self, action: str) -> bool:
        """Whether this Allow statement's Action (or NotAction) covers `action`."""
        if not self.allows:
            return False
        if self.not_actions:
            return not any(action_matches(p, action) for p in self.not_actions)
        return any(action_matches(p, action) for p in self.actions)

    def condition_values(self, key: str, *, positive_only: bool = True) -> list[str] | None:
        """The values a condition compares `key` with (None when no condition names it).

        With `positive_only`, only operators that limit the key to the listed values count
        (StringEquals, StringLike and their ForAnyValue/IfExists forms), not the `Not` ones.
        """
        found: list[str] | None = None
        for operator, pairs in self.conditions.items():
            if positive_only and "not" in str(operator).lower():
                continue
            if not isinstance(pairs, Mapping):
                continue
            for condition_key, values in pairs.items():
                if str(condition_key).lower() == key.lower():
                    found = (found or []) + [str(v) for v in as_list(values)]
        return found


@dataclass(frozen=True)
class Document:
    where: str
    """`policy` or `inline policy 'name'`: how a message names the document."""
    statements: list[Statement]


def role_name(resource: str) -> str | None:
    """The role name an IAM role ARN names (None for anything else, `*` included)."""
    match = _ROLE_ARN.match(resource)
    return match["path_and_name"].rsplit("/", 1)[-1] if match else None


def names_one_role(resource: str) -> bool:
    """A role ARN whose name has no wildcard (its path and account may)."""
    name = role_name(resource)
    return name is not None and name != "" and "*" not in name and "?" not in name


class Declared(Protocol):
    """A resource as a rule sees it: a resource rule's arguments or a stack rule's resource."""

    @property
    def resource_type(self) -> str: ...

    @property
    def props(self) -> Mapping[str, Any]: ...


def documents(args: Declared) -> Iterator[Document | ValueError]:
    """Every identity policy document the resource declares; a ValueError for one unreadable."""
    if args.resource_type in POLICY_DOCUMENT_TYPES:
        yield read_document("policy", get(args.props, "policy"))
    elif args.resource_type == ROLE:
        for inline in get(args.props, "inlinePolicies", []):
            if isinstance(inline, Mapping) and get(inline, "policy"):
                where = f"inline policy '{get(inline, 'name', '')}'"
                yield read_document(where, get(inline, "policy"))


def read_document(where: str, text: Any) -> Document | ValueError:
    """A document's statements, or a ValueError saying why it cannot be read."""
    try:
        document = as_json(text)
        if not isinstance(document, Mapping):
            raise ValueError("the document is not a JSON object")
        return Document(where, _statements(where, document))
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        return ValueError(f"{where.capitalize()} cannot be read as an IAM policy: {error}")


def _statements(where: str, document: Mapping[str, Any]) -> list[Statement]:
    statements = []
    for index, raw in enumerate(as_list(document.get("Statement")), start=1):
        if not isinstance(raw, Mapping):
            raise ValueError(f"statement {index} is not a JSON object")
        sid = raw.get("Sid")
        label = f"statement {index}" + (f" (Sid {sid})" if sid else "")
        if where != "policy":
            label = f"{where}, {label}"
        statements.append(
            Statement(
                label=label[0].upper() + label[1:],
                effect=str(raw.get("Effect", "")),
                actions=[str(a) for a in as_list(raw.get("Action"))],
                not_actions=[str(a) for a in as_list(raw.get("NotAction"))],
                resources=[str(r) for r in as_list(raw.get("Resource"))],
                not_resources=[str(r) for r in as_list(raw.get("NotResource"))],
                conditions=raw.get("Condition") or {},
                principal=raw.get("Principal"),
            )
        )
    return statements
