"""Assertion helpers over a mocked program run."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import yaml

from offline.program import PROJECT_ROOT, ProgramRun

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


@functools.cache
def _dev_document() -> dict[str, Any]:
    # Read once: PyYAML's pure-Python reader took 30 ms a read, 93% of a test that asks for a
    # thousand configs; each caller still gets its own copy.
    return yaml.safe_load((PROJECT_ROOT / "Pulumi.dev.yaml").read_text())


def dev_config() -> dict[str, Any]:
    """A fresh copy of Pulumi.dev.yaml's config block, for tests that change it."""
    return copy.deepcopy(_dev_document()["config"])


def statements(run: ProgramRun, policy_name: str) -> list[dict[str, Any]]:
    return json.loads(run.one(ROLE_POLICY, policy_name).inputs["policy"])["Statement"]


def containers(run: ProgramRun, job: str) -> list[dict[str, Any]]:
    return json.loads(run.one(TASK_DEFINITION, f"{job}-task").inputs["containerDefinitions"])


def trust(run: ProgramRun, role_name: str) -> dict[str, Any]:
    return json.loads(run.one(ROLE, role_name).inputs["assumeRolePolicy"])["Statement"][0]


def all_statements(run: ProgramRun) -> list[dict[str, Any]]:
    return [
        statement
        for policy in run.by_type(ROLE_POLICY)
        for statement in json.loads(policy.inputs["policy"])["Statement"]
    ]
