"""The runs table in moto, created exactly as the program declares it."""

from __future__ import annotations

from typing import Any

from offline.moto import create_runs_table as create_declared
from offline.program import ProgramRun


def create_runs_table(dynamodb: Any, program: ProgramRun) -> str:
    """Create the table `program` declares; return its name."""
    return create_declared(dynamodb, program.one("aws:dynamodb/table:Table", "runs-table").inputs)
