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

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import boto3

from functions.common import attempts, clock, records, request_log, runtime
from functions.supervisor import alarms, notices
from longjobs_contract import lifecycle, runs, trigger_config
from longjobs_contract.jobs import LifecycleRules

FUNCTION_TIMEOUT_SECONDS = 300
"""The function's timeout, as the JobSupervisor component declares it (a test holds them equal)."""
# Created once per execution environment, each call within 20 s (runtime.py).
ecs = boto3.client("ecs", config=runtime.CLIENT_CONFIG)
dynamodb = boto3.client("dynamodb", config=runtime.CLIENT_CONFIG)
logs = boto3.client("logs", config=runtime.CLIENT_CONFIG)
sns = boto3.client("sns", config=runtime.CLIENT_CONFIG)

TASK_STATE_CHANGE = "ECS Task State Change"
STOPPED_TASK = "STOPPED"
STRAY = "longjobs: the run was stopped"
RECONCILE = lifecycle.RECONCILE_EVENT
RECONCILE_AFTER = timedelta(minutes=2)
"""How long a run waits on its events before the reconciliation pass asks ECS."""
PAGE = 100
"""Runs read a page, and described a call (DescribeTasks takes at most 100 tasks)."""
MAX_NOTICES = 25
"""Notices published per pass; more wait for the next minute's pass."""
NOTICE_TAKEOVER = timedelta(minutes=5)
MAX_RECONCILED = 1000
"""Runs read per status and pass, oldest first from where the last pass stopped."""
PASS_SECONDS = {runs.RUNNING: 20.0, runs.PENDING: 40.0}
"""When, from its start, a pass stops reading each status (RUNNING first; PENDING gets what
RUNNING leaves of 40 s, at least 20): far inside the function's timeout, and before the next
minute's pass."""
MAX_WRITES = 3
"""Reads and writes of one event's run before the invocation fails and is retried."""


load_config = runtime.load_config


def handler(event: Any, context: Any) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", None) or "local"
    with request_log.request(request_id):
        try:
            config = load_config()
            if event == RECONCILE:
                answer = reconcile(config)
            elif alarms.is_alarm(event):
                answer = alarms.forward(event, config, sns)
            else:
                answer = supervise(event, config)
            request_log.bind(**answer)
            return answer
        except Exception as error:
            request_log.bind(outcome="failed", error=f"{type(error).__name__}: {error}")
            raise


def supervise(event: Any, config: trigger_config.TriggerConfig) -> dict[str, Any]:
    """Apply one task state change event to its run."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if (
        not isinstance(detail, dict)
        or event.get("source") != "aws.ecs"
        or event.get("detail-type") != TASK_STATE_CHANGE
        or detail.get("clusterArn") != config.cluster_arn
    ):
        return {"outcome": "ignored", "why": "not a task state change of this stack's cluster"}
    run_id = detail.get("startedBy")
    request_log.bind(taskArn=detail.get("taskArn"), lastStatus=detail.get("lastStatus"))
    if not runs.is_run_id(run_id):
        return {"outcome": "ignored", "why": "not a task of a run (a service's, or another's)"}
    request_log.bind(runId=run_id)
    return apply(config, records.RunStore(dynamodb, config.runs_table), run_id, detail)


def apply(
    config: trigger_config.TriggerConfig,
    store: records.RunStore,
    run_id: str,
    task: dict[str, Any],
) -> dict[str, Any]:
    """Apply one task's state (an event's detail, or DescribeTasks' answer) to its run."""
    for _ in range(MAX_WRITES):
        record = store.get(run_id)
        if record is None:
            return {"outcome": "ignored", "why": "no such run (expired, or not this stack's)"}
        target = config.jobs.get(record[runs.Record.JOB])
        if target is None:
            return {"outcome": "ignored", "why": "the run's job is no longer in the stack"}
        observation = lifecycle.observe(task, target.container_name)
        if record[runs.Record.STATUS] == runs.STOPPED and STOPPED_TASK not in (
            observation.last_status,
            observation.desired_status,
        ):
            # The run was stopped before this task was seen: it must not run on.
            ecs.stop_task(cluster=config.cluster_arn, task=observation.task_arn, reason=STRAY)
            return {"outcome": "stopped-stray", "status": runs.STOPPED}
        decision = lifecycle.decide(record, observation, target, records.timestamp(records.now()))
        if not decision.changes:
            if record[runs.Record.ATTEMPT] > 1 and attempts.resendable(record, records.now()):
                # A retried invocation whose re-run was recorded but maybe never sent.
                outcome = attempts.start_attempts(ecs, config, store, record)
                return _rerun_answer(outcome)
            return {"outcome": "unchanged", "status": record[runs.Record.STATUS]}
        # Kept for the retention from its last change, so a run longer than the retention keeps
        # its record while it runs.
        decision.changes[runs.Record.EXPIRES_AT] = int(
            (records.now() + timedelta(days=config.run_retention_days)).timestamp()
        )
        if store.update(record, decision.changes):
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


def reconcile(config: trigger_config.TriggerConfig) -> dict[str, Any]:
    """Every minute: stop attempts past their job's timeout, and bring every run still waiting
    on ECS up to date from DescribeTasks, as if its events had come.

    Each status is read oldest first from where the last pass stopped (kept in one item of the
    runs table), at most MAX_RECONCILED runs and PASS_SECONDS of it, and from its oldest run
    again once its newest was read: with N runs open in a status, each is looked at once every
    ceil(N / MAX_RECONCILED) passes, and every pass when there are fewer.

    A run is brought up to date once nothing was written to it for RECONCILE_AFTER: its events,
    if they come, have had their time. An attempt whose task is not known yet is sent again
    while ECS answers it by its token (the answer names the task); one older than that with no
    task seen ends the run FAILED, visibly.
    """
    store = records.RunStore(dynamodb, config.runs_table)
    now = records.now()
    began = clock.monotonic()
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
        "notified": 0,
    }

    def failed(what: str, error: Exception) -> None:
        # One run's trouble must not stop the pass for the others: the next pass tries again.
        counts["errors"] += 1
        request_log.append("errors", f"{what}: {type(error).__name__}: {error}")

    pass_ = _Pass(config, store, now, counts, failed)
    try:
        cursors: dict[str, Any] = dict(store.pass_cursors())
    except Exception as error:  # read from the oldest runs, as a first pass does
        failed("the pass's cursor", error)
        cursors = {}
    for status in (runs.RUNNING, runs.PENDING):
        try:
            cursors[status] = pass_.sweep(status, cursors.get(status), began + PASS_SECONDS[status])
        except Exception as error:  # the query: this status's next pass goes on from here
            failed(f"runs {status}", error)
    try:
        store.save_pass_cursors(cursors)
    except Exception as error:  # the next pass reads from the last position kept
        failed("the pass's cursor", error)
    try:
        counts["notified"] = publish_notices(config, store, now, failed)
    except Exception as error:  # the query of due notices: the next pass publishes them
        failed("notices", error)
    return {"outcome": "reconciled", **counts}


class _Pass:
    """One reconciliation pass over the runs still waiting on ECS."""

    def __init__(
        self,
        config: trigger_config.TriggerConfig,
        store: records.RunStore,
        now: datetime,
        counts: dict[str, int],
        failed: Callable[[str, Exception], None],
    ):
        self.config, self.store, self.now = config, store, now
        self.counts, self.failed = counts, failed

    def sweep(
        self, status: str, start: dict[str, Any] | None, deadline: float
    ) -> dict[str, Any] | None:
        """Look at the runs in `status` from after `start`, oldest first, going on from the
        oldest once the newest is passed; the position to go on from next time (None: from the
        oldest)."""
        seen: set[str] = set()
        position, wrapped, last = start, start is None, start
        while len(seen) < MAX_RECONCILED:
            page, following = self.store.oldest_in(
                status, min(PAGE, MAX_RECONCILED - len(seen)), position
            )
            fresh = [r for r in page if r[runs.Record.RUN_ID] not in seen]
            looked = self.look_at(fresh, deadline)
            seen.update(r[runs.Record.RUN_ID] for r in looked)
            if looked:
                last = records.status_position(looked[-1])
            if len(looked) < len(fresh):
                return last  # out of time: the next pass goes on from here
            if len(fresh) < len(page):
                return None  # round the whole status: the next pass starts from the oldest
            if following is None:
                if wrapped:
                    return None
                position, wrapped = None, True  # past the newest: on from the oldest
            else:
                position = following
        return last

    def look_at(self, waiting: list[dict[str, Any]], deadline: float) -> list[dict[str, Any]]:
        """Stop what is past its timeout, and bring what has been quiet up to date; the runs
        looked at (those before the deadline)."""
        looked: list[dict[str, Any]] = []
        known: dict[str, dict[str, Any]] = {}
        for record in waiting:
            if clock.monotonic() >= deadline:
                break
            looked.append(record)
            self.counts["read"] += 1
            self._stop_if_past_timeout(record)
            if self.now - _time(record[runs.Record.UPDATED_AT]) >= RECONCILE_AFTER:
                task_arn = self._task_of(record)
                if task_arn:
                    known[task_arn] = record
        if known:
            self._describe(known)
        return looked

    def _stop_if_past_timeout(self, record: dict[str, Any]) -> None:
        if not _past_timeout(record, self.config, self.now):
            return
        task_arn = records.current_attempt(record).get("taskArn")
        try:
            if not task_arn or not attempts.owns(
                ecs, self.config, task_arn, record[runs.Record.RUN_ID]
            ):
                self.counts["notOwned"] += 1
                return
            ecs.stop_task(
                cluster=self.config.cluster_arn, task=task_arn, reason=lifecycle.TIMEOUT_REASON
            )
        except Exception as error:
            self.failed(record[runs.Record.RUN_ID], error)
            return
        self.counts["timedOut"] += 1

    def _task_of(self, record: dict[str, Any]) -> str | None:
        """The task to describe for a quiet run: its current attempt's, known or asked of ECS
        by the attempt's token; None when there is none to describe."""
        self.counts["looked"] += 1
        run_id = record[runs.Record.RUN_ID]
        current = records.current_attempt(record)
        if current.get("taskArn"):
            return str(current["taskArn"])
        if "reason" in current:
            return None  # recorded as not started; the invocation that will send the next retries
        if attempts.resendable(record, self.now):
            try:
                outcome = attempts.start_attempts(ecs, self.config, self.store, record)
            except Exception as error:
                self.failed(run_id, error)
                return None
            self.counts["resent"] += 1
            self.counts["final"] += outcome.final is not None
            return outcome.task_arn
        target = self.config.jobs.get(record[runs.Record.JOB])
        rules = target if target else LifecycleRules()
        try:
            _lost(self.store, record, self.now, rules)
        except Exception as error:
            self.failed(run_id, error)
            return None
        self.counts["lost"] += 1
        return None

    def _describe(self, known: dict[str, dict[str, Any]]) -> None:
        arns = sorted(known)
        try:
            described = ecs.describe_tasks(cluster=self.config.cluster_arn, tasks=arns)
        except Exception as error:
            self.failed(f"DescribeTasks of {len(arns)} tasks", error)
            return
        for task in described.get("tasks", []):
            record = known[task["taskArn"]]
            if _already_recorded(record, task):
                continue  # nothing new since the record was read: no read or write for it
            run_id = record[runs.Record.RUN_ID]
            try:
                answer = apply(self.config, self.store, run_id, task)
            except Exception as error:
                self.failed(run_id, error)
                continue
            self.counts["applied"] += answer["outcome"] in ("recorded", "rerun")
            self.counts["final"] += "final" in answer


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
) -> int:
    """Publish each final state still due, once: take the notice (a write over the revision
    read), publish it, then mark it sent. A notice taken but not marked sent within
    NOTICE_TAKEOVER (its publisher died) is taken over and published again."""
    published = 0
    for record in store.due_notices(MAX_NOTICES):
        try:
            published += _publish(config, store, record, now)
        except Exception as error:
            failed(record[runs.Record.RUN_ID], error)
    return published


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
    target = config.jobs.get(record[runs.Record.JOB])
    last = (record[runs.Record.ATTEMPTS] or [{}])[-1]
    lines: list[str] = []
    link = None
    if target is not None and last.get("taskArn"):
        stream = notices.log_stream(last["taskArn"], target.container_name)
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
    store.update(
        taken,
        {runs.Record.NOTIFIED_AT: stamp},
        remove=(runs.Record.NOTIFY_DUE, runs.Record.NOTIFY_CLAIM),
        final_ok=True,
    )
    return 1


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _past_timeout(
    record: dict[str, Any], config: trigger_config.TriggerConfig, now: datetime
) -> bool:
    target = config.jobs.get(record[runs.Record.JOB])
    timeout = target.timeout_seconds if target else None
    current = records.current_attempt(record)
    if timeout is None or record[runs.Record.STATUS] != runs.RUNNING or "taskArn" not in current:
        return False
    started = _time(current.get("startedAt") or current["requestedAt"])
    return now - started > timedelta(seconds=timeout)


def _lost(
    store: records.RunStore,
    record: dict[str, Any],
    now: datetime,
    rules: LifecycleRules,
) -> None:
    attempt = record[runs.Record.ATTEMPT]
    reason = (
        f"attempt {attempt}: no task of it was ever seen, and ECS no longer answers its "
        f"token ({int(attempts.RESEND_WINDOW.total_seconds() // 3600)} h after it was sent)"
    )
    store.update(
        record,
        {
            runs.Record.STATUS: runs.FAILED,
            runs.Record.REASON: reason,
            runs.Record.UPDATED_AT: records.timestamp(now),
            **lifecycle.notice(rules, runs.FAILED),
        },
    )
