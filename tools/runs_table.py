"""The runs table in moto (or any DynamoDB), created exactly as the program declares it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def create_runs_table(dynamodb: Any, declared: Mapping[str, Any], name: str | None = None) -> str:
    """Create the table the program declares (`declared`: its inputs: keys, attributes,
    indexes), under `name` or its declared name; return the name."""
    table = name or str(declared["name"])
    dynamodb.create_table(
        TableName=table,
        BillingMode=declared["billingMode"],
        KeySchema=[{"AttributeName": declared["hashKey"], "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in declared["attributes"]
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
            for index in declared["globalSecondaryIndexes"]
        ],
    )
    return table
