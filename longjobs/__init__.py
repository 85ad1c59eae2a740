"""The longjobs client: start and follow the jobs of a deployed longjobs stack.

    from longjobs import Stack
    stack = Stack.discover()                    # or Stack.from_outputs_file("outputs.json")
    run = stack.run("report", environment={"REPORT_DAY": "2026-11-01"})
    result = run.wait()                         # result.status.status, result.exit_code
    for line in run.logs():
        print(line.attempt, line.time, line.message)

It talks to the stack's trigger Lambda and to CloudWatch Logs only (boto3); `longjobs` is the
command on it.
"""

from longjobs.errors import (
    CredentialsError,
    LongjobsError,
    NotFound,
    StackNotFound,
    Throttled,
    TriggerFailed,
    ValidationError,
    WaitTimeout,
)
from longjobs.models import LogLine, Result, Status
from longjobs.run import Run
from longjobs.stack import Stack

__all__ = [
    "CredentialsError",
    "LogLine",
    "LongjobsError",
    "NotFound",
    "Result",
    "Run",
    "Stack",
    "StackNotFound",
    "Status",
    "Throttled",
    "TriggerFailed",
    "ValidationError",
    "WaitTimeout",
]
