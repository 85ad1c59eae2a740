"""The local ECS endpoint as boto3 sees it (ECS's JSON protocol): the ECS model's answers and
errors, with a task definition it does not have refused as ECS refuses it."""

from __future__ import annotations

from datetime import datetime

import boto3
import pytest
from botocore.exceptions import ClientError

from local.ecs import LocalEcs
from local.endpoint import Endpoint
from local.lambdas import LocalFunctions
from local.stack import LocalStack
from local.timers import Timers


@pytest.fixture
def ecs(dev):
    timers = Timers()
    events: list[dict] = []
    local = LocalEcs(LocalStack(dev, dev.trigger_config), timers, events.append)
    functions = LocalFunctions({}, timers, lambda arn, record: None)
    endpoint = Endpoint(functions, local.call, local.interrupt, "127.0.0.1")
    endpoint.start()
    client = boto3.client(
        "ecs",
        endpoint_url=endpoint.url,
        region_name=dev.region,
        aws_access_key_id="placeholder",
        aws_secret_access_key="placeholder",
    )
    yield client, dev.outputs, events
    timers.close()
    timers.join()
    endpoint.stop()


def run_task(client, outputs, definition: str):
    return client.run_task(
        cluster=outputs["clusterArn"],
        taskDefinition=definition,
        startedBy="0123456789abcdef0123456789abcdef",
        capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        overrides={"containerOverrides": [{"name": "hello-world"}]},
        clientToken="0123456789abcdef0123456789abcdef-1",
    )


def test_run_task_places_a_task_and_tells_the_rule(ecs):
    client, outputs, events = ecs
    definition = outputs["jobs"]["hello-world"]["taskDefinitionArn"]
    answer = run_task(client, outputs, definition)
    [task] = answer["tasks"]
    assert (task["lastStatus"], task["desiredStatus"]) == ("PROVISIONING", "RUNNING")
    assert isinstance(task["createdAt"], datetime)
    assert run_task(client, outputs, definition)["tasks"][0]["taskArn"] == task["taskArn"]
    [event] = events
    assert (event["detail-type"], event["detail"]["taskArn"]) == (
        "ECS Task State Change",
        task["taskArn"],
    )
    described = client.describe_tasks(cluster=outputs["clusterArn"], tasks=[task["taskArn"]])
    assert described["tasks"][0]["startedBy"] == "0123456789abcdef0123456789abcdef"


def test_a_task_definition_it_does_not_have_is_a_client_exception(ecs):
    client, outputs, _ = ecs
    with pytest.raises(ClientError) as raised:
        run_task(client, outputs, "longjobs-dev-nosuch:1")
    assert raised.value.response["Error"] == {
        "Code": "ClientException",
        "Message": "TaskDefinition not found.",
    }


def test_a_task_it_does_not_know_is_missing_and_cannot_be_stopped(ecs):
    client, outputs, _ = ecs
    arn = outputs["clusterArn"].replace(":cluster/", ":task/") + "/" + "f" * 32
    described = client.describe_tasks(cluster=outputs["clusterArn"], tasks=[arn])
    assert described["failures"] == [{"arn": arn, "reason": "MISSING"}]
    with pytest.raises(ClientError) as raised:
        client.stop_task(cluster=outputs["clusterArn"], task=arn)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
