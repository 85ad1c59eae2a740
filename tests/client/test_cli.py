"""The `longjobs` command (CliRunner) against the dev stack in one process: what it prints,
and its documented exit codes, errors included (one line on stderr, never a traceback)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from longjobs import exit_codes
from longjobs.cli import cli
from simulation.ecs import Fate
from tests.client.world import Job


def longjobs(outputs_file, *args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(
        cli, ["--outputs", str(outputs_file), *args], prog_name="longjobs", env=env
    )
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result


def one_error_line(result) -> str:
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_run_wait_prints_the_run_id_and_exits_0_when_it_succeeds(world, outputs_file):
    result = longjobs(outputs_file, "run", "hello-world", "--key", "k1", "--wait")
    run_id, said = result.stdout.splitlines()
    assert result.exit_code == 0
    assert said == f"{run_id} SUCCEEDED after 1 attempt(s), exit code 0"
    progress = result.stderr.splitlines()
    assert progress[0].startswith(f"{run_id} PENDING attempt 1 on spot (0m00s)")
    assert progress[-1].startswith(f"{run_id} SUCCEEDED attempt 1 on spot")


def test_run_without_wait_prints_only_the_run_id(world, outputs_file):
    result = longjobs(outputs_file, "run", "hello-world", "-e", "HELLO_WORLD=hi")
    assert result.exit_code == 0 and len(result.stdout.strip()) == 32
    assert world.invocations[-1]["environment"] == {"HELLO_WORLD": "hi"}
    as_json = longjobs(outputs_file, "run", "hello-world", "--on-demand", "--json")
    assert json.loads(as_json.stdout)["capacity"] == "on-demand"


def test_a_failing_jobs_exit_code_passes_through_run_wait(world, outputs_file):
    world.plans["hello-world"] = Job(fates=[Fate("exit", 3, seconds=30)])
    result = longjobs(outputs_file, "run", "hello-world", "--wait", "--json")
    assert result.exit_code == 3
    answer = json.loads(result.stdout)
    assert (answer["status"], answer["outcome"], answer["exitCode"]) == ("FAILED", "job-failed", 3)


def test_a_stopped_run_exits_123(world, outputs_file, stack):
    world.plans["hello-world"] = Job(fates=[Fate("hang")])
    run = stack.run("hello-world")
    world.clock.advance(90)
    stopped = longjobs(outputs_file, "stop", run.run_id, "--reason", "enough")
    assert stopped.stdout == f"{run.run_id} stopping (RUNNING until its task stops)\n"
    assert longjobs(outputs_file, "wait", run.run_id).exit_code == exit_codes.STOPPED == 123


def test_a_run_that_never_started_exits_125(world, outputs_file):
    world.ecs.placeable = lambda run_id, index, provider: [{"arn": "x", "reason": "MISSING"}]
    result = longjobs(outputs_file, "run", "hello-world", "--wait")
    assert result.exit_code == exit_codes.FAILED_TO_START == 125


def test_a_run_the_platform_ended_without_an_exit_code_exits_126(world, outputs_file):
    world.declare("hello-world", interruption_retries=0)
    world.plans["hello-world"] = Job(fates=[Fate("interrupt", seconds=30)])
    result = longjobs(outputs_file, "run", "hello-world", "--wait", "--json")
    answer = json.loads(result.stdout)
    assert (answer["status"], answer["outcome"]) == ("FAILED", "platform-failure")
    assert result.exit_code == exit_codes.PLATFORM_FAILURE == 126


def test_a_run_past_its_jobs_timeout_exits_122(world, outputs_file):
    world.declare("report", timeout_seconds=60)
    world.plans["report"] = Job(fates=[Fate("hang")], lines=1)
    result = longjobs(outputs_file, "run", "report", "--wait", "--json")
    assert json.loads(result.stdout)["status"] == "TIMED_OUT"
    assert result.exit_code == exit_codes.TIMED_OUT == 122


def test_the_commands_own_timeout_exits_124_and_says_how_to_wait_again(world, outputs_file):
    world.plans["hello-world"] = Job(fates=[Fate("hang")])
    result = longjobs(outputs_file, "run", "hello-world", "--wait", "--timeout", "20")
    run_id = result.stdout.splitlines()[0]
    assert result.exit_code == exit_codes.WAIT_TIMEOUT == 124
    assert (
        result.stderr.splitlines()[-1]
        == (
            f"longjobs: run {run_id} is still RUNNING (attempt 1) after 20 s; it goes on: "
            f"`longjobs wait {run_id}` picks the wait up again"
        )
        or "is still PENDING" in result.stderr
    )


def test_status_list_and_logs_show_a_retried_run(world, outputs_file, stack):
    world.plans["hello-world"] = Job(
        fates=[Fate("interrupt", seconds=60), Fate("exit", 0, seconds=60)], lines=3
    )
    run = stack.run("hello-world")
    run.wait()
    status = longjobs(outputs_file, "status", run.run_id)
    assert f"run:\t{run.run_id}" in status.stdout and "status:\tSUCCEEDED" in status.stdout
    as_json = json.loads(longjobs(outputs_file, "status", run.run_id, "--json").stdout)
    assert [a["attempt"] for a in as_json["attempts"]] == [1, 2]
    logs = longjobs(outputs_file, "logs", run.run_id).stdout.splitlines()
    assert [line.split(" ", 2)[::2] for line in logs] == [
        [f"[{attempt}]", message] for attempt, message in world.written[run.run_id]
    ]
    json_lines = longjobs(outputs_file, "logs", run.run_id, "--attempt", "2", "--json")
    assert [json.loads(line)["message"] for line in json_lines.stdout.splitlines()] == [
        message for attempt, message in world.written[run.run_id] if attempt == 2
    ]
    listed = longjobs(outputs_file, "list", "--job", "hello-world", "--limit", "5")
    assert listed.stdout.splitlines()[0].split("\t") == [
        "run",
        "job",
        "status",
        "attempt",
        "created",
        "reason",
    ]
    assert listed.stdout.splitlines()[1].split("\t")[:4] == [
        run.run_id,
        "hello-world",
        "SUCCEEDED",
        "2",
    ]


def test_run_follow_prints_every_line_then_exits_with_the_runs_code(world, outputs_file):
    world.plans["hello-world"] = Job(fates=[Fate("exit", 4, seconds=60)], lines=4)
    result = longjobs(outputs_file, "run", "hello-world", "--follow", "--json")
    *lines, last = result.stdout.splitlines()
    assert [json.loads(line)["message"] for line in lines] == [
        f"hello-world attempt 1 line {i}" for i in range(4)
    ]
    assert json.loads(last)["exitCode"] == 4 and result.exit_code == 4


def test_list_limit_pages_through_the_trigger(world, outputs_file, stack):
    for _ in range(5):
        stack.run("hello-world")
    listed = json.loads(longjobs(outputs_file, "list", "--limit", "4", "--json").stdout)
    assert len(listed) == 4
    assert len(json.loads(longjobs(outputs_file, "list", "--json").stdout)) == 5


def test_rerun_starts_the_same_request_as_a_new_run(world, outputs_file, stack):
    first = stack.run("report", environment={"REPORT_DAY": "2026-11-02"})
    result = longjobs(outputs_file, "rerun", first.run_id)
    assert result.exit_code == 0 and result.stdout.strip() != first.run_id
    assert world.invocations[-1]["environment"] == {"REPORT_DAY": "2026-11-02"}


def test_outputs_names_the_stack_region_and_account(world, outputs_file):
    shown = json.loads(longjobs(outputs_file, "outputs", "--json").stdout)
    assert (shown["region"], shown["account"], shown["jobs"]) == (
        "us-east-1",
        "123456789012",
        ["hello-world", "report"],
    )
    assert shown["source"] == f"the outputs file {outputs_file}"


RUN = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["run", "hello-world", "-e", "NOEQUALS"],
            2,
            "longjobs run: Invalid value for '-e': 'NOEQUALS' is not KEY=VALUE (see `longjobs run --help`)",
        ),
        (
            ["run", "hello-world", "--command", "'unclosed"],
            2,
            "longjobs run: Invalid value for '--command': No closing quotation in \"'unclosed\" (see `longjobs run --help`)",
        ),
        (
            ["run", "nope"],
            2,
            "longjobs: job: 'nope' is not a job of this stack; allowed: hello-world, report",
        ),
        (["run", "hello-world", "-e", "PATH=/tmp"], 2, None),
        (
            ["status", "abc"],
            2,
            "longjobs status: Invalid value for 'RUN': 'abc' is not a run id (32 hex characters, as `longjobs run` prints) (see `longjobs status --help`)",
        ),
        (["list", "--status", "DONE"], 2, None),
        (
            ["list", "--limit", "0"],
            2,
            "longjobs list: Invalid value for '--limit': 0 is not in the range 1<=x<=1000000. (see `longjobs list --help`)",
        ),
        (["stop", RUN, "--reason", "two\nlines"], 2, None),
        (["run"], 2, "longjobs run: Missing argument 'JOB'. (see `longjobs run --help`)"),
        (["frobnicate"], 2, "longjobs: No such command 'frobnicate'. (see `longjobs --help`)"),
        (["status", RUN], 5, f"longjobs: runId: no run {RUN} (records are kept 90 days)"),
        (["stop", RUN], 5, f"longjobs: runId: no run {RUN} (records are kept 90 days)"),
        (["logs", RUN], 5, f"longjobs: runId: no run {RUN} (records are kept 90 days)"),
    ],
)
def test_bad_input_and_unknown_runs_are_one_line_with_their_code(
    world, outputs_file, args, code, message
):
    result = longjobs(outputs_file, *args)
    line = one_error_line(result)
    assert result.exit_code == code
    if message is not None:
        assert line == message
    else:
        assert line.startswith("longjobs")
    assert not world.ecs.tasks and not world.written


def test_without_the_local_runtime_dev_and_run_local_say_so_in_one_line(
    world, outputs_file, monkeypatch
):
    """As in a client installed with pip: the `local` package is not there."""
    monkeypatch.setattr("longjobs.cli.LOCAL_COMMANDS", "local_not_installed.command")
    for args, message in (
        (["dev"], "longjobs: dev: the local runtime (`longjobs dev`) is not part of this install"),
        (["run", "hello-world", "--local"], "longjobs run: --local: the local runtime is not "
         "part of this install"),
    ):  # fmt: skip
        result = longjobs(outputs_file, *args)
        assert result.exit_code == 2
        assert one_error_line(result).startswith(message)
    assert "dev" not in longjobs(outputs_file, "--help").stdout.split("Commands:")[1]


def test_run_local_refuses_what_only_the_lifecycle_does(world, outputs_file):
    result = longjobs(outputs_file, "run", "hello-world", "--local", "--spot", "--json")
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "longjobs run: --spot/--on-demand, --json: not for --local runs (one container, waited "
        "for) (see `longjobs run --help`)"
    )


@pytest.mark.parametrize(
    ("status", "kind", "code", "said"),
    [
        (403, "UnrecognizedClientException", 4, "AWS refused invoking"),
        (403, "ExpiredTokenException", 4, "AWS refused invoking"),
        (403, "AccessDeniedException", 4, "AWS refused invoking"),
        (
            404,
            "ResourceNotFoundException",
            3,
            "the function does not exist (the service's own words)",
        ),
        (429, "TooManyRequestsException", 6, "AWS throttled invoking"),
        (500, "ServiceException", 7, "failed (ServiceException)"),
    ],
)
def test_aws_errors_are_one_line_with_their_code(
    world, outputs_file, monkeypatch, status, kind, code, said
):
    monkeypatch.setattr("longjobs.aws.MAX_ATTEMPTS", 1)
    world.service_errors.append((status, kind, "the service's own words"))
    result = longjobs(outputs_file, "status", RUN)
    line = one_error_line(result)
    assert result.exit_code == code
    assert said in line and "the service's own words" in line


def test_throttling_is_retried_before_it_is_an_error(world, outputs_file, stack):
    world.plans["hello-world"] = Job()
    run = stack.run("hello-world")
    world.service_errors.extend([(429, "TooManyRequestsException", "Rate exceeded")] * 2)
    assert longjobs(outputs_file, "status", run.run_id).exit_code == 0


def test_a_raised_trigger_error_exits_7_and_throttling_inside_it_6(world, outputs_file):
    world.raise_next.append(RuntimeError("something broke"))
    result = longjobs(outputs_file, "status", RUN)
    assert (result.exit_code, one_error_line(result)) == (
        7,
        f"longjobs: {world.function_arn} failed (RuntimeError): something broke",
    )
    world.raise_next.append(RuntimeError("An error occurred (ThrottlingException): Rate exceeded"))
    assert longjobs(outputs_file, "status", RUN).exit_code == 6


def test_no_credentials_exits_4(world, outputs_file, monkeypatch, tmp_path):
    for variable in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = longjobs(outputs_file, "status", RUN)
    assert result.exit_code == 4
    assert one_error_line(result).startswith("longjobs: no AWS credentials for invoking")


@pytest.mark.parametrize(
    ("environment", "config", "said"),
    [
        ({"AWS_PROFILE": "nosuch"}, "", "could not be found"),
        ({"AWS_ACCESS_KEY_ID": "x"}, "", "Partial credentials"),
        ({"AWS_PROFILE": "p"}, "[profile p]\ncredential_process = /bin/false\n", "process"),
        ({}, "[default\nregion = x\n", "parse"),
    ],
)
def test_unusable_credentials_or_aws_config_exit_4_in_one_line(
    world, outputs_file, monkeypatch, tmp_path, environment, config, said
):
    for variable in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(variable, raising=False)
    (tmp_path / "config").write_text(config)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    result = longjobs(outputs_file, "status", RUN)
    assert result.exit_code == 4, result.stderr
    line = one_error_line(result)
    assert line.startswith("longjobs: AWS credentials or configuration unusable"), line
    assert said in line


def test_no_stack_outputs_exits_3_naming_where_it_looked(monkeypatch, tmp_path):
    for variable in ("LONGJOBS_OUTPUTS", "LONGJOBS_OUTPUTS_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(cli, ["status", RUN], prog_name="longjobs")
    assert result.exit_code == 3
    assert one_error_line(result) == (
        "longjobs: no stack outputs: give --outputs FILE (from `pulumi stack output --json`), "
        "or set LONGJOBS_OUTPUTS (the JSON) or LONGJOBS_OUTPUTS_FILE (a file of it); the Pulumi "
        "CLI is not on PATH to ask"
    )
    missing = CliRunner().invoke(cli, ["--outputs", str(tmp_path / "x.json"), "status", RUN])
    assert missing.exit_code == 3
    assert one_error_line(missing) == (
        f"longjobs: cannot read the outputs file {tmp_path / 'x.json'}: No such file or directory"
    )


def test_shell_completion_offers_commands_and_the_stacks_jobs(outputs_file):
    script = CliRunner().invoke(
        cli, [], prog_name="longjobs", env={"_LONGJOBS_COMPLETE": "bash_source"}
    )
    assert "_longjobs_completion" in script.stdout
    jobs = CliRunner().invoke(
        cli,
        [],
        prog_name="longjobs",
        env={
            "_LONGJOBS_COMPLETE": "bash_complete",
            "COMP_WORDS": f"longjobs --outputs {outputs_file} run ",
            "COMP_CWORD": "4",
        },
    )
    assert jobs.stdout.splitlines() == ["plain,hello-world", "plain,report"]


def test_ctrl_c_while_waiting_exits_130_and_the_run_goes_on(world, outputs_file):
    def press_ctrl_c(event):
        if event.get("action") == "status":
            raise KeyboardInterrupt

    world.on_invoke = press_ctrl_c
    result = longjobs(outputs_file, "run", "hello-world", "--wait")
    run_id = result.stdout.strip()
    assert result.exit_code == exit_codes.INTERRUPTED == 130
    assert result.stderr.splitlines()[-1] == (
        f"longjobs: interrupted; run {run_id} goes on: `longjobs wait {run_id}` waits again"
    )


def test_an_unexpected_error_is_one_line_exit_1(world, outputs_file, monkeypatch):
    monkeypatch.setattr("longjobs.render.status", lambda found: 1 / 0)
    world.plans["hello-world"] = Job()
    run = CliRunner().invoke(cli, ["--outputs", str(outputs_file), "run", "hello-world"])
    result = longjobs(outputs_file, "status", run.stdout.strip())
    assert result.exit_code == exit_codes.UNEXPECTED == 1
    assert one_error_line(result) == (
        "longjobs: unexpected ZeroDivisionError: division by zero (LONGJOBS_DEBUG=1 shows where)"
    )


def test_on_a_terminal_list_is_a_table_not_tab_separated(world, outputs_file, stack, monkeypatch):
    run = stack.run("hello-world")
    monkeypatch.setattr("longjobs.render.on_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "120")  # rich reads the terminal's width from it
    shown = longjobs(outputs_file, "list").stdout
    assert "\t" not in shown
    header, row = shown.splitlines()[:2]
    assert header.split() == ["run", "job", "status", "attempt", "created", "reason"]
    assert row.split()[:4] == [run.run_id, "hello-world", "PENDING", "1"]


def test_on_a_narrow_terminal_the_run_id_is_never_cut(world, outputs_file, stack, monkeypatch):
    run = stack.run("hello-world")
    monkeypatch.setattr("longjobs.render.on_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "60")
    assert run.run_id in longjobs(outputs_file, "list").stdout


def test_version_and_help_answer_without_a_stack(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    version = CliRunner().invoke(cli, ["--version"], prog_name="longjobs")
    assert version.exit_code == 0 and version.stdout.startswith("longjobs ")
    shown = CliRunner().invoke(cli, ["--help"], prog_name="longjobs")
    assert shown.exit_code == 0
    commands = shown.stdout.split("Commands:")[1].split()
    for command in ("list", "logs", "outputs", "rerun", "run", "status", "stop", "wait"):
        assert command in commands


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "hello-world", "--wait", "--timeout", "nan"], "--timeout"),
        (["run", "hello-world", "--wait", "--timeout", "inf"], "--timeout"),
        (["wait", RUN, "--timeout", "nan"], "--timeout"),
        (["list", "--limit", "99999999999999999999999"], "--limit"),
        (["run", "hello-world", "--spot", "--on-demand"], "--spot"),
    ],
)
def test_arguments_out_of_range_or_together_exit_2_naming_them(world, outputs_file, args, said):
    result = longjobs(outputs_file, *args)
    assert result.exit_code == 2, result.output
    assert said in one_error_line(result)


def test_without_arguments_the_help_is_printed_as_with_help_exit_2():
    result = CliRunner().invoke(cli, [], prog_name="longjobs")
    shown = CliRunner().invoke(cli, ["--help"], prog_name="longjobs")
    assert result.exit_code == 2
    assert result.stderr == shown.stdout
    assert result.stdout == ""


def test_an_empty_outputs_argument_is_named(world):
    result = CliRunner().invoke(cli, ["--outputs", "", "status", RUN], prog_name="longjobs")
    assert result.exit_code == 2
    assert "--outputs" in one_error_line(result)
    assert "is empty" in one_error_line(result)


@pytest.mark.parametrize(
    "answer",
    [
        {"job": "hello-world"},
        {"runId": RUN, "job": "hello-world", "status": "RUNNING", "attempts": "x"},
        {"runId": RUN, "job": "hello-world", "status": "SLEEPING", "attempt": 1, "attempts": []},
        {"runId": 7, "job": "hello-world", "status": "RUNNING"},
    ],
)
@pytest.mark.parametrize("args", [["status", RUN], ["wait", RUN], ["run", "hello-world"], ["list"]])
def test_a_trigger_answer_that_is_not_a_run_exits_7(world, outputs_file, monkeypatch, answer, args):
    if args == ["list"]:
        answer = {"runs": [answer]}
    monkeypatch.setattr("longjobs.stack.Stack.call", lambda self, event: answer)
    result = longjobs(outputs_file, *args)
    assert result.exit_code == 7, result.output
    assert "answered something that is not a run" in one_error_line(result)


def test_the_commands_own_timeout_with_json_prints_the_outcome(world, outputs_file):
    world.plans["hello-world"] = Job(fates=[Fate("hang")])
    result = longjobs(outputs_file, "run", "hello-world", "--wait", "--timeout", "20", "--json")
    assert result.exit_code == 124
    document = json.loads(result.stdout)
    assert document["outcome"] == "wait-timeout"
    assert document["status"] in ("PENDING", "RUNNING")
    assert document["exitCode"] is None
