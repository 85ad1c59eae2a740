"""What telling callers apart costs a caller: an alias per caller against a function URL.

    python -m benchmarks.caller_identity_bench [--requests 2000]

Two ways the trigger can learn who asked (docs/security.md, "Who asked"):
- an alias per `allowedCallers` entry: the caller invokes the trigger with `Qualifier=` its alias,
  through boto3's `lambda.invoke`, as it would without one;
- a function URL with `AWS_IAM` auth: the caller signs an HTTP POST to
  `https://<url-id>.lambda-url.<region>.on.aws/` with SigV4 itself, and the event carries its ARN
  (`requestContext.authorizer.iam.userArn`; Lambda developer guide, "Invoking Lambda function
  URLs", request payload).

Measured here, on this machine, with no network: the client's own time per request (botocore
builds, serializes and signs each request; the send is answered by a canned response at botocore's
`before-send` hook, so the figures hold everything but the round trip), and the bytes each request
puts on the wire. Not measurable here and documented instead: the round trip. Both ways reach
Lambda's own front end in the caller's region (the Invoke API's `lambda.<region>.amazonaws.com`, a
URL's `lambda-url.<region>.on.aws`); neither puts another service (API Gateway, a load balancer)
in between, so neither adds a hop. The price is a documented calculation: Lambda bills every
invocation the same, $0.20 per million requests (Lambda pricing page, us-east-1), and bills
neither aliases nor function URLs apart. The goal: an alias costs the caller at most 10% more
client time than invoking the unqualified function; a figure that misses it prints MISSED.
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import os
import time
from collections.abc import Callable
from typing import Any

for _variable, _value in (
    ("AWS_DEFAULT_REGION", "eu-west-1"),
    ("AWS_ACCESS_KEY_ID", "bench"),
    ("AWS_SECRET_ACCESS_KEY", "bench"),
):
    os.environ.setdefault(_variable, _value)  # fmt: skip

import boto3  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest, AWSResponse  # noqa: E402

from longjobs_contract import callers  # noqa: E402

REGION = os.environ["AWS_DEFAULT_REGION"]
TRIGGER_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:longjobs-prod-trigger"
URL = f"https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.{REGION}.on.aws/"
ENTRY = "arn:aws:iam::111122223333:role/reports-api"
EVENT = {"job": "report", "environment": {"REPORT_DAY": "2026-11-01"}, "idempotencyKey": "r-1"}
ANSWER = json.dumps({"runId": "0" * 32, "job": "report", "status": "PENDING"}).encode()
MAX_ALIAS_RATIO = 1.10
PRICE_PER_MILLION = 0.20
"""USD per million Lambda requests, us-east-1 (Lambda pricing page); the same for either way."""
# Lambda developer guide, "Invoking Lambda function URLs": regions without function URLs.
REGIONS_WITHOUT_URLS = (
    "ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
    "ap-east-2", "ca-west-1", "eu-south-2", "eu-central-2", "il-central-1", "me-central-1",
)  # fmt: skip

sent: list[int] = []


class _Raw(io.BytesIO):
    def stream(self, **_: Any):
        yield self.getvalue()


def _answer(request: AWSRequest, **_: Any) -> AWSResponse:
    """The send, answered at once: the request as botocore would put it on the wire is counted."""
    body = request.body or b""
    headers = sum(len(k) + len(str(v)) + 4 for k, v in request.headers.items())
    line = len(request.method or "") + len(request.url) + len(" HTTP/1.1\r\n")
    sent.append(len(body if isinstance(body, bytes) else str(body).encode()) + headers + line)
    return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, _Raw(ANSWER))


lambda_client = boto3.client("lambda", region_name=REGION)
lambda_client.meta.events.register("before-send.lambda", _answer)
credentials = boto3.Session().get_credentials()


def invoke_unqualified() -> dict:
    """A caller of the stack's own account: the function itself."""
    response = lambda_client.invoke(FunctionName=TRIGGER_ARN, Payload=json.dumps(EVENT))
    return json.load(response["Payload"])


def invoke_alias() -> dict:
    """A caller of another account: its own alias, one argument more."""
    response = lambda_client.invoke(
        FunctionName=TRIGGER_ARN, Qualifier=callers.alias(ENTRY), Payload=json.dumps(EVENT)
    )
    return json.load(response["Payload"])


def invoke_url() -> dict:
    """A function URL with AWS_IAM auth: the caller builds and signs the HTTP request itself,
    and reads the URL's response shape (Lambda's HTTP response, whose body is the answer)."""
    request = AWSRequest(
        method="POST",
        url=URL,
        data=json.dumps(EVENT).encode(),
        headers={"Content-Type": "application/json"},
    )
    SigV4Auth(credentials, "lambda", REGION).add_auth(request)
    prepared = request.prepare()
    response = _answer(prepared)
    if response.status_code != 200:
        raise RuntimeError(f"the trigger's URL answered {response.status_code}")
    return json.loads(response.content)


def client_lines(function: Callable[[], dict]) -> int:
    """Lines of the caller's own code, docstring and signature aside."""
    source = inspect.getsource(function).splitlines()
    body = [line for line in source[1:] if line.strip() and not line.strip().startswith('"""')]
    return len([line for line in body if not line.strip().endswith('"""')])


def timed(function: Callable[[], dict], requests: int) -> tuple[float, int]:
    """Microseconds of client time per request (best of three), and bytes sent per request."""
    best = float("inf")
    for _ in range(3):
        sent.clear()
        start = time.perf_counter()
        for _ in range(requests):
            function()
        best = min(best, (time.perf_counter() - start) / requests * 1e6)
    return best, sent[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    ways = (
        ("unqualified Invoke", invoke_unqualified, "yes", "no"),
        ("alias (Qualifier=)", invoke_alias, "yes", "the allowedCallers entry"),
        ("function URL, AWS_IAM", invoke_url, "no", "the signing ARN"),
    )
    results = {}
    print(f"the caller's side of one trigger request, best of 3 x {args.requests}, no network")
    header = ("way", "us/request", "bytes sent", "client lines", "async", "tells who asked")
    print("  {:<22} {:>10} {:>10} {:>12} {:>5}  {}".format(*header))
    for name, function, asynchronous, who in ways:
        micros, size = timed(function, args.requests)
        results[name] = micros
        lines = client_lines(function)
        print(f"  {name:<22} {micros:>10.1f} {size:>10} {lines:>12} {asynchronous:>5}  {who}")
    ratio = results["alias (Qualifier=)"] / results["unqualified Invoke"]
    verdict = "met" if ratio <= MAX_ALIAS_RATIO else "MISSED"
    print(f"alias / unqualified client time: {ratio:.2f}x (goal <= {MAX_ALIAS_RATIO}x): {verdict}")
    print(
        f"price per million requests: ${PRICE_PER_MILLION:.2f} each way (Lambda bills "
        "invocations alike; aliases and function URLs carry no charge of their own)"
    )
    print("extra hops: none either way (both reach Lambda's own front end in the region)")
    print(f"regions without function URLs: {len(REGIONS_WITHOUT_URLS)}; aliases: everywhere")


if __name__ == "__main__":
    main()
