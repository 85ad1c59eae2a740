"""IAM policy documents, built as plain data so tests and the plan can read every statement."""

from __future__ import annotations

import json
from typing import Any

import pulumi

Statement = dict[str, Any]


def document(statements: list[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def assume_role(service: str, conditions: dict[str, Any] | None = None) -> str:
    """A trust policy letting one AWS service assume the role, optionally only for this account."""
    statement: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if conditions:
        statement["Condition"] = conditions
    return json.dumps(document([statement]))


def to_json(statements: pulumi.Input[list[Statement]]) -> pulumi.Output[str]:
    """Serialise statements that may hold Outputs (ARNs of resources not created yet)."""
    return pulumi.Output.json_dumps(pulumi.Output.from_input(statements).apply(document))
