"""The runs table in moto, created exactly as the program declares it."""

from __future__ import annotations

from typing import Any

from tools.program import ProgramRun


def create_runs_table(dynamodb: Any, program: ProgramRun) -> str:
    """Create the table the program declares (keys, attributes, indexes); return its name."""
    table = program.one("aws:dynamodb/table:Table", "runs-table").inputs
    dynamodb.create_table(
        TableName=table["name"],
        BillingMode=table["billingMode"],
        KeySchema=[{"AttributeName": table["hashKey"], "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attributes"]
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index["name"],
                "KeySchema": [
                    {"AttributeName": key["attributeName"], "KeyType": key["keyType"]}
                    for key in index["keySchemas"]
                ],
                "Projection": {"ProjectionType": index["projectionType"]},
            }
            for index in table["globalSecondaryIndexes"]
        ],
    )
    return str(table["name"])
