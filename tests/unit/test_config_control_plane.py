"""A job's `policyStatements` against the stack's own resources (longjobs_contract.control_plane):
each way of reaching them refused with the statement, its actions, its resources and why, as
whole messages; what is the job's own, another account's or another stack's accepted."""

from __future__ import annotations

import pytest

from components.config import ConfigError, parse
from components.config.control_plane import checkpoint_buckets
from components.config.regions import AWS_REGIONS
from tests.unit.test_config import dev_values, statement

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
STACK = {"project": "longjobs", "stack": "dev", "region": "us-east-1"}
OWN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/longjobs-dev/report-task-role-e85bd5d"
OTHER_JOB_ROLE = f"arn:aws:iam::{ACCOUNT}:role/longjobs-dev/hello-world-task-role-153d4d1"


def with_statements(*statements: dict, **keys) -> dict:
    values = dev_values()
    values["jobs"]["report"]["policyStatements"] = list(statements)
    values.update(keys)
    return values


def problems(values: dict, **stack) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(values, **(stack or STACK))
    return caught.value.problems


REACH = [
    pytest.param(
        with_statements(statement("dynamodb:PutItem", "*")),
        "longjobs:jobs.report.policyStatements.0: Action 'dynamodb:PutItem' on Resource '*' could write the stack's runs table (forge or change any run's record: the state `status` answers, the attempts the supervisor re-runs and stops, the notices it publishes); allowed: these actions on tables of the job's own, named by ARNs the stack's runs table does not match (like arn:aws:dynamodb:us-east-1:111122223333:table/report-results)",
        id="runs-table-write",
    ),
    pytest.param(
        with_statements(statement("dynamodb:Put*", "arn:aws:dynamodb:*:*:table/*")),
        [
            "longjobs:jobs.report.policyStatements.0: Action 'dynamodb:Put*' (covering dynamodb:PutItem) on Resource 'arn:aws:dynamodb:*:*:table/*' could write the stack's runs table (forge or change any run's record: the state `status` answers, the attempts the supervisor re-runs and stops, the notices it publishes); allowed: these actions on tables of the job's own, named by ARNs the stack's runs table does not match (like arn:aws:dynamodb:us-east-1:111122223333:table/report-results)",
            "longjobs:jobs.report.policyStatements.0: Action 'dynamodb:Put*' (covering dynamodb:PutResourcePolicy) on Resource 'arn:aws:dynamodb:*:*:table/*' could change, copy out or remove the stack's runs table (its expiry, its point-in-time recovery and who else may use it, or every run in a backup or an export); allowed: these actions on tables of the job's own, named by ARNs the stack's runs table does not match (like arn:aws:dynamodb:us-east-1:111122223333:table/report-results)",
        ],
        id="runs-table-wildcards",
    ),
    pytest.param(
        with_statements(
            statement(
                "dynamodb:Query",
                f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/longjobs-dev-runs/index/byJob",
            )
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'dynamodb:Query' on Resource 'arn:aws:dynamodb:us-east-1:123456789012:table/longjobs-dev-runs/index/byJob' could read the stack's runs table (every job's runs, with the environment and command each was started with); allowed: these actions on tables of the job's own, named by ARNs the stack's runs table does not match (like arn:aws:dynamodb:us-east-1:111122223333:table/report-results)",
        id="runs-table-read",
    ),
    pytest.param(
        with_statements(
            statement(
                ["dynamodb:DeleteTable", "dynamodb:ExportTableToPointInTime"],
                f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/longjobs-dev-runs",
            )
        ),
        "longjobs:jobs.report.policyStatements.0: Actions 'dynamodb:DeleteTable', 'dynamodb:ExportTableToPointInTime' on Resource 'arn:aws:dynamodb:us-east-1:123456789012:table/longjobs-dev-runs' could change, copy out or remove the stack's runs table (its expiry, its point-in-time recovery and who else may use it, or every run in a backup or an export); allowed: these actions on tables of the job's own, named by ARNs the stack's runs table does not match (like arn:aws:dynamodb:us-east-1:111122223333:table/report-results)",
        id="runs-table-administered",
    ),
    pytest.param(
        with_statements(
            statement("sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:longjobs-dev-notifications")
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'sns:Publish' on Resource 'arn:aws:sns:us-east-1:123456789012:longjobs-dev-notifications' could publish to the stack's notifications topic (false notices of runs' final states, to every subscriber, on-call's email included); allowed: sns:Publish on topics of the job's own, named by ARNs the stack's topic does not match (like arn:aws:sns:us-east-1:111122223333:report-done)",
        id="notices-published",
    ),
    pytest.param(
        with_statements(statement("sns:Subscribe", "arn:aws:sns:*:*:*")),
        "longjobs:jobs.report.policyStatements.0: Action 'sns:Subscribe' on Resource 'arn:aws:sns:*:*:*' could subscribe to, change or remove the stack's notifications topic (every job's final states sent where the job chooses, who may publish them, or no notices at all); allowed: these actions on topics of the job's own, named by ARNs the stack's topic does not match (like arn:aws:sns:us-east-1:111122223333:report-done)",
        id="notices-subscribed",
    ),
    pytest.param(
        with_statements(
            statement(
                "lambda:InvokeFunction",
                [
                    f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:longjobs-dev-trigger",
                    "arn:aws:lambda:*:*:function:longjobs-dev-supervisor:*",
                ],
            )
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'lambda:InvokeFunction' on Resources 'arn:aws:lambda:us-east-1:123456789012:function:longjobs-dev-trigger', 'arn:aws:lambda:*:*:function:longjobs-dev-supervisor:*' could invoke the stack's trigger or supervisor (the trigger starts, stops and re-runs any job of the stack, under that job's roles with the environment a run may set; the supervisor takes what it is handed for ECS's task state changes and ends, re-runs or stops runs by it); allowed: lambda:InvokeFunction on functions of the job's own, named by ARNs the stack's do not match (like arn:aws:lambda:us-east-1:111122223333:function:report-notify); a job does not start or stop runs",
        id="functions-invoked",
    ),
    pytest.param(
        with_statements(
            statement(
                "lambda:AddPermission",
                f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:longjobs-dev-trigger",
            )
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'lambda:AddPermission' on Resource 'arn:aws:lambda:us-east-1:123456789012:function:longjobs-dev-trigger' could change the stack's trigger or supervisor (code of the job's choosing under their roles, which start every job and pass every job's roles, who may invoke them, where their failures go, or none of them running); allowed: none of these on the stack's functions, which change with a deploy of the stack",
        id="functions-changed",
    ),
    pytest.param(
        # Refused on any function, as the policy pack refuses it (iam-no-privilege-escalation).
        with_statements(
            statement(
                "lambda:UpdateFunctionCode",
                f"arn:aws:lambda:us-east-1:{OTHER_ACCOUNT}:function:mine",
            )
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'lambda:UpdateFunctionCode' on any resource lets the job run code of its choosing under another identity's role (Rhino Security Labs' IAM privilege escalation methods: lambda:UpdateFunctionCode, method 18); allowed: none of these in a job's statements (change functions, development endpoints and notebooks from a deployment pipeline)",
        id="function-code-anywhere",
    ),
    pytest.param(
        with_statements(statement("ecs:RunTask", "*")),
        "longjobs:jobs.report.policyStatements.0: Action 'ecs:RunTask' on Resource '*' could start the jobs' tasks outside the trigger (tasks no run record, timeout or retry accounts for, each with the overrides the job chooses); allowed: none of these on the stack's task definitions; runs start through the trigger",
        id="tasks-run",
    ),
    pytest.param(
        # RunTask of a task definition of the job's own is its business; with another job's
        # role passed in its overrides, it runs as that job.
        with_statements(
            statement("ecs:RunTask", f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/tools:*"),
            statement("iam:PassRole", OTHER_JOB_ROLE),
        ),
        "longjobs:jobs.report.policyStatements.1: Action 'iam:PassRole' on Resource 'arn:aws:iam::123456789012:role/longjobs-dev/hello-world-task-role-153d4d1' could pass the stack's roles (every job's task and execution roles and the functions': passed to ECS, a task runs as another job; the job's statements grant ecs:RunTask too); allowed: iam:PassRole only on roles the job manages itself, named by ARNs outside the stack's IAM path (like arn:aws:iam::111122223333:role/report-helper)",
        id="run-task-with-another-job-s-role",
    ),
    pytest.param(
        with_statements(
            statement("ecs:RegisterTaskDefinition", "*"), statement("iam:PassRole", OWN_ROLE)
        ),
        "longjobs:jobs.report.policyStatements.1: Action 'iam:PassRole' on Resource 'arn:aws:iam::123456789012:role/longjobs-dev/report-task-role-e85bd5d' could pass the stack's roles (every job's task and execution roles and the functions': passed to ECS, a task runs as another job; the job's statements grant ecs:RegisterTaskDefinition too); allowed: iam:PassRole only on roles the job manages itself, named by ARNs outside the stack's IAM path (like arn:aws:iam::111122223333:role/report-helper)",
        id="register-task-definition-with-a-stack-role",
    ),
    pytest.param(
        with_statements(
            statement(
                ["ecs:StopTask", "ecs:ExecuteCommand", "ecs:DescribeTasks"],
                f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/longjobs-dev/*",
            )
        ),
        [
            "longjobs:jobs.report.policyStatements.0: Action 'ecs:StopTask' on Resource 'arn:aws:ecs:us-east-1:123456789012:task/longjobs-dev/*' could stop tasks in the stack's cluster (any job's runs ended, each by a stop the trigger never asked for); allowed: none of these on the stack's cluster; a run is stopped through the trigger",
            "longjobs:jobs.report.policyStatements.0: Action 'ecs:ExecuteCommand' on Resource 'arn:aws:ecs:us-east-1:123456789012:task/longjobs-dev/*' could run commands in the tasks of the stack's cluster (a shell in another job's running task: its code, its data and its task role's credentials); allowed: none of these on the stack's cluster",
            "longjobs:jobs.report.policyStatements.0: Action 'ecs:DescribeTasks' on Resource 'arn:aws:ecs:us-east-1:123456789012:task/longjobs-dev/*' could describe the tasks of the stack's cluster (every run's environment and command overrides); allowed: none of these on the stack's cluster; a task reads its own description from the task metadata endpoint",
        ],
        id="tasks-stopped-entered-described",
    ),
    pytest.param(
        with_statements(
            statement("ecs:UpdateService", "arn:aws:ecs:*:*:service/longjobs-dev/report")
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'ecs:UpdateService' on Resource 'arn:aws:ecs:*:*:service/longjobs-dev/report' could create, change or remove services in the stack's cluster (which task definition a job's service runs and how many of its tasks, or none); allowed: none of these on the stack's cluster, whose services change with a deploy of the stack",
        id="services-changed",
    ),
    pytest.param(
        with_statements(statement("ecs:TagResource", "*")),
        "longjobs:jobs.report.policyStatements.0: Action 'ecs:TagResource' on Resource '*' could change the stack's cluster or the tags of its tasks (the capacity every job runs on, and a task's stack and run-id tags, which the functions' permission to stop it rests on); allowed: none of these on the stack's cluster, which changes with a deploy of the stack",
        id="task-tags-changed",
    ),
    pytest.param(
        with_statements(statement("ecs:DeregisterTaskDefinition", "*")),
        "longjobs:jobs.report.policyStatements.0: Action 'ecs:DeregisterTaskDefinition' on Resource '*' could deregister or delete the jobs' task definitions (every run of that job fails to start until the next deploy); allowed: none of these on the stack's task definitions, which change with a deploy of the stack",
        id="task-definitions-deregistered",
    ),
    pytest.param(
        # The job's own task role, named whole: still the stack's.
        with_statements(statement("iam:PutRolePolicy", OWN_ROLE)),
        "longjobs:jobs.report.policyStatements.0: Action 'iam:PutRolePolicy' on Resource 'arn:aws:iam::123456789012:role/longjobs-dev/report-task-role-e85bd5d' could change or assume the stack's roles (what its own task role, another job's or the functions' may do, or who may assume them); allowed: these actions only on roles the job manages itself, named by ARNs outside the stack's IAM path (like arn:aws:iam::111122223333:role/report-helper)",
        id="own-task-role-changed",
    ),
    pytest.param(
        with_statements(
            statement(
                "scheduler:UpdateSchedule",
                f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/longjobs-dev/report-nightly",
            )
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'scheduler:UpdateSchedule' on Resource 'arn:aws:scheduler:us-east-1:123456789012:schedule/longjobs-dev/report-nightly' could add, change or remove the stack's schedules (which job the trigger runs, when, and with which environment); allowed: schedules in a group of the job's own, named by ARNs the stack's group does not match (like arn:aws:scheduler:us-east-1:111122223333:schedule/report-jobs/*)",
        id="schedules-changed",
    ),
    pytest.param(
        with_statements(
            statement(
                "events:PutTargets",
                f"arn:aws:events:us-east-1:{ACCOUNT}:rule/longjobs-dev-task-state-changes",
            )
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'events:PutTargets' on Resource 'arn:aws:events:us-east-1:123456789012:rule/longjobs-dev-task-state-changes' could change the stack's EventBridge rules (the task state changes the supervisor moves runs on, and its reconciliation: runs that never end, or every task's events sent where the job chooses); allowed: these actions on rules of the job's own, named by ARNs the stack's rules do not match (like arn:aws:events:us-east-1:111122223333:rule/report-*)",
        id="task-state-rule-redirected",
    ),
    pytest.param(
        with_statements(
            statement(["sqs:ReceiveMessage", "sqs:DeleteMessage"], "arn:aws:sqs:*:*:longjobs-dev-*")
        ),
        "longjobs:jobs.report.policyStatements.0: Actions 'sqs:ReceiveMessage', 'sqs:DeleteMessage' on Resource 'arn:aws:sqs:*:*:longjobs-dev-*' could use or change the stack's queues of what failed (the failed invocations and schedule firings an operator replays and the alarms count, callers' environment values included: read, hidden, forged or removed); allowed: these actions on queues of the job's own, named by ARNs the stack's queues do not match (like arn:aws:sqs:us-east-1:111122223333:report-work)",
        id="failures-hidden",
    ),
    pytest.param(
        with_statements(
            statement(
                [
                    "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload",
                    "ecr:PutImage",
                ],
                f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/longjobs-dev/*",
            )
        ),
        "longjobs:jobs.report.policyStatements.0: Actions 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage' on Resource 'arn:aws:ecr:us-east-1:123456789012:repository/longjobs-dev/*' could push to or change the stack's image repositories (an image pushed under the tag a deploy is about to build is the one that deploy runs, under that job's roles); allowed: these actions on repositories of the job's own, named by ARNs the stack's do not match (like arn:aws:ecr:us-east-1:111122223333:repository/report-tools)",
        id="images-pushed",
    ),
    pytest.param(
        with_statements(statement("s3:GetObject", "arn:aws:s3:::longjobs-dev-checkpoints-*/*")),
        "longjobs:jobs.report.policyStatements.0: Action 's3:GetObject' on Resource 'arn:aws:s3:::longjobs-dev-checkpoints-*/*' could use another job's checkpoints (its data, and what its next attempt resumes from); allowed: these actions on buckets of the job's own, named by ARNs (like arn:aws:s3:::report-inputs/*); the job's own checkpoints are granted already",
        id="another-job-s-checkpoints",
    ),
    pytest.param(
        with_statements(statement("s3:PutBucketPolicy", "arn:aws:s3:::*")),
        "longjobs:jobs.report.policyStatements.0: Action 's3:PutBucketPolicy' on Resource 'arn:aws:s3:::*' could change the stack's checkpoint bucket (who may read every job's checkpoints, how they are encrypted and kept, and where copies and events of them go); allowed: these actions on buckets of the job's own, named by ARNs (like arn:aws:s3:::report-inputs)",
        id="checkpoint-bucket-changed",
    ),
    pytest.param(
        with_statements(
            statement("logs:FilterLogEvents", "arn:aws:logs:*:*:log-group:/longjobs/dev/*")
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'logs:FilterLogEvents' on Resource 'arn:aws:logs:*:*:log-group:/longjobs/dev/*' could read another job's or the functions' logs (what that job wrote, and the story of every run, callers' refused requests included); allowed: these actions on the job's own log group or on log groups outside the stack's, named by ARNs (like arn:aws:logs:us-east-1:111122223333:log-group:/report/imports:*)",
        id="other-logs-read",
    ),
    pytest.param(
        with_statements(
            statement(
                "logs:PutLogEvents",
                f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/longjobs/dev/lambda/trigger:log-stream:*",
            )
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'logs:PutLogEvents' on Resource 'arn:aws:logs:us-east-1:123456789012:log-group:/longjobs/dev/lambda/trigger:log-stream:*' could write to another job's or the functions' logs (forged lines in the record an audit reads and the refused-requests alarm counts); allowed: these actions on log groups outside the stack's, named by ARNs (like arn:aws:logs:us-east-1:111122223333:log-group:/report/imports:*); the job's container writes its own already",
        id="trigger-logs-forged",
    ),
    pytest.param(
        with_statements(
            statement(
                "logs:PutRetentionPolicy",
                f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/longjobs/dev/report",
            )
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'logs:PutRetentionPolicy' on Resource 'arn:aws:logs:us-east-1:123456789012:log-group:/longjobs/dev/report' could remove, shorten or divert the stack's logs (the record of what every job did, its own included, the first thing an intruder erases); allowed: these actions on log groups outside the stack's, named by ARNs (like arn:aws:logs:us-east-1:111122223333:log-group:/report/imports:*)",
        id="own-logs-shortened",
    ),
    pytest.param(
        with_statements(statement("kms:ScheduleKeyDeletion", "*"), kms="create"),
        "longjobs:jobs.report.policyStatements.0: Action 'kms:ScheduleKeyDeletion' on Resource '*' could administer the stack's KMS key (disabled or deleted, every log, image, table, queue, topic and checkpoint it encrypts is lost; its policy or a grant gives it away); allowed: these actions on keys of the job's own, named by their whole ARNs (like arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab)",
        id="key-deleted",
    ),
    pytest.param(
        with_statements(
            statement("kms:UpdateAlias", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/longjobs-dev"),
            kms="create",
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'kms:UpdateAlias' on Resource 'arn:aws:kms:us-east-1:123456789012:alias/longjobs-dev' could administer the stack's KMS key (disabled or deleted, every log, image, table, queue, topic and checkpoint it encrypts is lost; its policy or a grant gives it away); allowed: these actions on keys of the job's own, named by their whole ARNs (like arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab)",
        id="key-alias-moved",
    ),
    pytest.param(
        with_statements(statement("cloudwatch:DeleteAlarms", "*")),
        "longjobs:jobs.report.policyStatements.0: Action 'cloudwatch:DeleteAlarms' on Resource '*' could change, silence or set off the stack's alarms (no page when runs are refused, records are forged or the supervisor fails, or a false one to on-call); allowed: these actions on alarms of the job's own, named by ARNs the stack's do not match (like arn:aws:cloudwatch:us-east-1:111122223333:alarm:report-slow)",
        id="alarms",
    ),
    pytest.param(
        with_statements(
            statement("ssm:PutParameter", "arn:aws:ssm:*:*:parameter/longjobs-dev/images/*")
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'ssm:PutParameter' on Resource 'arn:aws:ssm:*:*:parameter/longjobs-dev/images/*' could write the stack's image records (an image pushed by anyone recorded as the stack's own build, which the next deploy then runs under that job's roles); allowed: these actions on parameters of the job's own, named by ARNs outside the stack's /<prefix>/images/ path (like arn:aws:ssm:us-east-1:111122223333:parameter/report/*)",
        id="image-records",
    ),
    pytest.param(
        with_statements(
            statement("ec2:AuthorizeSecurityGroupIngress", "arn:aws:ec2:*:*:security-group/*")
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'ec2:AuthorizeSecurityGroupIngress' on Resource 'arn:aws:ec2:*:*:security-group/*' could change the stack's security groups (every job's tasks opened to connections from anywhere, or their egress, VPC endpoints included, cut); allowed: these actions on security groups of the job's own, named by their whole ARNs (like arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0)",
        id="security-groups",
    ),
]


@pytest.mark.parametrize(("values", "expected"), REACH)
def test_a_statement_reaching_the_stack_is_refused_with_what_it_could_do(values, expected):
    # The whole set: a spurious extra message fails the case.
    assert problems(values) == (expected if isinstance(expected, list) else [expected])


ACCEPTED = [
    pytest.param(statement("dynamodb:PutItem", f"arn:aws:dynamodb:us-east-1:{OTHER_ACCOUNT}:table/orders"), id="another-account-s-table"),
    pytest.param(statement("dynamodb:PutItem", "arn:aws:dynamodb:*:*:table/orders"), id="a-table-by-name-in-any-account"),
    pytest.param(statement("dynamodb:PutItem", "arn:aws:dynamodb:*:*:table/longjobs-staging-runs"), id="another-stack-s-runs-table"),
    pytest.param(statement(["dynamodb:PutItem", "sns:Publish", "ecs:RunTask", "iam:PassRole"], "*", effect="Deny"), id="a-deny"),
    pytest.param(statement(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::longjobs-dev-report-inputs/*"), id="the-job-s-own-bucket"),
    pytest.param(statement("s3:GetObject", f"arn:aws:s3:::longjobs-dev-checkpoints-{ACCOUNT}-us-east-1/report/*"), id="its-own-checkpoints"),
    pytest.param(statement("s3:ListBucket", "*"), id="listing-keys"),
    pytest.param(statement("logs:GetLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/longjobs/dev/report:*"), id="its-own-logs"),
    pytest.param(statement(["kms:Decrypt", "kms:GenerateDataKey"], "*"), id="using-keys"),
    pytest.param(statement("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/report-helper"), id="a-role-outside-the-stack-s-path"),
    pytest.param(statement("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:report-notify"), id="another-function"),
    pytest.param(statement("ecs:RunTask", f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/tools:*"), id="another-task-definition"),
    pytest.param(statement(["ecs:DescribeTaskDefinition", "ecs:ListTasks"], "*"), id="configuration-reads"),
    pytest.param(statement("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:report-work"), id="a-queue-of-its-own"),
    pytest.param(statement("ssm:PutParameter", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/report/*"), id="parameters-of-its-own"),
    pytest.param(statement("cloudwatch:PutMetricAlarm", f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:report-slow"), id="an-alarm-of-its-own"),
]  # fmt: skip


@pytest.mark.parametrize("accepted", ACCEPTED)
def test_what_is_the_job_s_own_or_outside_the_stack_is_accepted(accepted):
    job = parse(with_statements(accepted), **STACK).jobs["report"]
    assert [s.document() for s in job.policy_statements] == [accepted]


def test_the_alarm_forwarder_and_its_logs_are_the_stack_s_without_kms_only():
    # Invoked, it would publish a forged alarm to every subscriber; its logs are an audit's.
    invoke = statement(
        "lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:longjobs-dev-alarms"
    )
    logs = statement(
        "logs:PutLogEvents",
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/longjobs/dev/lambda/alarms:log-stream:*",
    )
    assert [problem.split(" could ")[0] for problem in problems(with_statements(invoke, logs))] == [
        "longjobs:jobs.report.policyStatements.0: Action 'lambda:InvokeFunction' on Resource "
        f"'arn:aws:lambda:us-east-1:{ACCOUNT}:function:longjobs-dev-alarms'",
        "longjobs:jobs.report.policyStatements.1: Action 'logs:PutLogEvents' on Resource "
        f"'arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/longjobs/dev/lambda/alarms:log-stream:*'",
    ]
    # With the stack's key there is no forwarder: those names are not the stack's.
    job = parse(with_statements(invoke, logs, kms="create"), **STACK).jobs["report"]
    assert [s.document() for s in job.policy_statements] == [invoke, logs]


def test_a_key_the_stack_creates_is_matched_by_wildcards_only_a_named_one_by_its_arn():
    mine = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    deletion = statement("kms:ScheduleKeyDeletion", mine)
    # Its id is not known before it exists: a whole ARN names some other key.
    parse(with_statements(deletion, kms="create"), **STACK)
    assert [p.split(": ", 1)[0] for p in problems(with_statements(deletion, kms=mine))] == [
        "longjobs:jobs.report.policyStatements.0"
    ]


def test_without_the_stack_s_name_every_prefix_could_be_its_own():
    values = with_statements(
        statement("sqs:SendMessage", "arn:aws:sqs:*:*:longjobs-staging-trigger-failures")
    )
    parse(values, **STACK)  # another stack's queue
    assert problems(values, project=None, stack=None, region=None) == [
        "longjobs:jobs.report.policyStatements.0: Action 'sqs:SendMessage' on Resource 'arn:aws:sqs:*:*:longjobs-staging-trigger-failures' could use or change the stack's queues of what failed (the failed invocations and schedule firings an operator replays and the alarms count, callers' environment values included: read, hidden, forged or removed); allowed: these actions on queues of the job's own, named by ARNs the stack's queues do not match (like arn:aws:sqs:us-east-1:111122223333:report-work)"
    ]


def test_a_statement_the_model_refuses_is_named_once():
    # Both reach the runs table too, but each has its own problem already: one line each.
    values = with_statements(statement("dynamodb:*", "*"), statement("iam:PutRolePolicy", "*"))
    found = problems(values)
    assert [p.split(": ", 1)[0] for p in found] == [
        "longjobs:jobs.report.policyStatements.0",
        "longjobs:jobs.report.policyStatements.1",
    ]
    assert "allows a whole service" in found[0] and "Rhino Security Labs" in found[1]


def test_the_stack_s_buckets_are_named_for_any_account_in_the_stack_s_region_or_any():
    assert checkpoint_buckets("longjobs-dev", "us-east-1") == (
        "longjobs-dev-checkpoints-{account}-us-east-1",
        "longjobs-dev-access-logs-{account}-us-east-1",
    )
    assert checkpoint_buckets("longjobs-dev", None) == (
        "longjobs-dev-checkpoints-{account}-{region}",
        "longjobs-dev-access-logs-{account}-{region}",
    )
    # A long prefix is cut by the region's length: one name per length and kind.
    long = "longjobs-" + "a" * 36
    assert checkpoint_buckets(long, "us-east-1") == (
        "longjobs-aaaaaaaaaaaaaaaaaaaaaa-7a3a39b1-{account}-us-east-1",
        "longjobs-aaaaaaaaaaaaaaaaaaaaaa-eb3b51bd-{account}-us-east-1",
    )
    assert len(checkpoint_buckets(long, None)) == 2 * len({len(r) for r in AWS_REGIONS})
