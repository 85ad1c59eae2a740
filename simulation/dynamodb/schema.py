"""A table's declaration as the model takes it from the Pulumi program's inputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulation.dynamodb.errors import unmodelled


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str


@dataclass(frozen=True)
class Schema:
    """What a table's declaration fixes: its key, its key attributes' types, its indexes, TTL."""

    name: str
    hash_key: str
    types: Mapping[str, str]
    indexes: Mapping[str, Index]
    ttl_attribute: str | None

    @classmethod
    def from_declared(cls, declared: Mapping[str, Any], name: str | None = None) -> Schema:
        """From the Pulumi program's `aws.dynamodb.Table` inputs (what tools/runs_table.py gives
        moto): hashKey, attributes, globalSecondaryIndexes (keySchemas, projectionType), ttl."""
        if declared.get("rangeKey") or declared.get("localSecondaryIndexes"):
            raise unmodelled("a table sort key or local secondary indexes")
        indexes = {}
        for index in declared.get("globalSecondaryIndexes", []):
            keys = {key["keyType"]: key["attributeName"] for key in index["keySchemas"]}
            if index["projectionType"] != "ALL" or set(keys) != {"HASH", "RANGE"}:
                raise unmodelled("an index without a sort key or ALL projection")
            indexes[index["name"]] = Index(index["name"], keys["HASH"], keys["RANGE"])
        ttl = declared.get("ttl") or {}
        return cls(
            name=name or str(declared["name"]),
            hash_key=declared["hashKey"],
            types={a["name"]: a["type"] for a in declared["attributes"]},
            indexes=indexes,
            ttl_attribute=ttl.get("attributeName") if ttl.get("enabled") else None,
        )
