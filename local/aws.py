"""A local AWS for the stack: moto's server on loopback, holding the stack's data resources as
the program declares them (runs table with its indexes and TTL, checkpoint bucket, queues, topic,
log groups), for boto3 to talk to unchanged."""

from __future__ import annotations

import logging
import os
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from local.stack import LocalStack
from offline.moto import create_runs_table

LOOPBACK = "127.0.0.1"
# moto answers any credentials; boto3 needs some to sign with.
PLACEHOLDER_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


@dataclass
class LocalAws:
    """moto's server for one stack; `start` creates the stack's resources in it."""

    stack: LocalStack
    servers: list[ThreadedMotoServer] = field(default_factory=list)
    endpoint: str = ""
    queue_urls: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        # Its server logs each request, and a traceback for each error it answers, to stderr.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto's account is the one the program's ARNs name, so its ARNs match theirs.
        os.environ["MOTO_ACCOUNT_ID"] = self.stack.account
        self.endpoint = self.serve_on(LOOPBACK)
        # moto keeps its state per process: start from none.
        reset = urllib.request.Request(f"{self.endpoint}/moto-api/reset", b"", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        self._create()

    def serve_on(self, address: str) -> str:
        """Serve the same data on another address too (moto's state is the process's); its URL."""
        server = ThreadedMotoServer(ip_address=address, port=0, verbose=False)
        server.start()
        self.servers.append(server)
        host, port = server.get_host_and_port()
        return f"http://{host}:{port}"

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers.clear()

    def client(self, service: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.stack.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def _create(self) -> None:
        config = self.stack.program.outputs
        declared = self.stack.runs_table()
        dynamodb = self.client("dynamodb")
        table = create_runs_table(dynamodb, declared)
        ttl = declared.get("ttl")
        if ttl and ttl.get("enabled"):
            dynamodb.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["attributeName"]},
            )
        s3 = self.client("s3")
        bucket: dict[str, Any] = {"Bucket": config["checkpointBucket"]}
        if self.stack.region != "us-east-1":  # CreateBucket: us-east-1 takes no constraint
            bucket["CreateBucketConfiguration"] = {"LocationConstraint": self.stack.region}
        s3.create_bucket(**bucket)
        sqs = self.client("sqs")
        for queue in self.stack.queues():
            self.queue_urls[queue] = sqs.create_queue(QueueName=queue)["QueueUrl"]
        topic = str(config["notificationsTopicArn"]).rsplit(":", 1)[-1]
        self.client("sns").create_topic(Name=topic)
        logs = self.client("logs")
        for group in self.stack.log_groups():
            logs.create_log_group(logGroupName=group)
