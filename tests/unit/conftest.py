import pytest

from tools.program import ProgramRun, run_program


@pytest.fixture(scope="session")
def dev() -> ProgramRun:
    """The dev stack, run once: tests that only read it share it; tests that vary config run
    their own program."""
    return run_program("Pulumi.dev.yaml")
