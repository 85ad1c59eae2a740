import gc

import pytest

from offline.program import ProgramRun, run_program

WAITING_FIRST = ("tests/local/", "tests/images/", "tests/containers/")
"""The folders whose tests mostly wait on Docker (containers, the local runtime's timers). They are
collected first: `make test` hands files to its workers in collection order, so the other files'
work fills these waits instead of coming before them."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        found = [i for i, folder in enumerate(WAITING_FIRST) if item.nodeid.startswith(folder)]
        return found[0] if found else len(WAITING_FIRST)

    items.sort(key=rank)


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
