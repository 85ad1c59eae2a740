import gc

import pytest

from offline.program import ProgramRun, run_program


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
