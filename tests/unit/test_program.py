"""The real __main__.py with Pulumi.dev.yaml, under mocks (preview=False): what it declares."""

from __future__ import annotations

import json
import re

import pytest

from components.image import image_tag, record_name
from offline.program import DEFAULT_SUBNETS, MOCK_ACCOUNT, PROJECT_ROOT, AwsMocks, run_program
from tests.unit.helpers import (
    TASK_DEFINITION,
    all_statements,
    containers,
    dev_config,
    statements,
    trust,
)

ACCOUNT = MOCK_ACCOUNT
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"  # how Pulumi marks a secret value
REGION = "us-east-1"


def test_cluster_has_container_insights_and_both_fargate_capacity_providers(dev):
    cluster = dev.one("aws:ecs/cluster:Cluster", "jobs-cluster")
    assert cluster.inputs["name"] == "longjobs-dev"
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    providers = dev.one(
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "jobs-capacity-providers"
    )
    assert providers.inputs["clusterName"] == "longjobs-dev"
    assert sorted(providers.inputs["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]


@pytest.mark.parametrize("job", ["hello-world", "report"])
def test_task_definition_runs_the_pushed_image_by_digest(dev, job):
    image = dev.one("docker:index/image:Image", f"{job}-image")
    repository = dev.one("aws:ecr/repository:Repository", f"{job}-repository")
    tag = image_tag(PROJECT_ROOT / "containers" / job, "arm64")
    assert image.inputs["imageName"] == f"{repository.state['repositoryUrl']}:{tag}"
    assert image.inputs["build"]["platform"] == "linux/arm64"
    # Relative to the project: the same inputs from any checkout, so no rebuild under a used tag.
    assert image.inputs["build"]["context"] == f"containers/{job}"
    assert image.inputs["build"]["dockerfile"] == f"containers/{job}/Dockerfile"
    # The registry credentials reach the engine as a secret.
    registry = image.inputs["registry"]
    assert SECRET_SIGNATURE in registry
    assert registry["value"]["server"] == repository.state["repositoryUrl"]
    assert registry["value"]["username"] == "AWS"
    [container] = containers(dev, job)
    assert container["image"] == image.state["repoDigest"]
    assert "@sha256:" in container["image"]
    assert dev.outputs["jobs"][job]["imageUri"] == container["image"]


def test_an_image_the_stack_pushed_under_its_tag_is_run_not_rebuilt():
    # Tags are immutable: after a revert, or from another checkout, pushing the tag again
    # would fail. The image the stack pushed under it is the one to run.
    tag = image_tag(PROJECT_ROOT / "containers" / "report", "arm64")
    digest = f"sha256:{'b' * 64}"
    pushed = {
        "longjobs-dev/report": {"arm64-0000000000000000000000": f"sha256:{'c' * 64}", tag: digest},
        "longjobs-dev/hello-world": {"arm64-111111111111111111111111": f"sha256:{'d' * 64}"},
    }
    recorded = {record_name("longjobs-dev", "report", tag): digest}
    run = run_program(mocks=AwsMocks(REGION, pushed=pushed, parameters=recorded))
    assert [r.name for r in run.by_type("docker:index/image:Image")] == ["hello-world-image"]
    repository = run.one("aws:ecr/repository:Repository", "report-repository")
    [container] = containers(run, "report")
    assert container["image"] == f"{repository.state['repositoryUrl']}@{digest}"
    assert run.outputs["jobs"]["report"]["imageUri"] == container["image"]
    # hello-world's repository holds only other tags: it is built and pushed.
    [hello] = containers(run, "hello-world")
    built = run.one("docker:index/image:Image", "hello-world-image")
    assert hello["image"] == built.state["repoDigest"]
    assert "aws:ecr/getImages:getImages" in run.invokes


def test_repository_is_immutable_scanned_and_expires_old_images(dev):
    repository = dev.one("aws:ecr/repository:Repository", "report-repository")
    assert repository.inputs["name"] == "longjobs-dev/report"
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repository.inputs["forceDelete"] is True  # or `pulumi destroy` fails on its images
    assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    policy = json.loads(
        dev.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "report-lifecycle").inputs["policy"]
    )
    selections = [rule["selection"] for rule in policy["rules"]]
    assert {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10} in selections
    assert all(rule["action"] == {"type": "expire"} for rule in policy["rules"])


def test_task_definition_settings(dev):
    task = dev.one(TASK_DEFINITION, "report-task")
    assert task.inputs["family"] == "longjobs-dev-report"
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("1024", "2048")
    assert task.inputs["networkMode"] == "awsvpc"
    assert task.inputs["requiresCompatibilities"] == ["FARGATE"]
    assert task.inputs["runtimePlatform"] == {
        "cpuArchitecture": "ARM64",
        "operatingSystemFamily": "LINUX",
    }
    assert task.inputs["executionRoleArn"] == dev.outputs["jobs"]["report"]["executionRoleArn"]
    assert task.inputs["taskRoleArn"] == dev.outputs["jobs"]["report"]["taskRoleArn"]
    [container] = containers(dev, "report")
    assert container["name"] == "report"
    assert container["stopTimeout"] == 120
    assert container["essential"] is True
    assert container["environment"] == [{"name": "REPORT_ROWS", "value": "5000"}]
    assert container["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": "/longjobs/dev/report",
            "awslogs-region": REGION,
            "awslogs-stream-prefix": "job",
        },
    }


def test_log_groups_keep_the_configured_retention(dev):
    for job in ("hello-world", "report"):
        group = dev.one("aws:cloudwatch/logGroup:LogGroup", f"{job}-logs")
        assert group.inputs["name"] == f"/longjobs/dev/{job}"
        assert group.inputs["retentionInDays"] == 365


def test_execution_role_may_only_pull_its_image_and_write_its_logs(dev):
    repository_arn = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/longjobs-dev/report"
    log_group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/longjobs/dev/report"
    assert statements(dev, "report-execution-policy") == [
        {
            "Sid": "EcrLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
        {
            "Sid": "EcrPull",
            "Effect": "Allow",
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            "Resource": repository_arn,
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:log-stream:*",
        },
    ]


def test_task_role_has_exactly_the_declared_statements(dev):
    # The platform's own first: the job's checkpoints (tests/unit/test_checkpoints.py).
    assert statements(dev, "report-task-policy")[2:] == [
        {
            "Sid": "ReadReportInputs",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": "arn:aws:s3:::longjobs-dev-report-inputs/*",
        }
    ]
    # hello-world declares nothing, so its task role has its checkpoints only.
    assert [s["Sid"] for s in statements(dev, "hello-world-task-policy")] == [
        "Checkpoints",
        "CheckpointList",
    ]
    assert not dev.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


def test_job_roles_trust_ecs_tasks_and_the_task_role_only_this_accounts(dev):
    assert trust(dev, "report-execution-role") == {
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    assert trust(dev, "report-task-role") == {
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:*"},
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        },
    }


def test_no_policy_allows_a_wildcard_action(dev):
    for statement in all_statements(dev):
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            assert action != "*" and not action.endswith(":*"), statement


@pytest.mark.parametrize(
    ("job", "provider"), [("hello-world", "FARGATE_SPOT"), ("report", "FARGATE_SPOT")]
)
def test_service_desired_count_and_capacity(dev, job, provider):
    service = dev.one("aws:ecs/service:Service", f"{job}-service")
    assert service.inputs["desiredCount"] == 0
    assert service.inputs["capacityProviderStrategies"] == [
        {"capacityProvider": provider, "weight": 1}
    ]
    # pulumi-aws updates a capacity provider strategy in place only with force_new_deployment;
    # otherwise a switch between Spot and on-demand replaces the service.
    assert service.inputs["forceNewDeployment"] is True
    assert service.inputs["cluster"] == dev.outputs["clusterArn"]
    assert service.inputs["taskDefinition"] == dev.outputs["jobs"][job]["taskDefinitionArn"]
    network = service.inputs["networkConfiguration"]
    assert network["subnets"] == DEFAULT_SUBNETS
    assert network["securityGroups"] == dev.outputs["network"]["securityGroupIds"]
    assert network["assignPublicIp"] is True


def test_default_network_is_the_default_vpc_with_an_egress_only_group(dev):
    group = dev.one("aws:ec2/securityGroup:SecurityGroup", "network-egress-only")
    assert "ingress" not in group.inputs or not group.inputs["ingress"]
    assert [rule["protocol"] for rule in group.inputs["egress"]] == ["-1"]
    assert dev.outputs["network"]["subnetIds"] == DEFAULT_SUBNETS
    assert "aws:ec2/getVpc:getVpc" in dev.invokes


def test_schedule_runs_the_job_through_the_trigger(dev):
    schedule = dev.one("aws:scheduler/schedule:Schedule", "report.nightly")
    assert schedule.inputs["name"] == "report.nightly"
    assert schedule.inputs["scheduleExpression"] == "cron(30 2 * * ? *)"
    assert schedule.inputs["scheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule.inputs["state"] == "ENABLED"
    assert schedule.inputs["groupName"] == "longjobs-dev"
    target = schedule.inputs["target"]
    # The schedules' alias, which only the schedules' role may invoke: the trigger knows a
    # firing by it.
    assert target["arn"] == f"{dev.outputs['triggerFunctionArn']}:schedules"
    alias = dev.one("aws:lambda/alias:Alias", "trigger-schedules")
    assert alias.inputs["functionVersion"] == "$LATEST"
    async_config = dev.one(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "trigger-schedules-async"
    )
    unqualified = dev.one(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "trigger-async"
    )
    assert async_config.inputs == {**unqualified.inputs, "qualifier": "schedules"}
    role = dev.one("aws:iam/rolePolicy:RolePolicy", "schedules-policy")
    [invoke] = [
        s for s in json.loads(role.inputs["policy"])["Statement"] if s["Sid"] == "InvokeTrigger"
    ]
    assert invoke["Resource"] == target["arn"]
    assert json.loads(target["input"]) == {
        "job": "report",
        "environment": {"REPORT_ROWS": "20000"},
        "idempotencyKey": "schedule:report/nightly:<aws.scheduler.scheduled-time>",
    }
    assert target["retryPolicy"] == {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 3600}
    dead_letters = dev.one("aws:sqs/queue:Queue", "schedules-dead-letters")
    assert target["deadLetterConfig"] == {"arn": dead_letters.state["arn"]}
    assert dev.outputs["jobs"]["report"]["scheduleArns"] == {"nightly": schedule.state["arn"]}
    assert statements(dev, "schedules-policy") == [
        {
            "Sid": "InvokeTrigger",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": f"{dev.outputs['triggerFunctionArn']}:schedules",
        },
        {
            "Sid": "DeadLetters",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": dead_letters.state["arn"],
        },
    ]


JOB_OUTPUT_KEYS = {
    "taskDefinitionArn",
    "taskDefinitionFamily",
    "containerName",
    "taskRoleArn",
    "executionRoleArn",
    "logGroupName",
    "repositoryUrl",
    "imageUri",
    "serviceName",
    "capacity",
    "scheduleArns",
}


def test_stack_outputs_are_the_documented_contract(dev):
    assert set(dev.outputs) == {
        "clusterArn",
        "clusterName",
        "network",
        "jobs",
        "triggerFunctionName",
        "triggerFunctionArn",
        "callerPolicy",
        "triggerCallerQualifiers",
        "triggerFailureQueueUrl",
        "triggerLogGroupName",
        "schedulesDeadLetterQueueUrl",
        "runsTableName",
        "checkpointBucket",
        "checkpointAccessLogBucket",
        "supervisorFunctionName",
        "alarmForwarderFunctionName",
        "supervisorFailureQueueUrl",
        "notificationsTopicArn",
        "kmsKeyArn",
    }
    assert dev.outputs["kmsKeyArn"] is None  # the dev stack leaves encryption to each service
    assert dev.outputs["supervisorFunctionName"] == "longjobs-dev-supervisor"
    assert dev.outputs["alarmForwarderFunctionName"] == "longjobs-dev-alarms"
    assert dev.outputs["notificationsTopicArn"] == (
        f"arn:aws:sns:{REGION}:{ACCOUNT}:longjobs-dev-notifications"
    )
    assert dev.outputs["runsTableName"] == "longjobs-dev-runs"
    assert dev.outputs["triggerLogGroupName"] == "/longjobs/dev/lambda/trigger"
    assert dev.outputs["schedulesDeadLetterQueueUrl"] == (
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/longjobs-dev-schedules-dead-letters"
    )
    assert dev.outputs["clusterArn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/longjobs-dev"
    assert set(dev.outputs["network"]) == {
        "subnetIds",
        "securityGroupIds",
        "assignPublicIp",
        "vpcId",
    }
    assert dev.outputs["network"]["vpcId"] is None  # the default VPC: none made
    assert set(dev.outputs["jobs"]) == {"hello-world", "report"}
    for job, values in dev.outputs["jobs"].items():
        assert set(values) == JOB_OUTPUT_KEYS, job
        assert all(v is not None for v in values.values()), job
    page = (PROJECT_ROOT / "docs" / "operations.md").read_text()
    outputs = page[page.index("## Stack outputs") :]
    outputs = outputs[: outputs.index("\n## ")]
    for key in JOB_OUTPUT_KEYS | set(dev.outputs):
        assert f"`{key}`" in outputs, f"output {key} is not in docs/operations.md's Stack outputs"


def test_given_network_is_used_as_is():
    config = dev_config()
    config["longjobs:network"] = {
        "subnetIds": ["subnet-0123456789abcdef0"],
        "securityGroupIds": ["sg-0123456789abcdef0"],
    }
    run = run_program(config=config)
    assert not run.by_type("aws:ec2/securityGroup:SecurityGroup")
    assert "aws:ec2/getVpc:getVpc" not in run.invokes
    network = run.one("aws:ecs/service:Service", "report-service").inputs["networkConfiguration"]
    assert network == {
        "subnets": ["subnet-0123456789abcdef0"],
        "securityGroups": ["sg-0123456789abcdef0"],
        "assignPublicIp": False,
    }


def test_given_subnets_without_groups_get_an_egress_only_group_in_their_vpc():
    config = dev_config()
    config["longjobs:network"] = {"subnetIds": ["subnet-0123456789abcdef0"]}
    run = run_program(config=config)
    group = run.one("aws:ec2/securityGroup:SecurityGroup", "network-egress-only")
    assert group.inputs["vpcId"] == "vpc-0123456789abcdef0"


def test_an_account_without_a_default_vpc_is_told_which_keys_to_set():
    with pytest.raises(Exception, match=r"no default VPC.*longjobs:network\.subnetIds"):
        run_program(default_vpc=False)


def test_secrets_reach_the_container_and_only_the_execution_role():
    config = dev_config()
    ssm = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/reports/db-password"
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:reports/api:token::"
    config["longjobs:jobs"]["report"]["secrets"] = {"DB_PASSWORD": ssm, "API_TOKEN": secret}
    run = run_program(config=config)
    [container] = containers(run, "report")
    assert container["secrets"] == [
        {"name": "API_TOKEN", "valueFrom": secret},
        {"name": "DB_PASSWORD", "valueFrom": ssm},
    ]
    by_sid = {s["Sid"]: s for s in statements(run, "report-execution-policy")}
    assert by_sid["SsmSecrets"]["Resource"] == [ssm]
    assert by_sid["SecretsManagerSecrets"]["Resource"] == [
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:reports/api-??????"
    ]  # "api" has no six-character tail: only the partial form can match
    assert "SsmSecrets" not in {s.get("Sid") for s in statements(run, "report-task-policy")}


def test_a_job_with_an_existing_image_gets_no_repository():
    config = dev_config()
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shared/tools@sha256:{'a' * 64}"
    config["longjobs:jobs"]["report"]["image"] = image
    config["longjobs:jobs"]["report"]["command"] = ["python", "-m", "tools.report"]
    config["longjobs:jobs"]["hello-world"]["image"] = "public.ecr.aws/docker/library/alpine:3.22"
    run = run_program(config=config)
    assert not run.by_type("aws:ecr/repository:Repository")
    assert not run.by_type("docker:index/image:Image")
    [container] = containers(run, "report")
    assert container["image"] == image
    assert container["command"] == ["python", "-m", "tools.report"]
    pull = {s["Sid"]: s for s in statements(run, "report-execution-policy")}["EcrPull"]
    assert pull["Resource"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shared/tools"
    # A public image needs no ECR permissions at all.
    sids = {s["Sid"] for s in statements(run, "hello-world-execution-policy")}
    assert sids == {"Logs"}
    assert run.outputs["jobs"]["report"]["repositoryUrl"] is None


# Every resource type the stack declares that AWS lets us tag. Scheduler schedules, inline role
# policies, lifecycle and repository policies, capacity provider associations, invoke configs
# and images have no tags in AWS.
TAGGABLE = {
    "aws:ecs/cluster:Cluster",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:iam/role:Role",
    "aws:sqs/queue:Queue",
    "aws:scheduler/scheduleGroup:ScheduleGroup",
    "aws:ecr/repository:Repository",
    "aws:ecs/taskDefinition:TaskDefinition",
    "aws:ecs/service:Service",
    "aws:lambda/function:Function",
    "aws:dynamodb/table:Table",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:s3/bucket:Bucket",
    "aws:sns/topic:Topic",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:ssm/parameter:Parameter",
}
UNTAGGABLE = {
    "aws:cloudwatch/logMetricFilter:LogMetricFilter",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
    "aws:lambda/alias:Alias",
    "aws:scheduler/schedule:Schedule",
    "docker:index/image:Image",
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:lambda/permission:Permission",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:dynamodb/resourcePolicy:ResourcePolicy",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketLogging:BucketLogging",
}


def test_stack_tags_reach_every_taggable_resource(dev):
    declared = {r.type for r in dev.resources if r.custom}
    assert declared == TAGGABLE | UNTAGGABLE
    for resource in dev.resources:
        if resource.type in TAGGABLE:
            tags = resource.inputs.get("tags") or {}
            assert tags.get("team") == "platform", resource.name
            assert tags.get("longjobs:stack") == "dev", resource.name


def findable_name(resource) -> str:
    """What `aws ... list` shows of a resource, to find it by the stack's prefix."""
    inputs, state = resource.inputs, resource.state
    by_type = {
        "aws:iam/role:Role": lambda: inputs["path"] + state["name"],
        "aws:ecs/service:Service": lambda: (
            f"{inputs['cluster'].rsplit('/', 1)[-1]}/{state['name']}"
        ),
        "aws:ecs/taskDefinition:TaskDefinition": lambda: inputs["family"],
        "aws:scheduler/schedule:Schedule": lambda: f"{inputs['groupName']}/{inputs['name']}",
        "aws:s3/bucket:Bucket": lambda: state["bucket"],
    }
    return by_type.get(resource.type, lambda: state["name"])()


def test_every_named_resource_is_found_by_the_stack_prefix(dev):
    names = {
        r.name: findable_name(r)
        for r in dev.resources
        if r.type in TAGGABLE | {"aws:scheduler/schedule:Schedule"}
    }
    log_groups = {n: v for n, v in names.items() if n.endswith("-logs")}
    # Log groups are /<project>/<stack>/...: found by that prefix (see docs/jobs.md).
    assert sorted(log_groups.values()) == [
        "/longjobs/dev/hello-world",
        "/longjobs/dev/lambda/alarms",
        "/longjobs/dev/lambda/supervisor",
        "/longjobs/dev/lambda/trigger",
        "/longjobs/dev/report",
    ]
    others = {n: v for n, v in names.items() if n not in log_groups}
    assert {n: v for n, v in others.items() if not re.match(r"/?longjobs-dev\b", v)} == {}


def test_runs_are_recorded_in_one_table_kept_for_the_retention(dev):
    table = dev.one("aws:dynamodb/table:Table", "runs-table")
    inputs = table.inputs
    assert inputs["name"] == "longjobs-dev-runs"
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert inputs["hashKey"] == "runId"
    assert inputs["pointInTimeRecovery"] == {"enabled": True}
    assert inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert sorted((a["name"], a["type"]) for a in inputs["attributes"]) == [
        ("createdAt", "S"),
        ("job", "S"),
        ("listKey", "S"),
        ("notifyDue", "S"),
        ("runId", "S"),
        ("status", "S"),
    ]
    assert sorted(
        (i["name"], *(k["attributeName"] for k in i["keySchemas"]), i["projectionType"])
        for i in inputs["globalSecondaryIndexes"]
        if [k["keyType"] for k in i["keySchemas"]] == ["HASH", "RANGE"]
    ) == [
        ("byJob", "job", "createdAt", "ALL"),
        ("byStatus", "status", "createdAt", "ALL"),
        ("newest", "listKey", "createdAt", "ALL"),
        ("toNotify", "notifyDue", "createdAt", "ALL"),
    ]


def test_the_trigger_is_told_the_table_and_the_retention(dev):
    from longjobs_contract import trigger_config

    config = trigger_config.loads(dev.trigger_config)
    assert (config.runs_table, config.run_retention_days) == ("longjobs-dev-runs", 90)
    changed = dev_config()
    changed["longjobs:runRetentionDays"] = 400
    run = run_program(config=changed)
    assert trigger_config.loads(run.trigger_config).run_retention_days == 400
