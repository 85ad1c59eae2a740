"""One HTTP endpoint on loopback for what moto does not serve: Lambda's Invoke API (AWS Lambda
API reference, "Invoke": POST /2015-03-31/functions/{FunctionName}/invocations) and ECS's JSON
API (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`), plus the runtime's own
interrupt (POST /longjobs-local/interrupt)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from local.lambdas import LocalFunctions, payload

INVOKE_PREFIX = "/2015-03-31/functions/"
INVOKE_SUFFIX = "/invocations"
ECS_TARGET = "AmazonEC2ContainerServiceV20141113."
INTERRUPT_PATH = "/longjobs-local/interrupt"
EcsCall = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]
Interrupt = Callable[[str], tuple[int, dict[str, Any]]]


class Endpoint:
    def __init__(
        self, functions: LocalFunctions, ecs: EcsCall, interrupt: Interrupt, host: str
    ) -> None:
        endpoint = self

        class Handler(_Handler):
            pass

        Handler.endpoint = endpoint  # each server's handler class knows its endpoint
        self.functions, self.ecs, self.interrupt = functions, ecs, interrupt
        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    endpoint: Endpoint
    protocol_version = "HTTP/1.1"  # with Content-Length on every answer, as botocore expects

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # one line per request on stderr would drown the runtime's own

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlparse(self.path)
        target = self.headers.get("X-Amz-Target", "")
        if url.path.startswith(INVOKE_PREFIX) and url.path.endswith(INVOKE_SUFFIX):
            name = unquote(url.path[len(INVOKE_PREFIX) : -len(INVOKE_SUFFIX)])
            qualifier = parse_qs(url.query).get("Qualifier", [None])[0]
            self._invoke(name, qualifier, body)
        elif url.path == "/" and target.startswith(ECS_TARGET):
            params = json.loads(body or b"{}")
            status, answer = self.endpoint.ecs(target[len(ECS_TARGET) :], params)
            self._answer(status, json.dumps(answer).encode(), "application/x-amz-json-1.1")
        elif url.path == INTERRUPT_PATH:
            status, answer = self.endpoint.interrupt(str(json.loads(body or b"{}").get("runId")))
            self._answer(status, json.dumps(answer).encode())
        else:
            self._error(HTTPStatus.NOT_FOUND, "UnknownOperationException", f"no {url.path}")

    def _invoke(self, name: str, qualifier: str | None, body: bytes) -> None:
        functions = self.endpoint.functions
        found = functions.find(name, qualifier)
        if found is None:
            message = f"Function not found: {name}" + (f":{qualifier}" if qualifier else "")
            self._error(HTTPStatus.NOT_FOUND, "ResourceNotFoundException", message)
            return
        function, invoked = found
        try:
            event = json.loads(body) if body else {}
        except ValueError as error:
            message = f"Could not parse request body into json: {error}"
            self._error(HTTPStatus.BAD_REQUEST, "InvalidRequestContentException", message)
            return
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind == "DryRun":
            self._answer(HTTPStatus.NO_CONTENT, b"")
        elif kind == "Event":
            request_id = functions.send(function, invoked, event)
            self._answer(HTTPStatus.ACCEPTED, b"", request_id=request_id)
        elif kind == "RequestResponse":
            request_id = str(uuid.uuid4())
            outcome = functions.run(function, invoked, event, request_id)
            extra = {"X-Amz-Function-Error": "Unhandled"} if outcome.error else {}
            self._answer(HTTPStatus.OK, payload(outcome), request_id=request_id, **extra)
        else:
            message = f"InvocationType {kind!r}: one of RequestResponse, Event, DryRun"
            self._error(HTTPStatus.BAD_REQUEST, "InvalidParameterValueException", message)

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"Type": "User", "message": message, "__type": code}).encode()
        self._answer(status, body, **{"X-Amzn-ErrorType": code})

    def _answer(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        request_id: str | None = None,
        **headers: str,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Amz-Executed-Version", "$LATEST")
        if request_id:
            self.send_header("X-Amzn-RequestId", request_id)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
