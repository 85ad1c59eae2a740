"""DynamoDB's error answers, raised as botocore's `ClientError`, and what the model leaves out."""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore.exceptions import ClientError

NO_KEY = "The provided key element does not match the schema"


class Refused(Exception):
    """A request DynamoDB answers with an error; the client raises it as botocore would."""

    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra

    def client_error(self, operation: str) -> ClientError:
        response: Any = {"Error": {"Message": self.message, "Code": self.code}}
        # botocore copies a modeled error's members (`message`; `Item` when a failed condition
        # asked for ALL_OLD) to the top of the response, beside `Error`: RunStore reads `Item`.
        if self.code in _modeled_errors():
            response["message"] = self.message
        response.update(self.extra)
        return ClientError(response, operation)


def invalid(message: str) -> Refused:
    return Refused("ValidationException", message)


def unmodelled(what: str) -> NotImplementedError:
    return NotImplementedError(f"{what}: valid for DynamoDB, not modelled here")


@functools.cache
def service_model() -> Any:
    """botocore's model of DynamoDB: its operations' input shapes and its modeled errors."""
    return botocore.session.get_session().get_service_model("dynamodb")


@functools.cache
def _modeled_errors() -> frozenset[str]:
    return frozenset(shape.name for shape in service_model().error_shapes)
