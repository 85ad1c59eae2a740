"""What the job lifecycle itself costs per million runs, beside a Step Functions standard workflow.

Everything a run takes besides its own Fargate task: the trigger and supervisor Lambdas, the
runs table, EventBridge and SNS. Public us-east-1 list prices, checked 2026-11; the counts per run
are this project's own (the trigger's 2 calls, 5 task state changes a run, the notice's writes),
printed with the figures so that a reader can redo the sums.
"""

from __future__ import annotations

from dataclasses import dataclass

LAMBDA_REQUEST = 0.20 / 1e6
"""AWS Lambda pricing: $0.20 per million requests."""
LAMBDA_ARM_GB_SECOND = 0.0000133334
"""AWS Lambda pricing, arm64: $0.0000133334 per GB-second."""
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
"""DynamoDB on-demand, us-east-1 since November 2024: $0.625 per million write request units."""
DYNAMODB_READ_UNIT = 0.125 / 1e6
"""... and $0.125 per million read request units."""
SNS_PUBLISH = 0.50 / 1e6
"""Amazon SNS: $0.50 per million publishes (beyond the first million a month, free)."""
STEP_FUNCTIONS_TRANSITION = 0.025 / 1000
"""AWS Step Functions standard workflows: $0.025 per 1,000 state transitions."""
EVENTBRIDGE_AWS_EVENTS = 0.0
"""EventBridge: events AWS services publish to the default bus, and their delivery, are free."""
RECONCILE_PER_MONTH = 43_800  # one pass a minute, 730 hours


@dataclass(frozen=True)
class PerRun:
    """What one run uses, for a job whose run ends in one attempt."""

    trigger_invocations: float = 1
    trigger_seconds: float = 0.2
    supervisor_events: float = 5  # PROVISIONING, PENDING, RUNNING, DEPROVISIONING, STOPPED
    supervisor_seconds: float = 0.1
    memory_gb: float = 0.25  # both functions: 256 MB
    table_writes: float = 3  # the record, RUNNING, the final state
    notice_writes: float = 2  # the notice taken, then sent (failures only, by default)
    item_kb: float = 3  # a record with its request and attempts
    indexes_written: float = 3  # byJob, byStatus, newest (toNotify while a notice is due)
    table_reads: float = 5  # the supervisor reads the record once an event
    notices: float = 1
    step_functions_transitions: float = 6
    """A Copilot-style job: start, run the task and wait, check, retry or succeed, end."""


def per_million_runs(per_run: PerRun = PerRun()) -> dict[str, float]:
    """USD per million runs, by what pays for it."""
    runs = 1e6
    invocations = per_run.trigger_invocations + per_run.supervisor_events
    seconds = (
        per_run.trigger_invocations * per_run.trigger_seconds
        + per_run.supervisor_events * per_run.supervisor_seconds
    )
    lambda_cost = runs * (
        invocations * LAMBDA_REQUEST + seconds * per_run.memory_gb * LAMBDA_ARM_GB_SECOND
    )
    write_units = (
        (per_run.table_writes + per_run.notice_writes)
        * per_run.item_kb
        * (1 + per_run.indexes_written)
    )
    read_units = per_run.table_reads * max(1.0, per_run.item_kb / 4)
    dynamodb = runs * (write_units * DYNAMODB_WRITE_UNIT + read_units * DYNAMODB_READ_UNIT)
    sns = runs * per_run.notices * SNS_PUBLISH
    step_functions = runs * per_run.step_functions_transitions * STEP_FUNCTIONS_TRANSITION
    return {
        "Lambda (trigger and supervisor)": lambda_cost,
        "DynamoDB (the run records and their indexes)": dynamodb,
        "EventBridge (task state changes)": EVENTBRIDGE_AWS_EVENTS,
        "SNS (one notice a run)": sns,
        "longjobs lifecycle, in all": lambda_cost + dynamodb + sns,
        "Step Functions standard workflow, for the same runs": step_functions,
    }


def reconciliation_per_month(memory_gb: float = 0.25, seconds: float = 0.3) -> float:
    """The every-minute pass, whatever the number of runs (before Lambda's free tier)."""
    return RECONCILE_PER_MONTH * (LAMBDA_REQUEST + seconds * memory_gb * LAMBDA_ARM_GB_SECOND)


def print_lifecycle_costs() -> None:
    per_run = PerRun()
    print(
        "\n  The job lifecycle per million runs, besides their Fargate tasks (us-east-1 list "
        "prices, checked 2026-11)"
    )
    print(
        f"    per run: {per_run.trigger_invocations:g} trigger invocation, "
        f"{per_run.supervisor_events:g} task state change events, "
        f"{per_run.table_writes + per_run.notice_writes:g} writes of a "
        f"{per_run.item_kb:g} KB record to the table and {per_run.indexes_written:g} indexes, "
        f"{per_run.notices:g} notice; a Step Functions workflow of "
        f"{per_run.step_functions_transitions:g} state transitions"
    )
    for what, cost in per_million_runs(per_run).items():
        print(f"    {what:<55} {cost:>9.2f}")
    print(
        f"    the reconciliation pass and timeouts, a schedule every minute: "
        f"{reconciliation_per_month():.2f} a month whatever the number of runs"
    )
