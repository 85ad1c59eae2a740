"""What each simulated run is to meet, and the final state the documented rules give it.

A scenario is drawn per run: what each task the run starts does (its `Fate`), when capacity is
missing, which RunTask is refused, whether and when its caller stops it or repeats the request,
whether its events are all lost. `expected` works the final state out from the scenario and the
documented rules alone (docs/lifecycle.md), not from the lifecycle's code.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from longjobs_contract import runs
from longjobs_contract.jobs import LifecycleRules
from simulation.ecs import Fate

IMPORT_RUNS_AT_MOST = 420.0
INTERRUPTIONS = ("interrupt", "start-transient", "held", "no-ip")
"""Fates the platform causes: re-run on the job's onInterruption capacity while
interruptionRetries last (docs/lifecycle.md, "Retries")."""


@dataclass
class Scenario:
    name: str
    job: str
    fates: list[Fate]
    """What each task the run starts does, in order."""
    blocked: dict[int, tuple[float, frozenset[str]]] = field(default_factory=dict)
    """Task index → (seconds from the first RunTask for it, providers without capacity)."""
    refused: dict[int, str] = field(default_factory=dict)
    """Task index → the error code RunTask raises for it (AccessDeniedException, ...)."""
    stop_after: float | None = None
    """Seconds after the request when the caller stops the run by its id."""
    stop_at_worst: bool = False
    """The caller stops the run at the worst moment it can: as soon as a re-run of it is
    recorded (before its RunTask), or a pass has read it as waiting (before it acts)."""
    repeats: list[float] = field(default_factory=list)
    """Seconds after the request when the caller sends the same request again."""
    reuse_after: float | None = None
    """Seconds after the request when a caller sends its key with another capacity."""
    drop_all: bool = False
    """Every event of the run's tasks is lost."""
    asynchronous: bool = False
    """The caller invokes the trigger asynchronously (Lambda retries what raises)."""

    def expected(self, rules: LifecycleRules) -> str:
        """The final status by the documented rules, from the scenario alone (no stop)."""
        job_failed = interrupted = 0
        for index, fate in enumerate(self.fates):
            if index in self.refused:
                return runs.FAILED
            if fate.kind == "hang":
                return runs.TIMED_OUT
            if fate.kind == "exit" and fate.exit_code == 0:
                return runs.SUCCEEDED
            if fate.kind == "exit":
                job_failed += 1
                if job_failed > rules.retries:
                    return runs.FAILED
            elif fate.kind in INTERRUPTIONS:
                interrupted += 1
                if interrupted > rules.interruption_retries:
                    return runs.FAILED
            elif fate.kind == "start-permanent":
                return runs.FAILED
        return runs.SUCCEEDED  # a task past the scenario's fates succeeds (World.fate_of)


def _exit(rng: random.Random, code: int = 0) -> Fate:
    return Fate("exit", code, rng.uniform(30, 900))


def _interrupt(rng: random.Random) -> Fate:
    return Fate("interrupt", seconds=rng.uniform(10, 600))


def _both(rng: random.Random) -> tuple[float, frozenset[str]]:
    return rng.uniform(20, 420), frozenset({"FARGATE", "FARGATE_SPOT"})


def _job(rng: random.Random) -> str:
    return rng.choice(["report", "import"])


def _long(rng: random.Random) -> Fate:
    """A job that outlasts ECS's memory of its task and its record's retention."""
    return Fate("exit", 0, rng.uniform(3 * 3600, 5 * 3600))


Maker = Callable[[random.Random], Scenario]
SCENARIOS: dict[str, tuple[int, Maker]] = {
    "success": (12, lambda r: Scenario("", _job(r), [_exit(r)])),
    "a long run": (3, lambda r: Scenario("", "report", [_long(r)])),
    "spot interruption then success": (
        10,
        lambda r: Scenario("", "report", [_interrupt(r), _exit(r)]),
    ),
    "interrupted until interruptionRetries run out": (
        3,
        lambda r: Scenario("", "report", [_interrupt(r) for _ in range(3)]),
    ),
    "failures until retries run out": (
        6,
        lambda r: Scenario("", _job(r), [_exit(r, 1), _exit(r, r.choice([1, 2, 137]))]),
    ),
    "failure then success": (5, lambda r: Scenario("", _job(r), [_exit(r, 1), _exit(r)])),
    "no capacity at start, then capacity": (
        6,
        lambda r: Scenario("", _job(r), [_exit(r)], blocked={0: _both(r)}),
    ),
    "Spot full at start": (
        4,
        lambda r: Scenario(
            "", "report", [_exit(r)], blocked={0: (r.uniform(20, 600), frozenset({"FARGATE_SPOT"}))}
        ),
    ),
    "no capacity at a re-run": (
        4,
        lambda r: Scenario("", "report", [_interrupt(r), _exit(r)], blocked={1: _both(r)}),
    ),
    "repeated request": (
        6,
        lambda r: Scenario(
            "", _job(r), [_exit(r)], repeats=[r.uniform(0, 2400) for _ in range(r.randint(1, 3))]
        ),
    ),
    "key reused with another capacity": (
        3,
        lambda r: Scenario("", "report", [_exit(r)], reuse_after=r.uniform(0, 1200)),
    ),
    "TaskFailedToStart transient": (
        4,
        lambda r: Scenario("", _job(r), [Fate("start-transient")] * r.randint(1, 2) + [_exit(r)]),
    ),
    "TaskFailedToStart permanent": (3, lambda r: Scenario("", _job(r), [Fate("start-permanent")])),
    "held for capacity, then runs": (3, lambda r: Scenario("", _job(r), [Fate("held"), _exit(r)])),
    "no free addresses, then runs": (3, lambda r: Scenario("", _job(r), [Fate("no-ip"), _exit(r)])),
    "RunTask refused": (
        2,
        lambda r: Scenario("", _job(r), [_exit(r)], refused={0: "AccessDeniedException"}),
    ),
    "stopped by its caller": (
        8,
        lambda r: Scenario(
            "",
            "report",
            ([_interrupt(r)] if r.random() < 0.3 else []) + [Fate("hang")],
            stop_after=r.uniform(0, 900),
        ),
    ),
    "stop races the end": (
        5,
        lambda r: Scenario(
            "", _job(r), [_exit(r, r.choice([0, 0, 1]))], stop_after=r.uniform(0, 900)
        ),
    ),
    "stopped while it waits for capacity": (
        4,
        lambda r: Scenario(
            "",
            _job(r),
            [_exit(r)],
            blocked={0: (r.uniform(300, 900), frozenset({"FARGATE", "FARGATE_SPOT"}))},
            stop_after=r.uniform(60, 900),
        ),
    ),
    "stopped at the worst moment": (
        4,
        lambda r: Scenario(
            "",
            "report",
            [_interrupt(r), _exit(r)],
            blocked={1: _both(r)} if r.random() < 0.5 else {},
            stop_at_worst=True,
        ),
    ),
    "timeout": (4, lambda r: Scenario("", "import", [Fate("hang")])),
}


def draw(rng: random.Random, *, drop_all: float, asynchronous: float) -> Scenario:
    names = list(SCENARIOS)
    name = rng.choices(names, weights=[SCENARIOS[n][0] for n in names])[0]
    chosen = SCENARIOS[name][1](rng)
    chosen.name = name
    if chosen.job == "import":  # its timeout is 10 minutes: its runs end well inside it
        chosen.fates = [
            replace(f, seconds=min(f.seconds, IMPORT_RUNS_AT_MOST)) if f.kind == "exit" else f
            for f in chosen.fates
        ]
    chosen.drop_all = rng.random() < drop_all
    chosen.asynchronous = rng.random() < asynchronous
    return chosen
