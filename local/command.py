"""`longjobs dev`, `longjobs dev interrupt RUN` and `longjobs run JOB --local`: the local runtime
as commands of `longjobs`, which loads this module only when one of them is asked for (a client
installed with pip has no local runtime)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from longjobs import exit_codes
from longjobs.cli import run_id_argument
from longjobs.outputs import OUTPUTS_FILE_VARIABLE

if TYPE_CHECKING:
    from local.dev import LocalError, Runtime

# The runtime itself (local.dev: the program under mocks, moto, Docker) is imported only when a
# command runs: `longjobs --help` and shell completion list `dev` without loading it.

WHERE = "longjobs dev"

stack_option = click.option(
    "--stack",
    default="dev",
    show_default=True,
    help="A stack name (Pulumi.<stack>.yaml) or a stack file's path.",
)
secrets_option = click.option(
    "--secrets",
    type=click.Path(dir_okay=False, path_type=Path),
    help="NAME=value lines: the local values of the jobs' secrets (never read from AWS).",
)


def failed(error: LocalError, where: str = WHERE) -> NoReturn:
    """The error on stderr as the runtime words it: one line, or a stack config's problems one
    a line, as `make plan` lists them."""
    from local.dev import NoSuchTask, NotRunning, Unavailable

    # Any other LocalError is the user's input (a missing stack file, its config, a job, a
    # variable): bad input, as `make plan` exits 2 for a missing stack.
    codes: tuple[tuple[type[LocalError], int], ...] = (
        (Unavailable, exit_codes.LOCAL_UNAVAILABLE),
        (NotRunning, exit_codes.STACK_NOT_FOUND),
        (NoSuchTask, exit_codes.NOT_FOUND),
    )
    code = next((code for kind, code in codes if isinstance(error, kind)), exit_codes.BAD_INPUT)
    click.echo(f"{where}: {error}", err=True)
    sys.exit(code)


@click.group(invoke_without_command=True)
@stack_option
@click.option("--no-schedules", "schedules", is_flag=True, default=True, flag_value=False,
              help="Do not fire the stack's schedules.")  # fmt: skip
@click.option(
    "--outputs",
    "outputs_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the outputs file. Default: .longjobs/local/<stack>.json",
)
@secrets_option
@click.pass_context
def dev(
    ctx: click.Context,
    stack: str,
    schedules: bool,
    outputs_file: Path | None,
    secrets: Path | None,
) -> None:
    """Run the stack on this machine until Ctrl-C: a local AWS, its functions, a local ECS on
    Docker."""
    ctx.obj = {**(ctx.obj or {}), "dev_stack": stack, "dev_outputs": outputs_file}
    if ctx.invoked_subcommand is not None:
        return
    from local.dev import LocalError, serve

    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    try:
        serve(
            stack,
            schedules=schedules,
            ready=say_ready,
            stop=stop,
            outputs_file=outputs_file,
            secrets_file=secrets,
        )
    except LocalError as error:
        failed(error)
    click.echo(f"{WHERE}: stopped; every container it started is gone")


@dev.command(name="interrupt")
@click.argument("run_id", metavar="RUN", callback=run_id_argument)
@click.option(
    "--outputs",
    "outputs_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The running runtime's outputs file.",
)
@click.pass_context
def interrupt_command(ctx: click.Context, run_id: str, outputs_file: Path | None) -> None:
    """Interrupt RUN's running task as Fargate Spot reclaims one (SIGTERM, then SIGKILL after
    its stop timeout, stop code SpotInterruption)."""
    from local.dev import LocalError, interrupt

    try:
        task_arn = interrupt(outputs_file or running_outputs(ctx), run_id)
    except LocalError as error:
        failed(error, f"{WHERE} interrupt")
    click.echo(f"interrupted {task_arn}")


def running_outputs(ctx: click.Context) -> Path:
    """The runtime's outputs file: `dev --outputs`, `longjobs --outputs`, $LONGJOBS_OUTPUTS_FILE,
    or where `longjobs dev --stack` writes it."""
    found = ctx.find_root().obj or {}
    for given in (found.get("dev_outputs"), found.get("outputs_file")):
        if given:
            return Path(given)
    if os.environ.get(OUTPUTS_FILE_VARIABLE):
        return Path(os.environ[OUTPUTS_FILE_VARIABLE])
    from local.dev import outputs_path

    return outputs_path(found.get("dev_stack", "dev"))


def say_ready(runtime: Runtime) -> None:
    urls = runtime.outputs["endpointUrls"]
    click.echo(f"{WHERE}: stack {runtime.stack.name} ready in {runtime.started_in:.1f} s")
    for note in runtime.notes:
        click.echo(f"  note: {note}")
    click.echo(f"  outputs: {runtime.outputs_file}")
    click.echo(f"  trigger: {runtime.outputs['triggerFunctionName']} at {urls['lambda']}")
    click.echo("  the command, in another terminal:")
    click.echo(f"    export {OUTPUTS_FILE_VARIABLE}={runtime.outputs_file}")
    click.echo("    longjobs run hello-world --wait")
    click.echo(
        f"  other code: AWS_ENDPOINT_URL_LAMBDA={urls['lambda']} AWS_ENDPOINT_URL={urls['s3']}"
    )
    click.echo("  Ctrl-C stops everything it started")
    sys.stdout.flush()


def run_single(
    stack: str,
    job: str,
    environment: dict[str, str],
    command: list[str] | None,
    secrets: Path | None,
) -> int:
    """`longjobs run JOB --local`: the container's exit code, or a one-line error."""
    from local.dev import LocalError
    from local.single import run_local

    overrides: dict[str, Any] = {}
    if environment:
        overrides["environment"] = environment
    if command is not None:
        overrides["command"] = command
    try:
        return run_local(stack, job, overrides, secrets_file=secrets)
    except LocalError as error:
        failed(error, "longjobs run")
