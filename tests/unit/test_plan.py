"""`make plan`: the offline report of what a stack declares, and its refusal of bad config."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.config import StackConfig
from offline.program import ProgramRun, Resource, run_program
from tests.unit.helpers import dev_config
from tools import costs, plan

SERVICES = "  Services kept running (desiredCount above 0), per month of 730 hours"
NO_CHARGE = "    no Container Insights charge"
RUNS = "  One run lasting the job's timeout, on the job's architecture ({})"


def run_plan(argv: list[str]) -> tuple[int, str, str]:
    """The plan's exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = plan.main(argv)
    return code, out.getvalue(), err.getvalue()


def plan_config(tmp_path: Path, stack: str, config: dict[str, Any]) -> tuple[int, str, str]:
    """The plan of a stack file named Pulumi.<stack>.yaml holding `config`."""
    stack_file = tmp_path / f"Pulumi.{stack}.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}))
    return run_plan(["--file", str(stack_file)])


def section(out: str, first_line: str) -> list[str]:
    """The lines from `first_line` to the next blank line."""
    lines = out.splitlines()
    start = lines.index(first_line)
    end = lines.index("", start)
    return lines[start:end]


def stack_outputs(out: str) -> dict[str, Any]:
    return json.loads(out.split("\nStack outputs\n", 1)[1])


@pytest.fixture(scope="module")
def dev_plan() -> str:
    code, out, err = run_plan(["--stack", "dev"])
    assert (code, err) == (0, "")
    return out


def test_plan_prints_resources_iam_costs_and_outputs(dev_plan):
    assert "stack dev, region us-east-1" in dev_plan
    assert re.search(
        r"aws:ecs/taskDefinition:TaskDefinition\s+report-task\s+family=longjobs-dev", dev_plan
    )
    assert "Allow iam:PassRole" in dev_plan
    assert stack_outputs(dev_plan)["clusterName"] == "longjobs-dev"


def test_plan_prints_each_container_as_its_task_definition_declares_it(dev_plan):
    image = stack_outputs(dev_plan)["jobs"]["report"]["imageUri"]
    assert section(dev_plan, "  report  (task definition longjobs-dev-report)") == [
        "  report  (task definition longjobs-dev-report)",
        f"    image         {image}",
        "    environment   REPORT_ROWS=5000",
        "    secrets       (none)",
        "    entry point   (the image's)",
        "    command       (the image's)",
        "    stop timeout  120 s",
    ]


def test_plan_prints_secrets_entry_point_and_command(tmp_path):
    config = dev_config()
    report = config["longjobs:jobs"]["report"]
    report["environment"] = {"REPORT_ROWS": "5000", "GREETING": "two words"}
    report["secrets"] = {
        "DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        "API_TOKEN": "arn:aws:ssm:us-east-1:123456789012:parameter/report/token",
    }
    report["entryPoint"] = ["python", "-u"]
    report["command"] = ["report.py", "--full"]
    code, out, _ = plan_config(tmp_path, "varied", config)
    assert code == 0
    image = stack_outputs(out)["jobs"]["report"]["imageUri"]
    assert section(out, "  report  (task definition longjobs-varied-report)")[1:] == [
        f"    image         {image}",
        "    environment   GREETING=two words",
        "                  REPORT_ROWS=5000",
        "    secrets       API_TOKEN from "
        "arn:aws:ssm:us-east-1:123456789012:parameter/report/token",
        "                  DB_PASSWORD from "
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        '    entry point   ["python", "-u"]',
        '    command       ["report.py", "--full"]',
        "    stop timeout  120 s",
    ]


def test_container_settings_quote_values_that_plain_text_would_hide_and_name_defaults():
    container = {
        "name": "job",
        "image": "public.ecr.aws/docker/library/busybox:1.37",
        "environment": [
            {"name": "EMPTY", "value": ""},
            {"name": "PADDED", "value": " x "},
            {"name": "LINES", "value": "a\nb"},
        ],
    }
    assert plan.container_settings(container) == [
        ("image", ["public.ecr.aws/docker/library/busybox:1.37"]),
        ("environment", ['EMPTY=""', 'PADDED=" x "', 'LINES="a\\nb"']),
        ("secrets", ["(none)"]),
        ("entry point", ["(the image's)"]),
        ("command", ["(the image's)"]),
        ("stop timeout", ["(not set: ECS's default, 30 s)"]),
    ]


def test_plan_prints_each_roles_trust_with_its_condition(dev_plan):
    lines = dev_plan.splitlines()
    assert (
        "  role report-task-role  (assumed by ecs-tasks.amazonaws.com if ArnLike "
        "aws:SourceArn=arn:aws:ecs:us-east-1:123456789012:*, StringEquals "
        "aws:SourceAccount=123456789012)"
    ) in lines
    assert (
        "  role schedules-role  (assumed by scheduler.amazonaws.com if StringEquals "
        "aws:SourceAccount=123456789012, ArnEquals "
        "aws:SourceArn=arn:aws:scheduler:us-east-1:123456789012:schedule-group/longjobs-dev)"
    ) in lines
    assert "  role report-execution-role  (assumed by ecs-tasks.amazonaws.com)" in lines
    assert "      if StringEquals iam:PassedToService=ecs-tasks.amazonaws.com" in lines


def test_plan_prints_every_resource_policy_statement_by_statement(dev_plan):
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/longjobs-dev-runs"
    topic = "arn:aws:sns:us-east-1:123456789012:longjobs-dev-notifications"
    functions = (
        "arn:aws:iam::123456789012:role/longjobs-dev/trigger-role-b146b9f, "
        "arn:aws:iam::123456789012:role/longjobs-dev/supervisor-role-9a73f43"
    )
    heading = "Resource policies: who may use what the stack keeps, statement by statement"
    policies = section(dev_plan, heading)
    assert policies[:26] == [
        heading,
        f"  table {table}  (runs-policy)",
        "    OnlyTheFunctionsWriteRuns: Deny every principal",
        "      dynamodb:BatchWriteItem, dynamodb:DeleteItem, dynamodb:PartiQLDelete, "
        "dynamodb:PartiQLInsert, dynamodb:PartiQLUpdate, dynamodb:PutItem, dynamodb:UpdateItem",
        f"        on {table}",
        f"        on {table}/index/*",
        f"      if ArnNotEquals aws:PrincipalArn in [{functions}]",
        "    OnlyTheFunctionsReadRuns: Deny every principal",
        "      dynamodb:BatchGetItem, dynamodb:ConditionCheckItem, dynamodb:GetItem, "
        "dynamodb:PartiQLSelect, dynamodb:Query, dynamodb:Scan",
        f"        on {table}",
        f"        on {table}/index/*",
        f"      if ArnNotEquals aws:PrincipalArn in [{functions}]",
        f"  topic {topic}  (notifications-policy)",
        "    OwnerManages: Allow arn:aws:iam::123456789012:root",
        "      sns:AddPermission, sns:DeleteTopic, sns:GetTopicAttributes, "
        "sns:ListSubscriptionsByTopic, sns:RemovePermission, sns:SetTopicAttributes, "
        "sns:Subscribe",
        f"        on {topic}",
        "      if StringEquals aws:PrincipalAccount=123456789012",
        "    OnlyTheStackPublishes: Deny every principal",
        "      sns:Publish",
        f"        on {topic}",
        "      if ArnNotEquals aws:PrincipalArn in "
        "[arn:aws:iam::123456789012:role/longjobs-dev/supervisor-role-9a73f43, "
        "arn:aws:iam::123456789012:role/longjobs-dev/alarm-forwarder-role-2b4a41e]",
        "    PublishThroughTlsOnly: Deny every principal",
        "      sns:Publish",
        f"        on {topic}",
        "      if Bool aws:SecureTransport=false",
        "  queue https://sqs.us-east-1.amazonaws.com/123456789012/longjobs-dev-schedules-dead-letters"
        "  (schedules-dead-letters-policy)",
    ]
    # Then the other queues', the access logs' bucket's and the checkpoint bucket's.
    assert [line for line in policies[26:] if not line.startswith("    ")] == [
        "  queue https://sqs.us-east-1.amazonaws.com/123456789012/longjobs-dev-supervisor-failures"
        "  (supervisor-failures-policy)",
        "  queue https://sqs.us-east-1.amazonaws.com/123456789012/longjobs-dev-trigger-failures"
        "  (trigger-failures-policy)",
        "  bucket longjobs-dev-access-logs-123456789012-us-east-1  (checkpoints-access-logs-policy)",
        "  bucket longjobs-dev-checkpoints-123456789012-us-east-1  (checkpoints-policy)",
    ]


def test_a_condition_on_several_values_lists_them():
    condition = {"StringEquals": {"aws:SourceAccount": ["111111111111", "222222222222"]}}
    assert plan.describe_condition(condition) == (
        "StringEquals aws:SourceAccount in [111111111111, 222222222222]"
    )


def test_plan_prices_us_east_1_and_names_the_regions_its_table_holds(dev_plan):
    assert section(dev_plan, "Costs, USD: AWS public list prices, Linux, before tax") == [
        "Costs, USD: AWS public list prices, Linux, before tax",
        "  Fargate prices: us-east-1, the stack's region (AWS Fargate pricing page; AmazonECS "
        "price list (USE1-*), checked 2026-11)",
        "  the price table holds us-east-1, us-east-2, eu-west-2, ap-northeast-1; "
        "other regions are priced at us-east-1's",
        "  arm64   0.03238 per vCPU-hour, 0.00356 per GB-hour",
        "  x86_64  0.04048 per vCPU-hour, 0.004445 per GB-hour",
        "  ephemeral storage above 20 GiB: 0.000111 per GB-hour",
        "  billed per second, one-minute minimum; Spot varies: shown at its advertised best "
        "case, 70% off on-demand",
    ]
    # hello-world: 0.25 vCPU, 0.5 GB: arm64 0.25 x 0.03238 + 0.5 x 0.00356 = 0.009875;
    # x86_64 0.25 x 0.04048 + 0.5 x 0.004445 = 0.0123425; Spot at 30% of each.
    assert section(dev_plan, "  Fargate per task-hour") == [
        "  Fargate per task-hour",
        "  job                   vCPU    GiB  runs on              arm64  arm64 Spot    x86_64  "
        "x86 Spot",
        "  hello-world           0.25    0.5  arm64 spot         0.00988     0.00296   0.01234   "
        "0.00370",
        "  report                   1      2  arm64 spot         0.03950     0.01185   0.04937   "
        "0.01481",
        "  public IPv4: tasks get a public IP (network assignPublicIp true), 0.00500 per "
        "task-hour more",
    ]


def test_plan_prices_a_region_its_table_holds_at_that_regions_prices(tmp_path):
    config = dev_config()
    config["aws:region"] = "eu-west-2"
    code, out, _ = plan_config(tmp_path, "london", config)
    assert code == 0
    lines = out.splitlines()
    assert (
        "  Fargate prices: eu-west-2, the stack's region (AmazonECS price list (EUW2-*), "
        "checked 2026-09)"
    ) in lines
    # report, 1 vCPU and 2 GB: arm64 0.03725 + 2 x 0.00409 = 0.04543; x86_64 0.04656 +
    # 2 x 0.00511 = 0.05678; Spot at 30%: 0.013629 and 0.017034.
    assert (
        "  report                   1      2  arm64 spot         0.04543     0.01363   0.05678   "
        "0.01703"
    ) in lines


def test_plan_prices_another_region_at_us_east_1s_and_says_so(tmp_path):
    config = dev_config()
    config["aws:region"] = "ap-south-1"
    code, out, _ = plan_config(tmp_path, "mumbai", config)
    assert code == 0
    lines = out.splitlines()
    assert (
        "  Fargate prices: us-east-1's: the table holds none for ap-south-1, whose own may "
        "differ (AWS Fargate pricing page; AmazonECS price list (USE1-*), checked 2026-11)"
    ) in lines
    assert "  arm64   0.03238 per vCPU-hour, 0.00356 per GB-hour" in lines


def test_plan_prints_no_service_cost_when_no_service_keeps_tasks_running(dev_plan):
    assert section(dev_plan, SERVICES)[1:] == [
        "  none: every service has desiredCount 0, so tasks run only when started",
    ]


def test_plan_prints_a_month_of_each_running_service_on_its_capacity(tmp_path):
    config = dev_config()
    jobs = config["longjobs:jobs"]
    jobs["hello-world"]["architecture"] = "x86_64"
    jobs["hello-world"]["service"] = {"desiredCount": 1}
    jobs["report"]["service"] = {"desiredCount": 2}
    code, out, _ = plan_config(tmp_path, "workers", config)
    assert code == 0
    # hello-world, x86_64 on-demand: 0.0123425 x 730 = 9.01; public IPv4 0.005 x 730 = 3.65.
    # report, 2 arm64 tasks on Spot: 2 x 0.0395 x 0.3 x 730 = 17.30 (57.67 on-demand);
    # public IPv4 2 x 0.005 x 730 = 7.30.
    assert section(out, SERVICES)[1:] == [
        "  job                  tasks  capacity     Fargate public IPv4     total",
        "  hello-world              1  on-demand       9.01        3.65     12.66",
        "  report                   2  spot           17.30        7.30     24.60  (Spot: "
        "advertised best case, 70% off; on-demand 57.67)",
    ]


def test_plan_prints_one_run_at_the_jobs_timeout_with_its_public_ip(dev_plan):
    # report, 2 hours of arm64 1 vCPU / 2 GB: (0.0395 + 0.005) x 2 = 0.089 on-demand,
    # (0.01185 + 0.005) x 2 = 0.0337 at the Spot floor.
    assert section(dev_plan, RUNS.format("public IPv4 included"))[1:] == [
        "  job                   timeout   on-demand Spot floor",
        "  hello-world              none  no bound: its per-task-hour price while it runs",
        "  report                     2h     0.08900    0.03370",
    ]


def test_plan_prices_runs_without_a_public_ip_in_subnets_the_stack_names(tmp_path):
    config = dev_config()
    config["longjobs:network"] = {"subnetIds": ["subnet-0123456789abcdef0"]}
    config["longjobs:jobs"]["report"]["timeout"] = "1h30m"
    code, out, _ = plan_config(tmp_path, "private", config)
    assert code == 0
    lines = out.splitlines()
    assert "  public IPv4: none (network assignPublicIp false)" in lines
    # report, 1.5 hours: 0.0395 x 1.5 = 0.05925; 0.01185 x 1.5 = 0.017775.
    assert section(out, RUNS.format("no public IPv4"))[-1] == (
        "  report                  1h30m     0.05925    0.01778"
    )


def test_plan_gives_container_insights_price_basis_not_a_total(dev_plan):
    assert section(dev_plan, "  Container Insights on cluster longjobs-dev: enabled") == [
        "  Container Insights on cluster longjobs-dev: enabled",
        "    billed as CloudWatch custom metrics: 0.30 per metric per month (first 10,000 of the "
        "account, us-east-1)",
        "    for the clusters, services and task families while they have running tasks,",
        "    plus CloudWatch Logs ingestion of its performance events: 0.50 per GB (us-east-1)",
        "    no total: it depends on what runs and for how long",
    ]


@pytest.mark.parametrize(
    ("setting", "basis"),
    [
        (
            [{"name": "containerInsights", "value": "enhanced"}],
            [
                "    this plan holds neither its price nor its basis (per metric or per "
                "observation):",
                "    see https://aws.amazon.com/cloudwatch/pricing/",
            ],
        ),
        ([{"name": "containerInsights", "value": "disabled"}], [NO_CHARGE]),
    ],
)
def test_container_insights_basis_follows_the_clusters_setting(setting, basis, capsys):
    cluster = Resource(
        "aws:ecs/cluster:Cluster", "jobs-cluster", {"name": "c", "settings": setting}, {}, True
    )
    costs.print_container_insights(ProgramRun("s", "us-east-1", [cluster], {}))
    assert capsys.readouterr().out.splitlines() == [
        "",
        f"  Container Insights on cluster c: {setting[0]['value']}",
        *basis,
    ]


def test_a_cluster_without_the_setting_is_not_priced_as_off(capsys):
    """ECS then applies the account's setting, which may be on."""
    cluster = Resource("aws:ecs/cluster:Cluster", "jobs-cluster", {"name": "c"}, {}, True)
    costs.print_container_insights(ProgramRun("s", "us-east-1", [cluster], {}))
    assert capsys.readouterr().out.splitlines() == [
        "",
        "  Container Insights on cluster c: not set on the cluster",
        "    the account's containerInsights setting decides (ECS PutAccountSetting), which this "
        "plan cannot see",
    ]


def container_insights_config(mode: str) -> dict[str, Any]:
    config = dev_config()
    # A plain string, as `pulumi config set longjobs:containerInsights <mode>` stores it.
    config["longjobs:containerInsights"] = mode
    return config


@pytest.mark.parametrize("mode", ["enabled", "enhanced", "disabled"])
def test_the_cluster_gets_the_container_insights_mode_the_stack_chooses(mode):
    config = container_insights_config(mode)
    cluster = run_program(config=config).one("aws:ecs/cluster:Cluster", "jobs-cluster")
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": mode}]


@pytest.mark.parametrize(
    ("mode", "basis"),
    [
        (
            "enabled",
            [
                "    billed as CloudWatch custom metrics: 0.30 per metric per month (first 10,000 "
                "of the account, us-east-1)",
                "    for the clusters, services and task families while they have running tasks,",
                "    plus CloudWatch Logs ingestion of its performance events: 0.50 per GB "
                "(us-east-1)",
                "    no total: it depends on what runs and for how long",
            ],
        ),
        (
            "enhanced",
            [
                "    this plan holds neither its price nor its basis (per metric or per "
                "observation):",
                "    see https://aws.amazon.com/cloudwatch/pricing/",
            ],
        ),
        ("disabled", [NO_CHARGE]),
    ],
)
def test_plan_shows_the_chosen_container_insights_mode_and_its_price_basis(mode, basis, tmp_path):
    code, out, err = plan_config(tmp_path, "dev", container_insights_config(mode))
    assert (code, err) == (0, "")
    header = f"  Container Insights on cluster longjobs-dev: {mode}"
    assert section(out, header) == [header, *basis]


def test_the_run_carries_the_config_the_program_validated(dev):
    assert isinstance(dev.config, StackConfig)
    assert list(dev.config.jobs) == ["hello-world", "report"]
    assert dev.config.jobs["report"].timeout == 7200


def test_plan_validates_the_config_once_inside_the_program(monkeypatch):
    real_run_program = plan.run_program

    def run_then_forget_config(*args, **kwargs):
        run = real_run_program(*args, **kwargs)
        # Whatever reads the stack's config after the run finds none, and fails.
        pulumi.runtime.set_all_config({})
        return run

    monkeypatch.setattr(plan, "run_program", run_then_forget_config)
    code, out, err = run_plan(["--stack", "dev"])
    assert (code, err) == (0, "")
    assert "  report                     2h     0.08900    0.03370" in out.splitlines()


def test_plan_refuses_bad_config_with_every_problem(tmp_path, capsys):
    stack_file = tmp_path / "Pulumi.broken.yaml"
    stack_file.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "longjobs:jobs": {
                        "report": {"cpu": 300, "logRetentionDays": 10, "build": "containers/report"}
                    },
                    "longjobs:network": {"subnetIds": ["nope"]},
                }
            }
        )
    )
    assert plan.main(["--file", str(stack_file)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    header, *problems = captured.err.splitlines()
    assert header == "Pulumi.broken.yaml: 3 problem(s) in the stack config:"
    # memory is only checked against a valid cpu: three problems, not four.
    assert [problem.split(": ", 1)[0] for problem in problems] == [
        "  - longjobs:network.subnetIds.0",
        "  - longjobs:jobs.report.cpu",
        "  - longjobs:jobs.report.logRetentionDays",
    ]


def test_plan_refuses_a_stack_file_that_is_not_yaml_in_one_line(tmp_path):
    stack_file = tmp_path / "Pulumi.garbled.yaml"
    stack_file.write_text("config:\n  longjobs:jobs: [unclosed\n")
    code, out, err = run_plan(["--file", str(stack_file)])
    assert (code, out) == (1, "")
    # One line that names the file once, whoever words the YAML problem.
    assert err.startswith("Pulumi.garbled.yaml:")
    assert (err.count("Pulumi.garbled.yaml"), err.count("\n")) == (1, 1)


def test_plan_names_a_missing_stack_and_the_stacks_there_are(tmp_path, monkeypatch):
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.dev.yaml"):
        (tmp_path / name).write_text("config: {}\n")
    monkeypatch.setattr(plan, "PROJECT_ROOT", tmp_path)
    assert run_plan(["--stack", "typo"]) == (
        2,
        "",
        "no stack file Pulumi.typo.yaml; stacks here: dev, prod\n",
    )


def test_plan_names_a_missing_stack_file_by_its_path(tmp_path):
    missing = tmp_path / "Pulumi.nowhere.yaml"
    assert run_plan(["--file", str(missing)]) == (2, "", f"no stack file {missing}\n")


def test_plan_prints_the_created_keys_policy_and_price(tmp_path):
    config = dev_config()
    config["longjobs:kms"] = "create"
    code, out, _ = plan_config(tmp_path, "keyed", config)
    assert code == 0
    policy = section(out, "KMS key (created): its key policy, statement by statement")
    assert [line.split(":")[0].strip() for line in policy[1:] if not line.startswith("    ")] == [
        "AccountThroughIam", "CloudWatchLogs", "FargateEphemeralStorage",
        "FargateEphemeralStorageGrant", "EventBridgeDeadLetters", "CloudWatchAlarms",
    ]  # fmt: skip
    assert (
        "      if StringLike kms:EncryptionContext:aws:logs:arn="
        "arn:aws:logs:us-east-1:123456789012:log-group:/longjobs/keyed/*"
    ) in policy
    assert (
        "  KMS key (created, rotated yearly): 1.00 a month, 2.00 after its first rotation and "
        "3.00 from its second on; requests 0.03 per 10,000 beyond the account's 20,000 free a "
        "month (S3 Bucket Keys and SQS data-key reuse keep them few)"
    ) in out.splitlines()
    assert re.search(r"logGroup:LogGroup\s+report-logs\s+.*kmsKeyId=arn:aws:kms:", out)


def test_plan_prints_what_the_policy_of_a_named_key_must_hold(tmp_path):
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    config = dev_config()
    config["longjobs:kms"] = key
    code, out, _ = plan_config(tmp_path, "named", config)
    assert code == 0
    heading = (
        f"KMS key {key}: its key policy must also hold these statements, or the services "
        "below cannot use it (with your account id in place of the mock's)"
    )
    statements = [line for line in section(out, heading)[1:] if not line.startswith("    ")]
    assert [line.split(":")[0].strip() for line in statements] == [
        "CloudWatchLogs", "FargateEphemeralStorage", "FargateEphemeralStorageGrant",
        "EventBridgeDeadLetters", "CloudWatchAlarms",
    ]  # fmt: skip
    assert "aws:kms/key:Key" not in out


def test_plan_prices_the_alarms(dev_plan):
    assert (
        "  Alarms: 6 reading 7 metrics at 0.10 a month each, 3 metrics from log lines at 0.30 a "
        "month each: 1.60 a month"
    ) in dev_plan.splitlines()


ACCESS_LOGS = "  Checkpoint access logs (checkpointAccessLogs), kept 365 days in the bucket"


def test_plan_shows_the_access_log_bucket_and_prices_its_storage_per_gb(dev_plan):
    assert re.search(
        r"aws:s3/bucketLogging:BucketLogging\s+checkpoints-access-logging\s+"
        r"targetBucket=longjobs-dev-access-logs-123456789012-us-east-1\s+targetPrefix=checkpoints/",
        dev_plan,
    )
    assert section(dev_plan, ACCESS_LOGS) == [
        ACCESS_LOGS,
        "    longjobs-dev-access-logs-123456789012-us-east-1",
        "    S3 Standard storage: 0.023 per GB-month (us-east-1's first 50 TB; other regions' "
        "differ); S3 bills nothing to turn them on or deliver them",
        "    a request is one log line of about 500 bytes: 0.50 GB, 0.01 a month, per million "
        "requests kept",
    ]


def test_plan_of_a_stack_without_access_logs_says_so(tmp_path):
    config = dev_config()
    config["longjobs:checkpointAccessLogs"] = False
    code, out, _ = plan_config(tmp_path, "quiet", config)
    assert code == 0
    assert "  Checkpoint access logs: none (checkpointAccessLogs: false)" in out.splitlines()
    assert "BucketLogging" not in out


NETWORK = "  Network: how tasks reach ECR, CloudWatch Logs, their secrets and the internet"
CHOICES = "  network.create's choices, per month of 730 hours in {} zones"


def test_plan_says_how_tasks_reach_ecr_and_prices_each_network_choice(dev_plan):
    assert section(dev_plan, NETWORK) == [
        NETWORK,
        "    the default VPC's default subnets, a public IP per task: through the VPC's internet "
        "gateway",
    ]
    # One NAT gateway: (0.045 + 0.005 for its public IPv4) x 730 = 36.50; two: 73.00; without
    # NAT, 3 interface endpoints (ecr.api, ecr.dkr, logs) in 2 zones: 3 x 2 x 0.01 x 730 = 43.80.
    assert section(dev_plan, CHOICES.format(2)) == [
        CHOICES.format(2),
        "  prices: us-east-1, the stack's region (AmazonEC2 and AmazonVPC price lists (USE1); VPC "
        "and PrivateLink pricing pages, checked 2026-10)",
        "  the price table holds us-east-1, eu-west-2, ap-northeast-1; other regions are priced "
        "at us-east-1's",
        "  natGateways  billed by the hour                                   month  per GB "
        "processed",
        "  single       1 NAT gateway + public IPv4, 1 x (0.045 + 0.005)     36.50  0.045 "
        "through NAT; S3 gateway free",
        "  onePerAz     2 NAT gateways + public IPv4, 2 x (0.045 + 0.005)    73.00  0.045 "
        "through NAT; S3 gateway free",
        "  none         3 interface endpoints x 2 zones x 0.01               43.80  0.01 through "
        "endpoints (first PB); S3 gateway free",
        "    none's interface endpoints here: ecr.api, ecr.dkr, logs",
        "    this stack has no network.create: no NAT gateway or endpoint of its own",
    ]


def test_plan_of_a_vpc_without_nat_prices_its_endpoints_in_its_region(tmp_path):
    config = dev_config()
    config["aws:region"] = "eu-west-2"
    config["longjobs:network"] = {"create": {"natGateways": "none", "availabilityZones": 3}}
    config["longjobs:jobs"]["report"]["secrets"] = {
        "DB": "arn:aws:ssm:eu-west-2:123456789012:parameter/report/db"
    }
    code, out, _ = plan_config(tmp_path, "hardened", config)
    assert code == 0
    assert section(out, NETWORK)[1:] == [
        "    natGateways none: a new VPC's isolated subnets, no public IP, no NAT gateway; only "
        "through VPC endpoints (ecr.api, ecr.dkr, logs, s3, ssm): ECR by ecr.api and ecr.dkr, "
        "its image layers by the S3 gateway; no other destination",
        "    new VPC (awsx ec2.Vpc network-vpc-isolated-3az): 10.0.0.0/16 over 3 zones, Isolated subnets in "
        "each, NAT strategy None",
    ]
    # London: NAT (0.05 + 0.005) x 730 = 40.15, three 120.45; 4 endpoints (ssm for the secret)
    # x 3 zones x 0.011 x 730 = 96.36.
    assert section(out, CHOICES.format(3))[1:] + [""] == [
        "  prices: eu-west-2, the stack's region (AmazonEC2 and AmazonVPC price lists (EUW2), "
        "checked 2026-09)",
        "  the price table holds us-east-1, eu-west-2, ap-northeast-1; other regions are priced "
        "at us-east-1's",
        "  natGateways  billed by the hour                                   month  per GB "
        "processed",
        "  single       1 NAT gateway + public IPv4, 1 x (0.05 + 0.005)      40.15  0.05 through "
        "NAT; S3 gateway free",
        "  onePerAz     3 NAT gateways + public IPv4, 3 x (0.05 + 0.005)    120.45  0.05 through "
        "NAT; S3 gateway free",
        "  none *       4 interface endpoints x 3 zones x 0.011              96.36  0.01 through "
        "endpoints (first PB); S3 gateway free",
        "    none's interface endpoints here: ecr.api, ecr.dkr, logs, ssm",
        "    * this stack's choice, none",
        "",
    ]
    assert "  public IPv4: none (network assignPublicIp false)" in out.splitlines()
    assert stack_outputs(out)["network"]["assignPublicIp"] is False


def test_plan_of_a_vpc_with_a_nat_gateway_per_zone_in_another_region(tmp_path):
    config = dev_config()
    config["aws:region"] = "ca-central-1"
    config["longjobs:network"] = {"create": {"natGateways": "onePerAz"}}
    code, out, _ = plan_config(tmp_path, "montreal", config)
    assert code == 0
    lines = section(out, CHOICES.format(2))
    assert lines[1] == (
        "  prices: us-east-1's: the table holds none for ca-central-1, whose own may differ "
        "(AmazonEC2 and AmazonVPC price lists (USE1); VPC and PrivateLink pricing pages, checked "
        "2026-10)"
    )
    assert lines[5].startswith("  onePerAz *   2 NAT gateways")
    assert section(out, NETWORK)[1] == (
        "    natGateways onePerAz: a new VPC's private subnets, no public IP; through a NAT "
        "gateway in each of the 2 zones, and to S3 (image layers, checkpoints) through its "
        "gateway endpoint"
    )
    assert stack_outputs(out)["network"]["vpcId"].startswith("vpc-")
