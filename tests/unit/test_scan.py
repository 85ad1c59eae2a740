"""tools/scan.py's export of the program as a Terraform plan, and its reading of checkov's report.

checkov itself runs in its own virtualenv (`make scan`), not here: these tests hold the export
to the names checkov looks for, so that a resource it cannot read fails here instead of passing
there unseen.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from offline.program import PROJECT_ROOT, Resource, run_program, stack_file_config
from tools import scan

STACK_FILES = sorted(PROJECT_ROOT.glob("Pulumi.*.yaml"))
# Where the Terraform name is not aws_<module>_<snake name> (bridge-metadata.json's renames).
NAMED_OTHERWISE = {
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
}


def exported(stack_file: Path | str = "Pulumi.dev.yaml", **kwargs: Any) -> scan.Export:
    # In the stack's own region, as `make scan` runs it.
    mocks = scan.RecordingMocks(
        str(stack_file_config(PROJECT_ROOT / stack_file).get("aws:region", "us-east-1"))
    )
    run = run_program(stack_file, mocks=mocks, **kwargs)
    return scan.export(run, mocks.ids)


def planned(export: scan.Export, address: str) -> dict[str, Any]:
    resources = export.plan["planned_values"]["root_module"]["resources"]
    (found,) = [r for r in resources if r["address"] == address]
    return found


def expressions(export: scan.Export, address: str) -> dict[str, Any]:
    resources = export.plan["configuration"]["root_module"]["resources"]
    (found,) = [r for r in resources if r["address"] == address]
    return found["expressions"]


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_every_pulumi_aws_resource_of_every_stack_is_exported(stack_file: Path):
    export = exported(stack_file.name)
    assert [r for r in export.not_exported if r[0].startswith("aws:")] == []
    run = run_program(stack_file.name)
    declared = {r.type for r in run.resources if r.custom and r.type.startswith("aws:")}
    assert declared <= set(scan.TERRAFORM_TYPES)


def test_a_type_with_no_terraform_name_is_reported(monkeypatch: pytest.MonkeyPatch):
    types = dict(scan.TERRAFORM_TYPES)
    del types["aws:dynamodb/table:Table"]
    monkeypatch.setattr(scan, "TERRAFORM_TYPES", types)
    assert exported().not_exported == [
        ("aws:dynamodb/table:Table", "runs-table", "no Terraform type in TERRAFORM_TYPES"),
        ("docker:index/image:Image", "hello-world-image", "not a pulumi-aws resource"),
        ("docker:index/image:Image", "report-image", "not a pulumi-aws resource"),
    ]


def test_terraform_types_follow_the_bridge_naming_but_where_named_otherwise():
    def bridged(token: str) -> str:
        match = re.fullmatch(r"aws:(\w+)/(\w+):\w+", token)
        assert match, token
        module, name = match.groups()
        return f"aws_{module}_{scan.snake(name)}"

    assert {
        token: terraform
        for token, terraform in scan.TERRAFORM_TYPES.items()
        if bridged(token) != terraform
    } == NAMED_OTHERWISE


def test_a_list_of_blocks_with_no_terraform_name_stops_the_export(
    monkeypatch: pytest.MonkeyPatch,
):
    names = dict(scan.BLOCK_NAMES)
    del names[("aws:ecs/service:Service", "capacityProviderStrategies")]
    monkeypatch.setattr(scan, "BLOCK_NAMES", names)
    with pytest.raises(scan.UnmappedBlock, match="aws:ecs/service:Service: capacityProviderStr"):
        exported()


def test_values_are_written_as_terraform_writes_them():
    export = exported()
    service = planned(export, "aws_ecs_service.report-service")
    assert service["type"] == "aws_ecs_service"
    assert service["values"]["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE_SPOT", "weight": 1}
    ]
    # A block is a list of one object; a whole number an int, as checkov's checks expect.
    assert service["values"]["deployment_circuit_breaker"] == [{"enable": True, "rollback": True}]
    assert service["values"]["desired_count"] == 0
    assert isinstance(service["values"]["desired_count"], int)
    # A map's keys are data.
    assert service["values"]["tags"]["longjobs:job"] == "report"
    # A JSON document stays a string.
    task = planned(export, "aws_ecs_task_definition.report-task")
    assert json.loads(task["values"]["container_definitions"])[0]["name"] == "report"
    function = planned(export, "aws_lambda_function.trigger-function")
    assert function["values"]["function_name"] == "longjobs-dev-trigger"
    assert "code" not in function["values"]
    permission = planned(export, "aws_lambda_permission.supervisor-invoked-by-rule")
    assert permission["values"]["function_name"] == "longjobs-dev-supervisor"


def test_a_resource_naming_another_references_it():
    export = exported()
    block = "aws_s3_bucket_public_access_block.checkpoints-public-access-block"
    assert "bucket" not in planned(export, block)["values"]
    assert expressions(export, block) == {
        "bucket": {
            "references": [
                "aws_s3_bucket.checkpoints-bucket.id",
                "aws_s3_bucket.checkpoints-bucket",
            ]
        }
    }
    service = "aws_ecs_service.report-service"
    assert planned(export, service)["values"]["network_configuration"][0]["security_groups"] == [
        None
    ]
    assert expressions(export, service)["network_configuration"] == [
        {
            "security_groups": {
                "references": [
                    "aws_security_group.network-egress-only.id",
                    "aws_security_group.network-egress-only",
                ]
            }
        }
    ]


def test_a_name_two_resources_share_is_no_reference():
    """The cluster and the schedule group are both named longjobs-dev: neither names the other."""
    export = exported()
    assert planned(export, "aws_ecs_cluster.jobs-cluster")["values"]["name"] == "longjobs-dev"
    assert "name" not in expressions(export, "aws_ecs_cluster.jobs-cluster")


def test_a_component_of_another_package_is_reported_not_exported():
    """awsx's components register as one opaque resource under mocks: what they create is not
    in the plan, and the report says so."""
    mocks = scan.RecordingMocks("us-east-1")
    run = run_program("Pulumi.dev.yaml", mocks=mocks)
    run.resources.append(Resource("awsx:ec2:Vpc", "network-vpc", {}, {}, custom=False))
    assert scan.export(run, mocks.ids).not_exported[0] == (
        "awsx:ec2:Vpc",
        "network-vpc",
        "a component of another package, opaque under mocks: its children unseen",
    )


CHECKOV_REPORT = {
    "check_type": "terraform_plan",
    "results": {
        "passed_checks": [
            {"check_id": "CKV_AWS_66", "resource": "aws_cloudwatch_log_group.report-logs"},
        ],
        "failed_checks": [
            {
                "check_id": "CKV_AWS_158",
                "check_name": "Ensure that CloudWatch Log Group is encrypted by KMS",
                "resource": "aws_cloudwatch_log_group.report-logs",
            },
            {
                "check_id": "CKV_AWS_338",
                "check_name": "Ensure CloudWatch log groups retains logs for at least 1 year",
                "resource": "aws_cloudwatch_log_group.trigger-logs",
            },
            {
                "check_id": "CKV_AWS_116",
                "check_name": "Ensure that AWS Lambda function is configured for a DLQ",
                "resource": "aws_lambda_function.trigger-function",
            },
        ],
    },
}


def report(stack: str) -> scan.Report:
    return scan.read_report(stack, exported(), CHECKOV_REPORT)


def test_the_report_lists_failures_skips_and_resources_no_check_evaluated():
    lines = list(scan.lines(report("dev")))
    assert lines[:4] == [
        "scan dev: 93 resources exported, 1 checks passed, 2 failed (1 missing the goal), "
        "1 skipped",
        "  customer managed key, left to kms: CKV_AWS_158 aws_cloudwatch_log_group.report-logs: "
        "Ensure that CloudWatch Log Group is encrypted by KMS",
        "  missed: CKV_AWS_338 aws_cloudwatch_log_group.trigger-logs: Ensure CloudWatch log groups "
        "retains logs for at least 1 year",
        "  skipped: CKV_AWS_116 aws_lambda_function.trigger-function: see "
        "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
    ]
    assert "  not evaluated by any check: aws_dynamodb_table.runs-table" in lines
    assert "  not evaluated by any check: aws_cloudwatch_log_group.report-logs" not in lines
    assert lines[-2:] == [
        "  not exported: docker:index/image:Image hello-world-image: not a pulumi-aws resource",
        "  not exported: docker:index/image:Image report-image: not a pulumi-aws resource",
    ]


def test_on_prod_a_customer_managed_key_check_misses_the_goal():
    assert [f.check for f in report("prod").missed] == ["CKV_AWS_158", "CKV_AWS_338"]
    assert [f.check for f in report("dev").missed] == ["CKV_AWS_338"]


def test_every_skip_and_key_check_names_its_source():
    for skip in scan.SKIPS:
        assert skip.source.startswith("https://docs.aws.amazon.com/"), skip
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip.check), skip
        assert skip.terraform_type in scan.TERRAFORM_TYPES.values(), skip
    # A customer managed key is skipped only where AWS takes none, for that resource alone.
    assert all(s.name for s in scan.SKIPS if s.check in scan.CMK_CHECKS)


def failed(check: str, address: str) -> dict[str, str]:
    return {"check_id": check, "check_name": check, "resource": address}


CHECKPOINTS = "aws_s3_bucket.checkpoints-bucket"
ACCESS_LOGS = "aws_s3_bucket.checkpoints-access-logs-bucket"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_checkpoint_bucket_must_log_its_access_and_its_log_bucket_need_not(stack):
    checkov = {
        "results": {
            "passed_checks": [],
            "failed_checks": [
                failed(check, address)
                for check in ("CKV_AWS_18", "CKV_AWS_145")
                for address in (CHECKPOINTS, ACCESS_LOGS)
            ],
        }
    }
    report = scan.read_report(stack, exported(f"Pulumi.{stack}.yaml"), checkov)
    assert [(f.check, f.address) for f, _ in report.skipped] == [
        ("CKV_AWS_18", ACCESS_LOGS),
        ("CKV_AWS_145", ACCESS_LOGS),
    ]
    missed = [(f.check, f.address) for f in report.missed]
    # On dev the checkpoint bucket's customer managed key is left to kms; on prod it is due.
    assert missed == ([("CKV_AWS_145", CHECKPOINTS)] if stack == "prod" else []) + [
        ("CKV_AWS_18", CHECKPOINTS)
    ]


def test_the_checkpoint_buckets_logging_names_both_buckets():
    export = exported("Pulumi.prod.yaml")
    logging = "aws_s3_bucket_logging.checkpoints-access-logging"
    assert planned(export, logging)["values"]["target_prefix"] == "checkpoints/"
    assert expressions(export, logging) == {
        "bucket": {"references": [f"{CHECKPOINTS}.id", CHECKPOINTS]},
        "target_bucket": {"references": [f"{ACCESS_LOGS}.id", ACCESS_LOGS]},
    }


def test_the_default_vpcs_public_ip_is_left_to_network_create_except_on_prod():
    public_ip = {
        "check_id": "CKV_AWS_333",
        "check_name": "Ensure ECS services do not have public IP addresses assigned to them "
        "automatically",
        "resource": "aws_ecs_service.report-service",
    }
    checkov = {"results": {"passed_checks": [], "failed_checks": [public_ip]}}
    dev = scan.read_report("dev", exported(), checkov)
    assert dev.missed == []
    assert list(scan.lines(dev))[1] == (
        "  public IP in the default VPC, left to network.create: CKV_AWS_333 "
        "aws_ecs_service.report-service: Ensure ECS services do not have public IP addresses "
        "assigned to them automatically"
    )
    assert [f.check for f in scan.read_report("prod", exported(), checkov).missed] == [
        "CKV_AWS_333"
    ]
