"""One seed's world: the real handlers, AWS's models, callers, deploys and outages on one
virtual clock, with the invariants watching.

    World(seed, settings, declared_table).play() -> list of violations

The functions' modules are used as Lambda would load them, with their clients, their config
and their clock replaced for the time of `play` (`_patched`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

# The functions make their (unused here) clients at import: they need a region, and no call of
# theirs leaves the process.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")

from functions.alarms import forwarder  # noqa: E402
from functions.common import clock  # noqa: E402
from functions.supervisor import concurrency, failed_events, supervisor  # noqa: E402
from functions.trigger import handler  # noqa: E402
from longjobs_contract import alarms as stack_alarms  # noqa: E402
from longjobs_contract import lifecycle, runs  # noqa: E402
from simulation import scenarios, stack  # noqa: E402
from simulation.alarms import ErrorsAlarm  # noqa: E402
from simulation.dynamodb import Schema, Table  # noqa: E402
from simulation.ecs import EcsModel, Fate  # noqa: E402
from simulation.ecs_api import client_error  # noqa: E402
from simulation.ecs_events import state_change_event  # noqa: E402
from simulation.invariants import Invariants  # noqa: E402
from simulation.lambdas import Function  # noqa: E402
from simulation.scheduler import Simulator  # noqa: E402
from simulation.services import Faults, LogGroups, Service, Topic  # noqa: E402
from simulation.sqs import Queue  # noqa: E402

MINUTE = 60.0
HOUR = 3600.0
QUIET_TAIL = 20 * MINUTE
SHORTER_RETENTION = 0.2
"""Share of deploys that shorten the records' retention to a day."""
UP_TO_LEARN = 5 * MINUTE
"""How long the supervisor's pass needs to learn of a task whose events were lost: two minutes
of quiet, then the next pass."""


@dataclass(frozen=True)
class Settings:
    """How one seed's world behaves; `draw` picks them per seed."""

    runs: int = 40
    spread: float = 20 * MINUTE
    """Runs are requested over this long."""
    horizon: float = 8 * HOUR
    """The world ends this long after it began."""
    drop: float = 0.05
    """Share of task state change events EventBridge never delivers."""
    duplicate: float = 0.15
    late: float = 0.1
    """Share of deliveries held back up to ten minutes."""
    drop_all: float = 0.1
    """Share of runs whose every event is lost."""
    asynchronous: float = 0.3
    """Share of callers that invoke the trigger asynchronously."""
    throttle: float = 0.01
    ecs_parameter_throttle: float = 0.005
    latency: tuple[float, float] = (0.005, 0.06)
    outage: tuple[float, float] | None = None
    """(start, length) in seconds: the supervisor fails every invocation (a bad deploy)."""
    remove_job: tuple[float, float] | None = None
    """(when, for how long) the `import` job is not in the stack."""
    retention_days: int = 90
    long_run: bool = False
    """One run outlasts the record's retention."""
    no_task_replay: str = "replay"
    """How ECS answers a token whose first request placed no task (`simulation.ecs_tokens`)."""
    index_lag: float = 1.0
    visible_after: float = 5.0
    """Seconds after RunTask a task may stay unknown to DescribeTasks and StopTask."""
    reclaim_at_most: int = 10
    """Spot tasks one reclaim burst takes back, at most."""


def draw(seed: int, runs_per_seed: int) -> Settings:
    """The settings of one seed: most seeds are an ordinary day; some meet an outage longer
    than ECS's memory, a job removed by a deploy, slow APIs or a run longer than retention."""
    rng = Simulator(seed).rng
    settings = Settings(runs=runs_per_seed)
    roll = rng.random()
    if roll < 0.15:
        start = rng.uniform(5 * MINUTE, 40 * MINUTE)
        settings = replace(settings, outage=(start, rng.uniform(70 * MINUTE, 150 * MINUTE)))
    elif roll < 0.25:
        settings = replace(
            settings, remove_job=(rng.uniform(2 * MINUTE, 30 * MINUTE), rng.uniform(HOUR, 3 * HOUR))
        )
    elif roll < 0.35:
        settings = replace(settings, latency=(0.2, 3.0), throttle=0.05)
    elif roll < 0.4:
        settings = replace(
            settings, retention_days=1, long_run=True, horizon=30 * HOUR, runs=runs_per_seed // 4
        )
    if rng.random() < 0.3:
        settings = replace(settings, no_task_replay="new")
    return settings


LOADS = {
    # The pass under load: 300 runs in ten minutes, Spot taking up to 100 tasks back at once,
    # every API throttling one call in twenty, and calls slow: up to a second each way with
    # 30% of all events lost, or up to 2 s each way with 5% lost. Every open run must still
    # be looked at within LOOKED_AT (simulation.invariants).
    "load": Settings(
        runs=300,
        spread=10 * MINUTE,
        drop=0.3,
        throttle=0.05,
        latency=(0.1, 1.0),
        reclaim_at_most=100,
    ),
    "slow load": Settings(
        runs=300,
        spread=10 * MINUTE,
        throttle=0.05,
        latency=(0.25, 2.0),
        reclaim_at_most=100,
    ),
}


def draw_load(seed: int) -> Settings:
    """A world under load (LOADS), one kind after the other by seed, ECS's answer to a token
    that placed nothing drawn as for every seed."""
    kinds = sorted(LOADS)
    settings = LOADS[kinds[seed % len(kinds)]]
    if Simulator(seed).rng.random() < 0.3:
        settings = replace(settings, no_task_replay="new")
    return settings


@dataclass
class Case:
    """One run as its caller asked for it, and what the caller was told."""

    index: int
    run_id: str
    scenario: scenarios.Scenario
    request: dict[str, Any]
    stopped: bool = False
    """Its caller's stop was answered with the run STOPPED, or with the stop recorded."""
    job_left: bool = False
    """Its job left the stack while the run was open."""
    stop_sent: bool = False
    """Its caller who stops at the worst moment has stopped it."""
    reclaimed: bool = False
    """Spot took one of its tasks back, beside what its scenario has its tasks do."""
    block_began: dict[int, float] = field(default_factory=dict)


class World:
    def __init__(self, seed: int, settings: Settings, declared_table: dict[str, Any]):
        self.seed, self.settings = seed, settings
        self.sim = sim = Simulator(seed)
        self.deployed = stack.Deployed(retention_days=settings.retention_days)
        self.config = self.deployed.config()
        self.faults = Faults(
            rates={
                "ecs": settings.throttle,
                "dynamodb": settings.throttle / 4,
                "sns": settings.throttle,
                "logs": settings.throttle,
            },
            ecs_parameter_throttle=settings.ecs_parameter_throttle,
        )
        self.table = Table(
            Schema.from_declared(declared_table, stack.TABLE),
            now=sim.now,
            index_lag=lambda: sim.rng.expovariate(1 / settings.index_lag),
            # Deleted up to two days after expiry, often much sooner.
            ttl_delay=lambda: min(2 * 24 * HOUR, sim.rng.expovariate(1 / HOUR)),
            on_expire=lambda item: self.invariants.expired(item),
            key_when_limit_reached=True,
        )
        self.ecs = EcsModel(
            now=sim.now,
            schedule=sim.at,
            emit=self.on_task_change,
            fate_of=self.fate_of,
            placeable=self.placeable,
            refused=self.refused,
            rng=sim.rng,
            visible_after=lambda: sim.rng.uniform(0, settings.visible_after),
            no_task_replay=settings.no_task_replay,
            checked=False,
        )
        self.topic = Topic(sim)
        self.failure_queue = Queue(
            stack.FAILURE_QUEUE, stack.FAILURE_QUEUE_URL, now=sim.monotonic, rng=sim.rng
        )
        self.invariants = Invariants(self)
        self.clients = {
            "ecs": self._watched("ecs", self.ecs),
            "dynamodb": self._watched("dynamodb", self.table.client(validate=False)),
            "sns": self._watched("sns", self.topic),
            "logs": Service(sim, "logs", LogGroups(), self.faults, latency=settings.latency),
            "sqs": Service(sim, "sqs", self.failure_queue, self.faults, latency=settings.latency),
        }
        ended = self.invariants.ended
        self.trigger = Function(
            sim,
            "trigger",
            handler.handler,
            handler.FUNCTION_TIMEOUT_SECONDS,
            stack.TRIGGER_ARN,
            ended=ended,
        )
        self.supervisor = Function(
            sim,
            "supervisor",
            supervisor.handler,
            supervisor.FUNCTION_TIMEOUT_SECONDS,
            stack.SUPERVISOR_ARN,
            broken=self.outage,
            ended=ended,
            on_failure=self.failure_queue.send,
            max_event_age=lifecycle.SUPERVISOR_EVENT_AGE_SECONDS,
        )
        self.forwarder = Function(
            sim, "alarms", forwarder.handler, 60, stack.FORWARDER_ARN, ended=ended
        )
        self.errors_alarm = ErrorsAlarm(
            sim,
            f"{stack.PREFIX}-{stack_alarms.SUPERVISOR_ERRORS}",
            f"{stack.ALARM_ARN}{stack.PREFIX}-{stack_alarms.SUPERVISOR_ERRORS}",
            self.forwarder.send,
        )
        self.cases: dict[str, Case] = {}
        self.stop_lost: set[str] = set()
        """Tasks every event of whose stop was lost."""
        self.callers_done = 0.0
        """When the last caller's action is due."""
        self.task_run: dict[str, str] = {}

    def _watched(self, name: str, model: Any) -> Service:
        """A client whose calls the invariants watch and the trace tells."""
        return Service(
            self.sim,
            name,
            model,
            self.faults,
            latency=self.settings.latency,
            watch=self.watch,
            tell=self.tell,
        )

    # --- the world's timeline -----------------------------------------------------------------

    def play(self) -> Invariants:
        sim, settings = self.sim, self.settings
        for index in range(settings.runs):
            case = self.new_case(index)
            self.caller_after(sim.rng.uniform(0, settings.spread), lambda c=case: self.request(c))
        if settings.long_run:
            long_run = scenarios.Scenario(
                "a run longer than the retention",
                "report",
                [Fate("exit", 0, sim.rng.uniform(25 * HOUR, 27 * HOUR))],
            )
            case = self.new_case(settings.runs, long_run)
            self.caller_after(MINUTE, lambda: self.request(case))
        self.every(MINUTE, lambda: self.supervisor.send(lifecycle.RECONCILE_EVENT))
        self.every(10 * MINUTE, self.table.expire)
        self.every(MINUTE, self.invariants.periodic)
        self.every(5 * MINUTE, self.errors_alarm.evaluate)
        self.every(MINUTE, self.end_when_quiet)
        if settings.remove_job is not None:
            when, length = settings.remove_job
            sim.after(when, lambda: self.deploy(jobs=("report",)))
            sim.after(when + length, lambda: self.deploy(jobs=tuple(stack.RULES)))
        sim.after(sim.rng.uniform(0, settings.spread * 2), lambda: self.deploy())
        for _ in range(sim.rng.randint(0, 2)):  # Spot takes capacity back in bursts
            sim.after(sim.rng.uniform(0, settings.spread * 2), self.reclaim)
        if settings.outage is not None:
            start, length = settings.outage
            sim.after(start, lambda: sim.note("outage: every supervisor invocation fails"))
            sim.after(start + length, lambda: sim.note("outage ends"))
        with self._patched():
            sim.run(settings.horizon)
        self.invariants.finish()
        return self.invariants

    def end_when_quiet(self) -> None:
        """Once callers are done, every run is final and no task runs, late events and
        notices get QUIET_TAIL more, and the world ends."""
        if self.sim.end is not None or self.sim.t < self.callers_done or self.outage():
            return
        if any(self.ecs.running()):
            return
        final = self.invariants.final_at
        if all(run_id in final for run_id in self.invariants.accepted):
            self.sim.end = self.sim.t + QUIET_TAIL

    def every(self, seconds: float, action: Any) -> None:
        def tick() -> None:
            action()
            self.sim.after(seconds, tick)

        self.sim.after(seconds, tick)

    def outage(self) -> str | None:
        if self.settings.outage is None:
            return None
        start, length = self.settings.outage
        if start <= self.sim.t < start + length:
            return "the supervisor's deploy is broken: every invocation fails"
        return None

    def reclaim(self) -> None:
        reclaimed = self.ecs.reclaim_spot(self.sim.rng.randint(1, self.settings.reclaim_at_most))
        for arn in reclaimed:
            run_id = str(self.ecs.tasks[arn].get("startedBy"))
            if run_id in self.cases:
                self.cases[run_id].reclaimed = True
            self.sim.note(f"run={run_id[:8]} Spot reclaims task {arn[-6:]}")

    def unknowable(self, arn: str) -> bool:
        """Whether nothing could have learnt how the task ended: every event of its stop was
        lost, and the supervisor was up less than UP_TO_LEARN of the hour ECS remembered it."""
        end = self.ecs.end(arn)
        if arn not in self.stop_lost or end is None or self.settings.outage is None:
            return False
        start, length = self.settings.outage
        stopped = self.sim.at_time(end.stopped_at)
        window = (stopped, stopped + HOUR)
        down = max(0.0, min(window[1], start + length) - max(window[0], start))
        return HOUR - down < UP_TO_LEARN

    def deploy(self, jobs: tuple[str, ...] | None = None) -> None:
        shorter = self.sim.rng.random() < SHORTER_RETENTION
        self.deployed = replace(
            self.deployed,
            revision=self.deployed.revision + 1,
            jobs=jobs if jobs is not None else self.deployed.jobs,
            retention_days=1 if shorter else self.deployed.retention_days,
        )
        self.config = self.deployed.config()
        for case in self.cases.values():
            if (
                case.scenario.job not in self.deployed.jobs
                and case.run_id not in self.invariants.final_at
            ):
                case.job_left = True
        self.sim.note(
            f"deploy: revision {self.deployed.revision}, jobs {', '.join(self.deployed.jobs)}"
        )

    # --- callers --------------------------------------------------------------------------------

    def new_case(self, index: int, scenario: scenarios.Scenario | None = None) -> Case:
        scenario = scenario or scenarios.draw(
            self.sim.rng,
            drop_all=self.settings.drop_all,
            asynchronous=self.settings.asynchronous,
        )
        key = f"sim-{self.seed}-{index}"
        request = {
            "job": scenario.job,
            "environment": {stack.VARIABLE: str(index)},
            "idempotencyKey": key,
        }
        case = Case(index, runs.run_id(scenario.job, key), scenario, request)
        self.cases[case.run_id] = case
        return case

    def request(self, case: Case, event: dict[str, Any] | None = None) -> None:
        sim, scenario = self.sim, case.scenario
        first = event is None
        event = event or case.request
        sim.note(f"run={case.run_id[:8]} caller: run {scenario.name!r}")
        if scenario.asynchronous:
            self.trigger.send(event)
        else:
            self.trigger.call(event, then=lambda o: self.invariants.answered(case, event, o))
        if not first:
            return
        if scenario.stop_after is not None:
            self.caller_after(scenario.stop_after, lambda: self.stop(case))
        for seconds in scenario.repeats:
            self.caller_after(seconds, lambda: self.request(case, case.request))
        if scenario.reuse_after is not None:
            other = {**case.request, "capacity": "on-demand"}
            self.caller_after(
                scenario.reuse_after,
                lambda: self.trigger.call(other, then=lambda o: self.invariants.reused(case, o)),
            )

    def caller_after(self, seconds: float, action: Any) -> None:
        self.callers_done = max(self.callers_done, self.sim.t + seconds + MINUTE)
        self.sim.after(seconds, action)

    def stop(self, case: Case, tries: int = 0) -> None:
        self.sim.note(f"run={case.run_id[:8]} caller: stop")
        event = {"action": "stop", "runId": case.run_id, "reason": "sim: caller stop"}

        def then(outcome: Any) -> None:
            answer = outcome.invocation.result
            self.invariants.stop_answered(case, outcome)
            if outcome.failed or (isinstance(answer, dict) and "error" in answer):
                if tries < 2:  # the caller sends stop again, as the error says
                    self.caller_after(30.0, lambda: self.stop(case, tries + 1))
                return
            # Answered STOPPED, or open with the stop recorded: the caller's stop counts. A run
            # final before it came is answered as it was.
            if answer.get("status") not in runs.FINAL - {runs.STOPPED}:
                case.stopped = True

        self.trigger.call(event, then=then)

    # --- ECS's side: what each task does, and its events --------------------------------------

    def fate_of(self, run_id: str, index: int) -> Fate:
        fates = self.cases[run_id].scenario.fates
        # A task beyond the scenario's is one too many: it succeeds, so that it is counted only.
        return fates[index] if index < len(fates) else Fate("exit", 0, 60.0)

    def placeable(self, run_id: str, index: int, provider: str) -> bool:
        case = self.cases[run_id]
        block = case.scenario.blocked.get(index)
        if block is None:
            return True
        seconds, providers = block
        began = case.block_began.setdefault(index, self.sim.t)
        return provider not in providers or self.sim.t - began >= seconds

    def refused(self, run_id: str, index: int) -> ClientError | None:
        code = self.cases[run_id].scenario.refused.get(index)
        if code is None:
            return None
        return client_error(code, f"{code}: the simulation refuses this task", "RunTask")

    def on_task_change(self, task: dict[str, Any]) -> None:
        run_id = str(task.get("startedBy"))
        self.task_run[task["taskArn"]] = run_id
        self.invariants.task_changed(task)
        case = self.cases.get(run_id)
        where = (
            f"run={run_id[:8]} task {task['taskArn'][-6:]} v{task['version']} {task['lastStatus']}"
        )
        rng, settings = self.sim.rng, self.settings
        if case is None or case.scenario.drop_all or rng.random() < settings.drop:
            self.sim.note(f"{where}: event lost")
            if task["lastStatus"] == "STOPPED":
                self.stop_lost.add(task["taskArn"])
            return
        for _ in range(2 if rng.random() < settings.duplicate else 1):
            late = rng.random() < settings.late
            delay = rng.uniform(60, 600) if late else rng.uniform(0.5, 30)
            event = self.envelope(task)
            self.sim.after(delay, functools.partial(self.deliver, where, event))

    def deliver(self, where: str, event: dict[str, Any]) -> None:
        self.sim.note(f"{where}: event delivered")
        self.supervisor.send(event)

    def envelope(self, task: dict[str, Any]) -> dict[str, Any]:
        return state_change_event(task, self.sim.now(), stack.REGION, stack.ACCOUNT)

    def watch(self, service: str, operation: str, params: dict[str, Any], answer: Any) -> None:
        """Every AWS call as it takes effect: the invariants check it, and a caller who stops
        at the worst moment sees it."""
        self.invariants.watch(service, operation, params, answer)
        if service != "dynamodb" or isinstance(answer, ClientError):
            return
        if operation == "update_item":
            values = params.get("ExpressionAttributeValues", {})
            rerun = any(v == {"S": runs.PENDING} for k, v in values.items() if k.startswith(":v"))
            key = params.get("Key", {}).get(runs.Record.RUN_ID, {}).get("S")
            if rerun:
                self._worst_moment(key)
        elif operation == "query" and params.get("IndexName") == runs.BY_STATUS_INDEX:
            for item in answer.get("Items") or []:
                if item.get(runs.Record.STATUS) == {"S": runs.PENDING}:
                    self._worst_moment(item.get(runs.Record.RUN_ID, {}).get("S"))

    def _worst_moment(self, run_id: str | None) -> None:
        case = self.cases.get(str(run_id))
        if case is None or not case.scenario.stop_at_worst or case.stop_sent:
            return
        case.stop_sent = True
        self.sim.after(0.0, lambda: self.stop(case))

    def tell(self, service: str, operation: str, params: dict[str, Any], answer: Any) -> str | None:
        """A call's line in its run's story: what was asked and what came back."""
        run_id = _run_named(params) or self.task_run.get(str(params.get("task")), "")
        if not run_id:
            return None
        if isinstance(answer, ClientError):
            error = answer.response.get("Error", {})
            said = f"{error.get('Code')}: {str(error.get('Message'))[:80]}"
        elif operation == "run_task":
            tasks = [t["taskArn"][-6:] for t in answer.get("tasks") or []]
            said = f"tasks {tasks}" if tasks else f"failures {answer.get('failures')}"[:120]
        elif operation == "update_item":
            values = params.get("ExpressionAttributeValues", {})
            said = ", ".join(
                v["S"]
                for k, v in values.items()
                if k.startswith(":v") and isinstance(v, dict) and v.get("S") in runs.STATUSES
            )
        elif operation == "stop_task":
            task = answer.get("task", {})
            said = f"{task.get('lastStatus')} {task.get('stopCode')}"
        else:
            said = ""
        return f"run={run_id[:8]} {service}.{operation} {said}".rstrip()

    # --- the functions as Lambda loads them ---------------------------------------------------

    @contextlib.contextmanager
    def _patched(self) -> Iterator[None]:
        saved: list[tuple[Any, str, Any]] = []

        def put(module: Any, name: str, value: Any) -> None:
            saved.append((module, name, getattr(module, name)))
            setattr(module, name, value)

        put(failed_events, "_urls", {})  # asked once per execution environment: each world's own
        for module in (handler, supervisor):
            put(module, "ecs", self.clients["ecs"])
            put(module, "dynamodb", self.clients["dynamodb"])
            put(module, "load_config", lambda: self.config)
        put(supervisor, "sns", self.clients["sns"])
        put(supervisor, "logs", self.clients["logs"])
        put(supervisor, "sqs", self.clients["sqs"])
        put(forwarder, "sns", self.clients["sns"])
        variables = {
            stack_alarms.TOPIC_VARIABLE: stack.TOPIC,
            stack_alarms.NAMES_VARIABLE: json.dumps(stack_alarms.names(stack.PREFIX)),
        }
        saved_variables = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            with (
                clock.use(self.sim),
                concurrency.use(self.sim),
                contextlib.redirect_stdout(self.invariants.log_sink()),
            ):
                yield
        finally:
            for module, name, value in reversed(saved):
                setattr(module, name, value)
            for name, value in saved_variables.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _run_named(params: dict[str, Any]) -> str | None:
    """The run a request names: by its key (DynamoDB) or as startedBy (RunTask)."""
    key = params.get("Key") or params.get("Item") or {}
    named = key.get(runs.Record.RUN_ID, {}).get("S") if isinstance(key, dict) else None
    named = named or params.get("startedBy")
    return str(named) if runs.is_run_id(named) else None
