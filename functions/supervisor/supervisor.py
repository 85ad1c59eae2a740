"""longjobs supervisor: moves each run along as its tasks change state.

An EventBridge rule sends this stack's cluster's "ECS Task State Change" events here. The event
names the run in `startedBy` (the run id) and the attempt in the task's LONGJOBS_ATTEMPT; the
record is read, `longjobs_contract.lifecycle.decide` says what the task's new state means, the
record is written over the revision read (a concurrent writer makes this one read again), and a
re-run is started when the decision says so: two AWS calls an event on the usual path (GetItem,
UpdateItem), three with a re-run (RunTask), more when a write must be read again, a Spot re-run
falls back to on-demand, or a re-run finds no capacity. Events come at least once and in any
order; `decide` makes a repeated or a late one change nothing. A run whose re-run found no
capacity is recorded at its next attempt and the invocation fails, so that Lambda's retry sends
it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from functions.common import attempts, clock, records, request_log, runtime
from functions.supervisor import concurrency, failed_events, notices
from longjobs_contract import lifecycle, runs, trigger_config
from longjobs_contract.jobs import JobContract, LifecycleRules

FUNCTION_TIMEOUT_SECONDS = 300
"""The function's timeout, as the JobSupervisor component declares it (a test holds them equal)."""
# Created once per execution environment, each call within 20 s (runtime.py).
ecs = boto3.client("ecs", config=runtime.CLIENT_CONFIG)
dynamodb = boto3.client("dynamodb", config=runtime.CLIENT_CONFIG)
logs = boto3.client("logs", config=runtime.CLIENT_CONFIG)
sns = boto3.client("sns", config=runtime.CLIENT_CONFIG)
sqs = boto3.client("sqs", config=runtime.CLIENT_CONFIG)

TASK_STATE_CHANGE = "ECS Task State Change"
STOPPED_TASK = "STOPPED"
STRAY = "longjobs: the run was already final"
RECONCILE = lifecycle.RECONCILE_EVENT
RECONCILE_AFTER = timedelta(minutes=2)
"""How long a run waits on its events before the reconciliation pass asks ECS."""
MISSING = "MISSING"
"""DescribeTasks' failure reason for a task it does not know (not yet, or no longer)."""
VISIBLE_WITHIN = timedelta(minutes=5)
"""How long after RunTask a task may stay unknown to DescribeTasks: AWS advises describing
with backoff for up to five minutes (ECS API reference, RunTask, eventual consistency)."""
PAGE = 100
"""Runs read a page, and described a call (DescribeTasks takes at most 100 tasks)."""
MAX_NOTICES = 25
"""Notices published per pass; more wait for the next minute's pass."""
NOTICE_TAKEOVER = timedelta(minutes=5)
MARK_SENT_PAUSES = (0.5, 1.0, 2.0, None)
"""Seconds between the tries to mark a published notice sent (each try is botocore's two)."""
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
MAX_WRITES = 3
"""Reads and writes of one event's run before the invocation fails and is retried."""


load_config = runtime.load_config


def handler(event: Any, context: Any) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", None) or "local"
    with request_log.request(request_id):
        try:
            config = load_config()
            if event == RECONCILE:
                answer = reconcile(config, request_id)
            else:
                answer = supervise(event, config)
            request_log.bind(**answer)
            return answer
        except attempts.CapacityUnavailable as error:
            # Handled: the next attempt is recorded and Lambda's retry sends it. The line keeps
            # its outcome ("no-capacity"), which the errors alarm does not count.
            request_log.bind(error=f"{type(error).__name__}: {error}")
            raise
        except Exception as error:
            request_log.bind(outcome="failed", error=f"{type(error).__name__}: {error}")
            raise


def supervise(event: Any, config: trigger_config.TriggerConfig) -> dict[str, Any]:
    """Apply one task state change event to its run."""
    detail = event.get("detail") if isinstance(event, dict) else None
    # EventBridge sets `source`, `account` and `region` to the sending service's own: ECS's event
    # for this cluster carries the cluster's account and region (EventBridge user guide, "Amazon
    # EventBridge events"); a sender's content beyond that is held by the queue's and the
    # function's policies (docs/security.md, "The supervisor's inputs").
    _, _, _, region, account, _ = config.cluster_arn.split(":", 5)
    if (
        not isinstance(detail, dict)
        or event.get("source") != "aws.ecs"
        or event.get("detail-type") != TASK_STATE_CHANGE
        or event.get("account") != account
        or event.get("region") != region
        or detail.get("clusterArn") != config.cluster_arn
    ):
        return {"outcome": "ignored", "why": "not a task state change of this stack's cluster"}
    run_id = detail.get("startedBy")
    request_log.bind(taskArn=detail.get("taskArn"), lastStatus=detail.get("lastStatus"))
    if not runs.is_run_id(run_id):
        return {"outcome": "ignored", "why": "not a task of a run (a service's, or another's)"}
    request_log.bind(runId=run_id)
    return apply(
        config,
        records.RunStore(dynamodb, config.runs_table, config.run_retention_days),
        run_id,
        detail,
    )


def apply(
    config: trigger_config.TriggerConfig,
    store: records.RunStore,
    run_id: str,
    task: dict[str, Any],
) -> dict[str, Any]:
    """Apply one task's state (an event's detail, or DescribeTasks' answer) to its run: only a
    task the run started (`startedBy`, which RunTask sets and nothing changes after) is the
    run's, whatever its record names (a record can be written around the functions)."""
    if task.get("startedBy") != run_id:
        return {"outcome": "ignored", "why": "not a task the run started"}
    for _ in range(MAX_WRITES):
        record = store.get(run_id)
        if record is None:
            return {"outcome": "ignored", "why": "no such run (expired, or not this stack's)"}
        target = records.job_of(record, config)
        if target is None:
            return {"outcome": "ignored", "why": "the run's job is no longer in the stack"}
        observation = lifecycle.observe(task, target.container_name)
        stopping = STOPPED_TASK in (observation.last_status, observation.desired_status)
        stale = _recorded_version(record, observation.task_arn) >= observation.version
        if not (stopping or stale) and record[runs.Record.STATUS] in runs.FINAL:
            # The run ended (stopped, or lost track of) before this task was seen: it must
            # not run on.
            ecs.stop_task(cluster=config.cluster_arn, task=observation.task_arn, reason=STRAY)
            return {"outcome": "stopped-stray", "status": record[runs.Record.STATUS]}
        if not (stopping or stale) and runs.Record.STOP_REQUESTED in record:
            # Its caller stopped the run before this task was seen, or StopTask did not reach
            # it (not visible yet): the stop is sent again.
            ecs.stop_task(
                cluster=config.cluster_arn,
                task=observation.task_arn,
                reason=str(record[runs.Record.STOP_REQUESTED]),
            )
        decision = lifecycle.decide(record, observation, target, records.timestamp(records.now()))
        if not decision.changes:
            if record[runs.Record.ATTEMPT] > 1 and attempts.resendable(record, records.now()):
                # A retried invocation whose re-run was recorded but maybe never sent.
                outcome = attempts.start_attempts(ecs, config, store, record, resend=True)
                return _rerun_answer(outcome)
            return {"outcome": "unchanged", "status": record[runs.Record.STATUS]}
        if decision.retry:
            _sent_by_me(decision.changes, decision.retry[0])
        if store.update(record, decision.changes, final_ok=decision.after_final):
            break
    else:
        raise RuntimeError(f"run {run_id}: {MAX_WRITES} writers in a row got there first")
    updated = {**record, **decision.changes}
    updated[runs.Record.REVISION] = int(record.get(runs.Record.REVISION, 0)) + 1
    answer: dict[str, Any] = {"outcome": "recorded", "status": updated[runs.Record.STATUS]}
    if decision.final:
        answer["final"] = decision.final
    if decision.retry:
        answer.update(_rerun_answer(attempts.start_attempts(ecs, config, store, updated)))
    return answer


def _sent_by_me(changes: dict[str, Any], attempt: int) -> None:
    """Mark the re-run this invocation records, and sends next, as its own (`sentBy`): Lambda's
    retry of this invocation may send it again at once."""
    sender = request_log.request_id()
    if sender is None:
        return
    changes[runs.Record.ATTEMPTS] = [
        {**a, "sentBy": sender} if a["attempt"] == attempt else a
        for a in changes[runs.Record.ATTEMPTS]
    ]


def _recorded_version(record: dict[str, Any], task_arn: str) -> int:
    """The version of the task the record last saw (0: never): older news is not acted on."""
    return max(
        (
            int(a.get("version", 0))
            for a in record[runs.Record.ATTEMPTS]
            if a.get("taskArn") == task_arn
        ),
        default=0,
    )


def _rerun_answer(outcome: attempts.Outcome) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "outcome": "rerun",
        "attempt": outcome.attempt,
        "taskArn": outcome.task_arn,
        "status": outcome.record[runs.Record.STATUS],
    }
    if outcome.final:
        answer["final"] = outcome.final
    return answer


# --- the reconciliation pass ------------------------------------------------------------------


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
    store = records.RunStore(dynamodb, config.runs_table, config.run_retention_days)
    now = records.now()
    began = clock.monotonic()
    # Held at most as long as this invocation can live: a pass Lambda kills gives it up so.
    if not store.take_pass(owner, now + timedelta(seconds=FUNCTION_TIMEOUT_SECONDS)):
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
                sqs,
                config.supervisor_failure_queue,
                lambda event: supervise(event, config),
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
            counts["notified"] = publish_notices(
                config, store, now, failed, began + NOTICES_SECONDS
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
            tasks = self._named_tasks(record)
            answers = known
            if self._quiet(record):
                tasks = self._tasks_of(record)
                unknown = [arn for arn in tasks if arn not in asked]
                if unknown:
                    answers = {**known, **self._describe(unknown)}
            for step in self._work(record, tasks, answers):
                step()

        taken = concurrency.each(waiting, look, workers=WORKERS, until=deadline)
        return waiting[:taken]

    def _quiet(self, record: dict[str, Any]) -> bool:
        """Nothing was written to the run for RECONCILE_AFTER: its events had their time."""
        return self.now - _time(record[runs.Record.UPDATED_AT]) >= RECONCILE_AFTER

    def _named_tasks(self, record: dict[str, Any]) -> list[str]:
        """The current attempt's task the record names, if the pass is to describe it: the run
        is quiet, or the task past its time."""
        current = records.current_attempt(record).get("taskArn")
        if current and (self._quiet(record) or _overdue(record, self.config, self.now)):
            return [str(current)]
        return []

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
        if task.get("desiredStatus") == STOPPED_TASK:
            return None  # being stopped already: its stop's news will come
        if why == lifecycle.START_TIMEOUT_REASON and task.get("lastStatus") in (
            "RUNNING",
            STOPPED_TASK,
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
            ecs.stop_task(cluster=self.config.cluster_arn, task=task_arn, reason=why)
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
                outcome = attempts.start_attempts(ecs, self.config, self.store, fresh, resend=True)
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
        left out (the call failed) has no answer, so no news."""
        answers: dict[str, dict[str, Any] | str] = {}
        unique = sorted(set(arns))
        for first in range(0, len(unique), PAGE):  # DescribeTasks takes at most 100 tasks
            chunk = unique[first : first + PAGE]
            try:
                described = ecs.describe_tasks(
                    cluster=self.config.cluster_arn, tasks=chunk, include=["TAGS"]
                )
            except Exception as error:
                self.failed(f"DescribeTasks of {len(chunk)} tasks", error)
                continue
            for task in described.get("tasks") or []:
                answers[str(task["taskArn"])] = task
            for failure in described.get("failures") or []:
                answers.setdefault(str(failure.get("arn")), str(failure.get("reason")))
        return answers

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
            ecs.stop_task(
                cluster=self.config.cluster_arn,
                task=task["taskArn"],
                reason=str(record[runs.Record.STOP_REQUESTED]),
            )
        except Exception as error:
            self.failed(record[runs.Record.RUN_ID], error)

    def _apply(self, record: dict[str, Any], task: dict[str, Any]) -> None:
        run_id = record[runs.Record.RUN_ID]
        try:
            answer = apply(self.config, self.store, run_id, task)
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
        and task.get("desiredStatus") != STOPPED_TASK
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
        apply(
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
        "lastStatus": STOPPED_TASK,
        "desiredStatus": STOPPED_TASK,
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


def _nothing_left_to_show(record: dict[str, Any], current: dict[str, Any], now: datetime) -> bool:
    """Whether an attempt that ECS shows no task of (ListTasks) has nothing left to show: its
    token is past the hour ECS surely answers it by, or, when the run's stop is recorded and
    nothing sends it again, its sender is gone (and ListTasks, eventually consistent for a few
    minutes, has had that long)."""
    if runs.Record.STOP_REQUESTED in record:
        sent = _time(current.get("sentAt") or current["requestedAt"])
        return now - sent >= max(attempts.SENDER_GONE, VISIBLE_WITHIN)
    return now - attempts.first_sent(current) >= attempts.RESEND_WINDOW


def _started_by(config: trigger_config.TriggerConfig, run_id: str) -> list[str]:
    """The tasks ECS knows the run started, running or stopped (ListTasks by startedBy)."""
    found: list[str] = []
    for desired in ("RUNNING", "STOPPED"):
        answer = ecs.list_tasks(cluster=config.cluster_arn, startedBy=run_id, desiredStatus=desired)
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


def publish_notices(
    config: trigger_config.TriggerConfig,
    store: records.RunStore,
    now: datetime,
    failed: Callable[[str, Exception], None],
    deadline: float,
) -> int:
    """Publish each final state still due, once, until `deadline` (on `clock.monotonic`): take
    the notice (a write over the revision read), publish it, then mark it sent. A notice taken
    but not marked sent within NOTICE_TAKEOVER (its publisher died) is taken over and
    published again."""
    if clock.monotonic() >= deadline:
        return 0
    published: list[int] = []

    def publish(record: dict[str, Any]) -> None:
        try:
            published.append(_publish(config, store, record, now))
        except Exception as error:
            failed(record[runs.Record.RUN_ID], error)

    # Side by side as the runs are: a notice waits on DynamoDB, CloudWatch Logs and SNS.
    concurrency.each(store.due_notices(MAX_NOTICES), publish, workers=WORKERS, until=deadline)
    return sum(published)


def _publish(
    config: trigger_config.TriggerConfig,
    store: records.RunStore,
    record: dict[str, Any],
    now: datetime,
) -> int:
    """Publish one run's notice; 0 when another pass has it."""
    claimed = record.get(runs.Record.NOTIFY_CLAIM)
    if claimed and now - _time(claimed) < NOTICE_TAKEOVER:
        return 0
    stamp = records.timestamp(now)
    if not store.update(record, {runs.Record.NOTIFY_CLAIM: stamp}, final_ok=True):
        return 0  # another pass took it
    taken = {**record, runs.Record.REVISION: int(record.get(runs.Record.REVISION, 0)) + 1}
    target = records.job_of(record, config)
    last = (record[runs.Record.ATTEMPTS] or [{}])[-1]
    lines: list[str] = []
    link = None
    if target is not None and last.get("taskArn"):
        stream = runs.log_stream(last["taskArn"], target.container_name)
        lines = notices.last_lines(logs, target.log_group, stream)
        link = notices.console_link(config.region, target.log_group, stream)
    subject, message = notices.compose(record, lines, link)
    sns.publish(
        TopicArn=config.notifications_topic,
        Subject=subject,
        Message=message,
        MessageAttributes={
            "runId": {"DataType": "String", "StringValue": record[runs.Record.RUN_ID]},
            "job": {"DataType": "String", "StringValue": record[runs.Record.JOB]},
            "status": {"DataType": "String", "StringValue": record[runs.Record.STATUS]},
        },
    )
    _mark_sent(store, taken, stamp)
    return 1


def _mark_sent(store: records.RunStore, taken: dict[str, Any], stamp: str) -> None:
    """Mark a published notice sent. Once published, a failure here would have it published
    again after NOTICE_TAKEOVER: the write is tried again over a few seconds of throttling or
    a passing failure, and over the run read again when another writer (an attempt's late news)
    got there first while the notice is still this pass's (its claim is `stamp`)."""
    for pause in MARK_SENT_PAUSES:
        try:
            if store.update(
                taken,
                {runs.Record.NOTIFIED_AT: stamp},
                remove=(runs.Record.NOTIFY_DUE, runs.Record.NOTIFY_CLAIM),
                final_ok=True,
            ):
                return
            fresh = store.get(taken[runs.Record.RUN_ID])
            if fresh is None or fresh.get(runs.Record.NOTIFY_CLAIM) != stamp:
                return  # marked, or taken over by another pass: not this pass's any more
            taken = fresh
        except ClientError:
            if pause is None:
                raise
            clock.sleep(pause)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _overdue(
    record: dict[str, Any], config: trigger_config.TriggerConfig, now: datetime
) -> str | None:
    """The stop reason of a current attempt past its job's timeout (from its start) or, not
    started yet, past its start timeout (from its sending); None when neither."""
    target = records.job_of(record, config)
    current = records.current_attempt(record)
    if target is None or "taskArn" not in current or current.get("lastStatus") == STOPPED_TASK:
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
