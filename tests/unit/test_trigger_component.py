"""The JobTrigger component: the function, its async failure path, its exact permissions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import longjobs_contract
from longjobs_contract import trigger_config
from offline.program import DEFAULT_SUBNETS, MOCK_ACCOUNT, run_program
from tests.unit.helpers import statements, trust

ACCOUNT = MOCK_ACCOUNT
REGION = "us-east-1"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/longjobs-dev"


def test_function_settings(dev):
    function = dev.one("aws:lambda/function:Function", "trigger-function")
    assert function.inputs["runtime"] == "python3.14"
    assert function.inputs["architectures"] == ["arm64"]
    assert function.inputs["handler"] == "functions.trigger.handler.handler"
    log_group = dev.one("aws:cloudwatch/logGroup:LogGroup", "trigger-logs")
    assert function.inputs["loggingConfig"]["logGroup"] == log_group.inputs["name"]
    # A year, or as long as the run records it explains if longer (runRetentionDays).
    assert log_group.inputs["retentionInDays"] == 365
    assert trust(dev, "trigger-role")["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_package_is_the_handler_the_contract_package_and_the_config_file(dev):
    function = dev.one("aws:lambda/function:Function", "trigger-function")
    assets = function.inputs["code"].assets
    assert sorted(assets) == sorted(
        [
            "functions/trigger/__init__.py",
            "functions/trigger/handler.py",
            "functions/__init__.py",
            "functions/common/__init__.py",
            "functions/common/attempts.py",
            "functions/common/clock.py",
            "functions/common/records.py",
            "functions/common/request_log.py",
            "functions/common/runtime.py",
            *(f"longjobs_contract/{module}" for module in longjobs_contract.MODULES),
            trigger_config.CONFIG_FILE,
        ]
    )


def test_the_package_runs_on_its_own(dev, tmp_path):
    """Unpacked alone, as Lambda does, the handler imports by its setting, finds the config file at
    the package's root (the job names it checks come from there) and answers a bad event."""
    function = dev.one("aws:lambda/function:Function", "trigger-function")
    for name, asset in function.inputs["code"].assets.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if hasattr(asset, "text") and asset.text is not None:
            target.write_text(asset.text)
        else:
            target.write_bytes(Path(asset.path).read_bytes())
    # Lambda's handler setting, imported as its runtime does: the package's root first on the path.
    module, _, name = function.inputs["handler"].rpartition(".")
    code = (
        f"import importlib, json; handler = getattr(importlib.import_module({module!r}), {name!r}); "
        "print(json.dumps(handler({'job': 'nope'}, None)))"
    )
    environment = {"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": REGION, "PYTHONSAFEPATH": "1"}
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, '.'); {code}"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["error"]["type"] == "ValidationError"
    assert "'nope' is not a job of this stack" in answer["error"]["message"]


def test_contract_file_describes_every_job(dev):
    config = trigger_config.loads(dev.trigger_config)
    assert config.cluster_arn == CLUSTER
    assert list(config.subnet_ids) == DEFAULT_SUBNETS
    assert list(config.security_group_ids) == dev.outputs["network"]["securityGroupIds"]
    assert config.assign_public_ip is True
    assert set(config.jobs) == {"hello-world", "report"}
    report = config.jobs["report"]
    assert report.task_definition_arn == dev.outputs["jobs"]["report"]["taskDefinitionArn"]
    assert report.container_name == "report"
    assert report.capacity == "spot"
    assert config.jobs["hello-world"].capacity == "spot"


def test_secret_names_are_reserved_in_the_contract():
    from tests.unit.helpers import dev_config

    config = dev_config()
    config["longjobs:jobs"]["report"]["secrets"] = {
        "DB_PASSWORD": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/db"
    }
    run = run_program(config=config)
    assert trigger_config.loads(run.trigger_config).jobs["report"].reserved_environment == (
        "DB_PASSWORD",
    )


def test_failed_async_invocations_go_to_the_failure_queue(dev):
    invoke = dev.one(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "trigger-async"
    )
    queue = dev.one("aws:sqs/queue:Queue", "trigger-failures")
    assert invoke.inputs["maximumRetryAttempts"] == 2
    assert invoke.inputs["destinationConfig"] == {"onFailure": {"destination": queue.state["arn"]}}
    assert invoke.inputs["functionName"] == dev.outputs["triggerFunctionName"]
    assert dev.outputs["triggerFailureQueueUrl"] == queue.state["url"]


def test_trigger_role_statement_by_statement(dev):
    jobs = dev.outputs["jobs"]
    on_cluster = {"ArnEquals": {"ecs:cluster": CLUSTER}}
    tasks = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/longjobs-dev/*"
    log_group = dev.one("aws:cloudwatch/logGroup:LogGroup", "trigger-logs").state["arn"]
    queue = dev.one("aws:sqs/queue:Queue", "trigger-failures").state["arn"]
    by_sid = {s["Sid"]: s for s in statements(dev, "trigger-policy")}
    assert list(by_sid) == [
        "RunJobs",
        "TagJobsAtStart",
        "InspectAndStopRuns",
        "PassJobRoles",
        "Logs",
        "FailureQueue",
        "RecordRuns",
        "ListRuns",
    ]
    assert by_sid["RunJobs"] == {
        "Sid": "RunJobs",
        "Effect": "Allow",
        "Action": "ecs:RunTask",
        "Resource": [
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/longjobs-dev-hello-world:*",
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/longjobs-dev-report:*",
        ],
        "Condition": on_cluster,
    }
    assert by_sid["TagJobsAtStart"] == {
        "Sid": "TagJobsAtStart",
        "Effect": "Allow",
        "Action": "ecs:TagResource",
        "Resource": tasks,
        "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
    }
    assert by_sid["InspectAndStopRuns"] == {
        "Sid": "InspectAndStopRuns",
        "Effect": "Allow",
        "Action": ["ecs:DescribeTasks", "ecs:StopTask"],
        "Resource": tasks,
        # Tasks of runs only: a job's service's tasks carry the stack's tag but no run id.
        "Condition": {
            **on_cluster,
            "StringEquals": {"aws:ResourceTag/longjobs:stack": "dev"},
            "Null": {"aws:ResourceTag/longjobs:run-id": "false"},
        },
    }
    assert by_sid["PassJobRoles"] == {
        "Sid": "PassJobRoles",
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": [
            jobs["hello-world"]["executionRoleArn"],
            jobs["hello-world"]["taskRoleArn"],
            jobs["report"]["executionRoleArn"],
            jobs["report"]["taskRoleArn"],
        ],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    }
    assert by_sid["Logs"] == {
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{log_group}:log-stream:*",
    }
    assert by_sid["FailureQueue"] == {
        "Sid": "FailureQueue",
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": queue,
    }
    table = dev.one("aws:dynamodb/table:Table", "runs-table").state["arn"]
    assert by_sid["RecordRuns"] == {
        "Sid": "RecordRuns",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "Resource": table,
    }
    assert by_sid["ListRuns"] == {
        "Sid": "ListRuns",
        "Effect": "Allow",
        "Action": "dynamodb:Query",
        "Resource": [f"{table}/index/byJob", f"{table}/index/byStatus", f"{table}/index/newest"],
    }


def test_policy_documents_are_valid_json_with_a_version(dev):
    for policy in dev.by_type("aws:iam/rolePolicy:RolePolicy"):
        document = json.loads(policy.inputs["policy"])
        assert document["Version"] == "2012-10-17"
        assert document["Statement"]
