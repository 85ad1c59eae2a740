"""`make demo`: the product doing its job on this machine, step by step, in plain words.

Starts the local runtime on the dev stack, runs hello-world to SUCCEEDED, starts the report job,
interrupts it as Fargate Spot would, shows the retry resuming from its checkpoint and
succeeding, shows the run's record and its notice, then stops everything. Exits non-zero when a
step does not happen; without Docker, says so in one line and points to `make plan`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from local.dev import LocalError
from longjobs import LongjobsError, Run, Stack
from longjobs.models import Status
from offline.program import PROJECT_ROOT

FINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED")
REPORT = {"REPORT_ROWS": "20000", "REPORT_STEP_SECONDS": "0.5"}
"""20 steps of a thousand rows, half a second after each (a slow source): 10 s at least however
fast the machine, so it is still running when the demo interrupts it after its first step."""
LOG = PROJECT_ROOT / ".longjobs" / "local" / "demo.log"


class StepFailed(Exception):
    pass


def say(text: str) -> None:
    print(text, flush=True)


class Demo:
    """The product as a user drives it: the client (`longjobs.Stack`, `Run`) and the command's
    `longjobs dev interrupt`; a queue on the notifications topic, as a team's consumer has."""

    def __init__(self, outputs_file: Path) -> None:
        self.outputs_file = outputs_file
        self.outputs = json.loads(outputs_file.read_text())
        self.stack = Stack.from_outputs_file(outputs_file)

    def start(self, job: str, **environment: str) -> Run:
        try:
            return self.stack.run(job, environment=environment or None)
        except LongjobsError as error:
            raise StepFailed(f"the trigger refused a run of {job}: {error}") from None

    def follow(self, run: Run) -> Status:
        """The run to its end, each new status told as `longjobs run --wait` shows it."""

        def told(status: Status) -> None:
            say(f"    run {run.run_id[:8]}: {status.status} (attempt {status.attempt})")

        return run.wait(timeout=300, on_change=told).status

    def until_running(self, run: Run, within: float = 120) -> Status:
        """Its status, asked more often than `wait` does: the report must be interrupted while
        it runs."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            status = run.status()
            if status.status == "RUNNING" or status.final:
                say(f"    run {run.run_id[:8]}: {status.status} (attempt {status.attempt})")
                return status
            time.sleep(0.3)
        raise StepFailed(f"run {run.run_id} did not start running in {within:.0f} s")

    def interrupt(self, run: Run) -> str:
        """`longjobs dev interrupt RUN`, as a user types it; what it said."""
        command = [sys.executable, "-m", "longjobs", "dev", "interrupt", run.run_id]
        done = subprocess.run(
            [*command, "--outputs", str(self.outputs_file)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise StepFailed(f"`longjobs dev interrupt` exited {done.returncode}: {done.stderr}")
        return done.stdout.strip()

    def listen_for_notices(self) -> str:
        """A queue subscribed to the notifications topic, as a team's own consumer would be."""
        sqs = self.client("sqs")
        url: str = sqs.create_queue(QueueName="demo-notices")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        self.client("sns").subscribe(
            TopicArn=self.outputs["notificationsTopicArn"],
            Protocol="sqs",
            Endpoint=arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        return url

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.outputs["endpointUrls"][service],
            region_name=self.stack.outputs.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def notice(self, queue_url: str, run_id: str, within: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            answer = self.client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)
            for message in answer.get("Messages", []):
                body = json.loads(message["Body"])
                if body.get("runId") == run_id:
                    return body
        raise StepFailed(f"no notice for run {run_id} in {within:.0f} s")


def lines_of(run: Run, attempt: int) -> list[str]:
    """`longjobs logs RUN --attempt N`: the attempt's lines in the local CloudWatch Logs."""
    return [line.message for line in run.logs(attempt=attempt)]


def hello_world(demo: Demo) -> None:
    say("\n2. Run hello-world, the smallest job, and follow it to its end (`longjobs run --wait`).")
    run = demo.start("hello-world")
    status = demo.follow(run)
    if status.status != "SUCCEEDED":
        raise StepFailed(f"hello-world ended {status.status}")
    say(f"    its container said (`longjobs logs`): {' | '.join(lines_of(run, status.attempt))}")


def report(demo: Demo, notices: str) -> None:
    rows, pause = int(REPORT["REPORT_ROWS"]), REPORT["REPORT_STEP_SECONDS"]
    say(f"\n3. Start the report job ({rows:,} rows, {pause} s a step): it checkpoints to S3 when")
    say("   told to stop.")
    run = demo.start("report", **REPORT)
    first = demo.until_running(run)
    if first.status != "RUNNING":
        raise StepFailed(f"the report ended {first.status} before it could be interrupted")
    _wait_for_progress(run, first.attempt)
    say("\n4. Interrupt it as Fargate Spot reclaims capacity: SIGTERM, then two minutes at most.")
    say(f"    `longjobs dev interrupt {run.run_id[:8]}…`: {demo.interrupt(run)}")
    status = demo.follow(run)
    if status.status != "SUCCEEDED" or len(status.attempts) < 2:
        raise StepFailed(
            f"the report ended {status.status} after {len(status.attempts)} attempt(s)"
        )
    say("\n5. The retry resumed from the checkpoint the interrupted attempt left in S3:")
    resumed = [json.loads(line) for line in lines_of(run, status.attempt) if '"resumed"' in line]
    if not resumed:
        raise StepFailed("the retry did not resume from a checkpoint")
    say(f"    {json.dumps(resumed[0])}")
    say("\n6. The run's record, as `longjobs status` answers it:")
    for attempt in status.attempts:
        where, code = attempt["capacity"], attempt.get("stopCode")
        say(f"    attempt {attempt['attempt']} on {where}: {code}, exit {attempt.get('exitCode')}")
    say("\n7. Its notice on the notifications topic (sent by the supervisor's minute pass):")
    notice = demo.notice(notices, run.run_id)
    keys = ("job", "status", "attempts", "stopCode", "exitCode")
    say(f"    {json.dumps({key: notice.get(key) for key in keys})}")


def _wait_for_progress(run: Run, attempt: int, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if any('"progress"' in line for line in lines_of(run, attempt)):
            return
        time.sleep(0.3)
    raise StepFailed("the report logged no progress")


def start_runtime(outputs_file: Path) -> subprocess.Popen:
    say("1. Start the dev stack locally (`longjobs dev`): a local AWS, the real trigger and")
    say(f"   supervisor, a local ECS on Docker. Its own log: {LOG}")
    LOG.parent.mkdir(parents=True, exist_ok=True)
    log = LOG.open("w")
    command = [sys.executable, "-m", "longjobs", "dev", "--outputs", str(outputs_file)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        text = LOG.read_text()
        if " ready in " in text:
            say("   " + next(line for line in text.splitlines() if " ready in " in line))
            return process
        time.sleep(0.2)
    raise StepFailed("the local runtime did not start: " + LOG.read_text().strip()[-500:])


def stop_runtime(process: subprocess.Popen) -> None:
    say("\n8. Stop everything, as Ctrl-C does: containers, servers, the process.")
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    code = process.wait(timeout=300)
    if code != 0:
        raise StepFailed(f"the local runtime exited {code}: see {LOG}")
    say("    stopped: nothing left running")


def main() -> int:
    from local.docker_side import engine

    try:
        engine()
    except LocalError as error:
        print(f"make demo needs Docker: {error}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as work:
        outputs_file = Path(work) / "outputs.json"
        process = None
        try:
            process = start_runtime(outputs_file)
            demo = Demo(outputs_file)
            notices = demo.listen_for_notices()
            hello_world(demo)
            report(demo, notices)
            stop_runtime(process)
        except (StepFailed, LocalError, LongjobsError) as error:
            print(f"\nmake demo: a step did not happen: {error}", file=sys.stderr)
            return 1
        finally:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=300)
    say(
        "\nThat is the product: the same config, handlers and lifecycle as on AWS, on this machine."
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
