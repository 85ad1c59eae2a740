"""A schedule's run event against the trigger: the components build it, the handler parses it.

Any schedule the config accepts fires an event the trigger starts; any schedule whose event the
trigger would refuse is refused by the config first. Both sides use `longjobs_contract.run_event`.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import handler
from components.config import ConfigError, parse
from longjobs_contract import run_event, trigger_config

IMAGE = "public.ecr.aws/docker/library/python:3.13"
CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/longjobs-prod"
TASK = "arn:aws:ecs:eu-west-1:123456789012:task/longjobs-prod/0123456789abcdef0123456789abcdef"
SECRET = "arn:aws:ssm:eu-west-1:123456789012:parameter/db"
# What EventBridge Scheduler puts in place of <aws.scheduler.scheduled-time>.
FIRED_AT = "2026-11-25T02:30:00Z"

job_names = st.from_regex(r"[a-z]([a-z0-9-]{0,30}[a-z0-9])?", fullmatch=True)
schedule_names = st.from_regex(r"[0-9a-zA-Z_-]{1,31}", fullmatch=True)
names = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True),
    st.sampled_from(["AWS_REGION", "ECS_X", "DB_PASSWORD", "1BAD", "A-B"]),
)
values = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
    st.just("x" * 4200),
)
SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def ecs(monkeypatch, config_file):
    client = boto3.client("ecs", region_name="eu-west-1")
    monkeypatch.setattr(handler, "ecs", client)
    with Stubber(client) as stubber:
        yield stubber, config_file


@SETTINGS
@given(
    job=job_names,
    schedule=schedule_names,
    variables=st.dictionaries(names, values, max_size=4),
    secret=st.booleans(),
    capacity=st.sampled_from(["spot", "on-demand"]),
)
def test_the_config_accepts_a_schedule_exactly_when_the_trigger_starts_its_runs(
    ecs, context, job, schedule, variables, secret, capacity
):
    stubber, config_file = ecs
    secrets = {"DB_PASSWORD": SECRET} if secret else {}
    stack = {
        "jobs": {
            job: {
                "image": IMAGE,
                "capacity": capacity,
                "secrets": secrets,
                "schedules": {schedule: {"expression": "rate(1 day)", "environment": variables}},
            }
        }
    }
    try:
        config = parse(stack)
    except ConfigError:
        accepted = False
    else:
        accepted = True
        variables = dict(config.jobs[job].schedules[schedule].environment)
    # What the schedule sends (the same call the JobSchedules component makes), as Scheduler
    # fires it.
    text = json.dumps(run_event.schedule_event(job, schedule, variables))
    event = json.loads(text.replace(run_event.SCHEDULED_TIME, FIRED_AT))
    target = trigger_config.JobTarget(
        task_definition_arn=f"arn:aws:ecs:eu-west-1:123456789012:task-definition/p-{job}:1",
        container_name=job,
        capacity=capacity,
        reserved_environment=tuple(secrets),
    )
    config_file.write_text(
        trigger_config.dumps(
            trigger_config.TriggerConfig(
                cluster_arn=CLUSTER,
                subnet_ids=("subnet-0123456789abcdef0",),
                security_group_ids=(),
                assign_public_ip=False,
                runs_table="longjobs-prod-runs",
                run_retention_days=90,
                jobs={job: target},
            )
        )
    )
    handler.load_config.cache_clear()
    if accepted:
        stubber.add_response("run_task", {"tasks": [{"taskArn": TASK}], "failures": []})
    response = handler.handler(event, context)
    if accepted:
        assert response["taskArn"] == TASK, response
        stubber.assert_no_pending_responses()
    else:
        # Refused by the config: the trigger would refuse every firing too.
        assert response["error"]["type"] == "ValidationError", (stack, response)
