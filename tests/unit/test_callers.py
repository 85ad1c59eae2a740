"""Who may invoke the trigger: `allowedCallers` as aliases and its resource-based policy on them,
and `callerPolicy`."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError, parse
from offline.program import MOCK_ACCOUNT, ProgramRun, run_program
from tests.unit.helpers import dev_config

PERMISSION = "aws:lambda/permission:Permission"
ALIAS = "aws:lambda/alias:Alias"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
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


def test_each_allowed_caller_is_one_invoke_statement_on_its_own_alias_and_nothing_more(
    with_callers,
):
    assert trigger_permissions(with_callers) == {
        # An account principal alone: that account's own IAM policies decide who in it may call.
        "trigger-invoked-by-111122223333": {
            "statementId": "invoked-by-111122223333",
            "action": "lambda:InvokeFunction",
            "function": TRIGGER,
            "qualifier": "caller-111122223333",
            "principal": OTHER_ACCOUNT,
        },
        "trigger-invoked-by-role-445f2ec3b55b": {
            "statementId": "invoked-by-role-445f2ec3b55b",
            "action": "lambda:InvokeFunction",
            "function": TRIGGER,
            "qualifier": "caller-role-445f2ec3b55b",
            "principal": OTHER_ROLE,
        },
        # Every account of the organization, each deciding again by its own IAM policies.
        "trigger-invoked-by-o-a1b2c3d4e5": {
            "statementId": "invoked-by-o-a1b2c3d4e5",
            "action": "lambda:InvokeFunction",
            "function": TRIGGER,
            "qualifier": "caller-o-a1b2c3d4e5",
            "principal": "*",
            "principalOrgId": ORGANIZATION,
        },
    }


def test_each_allowed_caller_gets_an_alias_on_latest_with_the_functions_async_settings(
    with_callers,
):
    aliases = {a.inputs["name"]: a.inputs for a in with_callers.by_type(ALIAS)}
    assert {name: (a["functionName"], a["functionVersion"]) for name, a in aliases.items()} == {
        name: (TRIGGER, "$LATEST")
        for name in (
            "schedules",
            "caller-111122223333",
            "caller-role-445f2ec3b55b",
            "caller-o-a1b2c3d4e5",
        )
    }
    configs = {
        c.inputs.get("qualifier"): c.inputs
        for c in with_callers.by_type(INVOKE_CONFIG)
        if c.inputs["functionName"] == TRIGGER
    }
    unqualified = configs.pop(None)
    assert sorted(configs) == sorted(aliases)
    for config in configs.values():
        assert {k: v for k, v in config.items() if k != "qualifier"} == unqualified


def test_the_outputs_name_each_callers_qualifier_and_the_function_config_each_entry(
    with_callers,
):
    assert with_callers.outputs["triggerCallerQualifiers"] == {
        OTHER_ACCOUNT: "caller-111122223333",
        OTHER_ROLE: "caller-role-445f2ec3b55b",
        ORGANIZATION: "caller-o-a1b2c3d4e5",
    }
    config = json.loads(with_callers.trigger_config)
    assert config["callers"] == [OTHER_ACCOUNT, OTHER_ROLE, ORGANIZATION]


def test_a_stack_without_allowed_callers_grants_no_one(dev):
    assert dev.config is not None and dev.config.allowed_callers == []
    assert trigger_permissions(dev) == {}
    assert dev.outputs["triggerCallerQualifiers"] == {}
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


def job_callers(entries, stack_callers=(OTHER_ROLE,)) -> list[str] | None:
    """A dev job's `allowedCallers` as the config takes it, or the config's problems."""
    values = {k.split(":", 1)[1]: v for k, v in dev_config().items() if k.startswith("longjobs:")}
    values["allowedCallers"] = list(stack_callers)
    values["jobs"]["report"]["allowedCallers"] = entries
    try:
        return parse(values).jobs["report"].allowed_callers
    except ConfigError as error:
        return error.problems


def test_a_job_lists_the_stacks_own_account_and_the_stacks_callers_only():
    assert job_callers(["account", OTHER_ROLE]) == ["account", OTHER_ROLE]
    assert job_callers([OTHER_ACCOUNT]) == [
        f"longjobs:jobs.report.allowedCallers.0: '{OTHER_ACCOUNT}' is not a caller of the stack; "
        f"allowed: 'account' or an entry of longjobs:allowedCallers ({OTHER_ROLE})"
    ]
    assert job_callers(["arn:aws:iam::444455556666:role/*"]) == [
        "longjobs:jobs.report.allowedCallers.0: 'arn:aws:iam::444455556666:role/*' is not "
        "allowed; allowed: 'account' (identities of the stack's own account) or an entry of "
        "longjobs:allowedCallers, written the same"
    ]
    assert job_callers(["account", "account"]) == [
        "longjobs:jobs.report.allowedCallers: account listed more than once; list each caller once"
    ]
    assert job_callers([]) == [
        "longjobs:jobs.report.allowedCallers: must not be empty; allowed: a list, each 'account' "
        "(identities of the stack's own account) or an entry of longjobs:allowedCallers, "
        "written the same"
    ]


def test_a_jobs_callers_reach_the_functions_contract():
    config = dev_config()
    config["longjobs:allowedCallers"] = [OTHER_ROLE]
    config["longjobs:jobs"]["report"]["allowedCallers"] = ["account", OTHER_ROLE]
    written = json.loads(run_program(config=config).trigger_config)
    assert written["jobs"]["report"]["allowedCallers"] == ["account", OTHER_ROLE]
    assert all(
        job["allowedCallers"] is None for name, job in written["jobs"].items() if name != "report"
    )
