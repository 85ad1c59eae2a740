"""The trigger against moto's ECS, with the cluster and task definitions the program declares."""

from __future__ import annotations

import dataclasses

import boto3
import pytest

from functions.trigger import handler
from longjobs_contract import runs, trigger_config
from tests.functions.conftest import REGION


def moto_network() -> dict:
    config = handler.load_config()
    return {"subnets": list(config.subnet_ids), "securityGroups": list(config.security_group_ids)}


def run_task_arn(response: dict) -> str:
    assert "error" not in response, response
    return response["taskArn"]


def allow_commands(config_file, job: str) -> None:
    """Rewrite the handler's config so that `job` lets a run change its command (the dev
    stack's jobs do not)."""
    config = handler.load_config()
    target = dataclasses.replace(config.jobs[job], allow_command_override=True)
    config = dataclasses.replace(config, jobs={**config.jobs, job: target})
    config_file.write_text(trigger_config.dumps(config))
    handler.load_config.cache_clear()


def test_run_starts_one_task_with_the_overrides_and_network(
    aws, dev_trigger_config, config_file, context
):
    allow_commands(config_file, "report")
    response = handler.handler(
        {
            "job": "report",
            "environment": {"REPORT_DAY": "2026-11-01"},
            "command": ["python", "/app/report.py"],
            "idempotencyKey": "report-2026-11-01",
        },
        context,
    )
    run_id = runs.run_id("report", "report-2026-11-01")
    assert response == {
        "runId": run_id,
        "job": "report",
        "status": "PENDING",
        "attempt": 1,
        "taskArn": response["taskArn"],
        "capacity": "spot",
        "idempotencyKey": "report-2026-11-01",
    }
    assert aws.list_tasks(cluster=dev_trigger_config.cluster_arn)["taskArns"] == [
        response["taskArn"]
    ]
    [task] = aws.describe_tasks(
        cluster=dev_trigger_config.cluster_arn, tasks=[response["taskArn"]], include=["TAGS"]
    )["tasks"]
    assert task["taskDefinitionArn"] == dev_trigger_config.jobs["report"].task_definition_arn
    assert task["overrides"]["containerOverrides"] == [
        {
            "name": "report",
            "environment": [
                {"name": "REPORT_DAY", "value": "2026-11-01"},
                {"name": "LONGJOBS_ATTEMPT", "value": "1"},
                {
                    "name": "LONGJOBS_CHECKPOINT_URI",
                    "value": f"s3://longjobs-dev-checkpoints-123456789012-us-east-1/report/{run_id}/",
                },
                {"name": "LONGJOBS_RUN_ID", "value": run_id},
            ],
            "command": ["python", "/app/report.py"],
        }
    ]
    assert task["startedBy"] == run_id
    assert {"key": "longjobs:idempotency-key", "value": "report-2026-11-01"} in task["tags"]
    assert task["capacityProviderName"] == "FARGATE_SPOT"  # the job's default capacity
    attachment = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    config = handler.load_config()
    assert attachment["subnetId"] in config.subnet_ids
    [interface] = boto3.client("ec2", region_name=REGION).describe_network_interfaces(
        NetworkInterfaceIds=[attachment["networkInterfaceId"]]
    )["NetworkInterfaces"]
    assert [group["GroupId"] for group in interface["Groups"]] == list(config.security_group_ids)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"job": "report", "command": ["python", "/app/report.py"]},
            "command: this job does not let a run change its command (allowCommandOverride)",
        ),
        (
            {"job": "report", "environment": {"REPORT_BATCH": "10"}},
            "environment: 'REPORT_BATCH' is not a variable this job lets a run set; allowed: "
            "REPORT_DAY, REPORT_ROWS, REPORT_STEP_SECONDS",
        ),
        (
            {"job": "hello-world", "environment": {"LD_PRELOAD": "/tmp/x.so"}},
            "environment: 'LD_PRELOAD' is a loader or interpreter variable (LD_*: the dynamic "
            "loader preloads, audits or finds libraries); a run may never set it",
        ),
    ],
)
def test_the_dev_stack_lets_a_run_set_only_what_its_jobs_declare(
    aws, dev_trigger_config, context, event, message
):
    assert handler.handler(event, context) == {
        "error": {"type": "ValidationError", "message": message}
    }
    assert aws.list_tasks(cluster=dev_trigger_config.cluster_arn)["taskArns"] == []


def test_a_run_may_ask_for_on_demand(aws, dev_trigger_config, context):
    response = handler.handler({"job": "report", "capacity": "on-demand"}, context)
    assert response["capacity"] == "on-demand"
    [task] = aws.describe_tasks(
        cluster=dev_trigger_config.cluster_arn, tasks=[response["taskArn"]]
    )["tasks"]
    assert task["capacityProviderName"] == "FARGATE"


def test_status_reports_the_task(aws, context):
    task_arn = run_task_arn(handler.handler({"job": "hello-world"}, context))
    status = handler.handler({"action": "status", "taskArn": task_arn}, context)
    assert status["job"] == "hello-world"
    assert status["taskArn"] == task_arn
    # moto moves a task one lifecycle step per DescribeTasks call.
    assert status["lastStatus"] in {
        "PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING",
    }  # fmt: skip
    assert status["desiredStatus"] == "RUNNING"
    assert status["capacity"] == "spot"  # hello-world's default
    assert set(status) == {
        "job",
        "taskArn",
        "lastStatus",
        "desiredStatus",
        "capacity",
        "exitCode",
        "stopCode",
        "stoppedReason",
        "startedAt",
        "stoppedAt",
    }


def test_stop_stops_the_task(aws, dev_trigger_config, context):
    task_arn = run_task_arn(handler.handler({"job": "report"}, context))
    stopped = handler.handler(
        {"action": "stop", "taskArn": task_arn, "reason": "superseded"}, context
    )
    assert stopped["job"] == "report" and stopped["desiredStatus"] == "STOPPED"
    [task] = aws.describe_tasks(cluster=dev_trigger_config.cluster_arn, tasks=[task_arn])["tasks"]
    assert task["desiredStatus"] == "STOPPED"
    assert task["stoppedReason"] == "superseded"


def start_foreign_task(aws, cluster: str, family: str) -> str:
    """A task the stack did not start: another family, maybe another cluster."""
    aws.register_task_definition(
        family=family,
        containerDefinitions=[{"name": "app", "image": "busybox", "memory": 512}],
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
    )
    [task] = aws.run_task(
        cluster=cluster,
        taskDefinition=family,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": moto_network()},
    )["tasks"]
    return task["taskArn"]


def test_stop_refuses_a_task_of_another_cluster(aws, context):
    aws.create_cluster(clusterName="someone-else")
    task_arn = start_foreign_task(aws, "someone-else", "theirs")
    response = handler.handler({"action": "stop", "taskArn": task_arn}, context)
    assert response["error"]["type"] == "ValidationError"
    assert "is not a task of this stack's cluster" in response["error"]["message"]
    [still] = aws.describe_tasks(cluster="someone-else", tasks=[task_arn])["tasks"]
    assert still["desiredStatus"] == "RUNNING"


def test_stop_refuses_a_foreign_task_in_the_cluster(aws, dev_trigger_config, context):
    task_arn = start_foreign_task(aws, dev_trigger_config.cluster_arn, "intruder")
    response = handler.handler({"action": "stop", "taskArn": task_arn}, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": f"taskArn: {task_arn} is not a task of this stack's jobs",
    }
    [still] = aws.describe_tasks(cluster=dev_trigger_config.cluster_arn, tasks=[task_arn])["tasks"]
    assert still["desiredStatus"] == "RUNNING"


def test_status_of_a_task_ecs_forgot_is_not_found(aws, dev_trigger_config, context):
    cluster = dev_trigger_config.cluster_arn.rsplit("/", 1)[-1]
    task_arn = f"arn:aws:ecs:{REGION}:123456789012:task/{cluster}/0123456789abcdef0123456789abcdef"
    response = handler.handler({"action": "status", "taskArn": task_arn}, context)
    assert response["error"]["type"] == "NotFound"


@pytest.mark.parametrize("job", ["hello-world", "report"])
def test_every_job_of_the_program_can_be_started(aws, context, job):
    assert run_task_arn(handler.handler({"job": job}, context)).startswith("arn:aws:ecs:")
