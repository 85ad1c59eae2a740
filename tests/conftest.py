import gc

import pytest

from offline.program import ProgramRun, run_program

FIRST = "tests/local/test_demo.py"
"""`make demo`'s test waits longest (for the supervisor's first minute pass), mostly idle: it is
collected first, and `make test` hands files to its workers in collection order, so the other
files' work fills that wait. It starts before the other Docker tests, whose containers would slow
its log lines past the moment its report must be interrupted."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(FIRST))


@pytest.fixture(scope="session")
def dev() -> ProgramRun:
    """The dev stack, run once for the whole session: tests that only read it share it; tests
    that vary config run their own program."""
    return run_program("Pulumi.dev.yaml")


@pytest.fixture(autouse=True)
def collector_on():
    """Each test starts with the cyclic garbage collector on, as in a fresh process.

    `__main__.py` turns it off for the rest of its process, which is right for a program that
    exits when it is done; this process runs the program many times and goes on.
    """
    gc.enable()
