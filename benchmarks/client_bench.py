"""The client and command: start-up, how `wait` polls, and whether `logs --follow` loses lines.

    python -m benchmarks.client_bench [--starts 9] [--runs 20] [--lines 10000]

Start-up: fresh processes running `longjobs status RUN` (python -m longjobs, as the installed
script runs it) until its first line, against a bare script that imports boto3, invokes a
function and prints its answer (goal: within 1.3x); both call the same local HTTP endpoint
answering Lambda's Invoke with a status answer, so AWS's own latency is left out.
Wait: runs of the dev stack in process (tests/client/world.py: the real trigger and supervisor,
moto, the ECS model on a virtual clock, so no network latency), each waited for: the delay from
its final state's `updatedAt` to `wait` returning (goal: at most 5 s) and the most `status`
calls in any minute (goal: at most 12).
Follow: one run of `--lines` lines over two attempts (a Spot interruption, then success),
followed from its start: lines lost and lines repeated (goal: 0 each).
Prints figures only, asserts nothing; a figure past its goal prints MISSED.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "benchmark")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "benchmark")

ROOT = Path(__file__).resolve().parent.parent
STARTUP_GOAL = 1.3
DELAY_GOAL = 5.0
CALLS_GOAL = 12
RUN = "0123456789abcdef0123456789abcdef"
ANSWER = {
    "runId": RUN,
    "job": "report",
    "status": "RUNNING",
    "attempt": 1,
    "attempts": [{"attempt": 1, "capacity": "spot"}],
    "request": {},
    "createdAt": "2026-11-01T00:00:00.000Z",
    "updatedAt": "2026-11-01T00:00:01.000Z",
}
BARE = """
import json, boto3
client = boto3.client("lambda", endpoint_url={url!r}, region_name="us-east-1")
event = {{"action": "status", "runId": {run!r}}}
answer = client.invoke(FunctionName={arn!r}, Payload=json.dumps(event).encode())
print(json.loads(answer["Payload"].read())["status"], flush=True)
"""


def verdict(ok: bool) -> str:
    return "goal met" if ok else "goal MISSED"


class Invoke(BaseHTTPRequestHandler):
    """Lambda's Invoke on the wire: 200 and the function's JSON."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(ANSWER).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Amz-Executed-Version", "$LATEST")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def first_line_seconds(command: list[str]) -> float:
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=ROOT, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    took = time.perf_counter() - began
    process.wait()
    if process.returncode != 0 or not line:
        raise SystemExit(f"{command} failed ({process.returncode})")
    return took


def startup(starts: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Invoke)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    arn = "arn:aws:lambda:us-east-1:123456789012:function:longjobs-dev-trigger"
    with tempfile.TemporaryDirectory() as folder:
        outputs = Path(folder) / "outputs.json"
        outputs.write_text(json.dumps({"triggerFunctionArn": arn, "endpointUrls": {"lambda": url}}))
        command = [sys.executable, "-m", "longjobs", "--outputs", str(outputs), "status", RUN]
        bare = [sys.executable, "-c", BARE.format(url=url, arn=arn, run=RUN)]
        first_line_seconds(command), first_line_seconds(bare)  # warm the file cache
        ours, theirs = [], []
        for _ in range(starts):
            ours.append(first_line_seconds(command))
            theirs.append(first_line_seconds(bare))
    server.shutdown()
    mine, base = statistics.median(ours), statistics.median(theirs)
    ratio = mine / base
    print(
        f"start-up to the first line of `longjobs status`: {mine * 1000:.0f} ms median of "
        f"{starts}; bare boto3 invoke {base * 1000:.0f} ms; {ratio:.2f}x "
        f"(goal <= {STARTUP_GOAL}x: {verdict(ratio <= STARTUP_GOAL)})"
    )


def most_in_a_minute(times: list[float]) -> int:
    return max((sum(1 for t in times if start <= t < start + 60) for start in times), default=0)


def waits(runs: int) -> None:
    from datetime import datetime

    from longjobs import Stack
    from longjobs.outputs import parse
    from offline.program import run_program
    from simulation.ecs import Fate
    from tests.client.world import Job, open_world

    program = run_program("Pulumi.dev.yaml")
    delays: list[float] = []
    busiest = 0
    with tempfile.TemporaryDirectory() as folder, open_world(program, Path(folder)) as world:
        stack = Stack(parse(json.dumps(program.outputs), "the dev stack's outputs"))
        for index in range(runs):
            world.plans["hello-world"] = Job(fates=[Fate("exit", 0, seconds=30 + 37 * index)])
            run = stack.run("hello-world")
            calls: list[float] = []
            status = run.status

            def counted(status=status, calls=calls):  # type: ignore[no-untyped-def]
                calls.append(world.clock.monotonic())
                return status()

            run.status = counted  # type: ignore[method-assign]
            result = run.wait()
            ended = datetime.fromisoformat(str(result.status.updated_at))
            delays.append((world.clock.now() - ended).total_seconds())
            busiest = max(busiest, most_in_a_minute(calls))
    worst = max(delays)
    print(
        f"wait: returned {statistics.mean(delays):.1f} s on average, {worst:.1f} s at worst, "
        f"after {runs} runs' final states were recorded (goal <= {DELAY_GOAL:g} s: "
        f"{verdict(worst <= DELAY_GOAL)}); at most {busiest} status calls in a minute "
        f"(goal <= {CALLS_GOAL}: {verdict(busiest <= CALLS_GOAL)})"
    )


def follow(lines: int) -> None:
    from longjobs import Stack
    from longjobs.outputs import parse
    from offline.program import run_program
    from simulation.ecs import Fate
    from tests.client.world import Job, open_world

    program = run_program("Pulumi.dev.yaml")
    with tempfile.TemporaryDirectory() as folder, open_world(program, Path(folder)) as world:
        world.plans["hello-world"] = Job(
            fates=[Fate("interrupt", seconds=600), Fate("exit", 0, seconds=600)],
            lines=lines // 2,
        )
        stack = Stack(parse(json.dumps(program.outputs), "the dev stack's outputs"))
        run = stack.run("hello-world", capacity="spot")
        began = time.perf_counter()
        followed = collections.Counter((line.attempt, line.message) for line in run.logs(True))
        took = time.perf_counter() - began
        written = collections.Counter(world.written.get(run.run_id, []))
        attempts = len(run.status().attempts)
    lost = sum((written - followed).values())
    repeated = sum((followed - written).values())  # each written line is unique
    print(
        f"logs --follow: {sum(written.values())} lines written over {attempts} attempts, "
        f"{sum(followed.values())} read in {took:.1f} s; lost {lost}, repeated {repeated} "
        f"(goal 0: {verdict(lost == 0 and repeated == 0)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=9)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()
    startup(args.starts)
    waits(args.runs)
    follow(args.lines)


if __name__ == "__main__":
    main()
