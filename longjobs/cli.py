"""`longjobs`: operate a stack's jobs from a terminal, on the client.

Every command takes --json; errors are one line on stderr with the exit code
`longjobs.exit_codes` documents. The group is open: another part of the project adds its own
commands to `cli` (`cli.add_command`), and names in RESERVED are kept for them.
"""

from __future__ import annotations

import importlib
import itertools
import math
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from longjobs import exit_codes, render
from longjobs import outputs as stack_outputs
from longjobs.errors import LongjobsError, WaitTimeout
from longjobs.models import Result, Status
from longjobs.run import Run
from longjobs.stack import CALLER_VARIABLE, MAX_PAGE, Stack
from longjobs_contract import runs

MAX_LIMIT = 1_000_000
"""`list --limit`'s bound: more runs than anyone reads, and an error in a reader's words."""

RESERVED = {"dev": "the local runtime (`longjobs dev`) is not part of this install"}
LOCAL_COMMANDS = "local.command"
"""The local runtime's commands (`dev`, and what `run --local` calls): loaded only when asked
for, and absent from a client installed with pip."""
DEBUG_VARIABLE = "LONGJOBS_DEBUG"


def fail(message: str, code: int, where: str = "longjobs") -> None:
    click.echo(f"{where}: {' '.join(message.split())}", err=True)
    sys.exit(code)


class LongjobsGroup(click.Group):
    """Click's group, with every error as one line on stderr and a documented exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as error:
            # No command: the help, whole, on stderr, and exit 2, as click itself does.
            click.echo(error.ctx.get_help() if error.ctx else "", err=True)
            sys.exit(exit_codes.BAD_INPUT)
        except click.UsageError as error:
            where = error.ctx.command_path if error.ctx else "longjobs"
            fail(f"{error.format_message()} (see `{where} --help`)", 2, where)
        except click.ClickException as error:
            fail(error.format_message(), error.exit_code)
        except click.Abort:
            fail("interrupted", exit_codes.INTERRUPTED)
        except LongjobsError as error:
            fail(str(error), exit_codes.of_error(error))
        except Exception as error:  # never a traceback, unless asked for
            if os.environ.get(DEBUG_VARIABLE):
                raise
            fail(
                f"unexpected {type(error).__name__}: {error} ({DEBUG_VARIABLE}=1 shows where)",
                exit_codes.UNEXPECTED,
            )
        sys.exit(code if isinstance(code, int) else 0)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in RESERVED:
            found = getattr(local_commands(), cmd_name, None)
            if not isinstance(found, click.Command):
                raise click.UsageError(f"{cmd_name}: {RESERVED[cmd_name]}", ctx)
            return found
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        local = [name for name in RESERVED if getattr(local_commands(), name, None) is not None]
        return sorted([*super().list_commands(ctx), *local])


def local_commands() -> Any:
    """The local runtime's commands module, or None where it is not installed."""
    try:
        return importlib.import_module(LOCAL_COMMANDS)
    except ModuleNotFoundError as error:
        if error.name is not None and LOCAL_COMMANDS.startswith(error.name):
            return None
        raise


@click.group(cls=LongjobsGroup)
@click.option(
    "--outputs",
    "outputs_file",
    type=click.Path(dir_okay=False),
    callback=lambda ctx, param, value: not_empty(value),
    help="The stack's outputs (`pulumi stack output --json > FILE`). Else $LONGJOBS_OUTPUTS "
    "(the JSON), $LONGJOBS_OUTPUTS_FILE, or the Pulumi CLI.",
)
@click.option("--stack", help="The Pulumi stack to ask the Pulumi CLI about.")
@click.option(
    "--caller",
    envvar=CALLER_VARIABLE,
    metavar="ENTRY",
    help="From another account: your allowedCallers entry; the trigger is invoked through its "
    f"alias (the stack output triggerCallerQualifiers). Else ${CALLER_VARIABLE}.",
)
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, param, value: show_version(ctx) if value else None,
    help="Show the version and exit.",
)
@click.pass_context
def cli(
    ctx: click.Context, outputs_file: str | None, stack: str | None, caller: str | None
) -> None:
    """Start, follow and stop the jobs of a longjobs stack."""
    ctx.obj = {"outputs_file": outputs_file, "stack": stack, "caller": caller}


def not_empty(value: str | None) -> str | None:
    if value == "":
        raise click.BadParameter(
            "is empty; give the file `pulumi stack output --json > FILE` wrote"
        )
    return value


class Seconds(click.FloatRange):
    """A number of seconds above 0, finite: nan and inf are refused."""

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return seconds


def show_version(ctx: click.Context) -> None:
    """The installed package's version; looked up only when asked (it reads every install)."""
    from importlib import metadata

    try:
        version = metadata.version("longjobs")
    except metadata.PackageNotFoundError:
        version = "(not installed: run from the repository)"
    click.echo(f"longjobs {version}")
    ctx.exit(0)


def stack_of(ctx: click.Context) -> Stack:
    found = ctx.find_root().obj
    if "client" not in found:
        found["client"] = Stack.discover(
            found["outputs_file"], found["stack"], caller=found["caller"] or None
        )
    return found["client"]


def run_id_argument(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not runs.is_run_id(value):
        raise click.BadParameter(
            f"{value[:80]!r} is not a run id ({runs.RUN_ID_LENGTH} hex characters, as "
            "`longjobs run` prints)"
        )
    return value


def json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="One JSON document.")(command)


def complete_job(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Job names from the stack's outputs, when they can be found without asking AWS."""
    given = ctx.find_root().params  # completion parses without running the group
    try:
        jobs = stack_outputs.discover(given.get("outputs_file"), given.get("stack")).jobs
    except LongjobsError:
        return []
    return [job for job in sorted(jobs) if job.startswith(incomplete)]


def parse_environment(values: tuple[str, ...]) -> dict[str, str]:
    environment: dict[str, str] = {}
    for value in values:
        name, equals, text = value.partition("=")
        if not equals or not name:
            raise click.BadParameter(f"{value[:80]!r} is not KEY=VALUE", param_hint="'-e'")
        if name in environment:
            raise click.BadParameter(f"{name} is given twice", param_hint="'-e'")
        environment[name] = text
    return environment


def parse_command(text: str | None) -> list[str] | None:
    if text is None:
        return None
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise click.BadParameter(f"{error} in {text[:80]!r}", param_hint="'--command'") from None
    if not words:
        raise click.BadParameter("is empty", param_hint="'--command'")
    return words


def wait_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in (
        click.option(
            "--timeout",
            type=Seconds(),
            help="Give up waiting after SECONDS (exit 124); the run goes on. Default: no limit.",
        ),
        click.option("--follow", is_flag=True, help="Print the run's logs until it ends."),
        click.option("--wait", is_flag=True, help="Wait for the run's end; exit with its code."),
    ):
        command = option(command)
    return command


@cli.command()
@click.argument("job", shell_complete=complete_job)
@click.option("-e", "--env", "env", multiple=True, metavar="KEY=VALUE", help="Set a variable.")
@click.option("--command", "command_text", help="The command, as shell words.")
@click.option("--spot", is_flag=True, help="Run on Fargate Spot.")
@click.option("--on-demand", is_flag=True, help="Run on on-demand Fargate.")
@click.option("--key", help="Idempotency key: the same key names the same run. Default: new.")
@wait_options
@json_option
@click.option(
    "--local",
    is_flag=True,
    help="Run JOB's container once on this machine's Docker, from the stack's config "
    "(--stack, default dev), without the lifecycle; exit with its exit code.",
)
@click.option(
    "--secrets",
    type=click.Path(dir_okay=False),
    help="With --local: NAME=value lines, the local values of the job's secrets.",
)
@click.pass_context
def run(
    ctx: click.Context,
    job: str,
    env: tuple[str, ...],
    command_text: str | None,
    spot: bool,
    on_demand: bool,
    key: str | None,
    wait: bool,
    follow: bool,
    timeout: float | None,
    as_json: bool,
    local: bool,
    secrets: str | None,
) -> None:
    """Start a run of JOB; print its id."""
    if spot and on_demand:
        raise click.UsageError("--spot, --on-demand: give one of them, not both")
    capacity = "spot" if spot else "on-demand" if on_demand else None
    environment = parse_environment(env)
    command = parse_command(command_text)
    if local:
        not_local = {"--spot/--on-demand": capacity, "--key": key, "--timeout": timeout,
                     "--json": as_json}  # fmt: skip
        run_here(ctx, job, environment, command, secrets, not_local)
    if secrets is not None:
        raise click.UsageError("--secrets is for --local runs (a stack's secrets are in AWS)")
    started = stack_of(ctx).run(job, environment, command, capacity, key)
    announce_and_finish(ctx, started, wait, follow, timeout, as_json)


def run_here(
    ctx: click.Context,
    job: str,
    environment: dict[str, str],
    command: list[str] | None,
    secrets: str | None,
    not_local: dict[str, Any],
) -> None:
    """`run --local`: one container, exiting with its code (the local runtime's `run_single`)."""
    given = [name for name, value in not_local.items() if value]
    if given:
        raise click.UsageError(
            f"{', '.join(given)}: not for --local runs (one container, waited for)"
        )
    module = local_commands()
    if module is None:
        raise click.UsageError("--local: the local runtime is not part of this install")
    stack = ctx.find_root().obj["stack"] or "dev"
    ctx.exit(module.run_single(stack, job, environment, command, secrets and Path(secrets)))


@cli.command()
@click.argument("run_id", metavar="RUN", callback=run_id_argument)
@click.option("--key", help="Idempotency key of the new run. Default: new.")
@wait_options
@json_option
@click.pass_context
def rerun(
    ctx: click.Context,
    run_id: str,
    key: str | None,
    wait: bool,
    follow: bool,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Start RUN's request again (job, environment, command, capacity) as a new run."""
    started = stack_of(ctx).rerun(run_id, key)
    announce_and_finish(ctx, started, wait, follow, timeout, as_json)


def announce_and_finish(
    ctx: click.Context,
    started: Run,
    wait: bool,
    follow: bool,
    timeout: float | None,
    as_json: bool,
) -> None:
    if not (wait or follow):
        if as_json:
            render.emit_json(started.started)
        else:
            click.echo(started.run_id)
        return
    if not as_json:
        click.echo(started.run_id)
    finish(ctx, started, follow, timeout, as_json)


@cli.command()
@click.argument("run_id", metavar="RUN", callback=run_id_argument)
@json_option
@click.pass_context
def status(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Show RUN: its status, attempts and request."""
    found = Run.from_id(stack_of(ctx), run_id).status()
    if as_json:
        render.emit_json(found.raw)
    else:
        render.status(found)


@cli.command()
@click.argument("run_id", metavar="RUN", callback=run_id_argument)
@click.option("--timeout", type=Seconds(), help="SECONDS.")
@json_option
@click.pass_context
def wait(ctx: click.Context, run_id: str, timeout: float | None, as_json: bool) -> None:
    """Wait for RUN's end; exit with its code (see the exit code table)."""
    finish(ctx, Run.from_id(stack_of(ctx), run_id), False, timeout, as_json)


def finish(
    ctx: click.Context, target: Run, follow: bool, timeout: float | None, as_json: bool
) -> None:
    with interrupted_goes_on(target.run_id), timeout_as_json(as_json):
        if follow:
            for line in target.logs(follow=True, timeout=timeout):
                render.log_line(line, as_json)
            result = Result(target.status())
        else:
            result = waited(target, timeout, as_json)
    if as_json:
        render.emit_json(result.to_json())
    else:
        render.result(result)
    ctx.exit(exit_codes.of_result(result.outcome, result.exit_code))


def waited(target: Run, timeout: float | None, as_json: bool) -> Result:
    clock = target.stack.clock
    progress = None if as_json else render.Progress(clock.now())
    try:
        return target.wait(
            timeout, on_change=None if progress is None else lambda s: progress(s, clock.now())
        )
    finally:
        if progress is not None:
            progress.close()


@contextmanager
def timeout_as_json(as_json: bool) -> Iterator[None]:
    """With --json, the command's own --timeout still prints one document: the run's last
    status, outcome "wait-timeout" (then the one line on stderr, exit 124)."""
    try:
        yield
    except WaitTimeout as error:
        if as_json and isinstance(error.last, Status):
            render.emit_json({**error.last.raw, "outcome": "wait-timeout", "exitCode": None})
        raise


@contextmanager
def interrupted_goes_on(run_id: str) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        fail(
            f"interrupted; run {run_id} goes on: `longjobs wait {run_id}` waits again",
            exit_codes.INTERRUPTED,
        )


@cli.command(name="list")
@click.option("--job", shell_complete=complete_job, help="Only this job's runs.")
@click.option("--status", "state", type=click.Choice(runs.STATUSES), help="Only runs in it.")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=MAX_LIMIT),
    default=20,
    show_default=True,
    help="How many runs, newest first, read a page of the trigger's at a time.",
)
@json_option
@click.pass_context
def list_runs(
    ctx: click.Context, job: str | None, state: str | None, limit: int, as_json: bool
) -> None:
    """List runs, newest first."""
    pages = stack_of(ctx).runs(job, state, page_size=min(limit, MAX_PAGE))
    found = list(itertools.islice(pages, limit))
    if as_json:
        render.emit_json([entry.raw for entry in found])
    else:
        render.runs(found)


@cli.command()
@click.argument("run_id", metavar="RUN", callback=run_id_argument)
@click.option("--attempt", type=click.IntRange(min=1), help="Only this attempt's lines.")
@click.option("--follow", is_flag=True, help="Go on until the run ends and its logs are read.")
@json_option
@click.pass_context
def logs(ctx: click.Context, run_id: str, attempt: int | None, follow: bool, as_json: bool) -> None:
    """Print RUN's log lines, attempt by attempt (JSON lines with --json)."""
    target = Run.from_id(stack_of(ctx), run_id)
    with interrupted_goes_on(run_id):
        for line in target.logs(follow=follow, attempt=attempt):
            render.log_line(line, as_json)


@cli.command()
@click.argument("run_id", metavar="RUN", callback=run_id_argument)
@click.option("--reason", help="Kept as the task's stopped reason (one line, 1-255 characters).")
@json_option
@click.pass_context
def stop(ctx: click.Context, run_id: str, reason: str | None, as_json: bool) -> None:
    """Stop RUN: no attempt starts after this, and its task is stopped."""
    answer = Run.from_id(stack_of(ctx), run_id).stop(reason)
    if as_json:
        render.emit_json(answer.raw)
    else:
        click.echo(f"{answer.run_id} {stop_words(answer)}")


def stop_words(answer: Status) -> str:
    if answer.final:
        return answer.status
    return f"stopping ({answer.status} until its task stops)"


@cli.command()
@json_option
@click.pass_context
def outputs(ctx: click.Context, as_json: bool) -> None:
    """Show which stack, region and account the command talks to."""
    client = stack_of(ctx)
    found = client.outputs
    shown = {
        "source": found.source,
        "triggerFunctionArn": found.trigger_function_arn,
        "qualifier": client.qualifier or "(none: a caller of the stack's own account)",
        "region": found.region,
        "account": found.account,
        "jobs": sorted(found.jobs),
        "endpointUrls": found.endpoint_urls,
    }
    if as_json:
        render.emit_json(shown)
        return
    for name, value in shown.items():
        text = ", ".join(value) if isinstance(value, list) else value
        if isinstance(value, dict):
            text = ", ".join(f"{k}={v}" for k, v in value.items()) or "(AWS)"
        click.echo(f"{name}:\t{text}")


def main() -> None:
    cli.main(prog_name="longjobs")
