"""The pack's iam-task-roles-stay-in-their-job rule over the dev stack with one more policy on a
task role (whole messages), in preview, and the catalogue it shares with the stack config:
its actions and ARNs are IAM's, and the config names the stack's resources as the program does."""

from __future__ import annotations

import re
from typing import Any

import parliament
import pytest
import yaml
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from components.config import control_plane as config_side
from components.config.names import name_prefix
from longjobs_contract import control_plane as catalogue
from longjobs_contract.control_plane import could_match
from offline.program import MOCK_ACCOUNT, PROJECT_ROOT, ProgramRun, run_program
from policy import control_plane, iam
from policy.control_plane import declared_names, task_roles_stay_in_their_job
from tests.policy.test_rules import allow, policy, stack_violations, violations
from tools.policy_check import stack_resource

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
RULE = task_roles_stay_in_their_job


def declared(run: ProgramRun) -> list[PolicyResource]:
    return [stack_resource(r.type, r.name, r.state, run.stack) for r in run.resources]


@pytest.fixture(scope="module")
def dev() -> list[PolicyResource]:
    return declared(run_program("Pulumi.dev.yaml"))


@pytest.fixture(scope="module")
def prod() -> list[PolicyResource]:
    return declared(run_program("Pulumi.prod.yaml"))


def role_named(resources: list[PolicyResource], name: str) -> PolicyResource:
    return next(r for r in resources if r.resource_type == ROLE and r.name == name)


def with_policy(
    resources: list[PolicyResource], *statements: dict[str, Any], role: str = "report-task-role"
) -> list[PolicyResource]:
    """The stack with one more role policy on `role`, named `extra`, found by the role's name."""
    props = {"role": role_named(resources, role).props["name"], **policy(*statements)}
    return [*resources, stack_resource(ROLE_POLICY, "extra", props)]


def messages(resources: list[PolicyResource]) -> list[str]:
    return [message for message, _ in stack_violations(RULE, resources)]


def test_the_dev_and_prod_stacks_reach_nothing_of_their_own(dev, prod):
    # The platform's statements (a job's checkpoints and its key use, its logs, its image, its
    # secrets) included.
    assert stack_violations(RULE, dev) == [] and stack_violations(RULE, prod) == []


REFUSED = [
    pytest.param(
        [allow("dynamodb:PutItem")],
        "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'dynamodb:PutItem' on '*', which could write the stack's runs table (forge or change any run's record: the state `status` answers, the attempts the supervisor re-runs and stops, the notices it publishes); allowed: these actions on tables of the job's own, named by ARNs the stack's runs table does not match (like arn:aws:dynamodb:us-east-1:111122223333:table/report-results).",
        id="runs-table",
    ),
    pytest.param(
        [allow("sns:Publish", f"arn:aws:sns:us-east-1:{MOCK_ACCOUNT}:longjobs-dev-notifications")],
        "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'sns:Publish' on 'arn:aws:sns:us-east-1:123456789012:longjobs-dev-notifications', which could publish to the stack's notifications topic (false notices of runs' final states, to every subscriber, on-call's email included); allowed: sns:Publish on topics of the job's own, named by ARNs the stack's topic does not match (like arn:aws:sns:us-east-1:111122223333:report-done).",
        id="notices",
    ),
    pytest.param(
        [allow("lambda:InvokeFunction", "arn:aws:lambda:*:*:function:longjobs-dev-*")],
        "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'lambda:InvokeFunction' on 'arn:aws:lambda:*:*:function:longjobs-dev-*', which could invoke the stack's trigger or supervisor (the trigger starts, stops and re-runs any job of the stack, under that job's roles with the environment a run may set; the supervisor takes what it is handed for ECS's task state changes and ends, re-runs or stops runs by it); allowed: lambda:InvokeFunction on functions of the job's own, named by ARNs the stack's do not match (like arn:aws:lambda:us-east-1:111122223333:function:report-notify); a job does not start or stop runs.",
        id="functions-invoked",
    ),
    pytest.param(
        [allow("lambda:UpdateFunctionCode", "arn:aws:lambda:*:*:function:*")],
        "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'lambda:UpdateFunctionCode' on 'arn:aws:lambda:*:*:function:*', which could change the stack's trigger or supervisor (code of the job's choosing under their roles, which start every job and pass every job's roles, who may invoke them, where their failures go, or none of them running); allowed: none of these on the stack's functions, which change with a deploy of the stack.",
        id="function-code",
    ),
    pytest.param(
        [allow(["ecs:StopTask", "ecs:ExecuteCommand"], "arn:aws:ecs:*:*:task/*")],
        [
            "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'ecs:StopTask' on 'arn:aws:ecs:*:*:task/*', which could stop tasks in the stack's cluster (any job's runs ended, each by a stop the trigger never asked for); allowed: none of these on the stack's cluster; a run is stopped through the trigger.",
            "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'ecs:ExecuteCommand' on 'arn:aws:ecs:*:*:task/*', which could run commands in the tasks of the stack's cluster (a shell in another job's running task: its code, its data and its task role's credentials); allowed: none of these on the stack's cluster.",
        ],
        id="tasks",
    ),
    pytest.param(
        [allow("s3:GetObject", f"arn:aws:s3:::longjobs-dev-checkpoints-{MOCK_ACCOUNT}-us-east-1/*")],
        "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 's3:GetObject' on 'arn:aws:s3:::longjobs-dev-checkpoints-123456789012-us-east-1/*', which could use another job's checkpoints (its data, and what its next attempt resumes from); allowed: these actions on buckets of the job's own, named by ARNs (like arn:aws:s3:::report-inputs/*); the job's own checkpoints are granted already.",
        id="another-job-s-checkpoints",
    ),
    pytest.param(
        [allow("logs:GetLogEvents", "arn:aws:logs:*:*:log-group:/longjobs/dev/hello-world:*")],
        "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'logs:GetLogEvents' on 'arn:aws:logs:*:*:log-group:/longjobs/dev/hello-world:*', which could read another job's or the functions' logs (what that job wrote, and the story of every run, callers' refused requests included); allowed: these actions on the job's own log group or on log groups outside the stack's, named by ARNs (like arn:aws:logs:us-east-1:111122223333:log-group:/report/imports:*).",
        id="another-job-s-logs",
    ),
    pytest.param(
        [allow("ecr:PutImage", f"arn:aws:ecr:us-east-1:{MOCK_ACCOUNT}:repository/longjobs-dev/hello-world")],
        "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'ecr:PutImage' on 'arn:aws:ecr:us-east-1:123456789012:repository/longjobs-dev/hello-world', which could push to or change the stack's image repositories (an image pushed under the tag a deploy is about to build is the one that deploy runs, under that job's roles); allowed: these actions on repositories of the job's own, named by ARNs the stack's do not match (like arn:aws:ecr:us-east-1:111122223333:repository/report-tools).",
        id="images",
    ),
    pytest.param(
        [allow("scheduler:DeleteSchedule", "arn:aws:scheduler:*:*:schedule/*/*")],
        "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'scheduler:DeleteSchedule' on 'arn:aws:scheduler:*:*:schedule/*/*', which could add, change or remove the stack's schedules (which job the trigger runs, when, and with which environment); allowed: schedules in a group of the job's own, named by ARNs the stack's group does not match (like arn:aws:scheduler:us-east-1:111122223333:schedule/report-jobs/*).",
        id="schedules",
    ),
    pytest.param(
        [allow("events:DisableRule", "arn:aws:events:*:*:rule/*")],
        "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'events:DisableRule' on 'arn:aws:events:*:*:rule/*', which could change the stack's EventBridge rules (the task state changes the supervisor moves runs on, and its reconciliation: runs that never end, or every task's events sent where the job chooses); allowed: these actions on rules of the job's own, named by ARNs the stack's rules do not match (like arn:aws:events:us-east-1:111122223333:rule/report-*).",
        id="rules",
    ),
    pytest.param(
        [allow("sqs:PurgeQueue", f"arn:aws:sqs:us-east-1:{MOCK_ACCOUNT}:longjobs-dev-schedules-dead-letters")],
        "Statement 1 of policy 'extra' on the role 'report-task-role' of job 'report' allows 'sqs:PurgeQueue' on 'arn:aws:sqs:us-east-1:123456789012:longjobs-dev-schedules-dead-letters', which could use or change the stack's queues of what failed (the failed invocations and schedule firings an operator replays and the alarms count, callers' environment values included: read, hidden, forged or removed); allowed: these actions on queues of the job's own, named by ARNs the stack's queues do not match (like arn:aws:sqs:us-east-1:111122223333:report-work).",
        id="queues",
    ),
    pytest.param(
        # Every action but some: NotAction covers the catalogue's, NotResource every resource.
        [{"Effect": "Allow", "NotAction": "s3:*", "NotResource": "arn:aws:s3:::b/*"}],
        None,
        id="not-action-and-not-resource",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("statements", "expected"), REFUSED)
def test_a_task_role_reaching_the_stack_is_refused_with_what_it_could_do(dev, statements, expected):
    found = messages(with_policy(dev, *statements))
    if expected is None:
        # One per entry of the catalogue but S3's (and the key's: dev has none), each saying
        # NotAction and NotResource.
        entries = [
            r
            for r in catalogue.CATALOGUE
            if not r.actions[0].startswith("s3:") and r.kind != catalogue.KEY
        ]
        assert len(found) == len(entries)
        assert all("every action but its NotAction" in m and "on '*'" in m for m in found)
    else:
        assert found == (expected if isinstance(expected, list) else [expected])


def test_run_task_and_pass_role_across_a_role_s_policies_name_each_other(dev):
    other_job_role = role_named(dev, "hello-world-task-role").props["arn"]
    managed = stack_resource(
        "aws:iam/policy:Policy",
        "report-runner",
        {"arn": f"arn:aws:iam::{MOCK_ACCOUNT}:policy/report-runner", **policy(allow("ecs:RunTask", "arn:aws:ecs:*:*:task-definition/tools:*"))},
    )  # fmt: skip
    attachment = stack_resource(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "report-runner",
        {"role": role_named(dev, "report-task-role").props["name"], "policyArn": managed.props["arn"]},
    )  # fmt: skip
    resources = [
        *with_policy(dev, allow("iam:PassRole", other_job_role, Sid="Pass")),
        managed,
        attachment,
    ]
    assert messages(resources) == [
        "Statement 1 (Sid Pass) of policy 'extra' on the role 'report-task-role' of job 'report' allows 'iam:PassRole' on 'arn:aws:iam::123456789012:role/longjobs-dev/hello-world-task-role-153d4d1', which could pass the stack's roles (every job's task and execution roles and the functions': passed to ECS, a task runs as another job; the role grants ecs:RunTask too); allowed: iam:PassRole only on roles the job manages itself, named by ARNs outside the stack's IAM path (like arn:aws:iam::111122223333:role/report-helper)."
    ]
    # RunTask alone, on a task definition of its own, is the job's business.
    assert messages([*dev, managed, attachment]) == []


def test_what_is_the_job_s_own_or_outside_the_stack_passes(dev):
    bucket = f"arn:aws:s3:::longjobs-dev-checkpoints-{MOCK_ACCOUNT}-us-east-1"
    resources = with_policy(
        dev,
        allow(["s3:GetObject", "s3:PutObject"], f"{bucket}/report/*"),
        allow("logs:GetLogEvents", "arn:aws:logs:*:*:log-group:/longjobs/dev/report:*"),
        allow("dynamodb:PutItem", "arn:aws:dynamodb:*:111122223333:table/orders"),
        allow("iam:PassRole", f"arn:aws:iam::{MOCK_ACCOUNT}:role/report-helper"),
        allow("kms:Decrypt"),
        {"Effect": "Deny", "Action": ["dynamodb:*", "sns:*", "ecs:*"], "Resource": "*"},
    )
    assert messages(resources) == []


def test_the_own_checkpoints_of_one_job_are_another_s(dev):
    bucket = f"arn:aws:s3:::longjobs-dev-checkpoints-{MOCK_ACCOUNT}-us-east-1"
    resources = with_policy(
        dev, allow("s3:GetObject", f"{bucket}/report/*"), role="hello-world-task-role"
    )
    assert [m.split(", which could ")[1][:29] for m in messages(resources)] == [
        "use another job's checkpoints"
    ]  # fmt: skip


def test_roles_that_ecs_tasks_do_not_assume_are_the_platform_s(dev):
    # The trigger's own role starts every job; its statements are the platform's, not a job's.
    resources = with_policy(dev, allow("ecs:RunTask"), role="trigger-role")
    assert messages(resources) == []


def test_in_preview_an_unknown_name_is_any_and_a_document_not_known_yet_waits(dev):
    role = role_named(dev, "report-task-role")
    unknown_role = stack_resource(ROLE, role.name, {**role.props, "name": UNKNOWN_STRING_VALUE})
    passes = policy(allow("iam:PassRole", "arn:aws:iam::*:role/longjobs-dev/x"))
    extra = stack_resource(ROLE_POLICY, "extra", {"role": UNKNOWN_STRING_VALUE, **passes})
    waiting = stack_resource(
        ROLE_POLICY, "waiting", {"role": UNKNOWN_STRING_VALUE, "policy": UNKNOWN_STRING_VALUE}
    )
    for each in (extra, waiting):
        # Before the role has an id, the engine says which resource the property comes from.
        each.property_dependencies = {"role": [unknown_role]}
    others = [r for r in dev if r.urn != role.urn]
    found = stack_violations(RULE, [*others, unknown_role, extra, waiting])
    # The role's own name, not known, could be any under its path: `x` included.
    assert [(m.split(" on '")[1][:35], urn) for m, urn in found] == [
        ("arn:aws:iam::*:role/longjobs-dev/x'", extra.urn)
    ]
    assert declared_names([*others, unknown_role]).roles[-1] == "longjobs-dev/*"


def test_lambda_update_function_code_is_refused_by_the_pack_and_the_config(dev):
    from components.config import ConfigError, parse
    from tests.unit.test_config_control_plane import with_statements

    anywhere = allow("lambda:UpdateFunctionCode", "arn:aws:lambda:*:111122223333:function:mine")
    assert len(violations(iam.no_privilege_escalation, ROLE_POLICY, policy(anywhere))) == 1
    with pytest.raises(ConfigError):
        parse(with_statements(anywhere))
    on_the_trigger = allow(
        "lambda:UpdateFunctionCode", "arn:aws:lambda:*:*:function:longjobs-dev-trigger"
    )
    assert len(messages(with_policy(dev, on_the_trigger))) == 1
    with pytest.raises(ConfigError):
        parse(with_statements(on_the_trigger))  # fmt: skip


# One catalogue, read alike by the config and the pack


def test_the_pack_and_the_config_read_one_catalogue():
    assert control_plane.findings is catalogue.findings is config_side.findings
    assert [r.kind for r in catalogue.CATALOGUE] and set(catalogue.SHAPES) == {
        r.kind for r in catalogue.CATALOGUE
    }


def stack_config(stack: str) -> tuple[dict[str, Any], str]:
    config = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    values = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("longjobs:")}
    return values, config["aws:region"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_config_names_the_stack_s_resources_as_the_program_declares_them(stack, dev, prod):
    values, region = stack_config(stack)
    config = config_side.stack_names(values, "longjobs", stack, region)
    program = declared_names(dev if stack == "dev" else prod)
    prefix = name_prefix("longjobs", stack)
    same = ("tables", "topics", "functions", "clusters", "task_families", "schedule_groups",
            "rules", "queues", "repositories", "jobs")  # fmt: skip
    for field in same:
        assert sorted(getattr(config, field)) == sorted(getattr(program, field)), field
    assert sorted(config.log_groups, key=str) == sorted(program.log_groups, key=str)
    # Alarms and image records: every one the program declares is under the config's pattern.
    assert config.alarms == (f"{prefix}-*",) and config.image_records == (f"{prefix}/images/*",)
    assert program.alarms and all(a.startswith(f"{prefix}-") for a in program.alarms)
    assert program.image_records == config.image_records
    assert config.security_groups == program.security_groups == (("*", False),)
    # What the config cannot know: the account, the roles' generated names, a created key's id.
    assert config.roles == (f"{prefix}/*",)
    assert all(r.startswith(f"{prefix}/") for r in program.roles)
    kinds = ("checkpoints", "access-logs")
    assert config.checkpoint_buckets == tuple(f"{prefix}-{k}-{{account}}-{region}" for k in kinds)
    assert sorted(program.checkpoint_buckets) == sorted(
        f"{prefix}-{k}-{MOCK_ACCOUNT}-{region}" for k in kinds
    )
    if stack == "prod":
        assert config.keys == (("key/*", False), (f"alias/{prefix}", True))
        assert [known for _, known in program.keys] == [True, True]
    else:
        assert config.keys == program.keys == ()


def test_every_catalogued_action_is_an_iam_action_of_its_service():
    privileges = {
        f"{service['prefix']}:{p['privilege']}"
        for service in parliament.iam_definition
        for p in service["privileges"]
    }
    unknown = [a for r in catalogue.CATALOGUE for a in r.actions if a not in privileges]
    unknown += [a for a in catalogue.RUNS_AS_PASSED_ROLE if a not in privileges]
    assert unknown == []


# The Service Authorization Reference's resource types each kind is (parliament's copy of it).
SAR_TYPES = {
    catalogue.RUNS_TABLE: ("dynamodb", {"table", "index", "stream", "backup", "export"}),
    catalogue.TOPIC: ("sns", {"topic"}),
    catalogue.FUNCTIONS: ("lambda", {"function", "function alias", "function version"}),
    catalogue.CLUSTER: ("ecs", {"cluster", "task", "service", "container-instance", "task-set"}),
    catalogue.TASK_DEFINITIONS: ("ecs", {"task-definition"}),
    catalogue.ROLES: ("iam", {"role"}),
    catalogue.SCHEDULES: ("scheduler", {"schedule-group", "schedule"}),
    catalogue.RULES: ("events", {"rule-on-default-event-bus"}),
    catalogue.QUEUES: ("sqs", {"queue"}),
    catalogue.REPOSITORIES: ("ecr", {"repository"}),
    catalogue.CHECKPOINT_BUCKET: ("s3", {"bucket"}),
    catalogue.CHECKPOINTS: ("s3", {"object"}),
    catalogue.LOG_GROUPS: ("logs", {"log-group", "log-stream"}),
    catalogue.KEY: ("kms", {"key", "alias"}),
    catalogue.ALARMS: ("cloudwatch", {"alarm"}),
    catalogue.IMAGE_RECORDS: ("ssm", {"parameter"}),
    catalogue.NETWORK: ("ec2", {"security-group"}),
}


def sar_formats(service: str, types: set[str]) -> list[str]:
    return [
        r["arn"]
        for s in parliament.iam_definition
        if s["prefix"] == service
        for r in s["resources"]
        if r["resource"] in types
    ]


def test_each_entry_s_actions_act_on_its_kind():
    by_action = {
        f"{s['prefix']}:{p['privilege']}": {t["resource_type"].rstrip("*") for t in p["resource_types"]}
        for s in parliament.iam_definition
        for p in s["privileges"]
    }  # fmt: skip
    wrong = [
        (reach.kind, action)
        for reach in catalogue.CATALOGUE
        for action in reach.actions
        # An action with no resource type takes Resource '*' only, which every kind matches.
        if by_action[action] - {""} and not by_action[action] & SAR_TYPES[reach.kind][1]
    ]
    assert wrong == []


# A sample of the stack's own names for each of the ARN formats' placeholders.
SAMPLES = {
    "Partition": "aws", "Region": "eu-west-2", "Account": MOCK_ACCOUNT, "TableName": "longjobs-prod-runs",
    "TopicName": "longjobs-prod-notifications", "FunctionName": "longjobs-prod-trigger",
    "ClusterName": "longjobs-prod", "TaskDefinitionFamilyName": "longjobs-prod-report",
    "TaskDefinitionRevisionNumber": "7", "RoleNameWithPath": "longjobs-prod/report-task-role-e85bd5d",
    "GroupName": "longjobs-prod", "RuleName": "longjobs-prod-reconcile",
    "QueueName": "longjobs-prod-trigger-failures", "RepositoryName": "longjobs-prod/report",
    "BucketName": f"longjobs-prod-checkpoints-{MOCK_ACCOUNT}-eu-west-2",
    "ObjectName": "hello-world/0123/state.json", "LogGroupName": "/longjobs/prod/lambda/trigger",
    "LogStreamName": "2026/12/06/[$LATEST]abc", "Alias": "longjobs-prod",
    "AlarmName": "longjobs-prod-refused-records",
    "ParameterNameWithoutLeadingSlash": "longjobs-prod/images/report/0123abcd",
    "SecurityGroupId": "sg-0123456789abcdef0",
}  # fmt: skip


def test_every_arn_of_the_stack_s_resources_is_caught_by_its_kind(prod):
    stack = declared_names(prod).resources()
    key_id = next(k for k, _ in declared_names(prod).keys if k.startswith("key/"))
    samples = {**SAMPLES, "KeyId": key_id.removeprefix("key/")}
    missed = []
    for kind, (service, types) in SAR_TYPES.items():
        for form in sar_formats(service, types):
            arn = re.sub(r"\$\{(\w+)\}", lambda m: samples.get(m[1], "x1"), form)
            if kind == catalogue.NETWORK:  # ids not known before the groups exist: any group
                arn = arn.replace(samples["SecurityGroupId"], "*")
            if not any(could_match(arn, r) for r in stack if r.kind == kind):
                missed.append((kind, arn))
    assert missed == []


def test_names_of_a_stack_whose_config_is_not_known_could_be_any_prefix():
    names = config_side.stack_names({"jobs": {"report": {}}}, None, None, None)
    assert names.tables == ("{prefix}-runs",) and names.checkpoint_buckets == (
        "{prefix}-{account}-{region}",
    )
    runs = next(r for r in names.resources() if r.kind == catalogue.RUNS_TABLE)
    assert could_match("arn:aws:dynamodb:us-east-1:1:table/anything-runs", runs)
    assert not could_match("arn:aws:dynamodb:us-east-1:1:table/orders", runs)
