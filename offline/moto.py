"""What the program declares, made in moto (or any DynamoDB and ECS) for the tests and benchmarks:
its task definitions and its runs table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the program's run is only read here: no Pulumi in a process that only replays
    from offline.program import ProgramRun


def register_task_definitions(ecs: Any, program: ProgramRun) -> None:
    """Register every task definition exactly as the program declares it.

    moto's run_task needs a container-level memory (AWS accepts task-level memory alone), and
    moto checks neither architecture nor tags: the container memory is the only addition.
    """
    for task in program.by_type("aws:ecs/taskDefinition:TaskDefinition"):
        inputs = task.inputs
        containers = json.loads(inputs["containerDefinitions"])
        for container in containers:
            container.setdefault("memory", int(inputs["memory"]))
        ecs.register_task_definition(
            family=inputs["family"],
            containerDefinitions=containers,
            cpu=inputs["cpu"],
            memory=inputs["memory"],
            networkMode=inputs["networkMode"],
            requiresCompatibilities=inputs["requiresCompatibilities"],
            executionRoleArn=inputs["executionRoleArn"],
            taskRoleArn=inputs["taskRoleArn"],
            runtimePlatform=inputs["runtimePlatform"],
        )


def create_runs_table(dynamodb: Any, declared: Mapping[str, Any], name: str | None = None) -> str:
    """Create the table the program declares (`declared`: its inputs: keys, attributes,
    indexes), under `name` or its declared name; return the name."""
    table = name or str(declared["name"])
    dynamodb.create_table(
        TableName=table,
        BillingMode=declared["billingMode"],
        KeySchema=[{"AttributeName": declared["hashKey"], "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in declared["attributes"]
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index["name"],
                "KeySchema": [
                    {"AttributeName": key["attributeName"], "KeyType": key["keyType"]}
                    for key in index["keySchemas"]
                ],
                "Projection": {"ProjectionType": index["projectionType"]},
            }
            for index in declared["globalSecondaryIndexes"]
        ],
    )
    return table
