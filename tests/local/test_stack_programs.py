"""A runtime's start takes the program run an earlier start made with the very same inputs, and
runs the program again when any of them changed."""

from __future__ import annotations

import logging
import shutil

import pytest

import offline.program
from local import stack as local_stack
from tests.local.conftest import TEST_STACK


@pytest.fixture
def programs(tmp_path, monkeypatch):
    monkeypatch.setattr(local_stack, "PROGRAMS", tmp_path / "programs")
    runs = []
    original = offline.program.run_program

    def counted(*args, **kwargs):
        runs.append(args)
        kwargs["logger"].warning("a warning of the program's")
        return original(*args, **kwargs)

    # local.stack imports it when it runs the program: this is the one it finds.
    monkeypatch.setattr(offline.program, "run_program", counted)
    return runs


def test_the_same_inputs_take_the_earlier_run_and_say_its_warnings_again(
    programs, tmp_path, caplog
):
    path = shutil.copy(TEST_STACK, tmp_path / "Pulumi.cached.yaml")
    with caplog.at_level(logging.WARNING, logger="longjobs.local.program"):
        first = local_stack.load(str(path))
        second = local_stack.load(str(path))
    assert len(programs) == 1
    assert second.program.outputs == first.program.outputs
    assert second.functions_config == first.functions_config
    assert [r.getMessage() for r in caplog.records] == ["a warning of the program's"] * 2
    with open(path, "a") as stack_file:
        stack_file.write("# changed\n")
    local_stack.load(str(path))
    assert len(programs) == 2


def test_a_kept_run_that_cannot_be_read_is_made_again(programs, tmp_path):
    path = shutil.copy(TEST_STACK, tmp_path / "Pulumi.cached.yaml")
    local_stack.load(str(path))
    [kept] = (tmp_path / "programs").glob("*.pickle")
    kept.write_bytes(kept.read_bytes()[:100])  # cut short
    again = local_stack.load(str(path))
    assert len(programs) == 2
    assert again.program.outputs["clusterArn"]
    assert len(kept.read_bytes()) > 100  # replaced by the new run


def test_the_digest_reads_the_project_but_what_the_program_never_reads(tmp_path, monkeypatch):
    root = tmp_path / "project"
    for name in ("components/job.py", "containers/report/report.py", "tests/test_x.py",
                 "docs/a.md", ".longjobs/local/dev.json", "components/__pycache__/job.pyc",
                 ".hypothesis/examples/x", "longjobs.egg-info/PKG-INFO"):  # fmt: skip
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("1")
    monkeypatch.setattr(local_stack, "PROJECT_ROOT", root)
    stack_file = root / "Pulumi.dev.yaml"
    stack_file.write_text("config: {}\n")
    first = local_stack.inputs_digest(stack_file)
    for unread in ("tests/test_x.py", "docs/a.md", ".longjobs/local/dev.json",
                   "components/__pycache__/job.pyc", ".hypothesis/examples/x",
                   "longjobs.egg-info/PKG-INFO"):  # fmt: skip
        (root / unread).write_text("2")
    assert local_stack.inputs_digest(stack_file) == first
    for read in ("components/job.py", "containers/report/report.py"):
        (root / read).write_text("3")
        changed = local_stack.inputs_digest(stack_file)
        assert changed != first
        first = changed
    (root / "components" / "job.py").chmod(0o755)
    assert local_stack.inputs_digest(stack_file) != first
