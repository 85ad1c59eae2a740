"""`python -m local dev [--stack dev] [--no-schedules]`, `python -m local interrupt RUN` and
`python -m local run JOB [--env NAME=value]`: the local runtime from the command line, until the
`longjobs` command wraps it."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from local.dev import LocalError, Runtime, interrupt, outputs_path, serve
from local.single import run_local


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            overrides = {"environment": dict(_pair(text) for text in args.env)} if args.env else {}
            secrets = Path(args.secrets) if args.secrets else None
            return run_local(args.stack, args.job, overrides, secrets_file=secrets)
        if args.command == "interrupt":
            outputs = Path(args.outputs) if args.outputs else outputs_path(args.stack)
            print(f"interrupted {interrupt(outputs, args.run_id)}")
            return 0
        stop = threading.Event()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signal_number, lambda *_: stop.set())
        serve(
            args.stack,
            schedules=args.schedules,
            ready=_say_ready,
            stop=stop,
            outputs_file=Path(args.outputs) if args.outputs else None,
            secrets_file=Path(args.secrets) if args.secrets else None,
        )
        print("longjobs dev: stopped; every container it started is gone", flush=True)
        return 0
    except LocalError as error:
        print(f"longjobs dev: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="run the stack locally until Ctrl-C")
    dev.add_argument("--stack", default="dev", help="a stack name or a Pulumi.<stack>.yaml path")
    dev.add_argument("--no-schedules", dest="schedules", action="store_false")
    dev.add_argument("--outputs", help="where to write the outputs file")
    dev.add_argument("--secrets", help="NAME=value lines: the jobs' secrets' local values")
    stop = commands.add_parser("interrupt", help="interrupt a run's task as Fargate Spot does")
    stop.add_argument("run_id")
    stop.add_argument("--stack", default="dev")
    stop.add_argument("--outputs", help="the runtime's outputs file")
    run = commands.add_parser("run", help="run one job's container; exit with its exit code")
    run.add_argument("job")
    run.add_argument("--stack", default="dev")
    run.add_argument("--env", action="append", default=[], help="NAME=value, the run's override")
    run.add_argument("--secrets", help="NAME=value lines: the jobs' secrets' local values")
    return parser


def _pair(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals:
        raise LocalError(f"--env {text!r}: give NAME=value")
    return name, value


def _say_ready(runtime: Runtime) -> None:
    urls = runtime.outputs["endpointUrls"]
    print(f"longjobs dev: stack {runtime.stack.name} ready in {runtime.started_in:.1f} s")
    for note in runtime.notes:
        print(f"  note: {note}")
    print(f"  outputs: {runtime.outputs_file}")
    print(f"  trigger: {runtime.outputs['triggerFunctionName']} at {urls['lambda']}")
    print(f"  other code: AWS_ENDPOINT_URL_LAMBDA={urls['lambda']} AWS_ENDPOINT_URL={urls['s3']}")
    print("  Ctrl-C stops everything it started", flush=True)


if __name__ == "__main__":
    sys.exit(main())
