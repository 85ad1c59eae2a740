"""Why a RunTask started no task, and whether another attempt can help.

ECS answers RunTask with HTTP 200 and a `failures` list when it places nothing (Failure in the
ECS API reference), or raises an error. Only documented reasons are matched:
- Fargate without capacity: "Capacity is unavailable at this time. Please try again later or in
  a different availability zone" (AWS Knowledge Center, "ecs-fargate-runtask-capacity": "wait
  before you retry the RunTask API"; the service event messages page gives the same sentence
  with a final period), and `RESOURCE:FARGATE`, the reason ECS gives for no Fargate Spot
  capacity in its service events.
- Everything else the "Amazon ECS API failure reasons" page lists for RunTask (`RESOURCE:*`,
  `AGENT`, `LOCATION`, `ATTRIBUTE`, `MISSING`) concerns EC2 container instances or a missing
  resource: no later attempt of a Fargate job changes it.
"""

from __future__ import annotations

from typing import Final

CAPACITY: Final = "capacity"
"""No Fargate (or Fargate Spot) capacity now: another attempt later, or on-demand, may start."""
TRANSIENT: Final = "transient"
"""ECS throttled the call or failed inside: the same attempt, sent again later, may start."""
PERMANENT: Final = "permanent"
"""No attempt can start it as it is (a deregistered task definition, access denied, ...)."""

CAPACITY_REASON_PREFIX: Final = "Capacity is unavailable at this time"
SPOT_CAPACITY_REASON: Final = "RESOURCE:FARGATE"
# RunTask's errors that another sending may get past: throttling ("Rate exceeded", the ECS
# request throttling page) and ServerException, the one its model marks as a server fault.
RETRYABLE_ERRORS = frozenset({"ThrottlingException", "ServerException"})
THROTTLED_MARKER: Final = "(ErrorCode: Throttling)"
"""RunTask's throttling can also come as an InvalidParameterException about EC2's rate:
"Error retrieving subnet information for [...]: Rate exceeded (Service: Ec2, Status Code: 400)
(ErrorCode: Throttling)" (dagster-io/dagster#33439): the message, not the code, says so."""


def of_failure(reason: str | None) -> str:
    """How one `failures[].reason` of RunTask is handled."""
    if reason is None:
        return PERMANENT
    text = reason.strip()
    if text.startswith(CAPACITY_REASON_PREFIX) or text == SPOT_CAPACITY_REASON:
        return CAPACITY
    return PERMANENT


def of_error(code: str, message: str = "") -> str:
    """How an error RunTask raised (after botocore's own retries) is handled: ClientException,
    InvalidParameterException, AccessDeniedException, ClusterNotFoundException,
    PlatformTaskDefinitionIncompatibilityException, ... are the request's own problem, but for
    throttling that comes under another code."""
    if code in RETRYABLE_ERRORS or THROTTLED_MARKER in message:
        return TRANSIENT
    return PERMANENT
