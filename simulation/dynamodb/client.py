"""The low-level DynamoDB client's calls RunStore makes, over tables of this model."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from botocore.validate import validate_parameters

from simulation.dynamodb.errors import Refused, service_model

if TYPE_CHECKING:
    from simulation.dynamodb.table import Table


_METHODS = {
    "PutItem": "put_item",
    "GetItem": "get_item",
    "UpdateItem": "update_item",
    "DeleteItem": "delete_item",
    "Query": "query",
}
"""Each operation, by the `Table` method that answers it."""


@functools.cache
def _input_shape(operation: str) -> Any:
    return service_model().operation_model(operation).input_shape


class Client:
    """The low-level DynamoDB client's calls RunStore makes, over tables of this model.

    `validate` checks each request against botocore's model of the operation first, as a real
    client does before sending (ParamValidationError); it costs about as much as the call itself.
    """

    def __init__(self, *tables: Table, validate: bool = True):
        self.tables = {table.schema.name: table for table in tables}
        self.validate = validate

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self._call("PutItem", params)

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("GetItem", params)

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self._call("UpdateItem", params)

    def delete_item(self, **params: Any) -> dict[str, Any]:
        return self._call("DeleteItem", params)

    def query(self, **params: Any) -> dict[str, Any]:
        return self._call("Query", params)

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.validate:
            validate_parameters(params, _input_shape(operation))
        try:
            table = self.tables.get(params["TableName"])
            if table is None:
                raise Refused("ResourceNotFoundException", "Requested resource not found")
            answer: dict[str, Any] = getattr(table, _METHODS[operation])(params)
            return answer
        except Refused as refused:
            raise refused.client_error(operation) from None
