"""The client's boto3 clients, and AWS's errors in the client's words.

boto3 is imported when a first client is made, not with the package: `longjobs --help` and a
bad argument answer without loading it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from longjobs.errors import CredentialsError, LongjobsError, StackNotFound, Throttled, TriggerFailed
from longjobs.outputs import StackOutputs

TRIGGER_TIMEOUT_SECONDS = 120
"""The trigger Lambda's timeout, as components/trigger.py declares it (TIMEOUT_SECONDS; a test
holds them equal)."""
INIT_SECONDS = 10
"""Lambda's init phase before a cold invocation, at most 10 s (Lambda developer guide,
"Understanding the Lambda execution environment lifecycle")."""
READ_TIMEOUT_SECONDS = TRIGGER_TIMEOUT_SECONDS + INIT_SECONDS + 20
"""Longer than a synchronous invoke can take, so that the client never gives up on an answer the
trigger is still making; a timed-out call retried (retries mode standard) is safe because every
run request carries its idempotency key."""
CONNECT_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 3
"""Tries of a call (botocore's standard retry mode: throttling and passing errors, backoff)."""
PLACEHOLDER_CREDENTIALS = {"aws_access_key_id": "longjobs-local", "aws_secret_access_key": "local"}
"""For a local stack (`endpointUrls`) when no credentials are configured: it checks none."""

CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "AccessDeniedException",
        "AccessDenied",
    }
)
THROTTLING_CODES = frozenset(
    {"TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded"}
)


def session() -> Any:
    """A new boto3 session (the environment's profile and credentials); tests replace it."""
    import boto3

    return boto3.session.Session()


def make_client(aws_session: Any, service: str, outputs: StackOutputs) -> Any:
    from botocore.config import Config

    config = Config(
        region_name=outputs.region,
        read_timeout=READ_TIMEOUT_SECONDS,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    )
    options: dict[str, Any] = {"config": config}
    endpoint = outputs.endpoint_urls.get(service)
    if endpoint is not None:
        options["endpoint_url"] = endpoint
        if aws_session.get_credentials() is None:
            options.update(PLACEHOLDER_CREDENTIALS)
    return aws_session.client(service, **options)


@contextmanager
def calling(what: str) -> Iterator[None]:
    """Run AWS calls, raising what fails as the client's typed errors; `what` names the call
    in the message ("invoking longjobs-dev-trigger")."""
    from botocore import exceptions

    try:
        yield
    except LongjobsError:
        raise
    except exceptions.ClientError as error:
        raise from_client_error(error, what) from None
    except exceptions.NoCredentialsError as error:
        raise CredentialsError(f"no AWS credentials for {what}: {error}") from None
    except (
        exceptions.PartialCredentialsError,
        exceptions.ProfileNotFound,
        exceptions.ConfigParseError,
        exceptions.ConfigNotFound,
        exceptions.InvalidConfigError,
    ) as error:
        # Raised while the session reads ~/.aws or the environment, before any call is made.
        raise CredentialsError(
            f"AWS credentials or configuration unusable ({what}): {one_line(error)}"
        ) from None
    except (
        exceptions.CredentialRetrievalError,
        exceptions.TokenRetrievalError,
        exceptions.SSOError,
    ) as error:
        raise CredentialsError(
            f"AWS credentials or configuration unusable ({what}): {one_line(error)}"
        ) from None
    except exceptions.BotoCoreError as error:
        raise TriggerFailed(f"{what} failed: {error}") from None


def one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:300]


def from_client_error(error: Any, what: str) -> LongjobsError:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "") or str(error)
    if code in CREDENTIAL_CODES:
        return CredentialsError(f"AWS refused {what} ({code}): {message}")
    if code in THROTTLING_CODES:
        return Throttled(f"AWS throttled {what} after retries ({code}): {message}")
    if code == "ResourceNotFoundException" and what.startswith("invoking"):
        return StackNotFound(f"{what}: the function does not exist ({message}); is the stack up?")
    return TriggerFailed(f"{what} failed ({code}): {message}")
