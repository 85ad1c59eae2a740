"""The stack's EventBridge rules as the program declares them, locally: a rule whose pattern
matches events is given each event that matches (EventBridge event patterns: every field of the
pattern, a list of allowed values or a nested pattern); a rule with a rate runs its target with
its input every period."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from local.cron import rate_period
from local.stack import LocalStack

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"


@dataclass(frozen=True)
class Rule:
    name: str
    target_arn: str
    pattern: dict[str, Any] | None
    period: timedelta | None
    input: Any


def declared_rules(stack: LocalStack) -> list[Rule]:
    rules = {str(r.state["name"]): r.inputs for r in stack.program.by_type(RULE)}
    found = []
    for target in stack.program.by_type(TARGET):
        rule = rules[target.inputs["rule"]]
        pattern = rule.get("eventPattern")
        expression = rule.get("scheduleExpression")
        found.append(
            Rule(
                name=target.inputs["rule"],
                target_arn=target.inputs["arn"],
                pattern=json.loads(pattern) if pattern else None,
                period=rate_period(expression) if expression else None,
                input=json.loads(target.inputs["input"]) if target.inputs.get("input") else None,
            )
        )
    return found


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether an event matches a pattern of exact values (the rules this project declares)."""
    for key, wanted in pattern.items():
        value = event.get(key)
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not matches(wanted, value):
                return False
        elif value not in wanted:
            return False
    return True
