"""The pack as the Pulumi CLI starts it (`python -m pulumi.policy <engine> <pack folder>`, which
runs policy/__main__.py): the analyzer it serves, asked over gRPC as the engine asks it."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from offline.program import PROJECT_ROOT
from policy.pack import PACK_NAME, POLICIES

PACK = PROJECT_ROOT / "policy"
LOG_GROUP_URN = "urn:pulumi:dev::longjobs::aws:cloudwatch/logGroup:LogGroup::report-logs"


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(PACK)],
        cwd=PACK,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        port = process.stdout.readline().strip() if ready else ""
        if not port.isdigit():
            process.kill()
            pytest.fail(f"the pack printed no port: {port!r} {process.stderr.read()}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait(10)


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(props)
    return message


def diagnostics(response: analyzer_pb2.AnalyzeResponse) -> list[tuple[str, str, str]]:
    level = analyzer_pb2.EnforcementLevel.Name
    return [(d.policyName, level(d.enforcementLevel), d.message) for d in response.diagnostics]


def test_the_pack_serves_every_policy_at_its_level(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == PACK_NAME
    levels = {p.name: analyzer_pb2.EnforcementLevel.Name(p.enforcementLevel) for p in info.policies}
    assert list(levels) == [p.name for p in POLICIES]
    assert set(levels.values()) == {"MANDATORY"}


def test_the_pack_refuses_a_resource_with_its_description_and_the_rule_s_message(analyzer):
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:cloudwatch/logGroup:LogGroup",
        properties=struct({"name": "/longjobs/dev/report"}),
        urn=LOG_GROUP_URN,
        name="report-logs",
    )
    assert diagnostics(analyzer.Analyze(request, timeout=30)) == [
        (
            "logs-retention-set",
            "MANDATORY",
            "CloudWatch log groups have a retention period.\nThe log group keeps its events "
            "forever: set retentionInDays (for a longjobs job: logRetentionDays), e.g. 30.",
        )
    ]


def test_the_pack_reads_a_task_definition_and_its_level_is_configurable(analyzer):
    containers = [{"name": "report", "image": "r", "privileged": True}]
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:ecs/taskDefinition:TaskDefinition",
        properties=struct({"containerDefinitions": json.dumps(containers), "tags": {}}),
        urn="urn:pulumi:dev::longjobs::aws:ecs/taskDefinition:TaskDefinition::report-task",
        name="report-task",
    )
    found = [(name, level) for name, level, _ in diagnostics(analyzer.Analyze(request))]
    assert found == [
        ("ecs-no-privileged-containers", "MANDATORY"),
        ("ecs-readonly-root-filesystem", "MANDATORY"),
    ]
    # What `pulumi preview --policy-pack-config` sends for {"ecs-readonly-root-filesystem": "advisory"}.
    advisory = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.ADVISORY)
    analyzer.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={"ecs-readonly-root-filesystem": advisory}
        )
    )
    found = [(name, level) for name, level, _ in diagnostics(analyzer.Analyze(request))]
    assert found == [
        ("ecs-no-privileged-containers", "MANDATORY"),
        ("ecs-readonly-root-filesystem", "ADVISORY"),
    ]


def test_the_pack_runs_stack_rules_over_every_resource(analyzer):
    function_urn = "urn:pulumi:dev::longjobs::aws:lambda/function:Function::api"
    function = analyzer_pb2.AnalyzerResource(
        type="aws:lambda/function:Function",
        properties=struct({"name": "api", "arn": "arn:aws:lambda:us-east-1:1:function:api"}),
        urn=function_urn,
        name="api",
    )
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[function]))
    assert [(d.policyName, d.urn) for d in response.diagnostics] == [
        ("lambda-async-failure-destination", function_urn)
    ]
    assert json_format.MessageToDict(response)["diagnostics"][0]["message"].startswith(
        "Lambda functions keep failed async invocations (a DLQ or on-failure).\n"
        "Function 'api' drops failed async invocations"
    )
