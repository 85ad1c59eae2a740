"""The stack's functions, as the program declares them (name, handler, timeout, environment,
aliases, async retries and on-failure destination), run in this process behind Lambda's Invoke
API (AWS Lambda API reference, "Invoke")."""

from __future__ import annotations

import importlib
import json
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.stack import LocalStack
from local.timers import Timers

FUNCTION = "aws:lambda/function:Function"
ALIAS = "aws:lambda/alias:Alias"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
# Lambda retries a failed async invocation twice by default, "one minute ... then two minutes"
# between them ("How Lambda handles errors and retries with asynchronous invocation").
RETRY_PAUSES = (60.0, 120.0)
ASYNC_RETRIES = 2


@dataclass(frozen=True)
class Declared:
    """One function as the program declares it."""

    name: str
    arn: str
    handler: str
    """module.attribute, as Lambda's `handler` setting names it."""
    timeout: float
    environment: dict[str, str]
    aliases: frozenset[str]
    retries: int = ASYNC_RETRIES
    on_failure: str | None = None
    """The ARN of the SQS queue or SNS topic a failed async invocation's record goes to."""


@dataclass(frozen=True)
class Context:
    """What Lambda passes a handler (the Python runtime's context object's members we use)."""

    aws_request_id: str
    invoked_function_arn: str
    function_name: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Outcome:
    """What one invocation came to: a result, or the error Lambda reports as `Unhandled`."""

    result: Any = None
    error: dict[str, Any] | None = None


def declared_functions(stack: LocalStack) -> dict[str, Declared]:
    """Function name → what the program declares for it."""
    program = stack.program
    aliases: dict[str, set[str]] = {}
    for alias in program.by_type(ALIAS):
        aliases.setdefault(alias.inputs["functionName"], set()).add(alias.inputs["name"])
    invoke_configs = {
        c.inputs["functionName"]: c.inputs
        for c in program.by_type(INVOKE_CONFIG)
        if not c.inputs.get("qualifier")
    }
    found = {}
    for function in program.by_type(FUNCTION):
        name, inputs = str(function.state["name"]), function.inputs
        config = invoke_configs.get(name, {})
        found[name] = Declared(
            name=name,
            arn=str(function.state["arn"]),
            handler=inputs["handler"],
            timeout=float(inputs.get("timeout", 3)),
            environment=dict((inputs.get("environment") or {}).get("variables") or {}),
            aliases=frozenset(aliases.get(name, ())),
            retries=int(config.get("maximumRetryAttempts", ASYNC_RETRIES)),
            on_failure=(config.get("destinationConfig") or {})
            .get("onFailure", {})
            .get("destination"),
        )
    return found


@dataclass
class LocalFunctions:
    """The declared functions, each loaded on its first invocation (after the runtime has set
    the environment their module-level clients read)."""

    declared: dict[str, Declared]
    timers: Timers
    send_failure: Callable[[str, dict[str, Any]], None]
    """(destination ARN, invocation record): what Lambda's on-failure destination sends."""
    _handlers: dict[str, Callable[[Any, Any], Any]] = field(default_factory=dict)

    def find(self, name: str, qualifier: str | None) -> tuple[Declared, str] | None:
        """The function a FunctionName (name, name:alias, partial or full ARN) and Qualifier
        name, and the ARN it was invoked by; None when there is no such function or alias."""
        parts = name.split(":")
        if name.startswith("arn:"):
            parts = parts[6:]
        elif len(parts) >= 3 and parts[1] == "function":
            parts = parts[2:]  # account:function:name[:qualifier]
        function = self.declared.get(parts[0])
        qualifier = qualifier or (parts[1] if len(parts) > 1 else None)
        if function is None or qualifier not in (None, "$LATEST", *function.aliases):
            return None
        invoked = function.arn if qualifier is None else f"{function.arn}:{qualifier}"
        return function, invoked

    def run(self, function: Declared, invoked_arn: str, event: Any, request_id: str) -> Outcome:
        handler = self.load(function)
        deadline = time.monotonic() + function.timeout
        context = Context(request_id, invoked_arn, function.name, deadline)
        try:
            return Outcome(result=handler(event, context))
        except Exception as error:  # Lambda answers any error raised as `Unhandled`
            return Outcome(
                error={
                    "errorMessage": str(error),
                    "errorType": type(error).__name__,
                    "stackTrace": traceback.format_tb(error.__traceback__),
                }
            )

    def send(self, function: Declared, invoked_arn: str, event: Any, in_order: bool = False) -> str:
        """An async invocation (InvocationType Event): queued, run, retried on a raised error
        with the same request id, then its record to the on-failure destination. `in_order`:
        its first try runs after every earlier one sent so (the task state changes: see
        `dev._local_ecs`)."""
        request_id = str(uuid.uuid4())
        queue = self.timers.in_order if in_order else self.timers.soon
        queue(lambda: self._attempt(function, invoked_arn, event, request_id, 0))
        return request_id

    def _attempt(
        self, function: Declared, invoked_arn: str, event: Any, request_id: str, tried: int
    ) -> None:
        outcome = self.run(function, invoked_arn, event, request_id)
        if outcome.error is None:
            return
        if tried < min(function.retries, len(RETRY_PAUSES)):
            self.timers.after(
                RETRY_PAUSES[tried],
                lambda: self._attempt(function, invoked_arn, event, request_id, tried + 1),
            )
        elif function.on_failure:
            self.send_failure(
                function.on_failure, failure_record(invoked_arn, request_id, event, outcome, tried)
            )

    def load(self, function: Declared) -> Callable[[Any, Any], Any]:
        if function.name not in self._handlers:
            module, attribute = function.handler.rsplit(".", 1)
            self._handlers[function.name] = getattr(importlib.import_module(module), attribute)
        return self._handlers[function.name]


def failure_record(
    invoked_arn: str, request_id: str, event: Any, outcome: Outcome, tried: int
) -> dict[str, Any]:
    """The invocation record Lambda sends a failed async invocation's destination
    ("Capturing records of Lambda asynchronous invocations": the record's shape)."""
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": invoked_arn,
            "condition": "RetriesExhausted",
            "approximateInvokeCount": tried + 1,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": outcome.error,
    }


def payload(outcome: Outcome) -> bytes:
    return json.dumps(outcome.error if outcome.error else outcome.result).encode()
