"""Who may invoke the trigger: `allowedCallers` as its resource-based policy, and `callerPolicy`."""

from __future__ import annotations

import json

import pytest

from offline.program import MOCK_ACCOUNT, ProgramRun, run_program
from tests.unit.helpers import dev_config

PERMISSION = "aws:lambda/permission:Permission"
TRIGGER = "longjobs-dev-trigger"
TRIGGER_ARN = f"arn:aws:lambda:us-east-1:{MOCK_ACCOUNT}:function:{TRIGGER}"
OTHER_ACCOUNT = "111122223333"
OTHER_ROLE = "arn:aws:iam::444455556666:role/service/api"
ORGANIZATION = "o-a1b2c3d4e5"


@pytest.fixture(scope="module")
def with_callers() -> ProgramRun:
    config = dev_config()
    config["longjobs:allowedCallers"] = [OTHER_ACCOUNT, OTHER_ROLE, ORGANIZATION]
    return run_program(config=config)


def trigger_permissions(run: ProgramRun) -> dict[str, dict]:
    """The trigger's resource-based policy statements, by resource name."""
    return {p.name: p.inputs for p in run.by_type(PERMISSION) if p.inputs["function"] == TRIGGER}


def test_each_allowed_caller_is_one_invoke_statement_and_nothing_more(with_callers):
    assert trigger_permissions(with_callers) == {
        # An account principal alone: that account's own IAM policies decide who in it may call.
        "trigger-invoked-by-111122223333": {
            "statementId": "invoked-by-111122223333",
            "action": "lambda:InvokeFunction",
            "function": TRIGGER,
            "principal": OTHER_ACCOUNT,
        },
        "trigger-invoked-by-role-445f2ec3b55b": {
            "statementId": "invoked-by-role-445f2ec3b55b",
            "action": "lambda:InvokeFunction",
            "function": TRIGGER,
            "principal": OTHER_ROLE,
        },
        # Every account of the organization, each deciding again by its own IAM policies.
        "trigger-invoked-by-o-a1b2c3d4e5": {
            "statementId": "invoked-by-o-a1b2c3d4e5",
            "action": "lambda:InvokeFunction",
            "function": TRIGGER,
            "principal": "*",
            "principalOrgId": ORGANIZATION,
        },
    }


def test_a_stack_without_allowed_callers_grants_no_one(dev):
    assert dev.config is not None and dev.config.allowed_callers == []
    assert trigger_permissions(dev) == {}
    assert not dev.by_type("aws:lambda/functionUrl:FunctionUrl")


@pytest.mark.parametrize("stack", ["dev", "with_callers"])
def test_caller_policy_allows_invoking_the_trigger_and_nothing_else(stack, request):
    run: ProgramRun = request.getfixturevalue(stack)
    assert json.loads(run.outputs["callerPolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InvokeLongjobsTrigger",
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": TRIGGER_ARN,
            }
        ],
    }
    assert run.outputs["triggerFunctionArn"] == TRIGGER_ARN
