"""ECS's API as a caller sees it: requests checked against botocore's own model, errors as botocore
raises them, the answers' shapes, and the words ECS answers with, each from the page it is on.

The ECS model (`simulation.ecs`) and its token ledger (`simulation.ecs_tokens`) speak through these.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.model import Shape
from botocore.validate import validate_parameters

# RunTask answers HTTP 200 with this `failures` reason and no task when Fargate has no capacity
# (AWS Knowledge Center, ecs-fargate-runtask-capacity).
CAPACITY_REASON = (
    "Capacity is unavailable at this time. Please try again later or in a different "
    "availability zone"
)
ESSENTIAL_EXITED = "Essential container in task exited"
# TaskFailedToStart reasons from the developer guide's "Amazon ECS stopped task errors" and
# "CannotPullContainer task errors" pages.
TRANSIENT_START_REASONS = (
    "Timeout waiting for network interface provisioning to complete.",
    "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to do "
    "request: Head https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/report/manifests/"
    "sha256:0: dial tcp 52.95.0.1:443: i/o timeout",
)
PERMANENT_START_REASONS = (
    "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to "
    "resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/report@sha256:0: not found",
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve secret from asm: service call has been retried 1 "
    "time(s): AccessDeniedException: User is not authorized to perform "
    "secretsmanager:GetSecretValue",
)
# A task ECS accepted and could never place, stopped after waiting in PROVISIONING. The stop
# code and the empty `containers` are as PrefectHQ/prefect#22410 shows them; the reason's text
# is not documented: prefect's own test of that case (PR #22417) uses "TaskFailedToStart:
# RESOURCE:GPU" for an EC2 capacity provider, and this names Fargate's resource the same way.
HELD_REASON = "TaskFailedToStart: RESOURCE:FARGATE"
# A task placed in a subnet with no free address stops TaskFailedToStart soon after
# PROVISIONING (paradisec-archive/nabu#1259: "InsufficientFreeAddressesInSubnet", 151 of 517
# stopped tasks). ECS's exact stoppedReason is not documented; the words are EC2's own error for
# the ENI it could not create (CreateNetworkInterface, as quoted in aws/amazon-vpc-cni-k8s#1773).
NO_IP_REASON = (
    "InsufficientFreeAddressesInSubnet: The specified subnet does not have enough free "
    "addresses to satisfy the request."
)
# Fargate Spot's two-minute warning ("AWS Fargate capacity providers"; AWS Knowledge Center,
# fargate-spot-termination-notice: a task state change event and SIGTERM, then the stop).
SPOT_REASON = "Your Spot Task was interrupted."
MAINTENANCE_REASON = (
    "Task stopped because ECS is performing maintenance on the underlying infrastructure "
    "hosting the task."
)
USER_REASON = "Task stopped by user"
# StopTask on a task ECS does not know (never started, not visible yet, or forgotten) raises
# InvalidParameterException "The referenced task was not found" (not in the API reference; seen
# in prefect-archive/prefect-aws#222 and griptape-ai/griptape-nodes-engine#1454).
TASK_NOT_FOUND = "The referenced task was not found"


@functools.cache
def _input_shape(operation: str) -> Shape:
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model(operation).input_shape
    assert shape is not None, operation
    return shape


def check_request(operation: str, params: dict[str, Any]) -> None:
    """Raise as botocore would on a request its model of the operation refuses (shapes, types,
    required members; not enum values)."""
    validate_parameters(params, _input_shape(operation))


def client_error(code: str, message: str, operation: str, **extra: Any) -> ClientError:
    """The error botocore raises for an ECS error answer `code` (extra members, such as a
    ConflictException's `resourceIds`, beside `Error`)."""
    response: Any = {"Error": {"Code": code, "Message": message}, **extra}
    return ClientError(response, operation)


def new_task(params: dict[str, Any], provider: str, serial: int) -> dict[str, Any]:
    """The task a RunTask request places, as the answer shows it: PROVISIONING, version 1.
    `serial` (how many tasks the cluster started before) makes its id."""
    cluster = params["cluster"]
    head, name = cluster.split(":cluster/")
    task_id = hashlib.sha256(f"{serial}:{cluster}".encode()).hexdigest()[:32]
    family = params["taskDefinition"].rsplit("/", 1)[-1].rsplit(":", 1)[0]
    overrides = params.get("overrides", {})
    return {
        "taskArn": f"{head}:task/{name}/{task_id}",
        "clusterArn": cluster,
        "taskDefinitionArn": params["taskDefinition"],
        "startedBy": params.get("startedBy"),
        "group": f"family:{family}",
        "lastStatus": "PROVISIONING",
        "desiredStatus": "RUNNING",
        "capacityProviderName": provider,
        "launchType": "FARGATE",
        "overrides": copy.deepcopy(overrides),
        "tags": copy.deepcopy(params.get("tags", [])),
        "containers": [
            {"name": c["name"], "lastStatus": "PENDING"}
            for c in overrides.get("containerOverrides", [])
        ],
        "version": 1,
    }


def described(task: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A task as DescribeTasks shows it: its tags only when asked for with include=["TAGS"]
    (ECS API reference, DescribeTasks: "If this field is omitted, tags aren't included")."""
    shown = copy.deepcopy(task)
    if "TAGS" not in (params.get("include") or []):
        shown.pop("tags", None)
    return shown
