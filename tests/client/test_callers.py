"""Callers from other accounts invoke the trigger through their own alias: the client's
`caller=` (and the command's --caller / $LONGJOBS_CALLER) looks their `allowedCallers` entry up
in the stack output `triggerCallerQualifiers`, and the trigger's record says who asked."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from longjobs import Stack, ValidationError
from longjobs.cli import cli
from longjobs.outputs import parse
from offline.program import ProgramRun, run_program
from tests.client.world import open_world
from tests.unit.helpers import dev_config

OTHER_ACCOUNT = "111122223333"
OTHER_ROLE = "arn:aws:iam::444455556666:role/service/api"


@pytest.fixture(scope="module")
def with_callers() -> ProgramRun:
    config = dev_config()
    config["longjobs:allowedCallers"] = [OTHER_ACCOUNT, OTHER_ROLE]
    return run_program(config=config)


@pytest.fixture
def world(with_callers, tmp_path):
    with open_world(with_callers, tmp_path) as running:
        yield running


@pytest.fixture
def outputs_file(with_callers, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(with_callers.outputs))
    return path


def outputs_of(program: ProgramRun):
    return parse(json.dumps(program.outputs), "the stack's outputs")


def test_a_caller_invokes_its_own_alias_and_the_record_says_who_asked(world, with_callers):
    stack = Stack(outputs_of(with_callers), caller=OTHER_ROLE)
    started = stack.run("hello-world", key="from-the-role")
    expected = with_callers.outputs["triggerCallerQualifiers"][OTHER_ROLE]
    assert expected.startswith("caller-role-")
    assert world.qualifiers == [expected]
    assert started.status().raw["caller"] == OTHER_ROLE
    assert world.qualifiers == [expected, expected]


def test_without_a_caller_the_unqualified_function_is_the_stacks_own_account(world, with_callers):
    started = Stack(outputs_of(with_callers)).run("hello-world", key="own-account")
    assert started.status().raw["caller"] == "account"
    assert world.qualifiers == [None, None]


def test_an_entry_not_in_the_map_is_refused_listing_the_entries(with_callers):
    with pytest.raises(ValidationError) as refused:
        Stack(outputs_of(with_callers), caller="222233334444")
    assert str(refused.value) == (
        "caller: '222233334444' is not an entry of the stack's triggerCallerQualifiers; "
        f"entries: {OTHER_ACCOUNT}, {OTHER_ROLE}"
    )


def test_the_command_takes_the_caller_from_its_option_or_the_environment(world, outputs_file):
    runner = CliRunner()
    by_option = runner.invoke(
        cli, ["--outputs", str(outputs_file), "--caller", OTHER_ACCOUNT, "run", "hello-world"]
    )
    assert by_option.exit_code == 0, by_option.stderr
    by_variable = runner.invoke(
        cli,
        ["--outputs", str(outputs_file), "status", by_option.stdout.strip(), "--json"],
        env={"LONGJOBS_CALLER": OTHER_ACCOUNT},
    )
    assert by_variable.exit_code == 0, by_variable.stderr
    assert json.loads(by_variable.stdout)["caller"] == OTHER_ACCOUNT
    assert world.qualifiers == [f"caller-{OTHER_ACCOUNT}"] * 2


def test_the_command_refuses_an_unknown_caller_in_one_line_and_invokes_nothing(world, outputs_file):
    result = CliRunner().invoke(
        cli,
        ["--outputs", str(outputs_file), "--caller", "nobody", "run", "hello-world"],
        prog_name="longjobs",
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "longjobs: caller: 'nobody' is not an entry of the stack's triggerCallerQualifiers; "
        f"entries: {OTHER_ACCOUNT}, {OTHER_ROLE}"
    ]
    assert world.qualifiers == []
