"""The client's typed errors: each carries the message a user acts on (the trigger's own, when
the trigger gave one), one line."""

from __future__ import annotations


class LongjobsError(Exception):
    """Anything the client could not do; `str(error)` is one line for a user."""


class ValidationError(LongjobsError):
    """The trigger refused the request (bad job, environment, key, ...), or the client refused
    an argument before asking: nothing was recorded or started."""


class NotFound(LongjobsError):
    """No run (or task) by that id: never started, or its record is past its retention."""


class Throttled(LongjobsError):
    """AWS throttled the call after the client's retries; sending it again later is safe."""


class StackNotFound(LongjobsError):
    """No stack outputs were found where the client looked, or they are not a stack's."""


class CredentialsError(LongjobsError):
    """No AWS credentials, expired ones, or ones not allowed to invoke the trigger."""


class TriggerFailed(LongjobsError):
    """The trigger raised (an AWS failure inside it) or AWS failed the call: sending the same
    request again, with the same idempotency key, is safe."""


class WaitTimeout(LongjobsError):
    """`wait(timeout=...)` ran out before the run was final; the run goes on."""

    def __init__(self, message: str, last: object = None):
        super().__init__(message)
        self.last = last
        """The run's last status read (a `longjobs.models.Status`), when there was one."""


class NotARun(TriggerFailed):
    """The trigger answered something that is not a run (a field missing, of the wrong type,
    or a status the client does not know)."""
