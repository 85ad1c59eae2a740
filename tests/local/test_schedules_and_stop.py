"""Schedules fire at their times, once per time, through the real firing code; Ctrl-C stops
everything the runtime started: its containers gone, its ports closed, its process ended."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import docker

from tests.local.conftest import needs_docker, start_local

FIRES_IN = 45
"""Seconds from the test's start to the one-time schedule's time: the runtime gets ready first."""


def stack_with_a_schedule(at: datetime) -> str:
    return f"""config:
  aws:region: eu-west-1
  longjobs:jobs:
    hello-world:
      cpu: 256
      memory: 512
      capacity: on-demand
      schedules:
        soon:
          expression: at({at.strftime("%Y-%m-%dT%H:%M:%S")})
          timezone: UTC
    sleeper:
      build: containers/hello-world
      entryPoint: ["sh", "-c", "echo sleeping; exec sleep 600"]
      cpu: 256
      memory: 512
      capacity: on-demand
"""


def test_a_schedule_fires_once_at_its_time_and_ctrl_c_leaves_nothing_running(tmp_path):
    needs_docker()
    at = (datetime.now(UTC) + timedelta(seconds=FIRES_IN)).replace(microsecond=0)
    stack = tmp_path / "Pulumi.scheduled.yaml"
    stack.write_text(stack_with_a_schedule(at))
    local = start_local(stack, tmp_path / "outputs.json")
    try:
        assert datetime.now(UTC) < at, "the runtime took longer to start than the test allows"
        assert local.invoke({"action": "list", "job": "hello-world"})["runs"] == []
        time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 8)
        runs = local.invoke({"action": "list", "job": "hello-world"})["runs"]
        keys = [local.status(r["runId"])["request"]["idempotencyKey"] for r in runs]
        assert keys == [f"schedule:hello-world/soon:{at.strftime('%Y-%m-%dT%H:%M:%SZ')}"]
        assert local.wait(runs[0]["runId"])["status"] == "SUCCEEDED"
        sleeper = local.start("sleeper")
        assert local.wait(sleeper, until=("RUNNING",))["status"] == "RUNNING"
    finally:
        code = local.stop()
    assert code == 0, local.process.stdout.read() if local.process.stdout else ""
    cluster = local.outputs["clusterName"]
    engine = docker.from_env()
    left = [
        c.name
        for c in engine.containers.list(all=True, filters={"label": "longjobs.task-arn"})
        if f"/{cluster}/" in c.labels["longjobs.task-arn"]
    ]
    assert left == []
    for url in set(local.outputs["endpointUrls"].values()):
        address = urlparse(url)
        with socket.socket() as probe:
            assert probe.connect_ex((address.hostname, address.port)) != 0, f"{url} still answers"
