"""`make plan`: the offline report of what a stack declares, and its refusal of bad config."""

from __future__ import annotations

import re

import yaml

from components import fargate
from tools import plan


def test_plan_prints_resources_iam_costs_and_outputs(capsys):
    assert plan.main(["--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert "stack dev, region us-east-1" in out
    assert re.search(
        r"aws:ecs/taskDefinition:TaskDefinition\s+report-task\s+family=longjobs-dev", out
    )
    assert "role trigger-role  (assumed by lambda.amazonaws.com)" in out
    assert "Allow iam:PassRole" in out
    # hello-world: 0.25 vCPU, 0.5 GiB, arm64 and x86_64, on-demand and Spot at 70% off.
    arm = fargate.hourly_cost(256, 512, "arm64")
    x86 = fargate.hourly_cost(256, 512, "x86_64")
    assert round(arm, 5) == 0.00988
    row = next(line for line in out.splitlines() if line.strip().startswith("hello-world  "))
    assert row.split()[-4:] == [f"{arm:.5f}", f"{arm * 0.3:.5f}", f"{x86:.5f}", f"{x86 * 0.3:.5f}"]
    assert f"checked {fargate.PRICES_CHECKED}" in out
    assert '"clusterName": "longjobs-dev"' in out


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
    assert "3 problem(s)" in captured.err
    for key in ("jobs.report.cpu", "jobs.report.logRetentionDays", "network.subnetIds.0"):
        assert f"longjobs:{key}:" in captured.err


def test_plan_names_a_missing_stack_file(capsys):
    assert plan.main(["--stack", "nowhere"]) == 2
    assert "Pulumi.nowhere.yaml" in capsys.readouterr().err
