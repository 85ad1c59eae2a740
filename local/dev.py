"""`longjobs dev`: a stack's whole lifecycle on this machine. `serve` starts it and runs until
told to stop; `interrupt` asks a running one to interrupt a run's task as Fargate Spot would.

What `serve` starts, all on loopback: a local AWS (moto's server) with the stack's data
resources; the stack's functions behind Lambda's Invoke API; a local ECS whose tasks are Docker
containers; the stack's rules (task state changes to the supervisor, its pass every minute) and
schedules. It writes the outputs file (the stack's outputs with local names, plus
`endpointUrls`) that the client and boto3 use, and stops everything it started when told."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.aws import LOOPBACK, PLACEHOLDER_CREDENTIALS, LocalAws
from local.endpoint import INTERRUPT_PATH, Endpoint
from local.lambdas import LocalFunctions, declared_functions
from local.rules import declared_rules, matches
from local.schedules import LocalSchedules, schedules_of
from local.stack import LocalStack, load
from local.timers import Timers
from longjobs_contract.trigger_config import CONFIG_FILE, CONFIG_PATH_VARIABLE
from offline.program import PROJECT_ROOT

OUTPUTS_FOLDER = PROJECT_ROOT / ".longjobs" / "local"
MOTO_SERVICES = ("DYNAMODB", "S3", "SQS", "SNS", "CLOUDWATCH_LOGS", "SCHEDULER", "STS")
"""The services moto serves; boto3 reads AWS_ENDPOINT_URL_<SERVICE> (botocore >= 1.31)."""
OUTPUT_SERVICES = ("dynamodb", "s3", "sqs", "sns", "logs", "scheduler")
"""The outputs file's `endpointUrls` keys that the local AWS serves (boto3's service names)."""
TICK_SECONDS = 1.0


class LocalError(Exception):
    """What the runtime cannot do, in one line for the user."""


class Unavailable(LocalError):
    """The runtime cannot start on this machine (no Docker engine answers)."""


class NotRunning(LocalError):
    """No local runtime answers where its outputs file says."""


class NoSuchTask(LocalError):
    """The run has no task running to act on."""


def outputs_path(stack: str) -> Path:
    return OUTPUTS_FOLDER / f"{Path(stack).stem.removeprefix('Pulumi.')}.json"


@dataclass
class Runtime:
    """A started local runtime; `stop` ends everything it started."""

    stack: LocalStack
    aws: LocalAws
    endpoint: Endpoint
    timers: Timers
    functions: LocalFunctions
    outputs: dict[str, Any]
    outputs_file: Path
    stop_tasks: Callable[[], None]
    started_in: float
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.timers.close()
        self.stop_tasks()
        self.timers.join()
        self.endpoint.stop()
        self.aws.stop()


def start(
    stack_name: str,
    *,
    schedules: bool = True,
    outputs_file: Path | None = None,
    secrets_file: Path | None = None,
) -> Runtime:
    """Start the runtime for a stack; LocalError (config problems, no Docker) before anything
    is started."""
    from local import docker_side

    began = time.monotonic()
    stack = load_stack(stack_name)
    engine = docker_side.engine()
    secrets = docker_side.read_secrets(secrets_file)
    images = docker_side.images(engine, stack)
    aws = LocalAws(stack)
    aws.start()
    timers = Timers()
    started: list[Callable[[], None]] = []
    try:
        functions = LocalFunctions(declared_functions(stack), timers, _failure_sender(aws))
        ecs = _local_ecs(stack, timers, functions)
        endpoint = Endpoint(functions, ecs.call, ecs.interrupt, LOOPBACK)
        _point_handlers_at(stack, aws.endpoint, endpoint.url, Path(_work_folder(stack)))
        endpoint.start()
        started.append(endpoint.stop)
        driver, notes = docker_side.driver(ecs, timers, engine, aws, images, secrets)
        ecs.driver = driver
        _start_rules(stack, timers, functions)
        if schedules:
            _start_schedules(stack, timers, functions)
        _warm(functions)
    except BaseException:
        timers.close()
        timers.join()
        for stop in started:
            stop()
        aws.stop()
        raise
    outputs = local_outputs(stack, aws, endpoint.url)
    path = outputs_file or outputs_path(stack_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n")
    return Runtime(
        stack, aws, endpoint, timers, functions, outputs, path, driver.stop_all,
        time.monotonic() - began, notes,
    )  # fmt: skip


def serve(
    stack: str,
    *,
    schedules: bool = True,
    ready: Callable[[Runtime], None] | None = None,
    stop: threading.Event | None = None,
    outputs_file: Path | None = None,
    secrets_file: Path | None = None,
) -> None:
    """Run the stack locally until `stop` is set (SIGINT/SIGTERM set it in `python -m local`)."""
    runtime = start(
        stack, schedules=schedules, outputs_file=outputs_file, secrets_file=secrets_file
    )
    try:
        if ready is not None:
            ready(runtime)
        wait_until_set(stop or threading.Event())
    finally:
        runtime.stop()


def wait_until_set(event: threading.Event) -> None:
    """Wait on the main thread for `event`, which a signal's handler sets.

    Python runs a signal's handler on the main thread, but the kernel may deliver the signal to
    any of the runtime's threads: a wait without a timeout is then never woken to run it, and
    Ctrl-C is lost. Short waits let the handler run within half a second."""
    while not event.wait(0.5):
        pass


def interrupt(outputs: Path | dict[str, Any], run_id: str) -> str:
    """Interrupt the run's running task as Fargate Spot reclaims one (SIGTERM, up to its
    stopTimeout, at most two minutes, then SIGKILL; stop code SpotInterruption); the task's ARN."""
    values = _running_outputs(outputs) if isinstance(outputs, Path) else outputs
    url = values["endpointUrls"]["ecs"] + INTERRUPT_PATH
    request = urllib.request.Request(url, json.dumps({"runId": run_id}).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return str(json.loads(answer.read())["taskArn"])
    except urllib.error.HTTPError as error:
        message = json.loads(error.read()).get("message", str(error))
        raise (NoSuchTask if error.code == 404 else LocalError)(message) from None
    except urllib.error.URLError as error:
        raise NotRunning(f"no local runtime answers at {url}: {error.reason}") from None


def _running_outputs(path: Path) -> dict[str, Any]:
    try:
        values = json.loads(path.read_text())
        values["endpointUrls"]["ecs"]
    except OSError:
        raise NotRunning(f"no local runtime's outputs at {path}: start `longjobs dev`") from None
    except (ValueError, KeyError, TypeError):
        raise NotRunning(f"{path} is not a local runtime's outputs file") from None
    return dict(values)


def local_outputs(stack: LocalStack, aws: LocalAws, endpoint: str) -> dict[str, Any]:
    """The stack's outputs, its queue URLs the local ones, and where each service answers."""
    outputs = json.loads(json.dumps(stack.program.outputs, default=str))
    for key, value in outputs.items():
        if key.endswith("QueueUrl") and isinstance(value, str):
            outputs[key] = aws.queue_urls.get(value.rsplit("/", 1)[-1], value)
    outputs["endpointUrls"] = {
        **{service: aws.endpoint for service in OUTPUT_SERVICES},
        "lambda": endpoint,
        "ecs": endpoint,
    }
    return outputs


def load_stack(stack_name: str) -> LocalStack:
    from local.stack import StackError

    try:
        return load(stack_name)
    except StackError as error:
        raise LocalError(str(error)) from None


def _work_folder(stack: LocalStack) -> str:
    folder = OUTPUTS_FOLDER / f"{stack.name}-functions"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


def _point_handlers_at(stack: LocalStack, aws: str, endpoint: str, work: Path) -> None:
    """What the handlers' module-level clients and config read, set before they are imported."""
    config = work / CONFIG_FILE
    config.write_text(stack.functions_config)
    variables = {
        "AWS_DEFAULT_REGION": stack.region,
        "AWS_REGION": stack.region,
        **PLACEHOLDER_CREDENTIALS,
        "AWS_ENDPOINT_URL": aws,
        **{f"AWS_ENDPOINT_URL_{service}": aws for service in MOTO_SERVICES},
        "AWS_ENDPOINT_URL_ECS": endpoint,
        "AWS_ENDPOINT_URL_LAMBDA": endpoint,
        CONFIG_PATH_VARIABLE: str(config),
    }
    for function in declared_functions(stack).values():
        variables.update(function.environment)
    os.environ.update(variables)


def _local_ecs(stack: LocalStack, timers: Timers, functions: LocalFunctions) -> Any:
    from local.ecs import LocalEcs

    rules = [r for r in declared_rules(stack) if r.pattern is not None]

    # A local task's changes come milliseconds apart, where Fargate's come seconds apart: sent
    # all at once, the supervisor's conditional writes of one run would collide until it gives
    # up and waits for Lambda's retry a minute later. They are delivered one at a time, in
    # order, which EventBridge may also do ("at least once, in any order" includes in order).
    def deliver(event: dict[str, Any]) -> None:
        for rule in rules:
            if rule.pattern is not None and matches(rule.pattern, event):
                found = functions.find(rule.target_arn, None)
                if found is not None:
                    functions.send(found[0], found[1], event, in_order=True)

    return LocalEcs(stack, timers, deliver)


def _start_rules(stack: LocalStack, timers: Timers, functions: LocalFunctions) -> None:
    for rule in declared_rules(stack):
        found = functions.find(rule.target_arn, None)
        if rule.period is None or found is None:
            continue
        function, invoked = found
        event = rule.input

        def run(function: Any = function, invoked: str = invoked, event: Any = event) -> None:
            functions.send(function, invoked, event)

        timers.every(rule.period.total_seconds(), run)


def _start_schedules(stack: LocalStack, timers: Timers, functions: LocalFunctions) -> None:
    def fire(schedule: Any, event: Any) -> None:
        found = functions.find(schedule.target_arn, None)
        if found is not None:
            functions.send(found[0], found[1], event)

    local = LocalSchedules(schedules_of(stack.schedules(), datetime.now(UTC)), fire)

    def tick() -> None:
        local.tick(datetime.now(UTC))

    timers.every(TICK_SECONDS, tick)


def _warm(functions: LocalFunctions) -> None:
    """Import every handler now, so the first invocation is as quick as the next."""
    for function in functions.declared.values():
        functions.load(function)


def _failure_sender(aws: LocalAws) -> Callable[[str, dict[str, Any]], None]:
    def send(destination: str, record: dict[str, Any]) -> None:
        service, name = destination.split(":")[2], destination.rsplit(":", 1)[-1]
        if service == "sqs":
            url = aws.queue_urls[name]
            aws.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(record))
        elif service == "sns":
            aws.client("sns").publish(TopicArn=destination, Message=json.dumps(record))

    return send


def new_runtime_id() -> str:
    return uuid.uuid4().hex[:12]
