"""The lifecycle's rules (DESIGN.md, "The lifecycle's rules that everything relies on"), each
checked against the truth the simulator knows: ECS's real tasks, the table's real items, what
callers were told and what was published.

Checked as the world moves (every AWS call, every task change, every invocation's end, every
simulated minute) and once more at the end. Each violation names its rule, the run and the
time; `World` adds the trace.
"""

from __future__ import annotations

import io
import json
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from functions.common import records
from longjobs_contract import runs, start_failures
from simulation import stack
from simulation.lambdas import Outcome, killed
from simulation.services import RETRYABLE as RETRIED

if TYPE_CHECKING:
    from simulation.world import Case, World

LEFT_RUNNING = 15 * 60.0
"""How long a task may run on once its run is final (a stop is sent at the latest by the pass
after a stopped run's task is first seen, or after its timeout)."""
TOLD_WITHIN = 15 * 60.0
"""How long after the supervisor starts failing an alarm must reach the topic: its alarm's
five-minute period, the next evaluation, and the forwarder's delivery."""
LOOKED_AT = 15 * 60.0
"""How long after its task stopped a run's record must show it (the supervisor being up)."""
DESIGNED_ERRORS = {"CapacityUnavailable", "Outage", "RuntimeError"}
"""What a handler raises on purpose so that Lambda retries it: no capacity to start now, and
the injected outage (a broken deploy raises RuntimeError before any handler code runs)."""
AWS_ERRORS = {"ClientError", "ResourceNotFoundException"}
PASS_ERRORS = {"LeaseLost"}
"""What a pass notes on purpose: its lease ran out and another pass works now."""

RULES = {
    "attempt-unrecorded": "a RunTask was sent for an attempt the run's record did not hold",
    "task-after-final": "a task started for a run already final",
    "two-live-tasks": "a run had two live tasks at once",
    "final-while-running": "a run was made final while its task ran on, not stopping",
    "task-left-running": "a final run's task was left running",
    "record-expired-open": "an open run's record expired",
    "stranded": "an accepted run never reached a final state",
    "wrong-final": "a run's final state is not the true one",
    "notices": "a final state was not published exactly once as notify asks",
    "not-looked-at": "a run's stopped task was not reflected in its record in time",
    "unhandled": "an invocation failed with an error nobody designed",
    "pass-killed": "Lambda's timeout killed a reconciliation pass",
    "refused-unseen": "a request that must be refused was answered as accepted",
    "attempt-open": "a final run's record does not say that its attempt's task stopped",
    "stop-failed": "a caller's stop of an open run failed for a reason other than throttling",
    "outage-untold": "the supervisor failed for a quarter of an hour and nobody was told",
    "valid-refused": "a valid request was refused",
}


@dataclass(frozen=True)
class Violation:
    rule: str
    run_id: str | None
    at: str
    detail: str

    def line(self) -> str:
        run = f" run {self.run_id}" if self.run_id else ""
        return f"{self.at} {self.rule}{run}: {RULES[self.rule]}; {self.detail}"


class Invariants:
    def __init__(self, world: World):
        self.world = world
        self.violations: list[Violation] = []
        self._seen: set[tuple[str, str | None]] = set()
        self.accepted: set[str] = set()
        self.final_at: dict[str, tuple[float, str]] = {}
        """Run → (when, status) its record first showed a final status."""
        self.stopped_at: dict[str, float] = {}
        """Task → when ECS stopped it."""
        self.tasks: set[str] = set()

    # --- helpers --------------------------------------------------------------------------------

    def fail(self, rule: str, run_id: str | None, detail: str) -> None:
        if (rule, run_id) in self._seen:
            return  # one violation of a rule per run: the first tells the story
        self._seen.add((rule, run_id))
        violation = Violation(rule, run_id, self.world.sim.stamp(), detail)
        self.violations.append(violation)
        self.world.sim.note(f"VIOLATION {violation.line()}")

    def record(self, run_id: str) -> dict[str, Any] | None:
        answer = self.world.table.get_item(
            {"TableName": stack.TABLE, "Key": {runs.Record.RUN_ID: {"S": run_id}}}
        )
        item = answer.get("Item")
        return records.from_item(item) if item else None

    def live(self, run_id: str) -> list[dict[str, Any]]:
        return [self.world.ecs.tasks[arn] for arn in self.world.ecs.live(run_id)]

    # --- as the world moves ---------------------------------------------------------------------

    def watch(self, service: str, operation: str, params: dict[str, Any], answer: Any) -> None:
        if service == "ecs" and operation == "run_task" and not isinstance(answer, ClientError):
            self._run_task(params, answer)
        elif service == "dynamodb" and operation in ("put_item", "update_item"):
            if isinstance(answer, ClientError):
                return
            key = (params.get("Item") or params.get("Key") or {}).get(runs.Record.RUN_ID, {})
            run_id = key.get("S")
            if runs.is_run_id(run_id):
                self._written(run_id)
        elif service == "sns" and operation == "publish" and not isinstance(answer, ClientError):
            self._published(params)

    def _run_task(self, params: dict[str, Any], answer: dict[str, Any]) -> None:
        run_id = str(params.get("startedBy"))
        record = self.record(run_id)
        attempt = _attempt_of(params)
        if record is None or not _holds(record, attempt):
            self.fail("attempt-unrecorded", run_id, f"attempt {attempt} sent")
        for task in answer.get("tasks") or []:
            arn = task["taskArn"]
            if arn in self.tasks:
                continue  # a token's first answer again: no new task
            self.tasks.add(arn)
            if record is not None and record[runs.Record.STATUS] in runs.FINAL:
                self.fail(
                    "task-after-final",
                    run_id,
                    f"attempt {attempt} started {arn[-6:]} after {record[runs.Record.STATUS]}",
                )
            others = [t for t in self.live(run_id) if t["taskArn"] != arn]
            if others:
                self.fail(
                    "two-live-tasks",
                    run_id,
                    f"{arn[-6:]} started while {others[0]['taskArn'][-6:]} is "
                    f"{others[0]['lastStatus']}",
                )

    def _written(self, run_id: str) -> None:
        if run_id not in self.accepted:
            self.accepted.add(run_id)
        if run_id in self.final_at:
            return
        record = self.record(run_id)
        status = record[runs.Record.STATUS] if record else None
        if status not in runs.FINAL:
            return
        self.final_at[run_id] = (self.world.sim.t, str(status))
        running = [t for t in self.live(run_id) if t.get("desiredStatus") != "STOPPED"]
        if running:
            self.fail(
                "final-while-running",
                run_id,
                f"made {status} while task {running[0]['taskArn'][-6:]} is "
                f"{running[0]['lastStatus']}",
            )

    def _published(self, params: dict[str, Any]) -> None:
        attributes = params.get("MessageAttributes") or {}
        run_id = attributes.get("runId", {}).get("StringValue")
        if run_id and len(self.world.topic.by_run.get(run_id, [])) > 1:
            self.fail("notices", run_id, f"published {self.world.topic.by_run[run_id]}")

    def task_changed(self, task: dict[str, Any]) -> None:
        if task["lastStatus"] == "STOPPED":
            self.stopped_at.setdefault(task["taskArn"], self.world.sim.t)

    def expired(self, item: dict[str, Any]) -> None:
        record = records.from_item(item)
        if record.get(runs.Record.STATUS) not in runs.FINAL and runs.is_run_id(
            record.get(runs.Record.RUN_ID)
        ):
            self.fail(
                "record-expired-open",
                record[runs.Record.RUN_ID],
                f"deleted by TTL while {record.get(runs.Record.STATUS)}",
            )

    def ended(self, outcome: Outcome) -> None:
        error = outcome.invocation.error
        if error is None:
            return
        if outcome.function == "supervisor" and type(error).__name__ != "CapacityUnavailable":
            # The alarm's metric math: Lambda's Errors less the invocations whose log line
            # says no capacity (components/alarms.py).
            self.world.errors_alarm.failed()
        pass_ = outcome.function == "supervisor" and outcome.event == {"action": "reconcile"}
        if killed(outcome):
            if pass_:
                self.fail("pass-killed", None, f"request {outcome.invocation.request_id}")
            return
        name = type(error).__name__
        if name in DESIGNED_ERRORS or isinstance(error, ClientError):
            return
        run_id = _run_of(outcome.event)
        where = " < ".join(
            f"{Path(frame.filename).name}:{frame.lineno}"
            for frame in reversed(traceback.extract_tb(error.__traceback__)[-3:])
        )
        self.fail(
            "unhandled",
            run_id,
            f"{outcome.function} raised {name}: {str(error)[:160]} (at {where})",
        )

    def answered(self, case: Case, event: dict[str, Any], outcome: Outcome) -> None:
        answer = outcome.invocation.result
        if case.scenario.job not in self.world.deployed.jobs:
            return  # its job is not in the stack now: refused, rightly
        if isinstance(answer, dict) and answer.get("error", {}).get("type") == "ValidationError":
            self.fail("valid-refused", case.run_id, str(answer["error"]["message"])[:160])

    def stop_answered(self, case: Case, outcome: Outcome) -> None:
        error = outcome.invocation.error
        if error is None or killed(outcome) or type(error).__name__ in DESIGNED_ERRORS:
            return
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            code, message = details.get("Code", ""), details.get("Message", "")
            if (
                code in RETRIED
                or start_failures.of_error(code, message) == start_failures.TRANSIENT
            ):
                return  # throttled past botocore's retries: the caller sends stop again
        self.fail("stop-failed", case.run_id, f"{type(error).__name__}: {str(error)[:160]}")

    def reused(self, case: Case, outcome: Outcome) -> None:
        answer = outcome.invocation.result
        if outcome.failed:
            return
        if not (isinstance(answer, dict) and answer.get("error")):
            self.fail(
                "refused-unseen",
                case.run_id,
                f"its key with capacity on-demand was answered {_short(answer)}",
            )

    def log_sink(self) -> io.TextIOBase:
        return _LogSink(self)

    def logged(self, line: str) -> None:
        """A request's log line: errors a pass caught must be AWS's, nothing of our own."""
        fields = json.loads(line)
        for error in fields.get("caught") or []:
            kind = str(error).split(": ")[1] if ": " in str(error) else ""
            if kind not in AWS_ERRORS | DESIGNED_ERRORS | PASS_ERRORS:
                self.fail("unhandled", fields.get("runId"), f"the pass caught {str(error)[:160]}")

    # --- every simulated minute -------------------------------------------------------------

    def periodic(self) -> None:
        now = self.world.sim.t
        outage = self.world.settings.outage
        if outage and outage[0] + TOLD_WITHIN <= now < outage[0] + outage[1]:
            alarm = self.world.errors_alarm
            # Told once as the alarm went into ALARM (it may have gone for another failure just
            # before the outage: CloudWatch acts on a change of state only).
            since = alarm.alarmed[-1] if alarm.state == "ALARM" and alarm.alarmed else now
            told = [t for t, subject in self.world.topic.alarms if t >= since]
            if not told:
                self.fail("outage-untold", None, f"down since {outage[0] / 60:.0f} min, no alarm")
        for run_id, (when, status) in self.final_at.items():
            if now - when < LEFT_RUNNING:
                continue
            running = self.live(run_id)
            if running:
                self.fail(
                    "task-left-running",
                    run_id,
                    f"task {running[0]['taskArn'][-6:]} {running[0]['lastStatus']} "
                    f"{(now - when) / 60:.0f} min after the run was {status}",
                )
        outage = self.world.settings.outage
        resumed = outage[0] + outage[1] if outage else 0.0
        for arn, stopped in self.stopped_at.items():
            run_id = self.world.task_run.get(arn, "")
            if run_id in self.final_at or now - max(stopped, resumed) < LOOKED_AT:
                continue
            record = self.record(run_id)
            if record is None or _reflects(record, arn) or self.world.unknowable(arn):
                continue  # reflected, or nothing could have learnt of its end
            self.fail(
                "not-looked-at",
                run_id,
                f"task {arn[-6:]} stopped {(now - stopped) / 60:.0f} min ago; the record is "
                f"{record[runs.Record.STATUS]} at attempt {record[runs.Record.ATTEMPT]}",
            )

    # --- at the end ---------------------------------------------------------------------------

    def finish(self) -> None:
        for run_id in sorted(self.accepted):
            case = self.world.cases.get(run_id)
            if case is None:
                continue
            record = self.record(run_id)
            if record is None:
                continue  # expired after it was final (checked when it expired)
            status = record[runs.Record.STATUS]
            if status not in runs.FINAL:
                attempt = records.current_attempt(record)
                self.fail(
                    "stranded",
                    run_id,
                    f"{status} at the end, attempt {record[runs.Record.ATTEMPT]} "
                    f"({_short(attempt)})",
                )
                continue
            allowed = self.allowed(case)
            if status not in allowed:
                self.fail(
                    "wrong-final",
                    run_id,
                    f"{status} ({record.get(runs.Record.REASON)}) where "
                    f"{' or '.join(sorted(allowed))} is true ({case.scenario.name})",
                )
            self._attempts_closed(run_id, record)
            rules = stack.RULES[case.scenario.job]
            wanted = rules.notify == "all" or (rules.notify == "failures" and status != "SUCCEEDED")
            sent = self.world.topic.by_run.get(run_id, [])
            if len(sent) != int(wanted) or (sent and sent[0] != status):
                self.fail("notices", run_id, f"{status} published as {sent}, notify {rules.notify}")

    def _attempts_closed(self, run_id: str, record: dict[str, Any]) -> None:
        """Each attempt the record names a task for shows that task STOPPED once it is, unless
        every event of its stop was lost after the run was final (nothing reads it again)."""
        for entry in record[runs.Record.ATTEMPTS]:
            arn = entry.get("taskArn")
            if not arn or entry.get("lastStatus") == "STOPPED" or self.world.ecs.end(arn) is None:
                continue
            if arn in self.world.stop_lost:
                continue
            self.fail(
                "attempt-open",
                run_id,
                f"attempt {entry['attempt']} still {entry.get('lastStatus')} though task "
                f"{arn[-6:]} stopped",
            )

    def allowed(self, case: Case) -> set[str]:
        """The final states that are true of the run, by what its tasks really did."""
        tasks = self.world.ecs.tasks_of(case.run_id)
        expected = case.scenario.expected(stack.RULES[case.scenario.job])
        allowed = {expected}
        if case.stopped:
            allowed = {runs.STOPPED} | ({expected} - {runs.SUCCEEDED})
        for arn in tasks:
            end = self.world.ecs.end(arn)
            if end and end.stop_code == "EssentialContainerExited" and end.exit_code == 0:
                allowed = {runs.SUCCEEDED}  # its job completed: nothing else is true
        if any(self.world.unknowable(arn) for arn in tasks):
            # How its task ended was lost for good: FAILED says so, or STOPPED as its caller
            # asked.
            allowed |= {runs.FAILED, runs.STOPPED} if case.stopped else {runs.FAILED}
        if case.reclaimed:
            allowed.add(runs.FAILED)  # one more interruption than its scenario may exhaust them
        if case.job_left:
            allowed.add(runs.FAILED)  # a re-run of a job no longer in the stack cannot start
        return allowed


class _LogSink(io.TextIOBase):
    """Where the handlers' log lines go in the simulation: read for what they caught."""

    def __init__(self, invariants: Invariants):
        self._invariants = invariants

    def write(self, text: str) -> int:
        if '"caught"' in text:
            for line in text.splitlines():
                if line.startswith("{"):
                    self._invariants.logged(line)
        return len(text)


def _attempt_of(params: dict[str, Any]) -> int | None:
    for override in params.get("overrides", {}).get("containerOverrides", []):
        for variable in override.get("environment", []):
            if variable.get("name") == runs.ATTEMPT_VARIABLE:
                return int(variable["value"])
    return None


def _holds(record: dict[str, Any], attempt: int | None) -> bool:
    return any(
        int(a.get("firstAttempt", a["attempt"])) <= (attempt or -1) <= int(a["attempt"])
        for a in record[runs.Record.ATTEMPTS]
    )


def _reflects(record: dict[str, Any], task_arn: str) -> bool:
    """Whether the record knows the task stopped, or has moved past its attempt."""
    for entry in record[runs.Record.ATTEMPTS]:
        if entry.get("taskArn") == task_arn:
            return (
                entry.get("lastStatus") == "STOPPED"
                or entry["attempt"] < record[runs.Record.ATTEMPT]
            )
    return False


def _run_of(event: Any) -> str | None:
    if isinstance(event, dict):
        if runs.is_run_id(event.get("runId")):
            return str(event["runId"])
        detail = event.get("detail")
        if isinstance(detail, dict) and runs.is_run_id(detail.get("startedBy")):
            return str(detail["startedBy"])
        if isinstance(event.get("job"), str) and isinstance(event.get("idempotencyKey"), str):
            return runs.run_id(event["job"], event["idempotencyKey"])
    return None


def _short(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)[:200]
