"""The supervisor's reconciliation pass: every minute, what events did not tell.

It stops attempts past their job's timeout or start timeout, brings runs whose events were lost
up to date from DescribeTasks (or ListTasks, or their token), presumes nothing gone without asking
ECS, and publishes the notices final states are due. One pass works at a time (a lease), every
loop of it stops at its deadline, and it keeps its position as it goes. It uses the supervisor's
clients and applies what it learns as the supervisor applies an event (`supervisor.apply`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from functions.common import attempts, clock, records, request_log
from functions.supervisor import concurrency, failed_events, publishing, supervisor
from longjobs_contract import lifecycle, runs, trigger_config
from longjobs_contract.jobs import JobContract, LifecycleRules

RECONCILE_AFTER = timedelta(minutes=2)
"""How long a run waits on its events before the reconciliation pass asks ECS."""
MISSING = "MISSING"
"""DescribeTasks' failure reason for a task it does not know (not yet, or no longer)."""
VISIBLE_WITHIN = timedelta(minutes=5)
"""How long after RunTask a task may stay unknown to DescribeTasks: AWS advises describing
with backoff for up to five minutes (ECS API reference, RunTask, eventual consistency)."""
PAGE = 100
"""Runs read a page, and described a call (DescribeTasks takes at most 100 tasks)."""
WORKERS = 8
"""Runs (and notices) a pass works on side by side: its calls wait on AWS, not on the CPU, and
slow calls must not leave open runs unlooked at (the simulation's load worlds: one worker falls
behind by a quarter of an hour). ECS answers RunTask 20 times a second per account (ECS API
reference, "Request throttling"): eight workers go past that only with calls faster than 0.4 s,
and a throttled call is retried by botocore, then left for the next pass."""
MAX_RECONCILED = 1000
"""Runs read per status and pass, oldest first from where the last pass stopped."""
FAILED_EVENTS_SECONDS = 10.0
PASS_SECONDS = {runs.RUNNING: 25.0, runs.PENDING: 40.0}
NOTICES_SECONDS = 50.0
"""When, from its start, the pass begins no more work of each kind: failed events, then each
status (RUNNING first; PENDING gets what RUNNING leaves of 40 s, at least 15), then notices.
Every loop checks its deadline before each piece of work (a run's calls, a notice), so a pass
ends within its last deadline and one piece's calls: far inside the function's timeout, and
mostly before the next minute's pass (which finds the lease held, and does nothing, if not)."""


def reconcile(config: trigger_config.TriggerConfig, owner: str = "local") -> dict[str, Any]:
    """Every minute: stop attempts past their job's timeout, and bring every run still waiting
    on ECS up to date from DescribeTasks, as if its events had come.

    Each status is read oldest first from where the last pass stopped (kept in one item of the
    runs table), at most MAX_RECONCILED runs and PASS_SECONDS of it, and from its oldest run
    again once its newest was read: with N runs open in a status, each is looked at once every
    ceil(N / MAX_RECONCILED) passes, and every pass when there are fewer.

    A run is brought up to date once nothing was written to it for RECONCILE_AFTER: its events,
    if they come, have had their time. An attempt whose task is not known yet is sent again
    once its sender is gone while ECS answers it by its token (the answer names the task), or
    asked of ECS by the run's id; one older than that with no task seen ends the run FAILED,
    visibly, once no failed event is left that could tell.
    """
    store = records.RunStore(supervisor.dynamodb, config.runs_table, config.run_retention_days)
    now = records.now()
    began = clock.monotonic()
    # Held at most as long as this invocation can live: a pass Lambda kills gives it up so.
    if not store.take_pass(owner, now + timedelta(seconds=supervisor.FUNCTION_TIMEOUT_SECONDS)):
        return {"outcome": "skipped", "why": "another pass is working"}
    counts = {
        "read": 0,
        "looked": 0,
        "timedOut": 0,
        "notOwned": 0,
        "resent": 0,
        "lost": 0,
        "applied": 0,
        "final": 0,
        "errors": 0,
        "forgotten": 0,
        "takenAgain": 0,
        "notified": 0,
    }

    lock = threading.Lock()

    def failed(what: str, error: Exception) -> None:
        # One run's trouble must not stop the pass for the others: the next pass tries again.
        with lock:  # the pass's workers fail side by side
            counts["errors"] += 1
        request_log.append("caught", f"{what}: {type(error).__name__}: {error}")

    # A run's task is presumed gone, or its end unknown, only once no failed event is left
    # that could tell how it ended.
    drained = not config.supervisor_failure_queue
    if config.supervisor_failure_queue:
        try:
            counts["takenAgain"], drained = failed_events.take_again(
                supervisor.sqs,
                config.supervisor_failure_queue,
                lambda event: supervisor.supervise(event, config),
                began + FAILED_EVENTS_SECONDS,
                failed,
            )
        except Exception as error:  # the queue: the next pass takes its events
            failed("the failure queue", error)
    pass_ = _Pass(config, store, now, counts, failed, verdicts=drained, owner=owner)
    try:
        pass_.cursors.update(store.pass_cursors())
    except Exception as error:  # read from the oldest runs, as a first pass does
        failed("the pass's cursor", error)
    try:
        for status in (runs.RUNNING, runs.PENDING):
            try:
                pass_.sweep(status, began + PASS_SECONDS[status])
            except LeaseLost:
                raise
            except Exception as error:  # the query: this status's next pass goes on from here
                failed(f"runs {status}", error)
        try:
            counts["notified"] = publishing.publish_due(
                config, store, now, failed, began + NOTICES_SECONDS, WORKERS
            )
        except Exception as error:  # the query of due notices: the next pass publishes them
            failed("notices", error)
        if not store.save_pass_cursors(pass_.cursors, owner):
            raise LeaseLost()
    except LeaseLost as lost:  # another pass works now: this one stops, its cursors unsaved
        failed("the pass's cursor", lost)
    except Exception as error:  # the lease runs out by itself; the cursors kept stand
        failed("the pass's cursor", error)
    return {"outcome": "reconciled", **counts}


class LeaseLost(RuntimeError):
    """The pass's lease ran out and another pass took it: this one stops at once."""

    def __init__(self) -> None:
        super().__init__("another pass took over: its cursors stand")


class _Pass:
    """One reconciliation pass over the runs still waiting on ECS."""

    def __init__(
        self,
        config: trigger_config.TriggerConfig,
        store: records.RunStore,
        now: datetime,
        counts: dict[str, int],
        failed: Callable[[str, Exception], None],
        *,
        verdicts: bool = True,
        owner: str = "local",
    ):
        self.config, self.store, self.now = config, store, now
        self.counts, self.failed = counts, failed
        self.verdicts = verdicts
        """Whether this pass may presume a task gone or its end unknown (the failure queue
        holds no event that could tell)."""
        self.owner = owner
        self.lock = threading.Lock()
        self.cursors: dict[str, dict[str, Any] | None] = {}
        """Status → the index position to go on from (None or absent: from the oldest)."""

    def sweep(self, status: str, deadline: float) -> None:
        """Look at the runs in `status` from its cursor, oldest first, going on from the oldest
        once the newest is passed, until MAX_RECONCILED runs or `deadline`; the cursor is kept
        before each next page (and at the pass's end), so that a pass that dies loses at most a
        page's position."""
        seen: set[str] = set()
        start = self.cursors.get(status)
        position, wrapped = start, start is None
        while len(seen) < MAX_RECONCILED and clock.monotonic() < deadline:
            page, following = self.store.oldest_in(
                status, min(PAGE, MAX_RECONCILED - len(seen)), position
            )
            fresh = [r for r in page if r[runs.Record.RUN_ID] not in seen]
            looked = self.look_at(fresh, deadline)
            seen.update(r[runs.Record.RUN_ID] for r in looked)
            if len(looked) < len(fresh):
                # Out of time: the next pass goes on from the last run looked at.
                if looked:
                    self.cursors[status] = records.status_position(looked[-1])
                return
            if len(fresh) < len(page) or (following is None and wrapped):
                self.cursors[status] = None  # round the whole status: next from the oldest
                return
            if following is None:
                position, wrapped = None, True  # past the newest: on from the oldest
            else:
                position = following
            self._keep(status, position)

    def _keep(self, status: str, position: dict[str, Any] | None) -> None:
        """Where this status's next pass goes on from, kept now (over the lease)."""
        if self.cursors.get(status) == position:
            return  # as kept: no write
        self.cursors[status] = position
        try:
            kept = self.store.save_pass_cursors(self.cursors, self.owner, release=False)
        except Exception as error:  # the position kept last stands
            self.failed("the pass's cursor", error)
            return
        if not kept:
            raise LeaseLost()

    def look_at(self, waiting: list[dict[str, Any]], deadline: float) -> list[dict[str, Any]]:
        """Stop what is past its timeout, and bring what has been quiet up to date; the runs
        looked at: the first of `waiting`, each taken before the deadline and done (the next
        pass goes on after the last).

        The tasks the records name are described together first (one call for 100); a run
        whose task is not known yet is asked of ECS, and its tasks described, as it is taken.
        WORKERS runs are worked on side by side."""
        asked = {arn for record in waiting for arn in self._named_tasks(record)}
        known: dict[str, dict[str, Any] | str] = self._describe(sorted(asked))

        def look(record: dict[str, Any]) -> None:
            self._count("read")
            try:
                tasks = self._named_tasks(record)
                answers = known
                if self._quiet(record):
                    tasks = self._tasks_of(record)
                    unknown = [arn for arn in tasks if arn not in asked]
                    if unknown:
                        answers = {**known, **self._describe(unknown)}
                for step in self._work(record, tasks, answers):
                    step()
            except Exception as error:  # a record the pass cannot read holds up no other
                self.failed(str(record.get(runs.Record.RUN_ID)), error)

        taken = concurrency.each(waiting, look, workers=WORKERS, until=deadline)
        return waiting[:taken]

    def _quiet(self, record: dict[str, Any]) -> bool:
        """Nothing was written to the run for RECONCILE_AFTER: its events had their time."""
        return self.now - _time(record[runs.Record.UPDATED_AT]) >= RECONCILE_AFTER

    def _named_tasks(self, record: dict[str, Any]) -> list[str]:
        """The current attempt's task the record names, if the pass is to describe it: the run
        is quiet, or the task past its time. None of a record it cannot read (`look` says
        why)."""
        try:
            current = records.current_attempt(record).get("taskArn")
            wanted = current and (self._quiet(record) or _overdue(record, self.config, self.now))
        except Exception:  # noqa: BLE001 - reported as the run is looked at
            return []
        return [str(current)] if wanted else []

    def _count(self, what: str, more: int = 1) -> None:
        with self.lock:  # workers count side by side
            self.counts[what] += more

    def _work(
        self,
        record: dict[str, Any],
        arns: list[str],
        answers: dict[str, dict[str, Any] | str],
    ) -> list[Callable[[], None]]:
        """What ECS's answers of a run's tasks ask the pass to do (each step its calls)."""
        work: list[Callable[[], None]] = []
        current = records.current_attempt(record).get("taskArn")
        overdue = _overdue(record, self.config, self.now)
        for arn in dict.fromkeys(arns):
            answer = answers.get(arn)
            if arn == current and overdue and isinstance(answer, dict):
                stop = self._timeout_stop(record, answer, overdue)
                if stop is not None:
                    work.append(stop)
            news = self._news(record, arn, answer)
            if news is not None:
                work.append(news)
        return work

    def _timeout_stop(
        self, record: dict[str, Any], task: dict[str, Any], why: str
    ) -> Callable[[], None] | None:
        """Stop the run's task if it ran past its job's timeout, or has not reached RUNNING
        within its start timeout (its stop then re-runs it, as an interruption does)."""
        if not attempts.run_owns(task, record[runs.Record.RUN_ID]):
            self._count("notOwned")
            return None
        if task.get("desiredStatus") == supervisor.STOPPED_TASK:
            return None  # being stopped already: its stop's news will come
        if why == lifecycle.START_TIMEOUT_REASON and task.get("lastStatus") in (
            "RUNNING",
            supervisor.STOPPED_TASK,
        ):
            return None  # it started after all (its events are late): its own timeout holds
        return lambda: self._stop_overdue(record, str(task["taskArn"]))

    def _stop_overdue(self, record: dict[str, Any], task_arn: str) -> None:
        """The stop itself, once the run read again is still past the same attempt's time."""
        try:
            fresh = self._fresh(record)
            why = _overdue(fresh, self.config, self.now) if fresh else None
            if fresh is None or why is None:
                return
            if records.current_attempt(fresh).get("taskArn") != task_arn:
                return  # moved on meanwhile
            supervisor.ecs.stop_task(cluster=self.config.cluster_arn, task=task_arn, reason=why)
        except Exception as error:
            self.failed(record[runs.Record.RUN_ID], error)
            return
        self._count("timedOut")

    def _fresh(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """The run as the table holds it now: the page's copy may be behind a stop or an
        event, and the pass acts only on what is current."""
        return self.store.get(record[runs.Record.RUN_ID])

    def _tasks_of(self, record: dict[str, Any]) -> list[str]:
        """The tasks to describe for a quiet run: its current attempt's, known, or asked of
        ECS (by the attempt's token, or by the run's id as startedBy); none to describe."""
        self._count("looked")
        run_id = record[runs.Record.RUN_ID]
        current = records.current_attempt(record)
        if current.get("taskArn"):
            return [str(current["taskArn"])]
        if "reason" in current:
            return []  # recorded as not started; the invocation that will send the next retries
        try:
            fresh = self._fresh(record)
            if fresh is None or fresh[runs.Record.STATUS] in runs.FINAL:
                return []
            current = records.current_attempt(fresh)
            if current.get("taskArn"):
                return [str(current["taskArn"])]
            if attempts.resendable(fresh, self.now):
                outcome = attempts.start_attempts(
                    supervisor.ecs, self.config, self.store, fresh, resend=True
                )
                self._count("resent")
                self._count("final", outcome.final is not None)
                return [outcome.task_arn] if outcome.task_arn else []
            # Past the token's hour: ECS is asked for any task the run started before it is
            # presumed gone (ListTasks by startedBy lists stopped tasks ECS still remembers).
            started = _started_by(self.config, run_id)
            if started:
                return started
            if (
                self.now - attempts.first_sent(current) < attempts.RESEND_WINDOW
                or not self.verdicts
            ):
                return []  # ECS may show it yet (it is eventually consistent), or an event will
            target = records.job_of(fresh, self.config)
            _lost(self.store, fresh, self.now, target if target else LifecycleRules())
        except Exception as error:
            self.failed(run_id, error)
            return []
        self._count("lost")
        return []

    def _describe(self, arns: list[str]) -> dict[str, dict[str, Any] | str]:
        """Task → what DescribeTasks answers of it: the task, or the failure's reason; a task
        left out (not this cluster's, or its call failed) has no answer, so no news."""
        answers: dict[str, dict[str, Any] | str] = {}
        ours = sorted(arn for arn in set(arns) if self._of_this_cluster(arn))
        self._count("notOwned", len(set(arns)) - len(ours))
        for first in range(0, len(ours), PAGE):  # DescribeTasks takes at most 100 tasks
            self._describe_chunk(ours[first : first + PAGE], answers)
        return answers

    def _of_this_cluster(self, task_arn: str) -> bool:
        """Whether a task ARN a record names is one of this cluster's: ECS refuses a whole
        DescribeTasks naming another cluster's ("Identifier is for cluster ..."), and a record
        can be written around the functions."""
        account, _, cluster = self.config.cluster_arn.partition(":cluster/")
        task = task_arn.removeprefix(f"{account}:task/")
        if task == task_arn:
            return False  # another account's, region's or service's
        # The long ARN format names the cluster; the short one (accounts that kept it) does not.
        return "/" not in task or (task.startswith(f"{cluster}/") and task.count("/") == 1)

    def _describe_chunk(self, chunk: list[str], answers: dict[str, dict[str, Any] | str]) -> None:
        try:
            described = supervisor.ecs.describe_tasks(
                cluster=self.config.cluster_arn, tasks=chunk, include=["TAGS"]
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "InvalidParameterException" and len(chunk) > 1:
                # One task ECS refuses costs its own answer, not its chunk's.
                half = len(chunk) // 2
                self._describe_chunk(chunk[:half], answers)
                self._describe_chunk(chunk[half:], answers)
                return
            self.failed(f"DescribeTasks of {len(chunk)} tasks", error)
            return
        except Exception as error:
            self.failed(f"DescribeTasks of {len(chunk)} tasks", error)
            return
        for task in described.get("tasks") or []:
            answers[str(task["taskArn"])] = task
        for failure in described.get("failures") or []:
            answers.setdefault(str(failure.get("arn")), str(failure.get("reason")))

    def _news(
        self, record: dict[str, Any], task_arn: str, answer: dict[str, Any] | str | None
    ) -> Callable[[], None] | None:
        """What ECS's answer of a run's task asks the pass to do (its calls), if anything."""
        if isinstance(answer, dict):
            if _already_recorded(record, answer):
                if _still_to_stop(record, answer):
                    return lambda: self._stop_again(record, answer)
                return None  # nothing new since the record was read: no read or write for it
            return lambda: self._apply(record, answer)
        if answer == MISSING and self.verdicts:
            return lambda: self._forget(record, task_arn)
        return None

    def _stop_again(self, record: dict[str, Any], task: dict[str, Any]) -> None:
        """A stopped run's task that still runs (StopTask did not reach it): stopped again."""
        try:
            supervisor.ecs.stop_task(
                cluster=self.config.cluster_arn,
                task=task["taskArn"],
                reason=str(record[runs.Record.STOP_REQUESTED]),
            )
        except Exception as error:
            self.failed(record[runs.Record.RUN_ID], error)

    def _apply(self, record: dict[str, Any], task: dict[str, Any]) -> None:
        run_id = record[runs.Record.RUN_ID]
        try:
            answer = supervisor.apply(self.config, self.store, run_id, task)
        except Exception as error:
            self.failed(run_id, error)
            return
        self._count("applied", answer["outcome"] in ("recorded", "rerun"))
        self._count("final", "final" in answer)

    def _forget(self, record: dict[str, Any], task_arn: str) -> None:
        try:
            forgotten = _forgotten(self.config, self.store, record, task_arn, self.now)
            self._count("forgotten", forgotten)
        except Exception as error:
            self.failed(record[runs.Record.RUN_ID], error)


def _still_to_stop(record: dict[str, Any], task: dict[str, Any]) -> bool:
    """Whether a run whose stop is recorded has a task of its own that ECS was not told to stop."""
    return (
        record.get(runs.Record.STOP_REQUESTED) is not None
        and task.get("desiredStatus") != supervisor.STOPPED_TASK
        and task.get("startedBy") == record[runs.Record.RUN_ID]
    )


def _forgotten(
    config: trigger_config.TriggerConfig,
    store: records.RunStore,
    record: dict[str, Any],
    task_arn: str,
    now: datetime,
) -> int:
    """A task ECS answers MISSING: not visible yet (RunTask is eventually consistent), or
    forgotten (ECS forgets a task about an hour after it stops) before its end was seen. The
    latter's run ends FAILED saying so, since nothing can tell how the task ended; 1 if so."""
    fresh = store.get(record[runs.Record.RUN_ID])
    if fresh is None or fresh[runs.Record.STATUS] in runs.FINAL:
        return 0
    entry = next((a for a in fresh[runs.Record.ATTEMPTS] if a.get("taskArn") == task_arn), None)
    if entry is None or entry["attempt"] != fresh[runs.Record.ATTEMPT]:
        return 0  # not the current attempt's task (any more)
    if now - _time(entry.get("sentAt") or entry["requestedAt"]) < VISIBLE_WITHIN:
        return 0
    target = records.job_of(fresh, config)
    if entry.get("stopCode") and target is not None:
        # Its stop was seen (why, and the container's exit code), its last change was not:
        # the end it was told is its end.
        supervisor.apply(
            config,
            store,
            fresh[runs.Record.RUN_ID],
            _stopped_as_told(fresh[runs.Record.RUN_ID], entry, target),
        )
        return 1
    reason = (
        f"attempt {entry['attempt']}: ECS no longer knows task {task_arn.rsplit('/', 1)[-1]} "
        "(it forgets a task about an hour after it stops) and its end was never seen: the "
        "run's outcome is unknown"
    )
    status = runs.FAILED
    if runs.Record.STOP_REQUESTED in fresh:
        status, reason = runs.STOPPED, f"stopped: {fresh[runs.Record.STOP_REQUESTED]} ({reason})"
    changes = {
        runs.Record.STATUS: status,
        runs.Record.REASON: reason,
        runs.Record.UPDATED_AT: records.timestamp(now),
        **lifecycle.notice(target or LifecycleRules(), status),
    }
    return int(store.update(fresh, changes))


def _stopped_as_told(run_id: str, entry: dict[str, Any], target: JobContract) -> dict[str, Any]:
    """A task as DescribeTasks would have shown it STOPPED, from what its attempt recorded of
    its stop (stop code, reason, exit code)."""
    container: dict[str, Any] = {"name": target.container_name}
    if entry.get("exitCode") is not None:
        container["exitCode"] = entry["exitCode"]
    return {
        "taskArn": entry["taskArn"],
        "startedBy": run_id,
        "lastStatus": supervisor.STOPPED_TASK,
        "desiredStatus": supervisor.STOPPED_TASK,
        "version": int(entry.get("version", 0)) + 1,
        "stopCode": entry["stopCode"],
        "stoppedReason": entry.get("stoppedReason"),
        "containers": [container],
        "overrides": {
            "containerOverrides": [
                {
                    "name": target.container_name,
                    "environment": [
                        {"name": runs.ATTEMPT_VARIABLE, "value": str(entry["attempt"])}
                    ],
                }
            ]
        },
    }


def _started_by(config: trigger_config.TriggerConfig, run_id: str) -> list[str]:
    """The tasks ECS knows the run started, running or stopped (ListTasks by startedBy)."""
    found: list[str] = []
    for desired in ("RUNNING", "STOPPED"):
        answer = supervisor.ecs.list_tasks(
            cluster=config.cluster_arn, startedBy=run_id, desiredStatus=desired
        )
        found.extend(str(arn) for arn in answer.get("taskArns") or [])
    return found


def _already_recorded(record: dict[str, Any], task: dict[str, Any]) -> bool:
    """Whether the record (as the index holds it, maybe behind the table) already holds this
    state of its current attempt's task: versions only grow, so a stale copy never says so
    wrongly."""
    current = records.current_attempt(record)
    return current.get("taskArn") == task.get("taskArn") and int(current.get("version", 0)) >= int(
        task.get("version") or 0
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _overdue(
    record: dict[str, Any], config: trigger_config.TriggerConfig, now: datetime
) -> str | None:
    """The stop reason of a current attempt past its job's timeout (from its start) or, not
    started yet, past its start timeout (from its sending); None when neither."""
    target = records.job_of(record, config)
    current = records.current_attempt(record)
    if (
        target is None
        or "taskArn" not in current
        or current.get("lastStatus") == supervisor.STOPPED_TASK
    ):
        return None
    if record[runs.Record.STATUS] == runs.RUNNING and target.timeout_seconds is not None:
        started = _time(current.get("startedAt") or current["requestedAt"])
        if now - started > timedelta(seconds=target.timeout_seconds):
            return lifecycle.TIMEOUT_REASON
    if current.get("startedAt") is None and current.get("lastStatus") != "RUNNING":
        sent = _time(current.get("sentAt") or current["requestedAt"])
        if now - sent > timedelta(seconds=target.start_timeout_seconds):
            return lifecycle.START_TIMEOUT_REASON
    return None


def _lost(
    store: records.RunStore,
    record: dict[str, Any],
    now: datetime,
    rules: LifecycleRules,
) -> None:
    """An attempt ECS shows no task of, an hour after it was sent, with no failed event left
    that could name one: it started nothing (a throttled or refused sending whose invocation
    died), so the run goes on with its next attempt, counted as an interruption; FAILED once
    those are spent, STOPPED if its caller asked."""
    attempt = record[runs.Record.ATTEMPT]
    reason = (
        f"attempt {attempt}: ECS shows no task of it (ListTasks by the run's id), and no "
        f"longer answers its token ({int(attempts.RESEND_WINDOW.total_seconds() // 3600)} h "
        "after it was sent)"
    )
    stamp = records.timestamp(now)
    entries = [
        {**a, "reason": reason, "classification": lifecycle.START_TRANSIENT}
        if a["attempt"] == attempt
        else a
        for a in record[runs.Record.ATTEMPTS]
    ]
    interrupted = sum(
        1
        for a in entries
        if a.get("classification") in (lifecycle.INTERRUPTED, lifecycle.START_TRANSIENT)
    )
    changes: dict[str, Any] = {runs.Record.ATTEMPTS: entries, runs.Record.UPDATED_AT: stamp}
    if runs.Record.STOP_REQUESTED in record:
        status, reason = runs.STOPPED, f"stopped: {record[runs.Record.STOP_REQUESTED]} ({reason})"
    elif interrupted <= rules.interruption_retries and attempt < runs.MAX_ATTEMPT:
        # Recorded for the pass to send (no `sentAt`): a new token, so a new request to ECS.
        entries.append(
            {"attempt": attempt + 1, "capacity": rules.on_interruption, "requestedAt": stamp}
        )
        changes[runs.Record.ATTEMPT] = attempt + 1
        store.update(record, changes)
        return
    else:
        status = runs.FAILED
    changes.update(
        {
            runs.Record.STATUS: status,
            runs.Record.REASON: reason,
            **lifecycle.notice(rules, status),
        }
    )
    store.update(record, changes)
