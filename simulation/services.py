"""The functions' AWS clients in the simulation: each call travels, may be throttled, takes
effect at once, and travels back, so that other invocations and the world move in between.

A model answers the call (`simulation.ecs`, `simulation.dynamodb`, `Topic`, `LogGroups`); this
layer adds what every AWS API does to a caller: latency, throttling, and botocore's retries as
the functions configure them (`functions.common.runtime.CLIENT_CONFIG`: standard mode, two
attempts in all, a throttled or 5xx call tried once more after a jittered backoff of up to a
second, botocore's "Retries" guide).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from simulation.ecs_api import client_error
from simulation.scheduler import Simulator

THROTTLED = {
    # The error each API answers a caller over its rate (the APIs' references; ECS "Request
    # throttling"; DynamoDB "Error handling": on-demand tables throttle too).
    "ecs": "ThrottlingException",
    "dynamodb": "ProvisionedThroughputExceededException",
    "sns": "Throttling",
    "logs": "ThrottlingException",
}
RETRYABLE = {
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalServerError",
    "ServerException",
}
"""What botocore's standard mode retries (its "Retries" guide lists the throttling and
transient error codes)."""
ECS_THROTTLED_AS_PARAMETER = (
    "Error retrieving subnet information for [{subnet}]: Rate exceeded (Service: Ec2, Status "
    "Code: 400) (ErrorCode: Throttling)"
)
"""RunTask's throttling as it can also come: an InvalidParameterException naming EC2's rate
(dagster-io/dagster#33439). botocore does not retry it: the caller must read the message."""
MAX_ATTEMPTS = 2


@dataclass
class Faults:
    """How often each service's calls are throttled; a window of time may raise the rate."""

    rates: dict[str, float] = field(default_factory=dict)
    """Service → share of calls answered with its throttling error."""
    ecs_parameter_throttle: float = 0.0
    """Share of RunTask calls throttled as an InvalidParameterException."""


class Service:
    """One client of one service, as the functions hold it (`ecs.run_task(**params)`)."""

    def __init__(
        self,
        sim: Simulator,
        name: str,
        model: Any,
        faults: Faults,
        *,
        latency: tuple[float, float] = (0.005, 0.06),
        watch: Callable[[str, str, dict[str, Any], Any], None] | None = None,
        tell: Callable[[str, str, dict[str, Any], Any], str | None] | None = None,
    ):
        self._sim, self._name, self._model, self._faults = sim, name, model, faults
        self._latency = latency
        self._watch = watch
        self._tell = tell
        """(service, operation, request, answer) → the trace's line of the call, if any."""
        self.calls: dict[str, int] = {}

    @property
    def exceptions(self) -> Any:
        return self._model.exceptions

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        if operation.startswith("_"):
            raise AttributeError(operation)
        return functools.partial(self._call, operation)

    def _travel(self) -> None:
        self._sim.pause(self._sim.rng.uniform(*self._latency))

    def _call(self, operation: str, **params: Any) -> Any:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self._travel()
            key = f"{self._name}.{operation}"
            self.calls[key] = self.calls.get(key, 0) + 1
            try:
                answer = self._answer(operation, params)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                self._note(operation, params, error)
                if self._watch is not None:
                    self._watch(self._name, operation, params, error)
                self._travel()
                if code in RETRYABLE and attempt < MAX_ATTEMPTS:
                    self._sim.pause(self._sim.rng.uniform(0, 1))
                    continue
                raise
            self._note(operation, params, answer)
            if self._watch is not None:
                self._watch(self._name, operation, params, answer)
            self._travel()
            return answer
        raise AssertionError("unreachable")

    def _note(self, operation: str, params: dict[str, Any], answer: Any) -> None:
        line = self._tell(self._name, operation, params, answer) if self._tell else None
        if line is not None:
            self._sim.note(line)

    def _answer(self, operation: str, params: dict[str, Any]) -> Any:
        rng = self._sim.rng
        rate = self._faults.rates.get(self._name, 0.0)
        if rate and rng.random() < rate:
            raise client_error(THROTTLED[self._name], "Rate exceeded", operation)
        if (
            operation == "run_task"
            and self._faults.ecs_parameter_throttle
            and rng.random() < self._faults.ecs_parameter_throttle
        ):
            subnets = params.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
            message = ECS_THROTTLED_AS_PARAMETER.format(
                subnet=", ".join(subnets.get("subnets", []))
            )
            raise client_error("InvalidParameterException", message, "RunTask")
        return getattr(self._model, operation)(**params)


class Topic:
    """The notifications topic: what was published, by run and for alarms."""

    def __init__(self, sim: Simulator):
        self._sim = sim
        self.by_run: dict[str, list[str]] = {}
        """Run id → the status of each notice published for it."""
        self.alarms: list[tuple[float, str]] = []
        """(when, subject) of each alarm published."""

    def publish(self, **params: Any) -> dict[str, Any]:
        attributes = params.get("MessageAttributes") or {}
        run = attributes.get("runId", {}).get("StringValue")
        if run is None:
            self.alarms.append((self._sim.t, str(params.get("Subject"))))
        else:
            status = attributes.get("status", {}).get("StringValue", "?")
            self.by_run.setdefault(run, []).append(status)
        return {"MessageId": f"m-{sum(map(len, self.by_run.values())) + len(self.alarms)}"}


class LogGroups:
    """CloudWatch Logs for the notices' last lines: no task of the simulation writes any, and a
    stream a task never wrote is ResourceNotFoundException (GetLogEvents)."""

    class exceptions:  # noqa: N801 - boto3's client attribute
        class ResourceNotFoundException(ClientError):
            def __init__(self) -> None:
                super().__init__(
                    {"Error": {"Code": "ResourceNotFoundException", "Message": "no stream"}},
                    "GetLogEvents",
                )

    def get_log_events(self, **params: Any) -> dict[str, Any]:
        raise self.exceptions.ResourceNotFoundException()
