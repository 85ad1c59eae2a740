import gc

import pytest

from offline.program import ProgramRun, run_program
from tests import botocore_models

botocore_models.share()  # each mock_aws() session's clients read botocore's models once a process


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


WAITING_FIRST = (
    "tests/local/test_lifecycle.py",  # its schedule fires a minute after its runtime's start
    "tests/local/test_demo.py",  # the notice waits for the supervisor's minute pass
    "tests/local/",
    "tests/images/",
    "tests/containers/",
    "tests/unit/test_types.py",  # mypy: one long test
)
"""The files that spend their time waiting (on Docker, a minute's schedule or pass) or in one
long test, in the order they start: pytest-xdist hands files to its workers in collection order
(`make test` gives `--no-loadscope-reorder`), so their waits overlap the other files' work
instead of being left for the end."""

LONGEST_NEXT = (
    "tests/simulation/test_simulation.py",  # about 35 s on a worker
    "tests/unit/test_network.py",
    "tests/functions/test_supervisor.py",
    "tests/unit/test_plan.py",
    "tests/unit/test_scan.py",
    "tests/simulation/test_dynamodb_model.py",
    "tests/functions/test_trigger_runs.py",
    "tests/client/",
)
"""Then the files that take longest on a worker (a file is never split across workers), so
the short ones fill the workers' ends instead of a long one starting last and running alone."""


ORDER = WAITING_FIRST + LONGEST_NEXT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next(
            (i for i, prefix in enumerate(ORDER) if path.startswith(prefix)),
            len(ORDER),
        )

    items.sort(key=rank)  # stable: within a rank, the order pytest collected
