"""The runs table in moto, created exactly as the program declares it."""

from __future__ import annotations

from typing import Any

from offline.moto import create_runs_table as create_declared
from offline.program import ProgramRun


def create_runs_table(dynamodb: Any, program: ProgramRun) -> str:
    """Create the table `program` declares; return its name."""
    return create_declared(dynamodb, program.one("aws:dynamodb/table:Table", "runs-table").inputs)


def model_runs_table(program: ProgramRun) -> tuple[Any, str]:
    """The table `program` declares in the DynamoDB model (simulation/dynamodb/) instead of
    moto: a client for it, and its name. The model answers RunStore's requests as moto does
    (tests/simulation/test_dynamodb_model.py) in microseconds where moto takes milliseconds, for
    the tests that write and read a run a thousand times; its clock is the functions' own."""
    from functions.common import records
    from simulation.dynamodb import Schema, Table

    declared = program.one("aws:dynamodb/table:Table", "runs-table").inputs
    table = Table(Schema.from_declared(declared), now=lambda: records.now())
    return table.client(), table.schema.name
