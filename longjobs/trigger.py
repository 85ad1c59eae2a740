"""Calling the trigger Lambda synchronously and reading its answer.

Invoke (Lambda API reference): RequestResponse answers StatusCode 200 and the function's JSON in
`Payload`; a function that raised still answers 200, with `FunctionError` ("Unhandled") and
`{"errorMessage", "errorType", ...}` as the payload. The trigger answers bad input and unknown
runs as data, `{"error": {"type": "ValidationError" | "NotFound", "message": ...}}`, and raises
what is worth a retry (throttling inside, no capacity).
"""

from __future__ import annotations

import json
from typing import Any

from longjobs import aws
from longjobs.errors import LongjobsError, NotFound, Throttled, TriggerFailed, ValidationError

ANSWERED_ERRORS: dict[str, type[LongjobsError]] = {
    "ValidationError": ValidationError,
    "NotFound": NotFound,
}
THROTTLED_MARKS = ("ThrottlingException", "Rate exceeded", "TooManyRequestsException")


def invoke(
    lambda_client: Any, function: str, event: dict[str, Any], qualifier: str | None = None
) -> dict[str, Any]:
    """The trigger's answer to `event`, or the typed error it (or AWS) gave. `qualifier`: the
    alias a caller from another account invokes (the trigger knows who asked by it)."""
    shown = f"{function}:{qualifier}" if qualifier else function
    with aws.calling(f"invoking {shown}"):
        response = lambda_client.invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
            **({"Qualifier": qualifier} if qualifier else {}),
        )
        body = response["Payload"].read()
    try:
        answer = json.loads(body or b"null")
    except json.JSONDecodeError:
        raise TriggerFailed(f"{function} answered something that is not JSON") from None
    if response.get("FunctionError"):
        raise _raised(function, answer)
    if not isinstance(answer, dict):
        raise TriggerFailed(f"{function} answered {str(answer)[:80]!r}, not a JSON object")
    error = answer.get("error")
    if isinstance(error, dict):
        kind = ANSWERED_ERRORS.get(str(error.get("type")), TriggerFailed)
        raise kind(str(error.get("message", "")))
    return answer


def _raised(function: str, answer: Any) -> LongjobsError:
    details = answer if isinstance(answer, dict) else {}
    message = " ".join(str(details.get("errorMessage", answer)).split())
    kind = details.get("errorType", "error")
    if any(mark in message for mark in THROTTLED_MARKS):
        return Throttled(f"{function} was throttled by AWS ({kind}): {message}")
    return TriggerFailed(f"{function} failed ({kind}): {message}")
