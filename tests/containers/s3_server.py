"""A local S3 for the report job's checkpoints: moto's server, in this process, on a free port.

The job under test is another process (or a container) that reaches it over HTTP with
AWS_ENDPOINT_URL_S3, as boto3 reads it; nothing in the job knows it is not AWS.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

BUCKET = "longjobs-test-checkpoints-123456789012-us-east-1"
RUN_ID = "6519e6c44fefbd6b6ad4cc7758d12e8c"
PREFIX = f"report/{RUN_ID}/"
URI = f"s3://{BUCKET}/{PREFIX}"


@dataclass(frozen=True)
class LocalS3:
    endpoint: str

    def environment(self, endpoint: str | None = None) -> dict[str, str]:
        """What the job needs to reach it: the endpoint, a region, and credentials moto takes."""
        return {
            "AWS_ENDPOINT_URL_S3": endpoint or self.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def keys(self, prefix: str = PREFIX) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()


@contextmanager
def local_s3(host: str = "127.0.0.1") -> Iterator[LocalS3]:
    """moto's S3 on `host` and a free port, with the checkpoint bucket created."""
    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    try:
        address, port = server.get_host_and_port()
        s3 = LocalS3(f"http://{address}:{port}")
        # moto keeps its state per process: start from none.
        urllib.request.urlopen(urllib.request.Request(f"{s3.endpoint}/moto-api/reset", b""))
        s3.client().create_bucket(Bucket=BUCKET)
        yield s3
    finally:
        server.stop()
