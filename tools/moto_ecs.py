"""The program's task definitions in moto's ECS, as the tests and the benchmarks register them."""

from __future__ import annotations

import json
from typing import Any

from tools.program import ProgramRun


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
