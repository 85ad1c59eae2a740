"""The ECS model (simulation/ecs.py) against the documented behaviours it keeps, each on a virtual
clock: eventual consistency after RunTask, forgetting, StopTask on a task already stopping,
RunTask tokens after a no-task answer, ListTasks, starts that never run, Spot reclaiming capacity
in bursts, the truth a simulation reads, and requests checked against botocore's model."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from simulation import ecs_api
from simulation.ecs import EcsModel, Fate, TaskEnd

CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/longjobs"
DEFINITION = "arn:aws:ecs:eu-west-1:123456789012:task-definition/longjobs-report:3"
BEGAN = datetime(2026, 11, 2, tzinfo=UTC)


class Clock:
    """Virtual time: actions run in the order of their time, as the clock passes it."""

    def __init__(self) -> None:
        self.now = BEGAN
        self._queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self._scheduled = 0

    def schedule(self, when: datetime, action: Callable[[], None]) -> None:
        self._scheduled += 1
        heapq.heappush(self._queue, (when, self._scheduled, action))

    def advance(self, seconds: float) -> None:
        until = self.now + timedelta(seconds=seconds)
        while self._queue and self._queue[0][0] <= until:
            when, _, action = heapq.heappop(self._queue)
            self.now = max(self.now, when)
            action()
        self.now = until


class World:
    """The model on a clock, every event it emits kept, each run's tasks doing `fates[run]`."""

    def __init__(self, fates: dict[str, Fate] | None = None, **options: Any) -> None:
        self.clock = Clock()
        self.events: list[dict[str, Any]] = []
        self.room = True
        self.ecs = EcsModel(
            now=lambda: self.clock.now,
            schedule=self.clock.schedule,
            emit=self.events.append,
            fate_of=lambda run_id, index: (fates or {}).get(run_id, Fate("hang")),
            placeable=lambda run_id, index, provider: self.room,
            rng=random.Random(7),
            **options,
        )

    def run(self, run_id: str, attempt: int = 1, provider: str = "FARGATE_SPOT") -> str | None:
        """RunTask for the run's attempt; the ARN it started, if any."""
        answer = self.ecs.run_task(**request(run_id, attempt, provider))
        return answer["tasks"][0]["taskArn"] if answer["tasks"] else None

    def describe(self, arn: str) -> dict[str, Any]:
        return self.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])

    def statuses(self, arn: str) -> list[str]:
        """Every lastStatus the task's events carried, in order."""
        return [event["lastStatus"] for event in self.events if event["taskArn"] == arn]


def request(run_id: str, attempt: int = 1, provider: str = "FARGATE_SPOT") -> dict[str, Any]:
    return {
        "cluster": CLUSTER,
        "taskDefinition": DEFINITION,
        "startedBy": run_id,
        "clientToken": f"{run_id}-attempt-{attempt}",
        "capacityProviderStrategy": [{"capacityProvider": provider, "weight": 1}],
        "overrides": {"containerOverrides": [{"name": "report"}]},
    }


def not_found(call: Callable[[], Any]) -> str:
    """The error code and message `call` raised."""
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return f"{error['Code']}: {error['Message']}"


NOT_FOUND = "InvalidParameterException: The referenced task was not found"


# --- eventual consistency (RunTask in the ECS API reference) -------------------------------------


def test_reads_do_not_know_a_task_until_its_start_is_visible_to_them():
    world = World(visible_after=lambda: 40.0)
    arn = world.run("run-1")
    assert arn is not None
    assert world.describe(arn) == {"tasks": [], "failures": [{"arn": arn, "reason": "MISSING"}]}
    assert not_found(lambda: world.ecs.stop_task(cluster=CLUSTER, task=arn)) == NOT_FOUND
    assert world.ecs.list_tasks(cluster=CLUSTER, startedBy="run-1") == {"taskArns": []}
    world.clock.advance(40)
    assert [task["taskArn"] for task in world.describe(arn)["tasks"]] == [arn]
    assert world.ecs.list_tasks(cluster=CLUSTER, startedBy="run-1") == {"taskArns": [arn]}
    assert world.ecs.stop_task(cluster=CLUSTER, task=arn)["task"]["desiredStatus"] == "STOPPED"


def test_by_default_a_task_is_known_as_soon_as_it_starts():
    world = World()
    arn = world.run("run-1")
    assert [task["taskArn"] for task in world.describe(arn or "")["tasks"]] == [arn]


# --- forgetting ------------------------------------------------------------------------------


def test_a_task_stopped_over_an_hour_ago_is_forgotten_by_every_read():
    world = World({"run-1": Fate("exit", 0, seconds=60)})
    arn = world.run("run-1") or ""
    world.clock.advance(600)
    assert world.describe(arn)["tasks"][0]["lastStatus"] == "STOPPED"
    assert world.ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"] == [arn]
    world.clock.advance(3600)
    assert world.describe(arn)["failures"] == [{"arn": arn, "reason": "MISSING"}]
    assert not_found(lambda: world.ecs.stop_task(cluster=CLUSTER, task=arn)) == NOT_FOUND
    assert world.ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"] == []


# --- StopTask on a task already stopping or stopped ------------------------------------------------


def test_stop_task_answers_a_task_already_stopping_or_stopped_as_it_is():
    world = World({"run-1": Fate("exit", 3, seconds=30)})
    arn = world.run("run-1") or ""
    while world.ecs.task(arn)["desiredStatus"] != "STOPPED":
        world.clock.advance(1)
    stopping = world.ecs.task(arn)
    events = len(world.events)
    answered = world.ecs.stop_task(cluster=CLUSTER, task=arn, reason="operator")["task"]
    assert answered == stopping
    assert (answered["stopCode"], answered["stoppedReason"]) == (
        "EssentialContainerExited",
        ecs_api.ESSENTIAL_EXITED,
    )
    world.clock.advance(600)
    stopped = world.ecs.task(arn)
    assert world.ecs.stop_task(cluster=CLUSTER, task=arn)["task"] == stopped
    assert world.ecs.end(arn) == TaskEnd(
        "EssentialContainerExited", ecs_api.ESSENTIAL_EXITED, 3, stopped["stoppedAt"]
    )
    assert [e["version"] for e in world.events[events:]] == [stopping["version"] + 1,
                                                           stopping["version"] + 2]  # fmt: skip


def test_stop_task_on_a_running_task_is_user_initiated_with_its_reason():
    world = World()
    arn = world.run("run-1") or ""
    world.clock.advance(120)
    answered = world.ecs.stop_task(cluster=CLUSTER, task=arn, reason="superseded")["task"]
    assert (answered["desiredStatus"], answered["stopCode"], answered["stoppedReason"]) == (
        "STOPPED",
        "UserInitiated",
        "superseded",
    )


# --- RunTask tokens after an answer that placed no task (ECS_Idempotency) ------------------------


def test_a_token_whose_first_answer_placed_no_task_answers_it_again_by_default():
    world = World()
    world.room = False
    assert world.run("run-1") is None
    world.room = True
    answer = world.ecs.run_task(**request("run-1"))
    assert answer == {
        "tasks": [],
        "failures": [{"arn": CLUSTER, "reason": ecs_api.CAPACITY_REASON}],
    }
    assert world.ecs.tasks_of("run-1") == []


def test_a_token_whose_first_answer_placed_no_task_may_be_taken_as_new():
    world = World(no_task_replay="new")
    world.room = False
    assert world.run("run-1") is None
    world.room = True
    arn = world.run("run-1")
    assert world.ecs.tasks_of("run-1") == [arn]
    assert world.run("run-1") == arn  # once it started a task, the token answers with it


def test_no_task_replay_is_one_of_the_two_readings():
    with pytest.raises(ValueError, match="no_task_replay"):
        World(no_task_replay="sometimes")


# --- ListTasks --------------------------------------------------------------------------------


def test_list_tasks_filters_by_started_by_and_desired_status():
    world = World({"run-2": Fate("exit", 0, seconds=30)})
    first = world.run("run-1")
    other = world.run("run-2")
    world.clock.advance(600)
    listed = world.ecs.list_tasks
    assert listed(cluster=CLUSTER, startedBy="run-1") == {"taskArns": [first]}
    assert listed(cluster="longjobs") == {"taskArns": [first]}
    assert listed(cluster=CLUSTER, startedBy="run-2") == {"taskArns": []}
    assert listed(cluster=CLUSTER, startedBy="run-2", desiredStatus="STOPPED") == {
        "taskArns": [other]
    }
    assert listed(cluster=CLUSTER, desiredStatus="PENDING") == {"taskArns": []}
    assert listed(cluster=CLUSTER + "-other", startedBy="run-1") == {"taskArns": []}


def test_list_tasks_pages_by_max_results():
    world = World()
    started = [world.run(f"run-{index}") for index in range(5)]
    pages, token = [], None
    while True:
        page = world.ecs.list_tasks(cluster=CLUSTER, maxResults=2,
                                    **({"nextToken": token} if token else {}))  # fmt: skip
        pages.append(page["taskArns"])
        token = page.get("nextToken")
        if token is None:
            break
    assert pages == [started[0:2], started[2:4], started[4:5]]
    with pytest.raises(ClientError, match="InvalidParameterException"):
        world.ecs.list_tasks(cluster=CLUSTER, maxResults=101)
    with pytest.raises(NotImplementedError, match="family"):
        world.ecs.list_tasks(cluster=CLUSTER, family="longjobs-report")


# --- starts that never run ----------------------------------------------------------------------


def test_a_held_task_waits_in_provisioning_then_fails_to_start_with_no_containers():
    """PrefectHQ/prefect#22410: about 30 minutes in PROVISIONING, then TaskFailedToStart with an
    empty `containers` array."""
    world = World({"run-1": Fate("held")})
    answer = world.ecs.run_task(**request("run-1"))
    arn = answer["tasks"][0]["taskArn"]
    assert answer["tasks"][0]["containers"] == []
    world.clock.advance(24 * 60)
    assert world.statuses(arn) == ["PROVISIONING"]
    world.clock.advance(10 * 60)
    task = world.ecs.task(arn)
    assert (task["lastStatus"], task["stopCode"], task["containers"]) == (
        "STOPPED",
        "TaskFailedToStart",
        [],
    )
    assert "PENDING" not in world.statuses(arn) and "RUNNING" not in world.statuses(arn)
    assert world.ecs.end(arn) == TaskEnd(
        "TaskFailedToStart", ecs_api.HELD_REASON, None, task["stoppedAt"]
    )


def test_a_task_in_a_subnet_without_free_addresses_fails_to_start_soon():
    """paradisec-archive/nabu#1259: tasks reach PROVISIONING, then stop
    InsufficientFreeAddressesInSubnet; RunTask had answered 200 with the task."""
    world = World({"run-1": Fate("no-ip")})
    arn = world.run("run-1") or ""
    world.clock.advance(180)
    task = world.ecs.task(arn)
    assert (task["lastStatus"], task["stopCode"]) == ("STOPPED", "TaskFailedToStart")
    assert task["stoppedReason"].startswith("InsufficientFreeAddressesInSubnet")
    assert world.statuses(arn) == ["PROVISIONING", "PROVISIONING", "DEPROVISIONING", "STOPPED"]
    assert world.ecs.end(arn).exit_code is None  # type: ignore[union-attr]


# --- Fargate Spot reclaiming capacity in a burst ---------------------------------------------


def test_spot_reclaims_many_running_tasks_at_once_with_the_two_minute_warning():
    world = World()
    spot = [world.run(f"spot-{index}") for index in range(5)]
    on_demand = world.run("on-demand", provider="FARGATE")
    world.clock.advance(120)  # all RUNNING
    reclaimed = world.ecs.reclaim_spot(3)
    assert len(reclaimed) == 3 and set(reclaimed) <= set(spot)
    for arn in reclaimed:
        task = world.ecs.task(arn)
        assert (task["desiredStatus"], task["stopCode"]) == ("STOPPED", "SpotInterruption")
        assert task["stoppedReason"] == ecs_api.SPOT_REASON
    warned = world.clock.now
    world.clock.advance(120 + 30)  # SIGTERM, at most 120 s to exit, then DEPROVISIONING
    assert all(world.ecs.task(arn)["lastStatus"] in ("DEPROVISIONING", "STOPPED")
               for arn in reclaimed)  # fmt: skip
    assert world.clock.now - warned == timedelta(seconds=150)
    assert world.ecs.task(on_demand or "")["desiredStatus"] == "RUNNING"
    assert sorted(world.ecs.reclaim_spot(10)) == sorted(set(spot) - set(reclaimed))
    assert world.ecs.reclaim_spot(1) == []


# --- the truth a simulation reads ------------------------------------------------------------


def test_the_truth_is_current_whatever_reads_answer():
    world = World({"run-1": Fate("exit", 0, seconds=30)}, visible_after=lambda: 300.0)
    first = world.run("run-1") or ""
    assert world.describe(first)["failures"]  # not visible to reads yet
    assert world.ecs.task(first)["lastStatus"] == "PROVISIONING"
    assert world.ecs.live("run-1") == [first]
    assert world.ecs.end(first) is None
    world.clock.advance(600)
    second = world.run("run-1", attempt=2) or ""
    assert world.ecs.tasks_of("run-1") == [first, second]
    assert world.ecs.live("run-1") == [second]
    world.clock.advance(2 * 3600)
    assert world.describe(first)["failures"]  # forgotten by ECS, not by the truth
    assert world.ecs.end(first) == TaskEnd(
        "EssentialContainerExited",
        ecs_api.ESSENTIAL_EXITED,
        0,
        world.ecs.task(first)["stoppedAt"],
    )


# --- requests checked against botocore's model -------------------------------------------------


def test_every_request_is_checked_against_botocores_model_of_the_operation():
    world = World()
    with pytest.raises(ParamValidationError, match="taskDefinitions"):
        world.ecs.run_task(**{**request("run-1"), "taskDefinitions": DEFINITION})
    with pytest.raises(ParamValidationError):
        world.ecs.list_tasks(cluster=CLUSTER, maxResults="2")
    assert world.ecs.calls == []


def test_the_operations_input_shapes_are_read_once():
    assert ecs_api._input_shape("RunTask") is ecs_api._input_shape("RunTask")


# --- a task driven from outside the model (the local runtime's Docker containers) -------------


def driven_world() -> tuple[World, list[str]]:
    """A world whose run "r" is driven: its stops are told to `stops`, not scheduled."""
    world = World({"r": Fate("driven")})
    stops: list[str] = []
    world.ecs.on_stop = stops.append
    return world, stops


def test_a_driven_task_changes_only_when_its_driver_says_so():
    world, stops = driven_world()
    arn = world.run("r")
    world.clock.advance(3600)  # nothing is scheduled for it
    assert world.statuses(arn) == ["PROVISIONING"]
    world.ecs.container_created(arn)
    world.ecs.container_started(arn)
    world.ecs.container_exited(arn, 3)
    assert world.statuses(arn) == [
        "PROVISIONING",
        "PENDING",
        "RUNNING",
        "RUNNING",
        "DEPROVISIONING",
        "STOPPED",
    ]
    end = world.ecs.end(arn)
    assert (end.stop_code, end.stopped_reason, end.exit_code) == (
        "EssentialContainerExited",
        ecs_api.ESSENTIAL_EXITED,
        3,
    )
    assert stops == [arn]  # the driver is told, and ignores it: the container is gone


def test_a_stop_of_a_driven_task_waits_for_its_container_to_exit():
    world, stops = driven_world()
    arn = world.run("r")
    world.ecs.container_created(arn)
    world.ecs.container_started(arn)
    world.ecs.stop_task(cluster=CLUSTER, task=arn, reason="enough")
    world.clock.advance(3600)
    assert stops == [arn]
    assert world.describe(arn)["tasks"][0]["lastStatus"] == "RUNNING"  # SIGTERM sent, not yet out
    world.ecs.container_exited(arn, 143)
    end = world.ecs.end(arn)
    assert (end.stop_code, end.stopped_reason, end.exit_code) == ("UserInitiated", "enough", 143)


@pytest.mark.parametrize(
    ("provider", "code", "reason"),
    [
        ("FARGATE_SPOT", "SpotInterruption", ecs_api.SPOT_REASON),
        ("FARGATE", "TerminationNotice", ecs_api.MAINTENANCE_REASON),
    ],
)
def test_an_interrupted_driven_task_stops_with_the_platforms_code(provider, code, reason):
    world, stops = driven_world()
    arn = world.run("r", provider=provider)
    world.ecs.container_created(arn)
    world.ecs.container_started(arn)
    world.ecs.interrupt(arn)
    world.ecs.interrupt(arn)  # a second warning for a task already stopping changes nothing
    assert stops == [arn]
    world.ecs.container_exited(arn, 0)
    end = world.ecs.end(arn)
    assert (end.stop_code, end.stopped_reason, end.exit_code) == (code, reason, 0)


def test_a_driven_task_that_cannot_start_stops_without_an_exit_code():
    world, _ = driven_world()
    arn = world.run("r")
    world.ecs.failed_to_start(arn, "CannotPullContainerError: no such image")
    end = world.ecs.end(arn)
    assert (end.stop_code, end.stopped_reason, end.exit_code) == (
        "TaskFailedToStart",
        "CannotPullContainerError: no such image",
        None,
    )
    assert world.describe(arn)["tasks"][0]["containers"][0]["lastStatus"] == "STOPPED"
