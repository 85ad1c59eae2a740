"""A schedule's run event against the trigger: the components build it, the handler parses it.

Any schedule the config accepts fires an event the trigger starts; any schedule whose event the
trigger would refuse is refused by the config first. Both sides use `longjobs_contract.run_event`.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from components.config import ConfigError, parse
from functions.trigger import handler
from longjobs_contract import environment, run_event, trigger_config
from longjobs_contract.jobs import JobContract
from tests.functions.conftest import scheduler_context
from tests.functions.runs_table import create_runs_table

IMAGE = "public.ecr.aws/docker/library/python:3.13"
CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/longjobs-prod"
TASK = "arn:aws:ecs:eu-west-1:123456789012:task/longjobs-prod/0123456789abcdef0123456789abcdef"
SECRET = "arn:aws:ssm:eu-west-1:123456789012:parameter/db"
# What EventBridge Scheduler puts in place of <aws.scheduler.scheduled-time>: a new time for
# each example, so that each firing is a run of its own in the shared table.
FIRINGS = itertools.count()


def fired_at() -> str:
    when = datetime(2026, 11, 25, 2, 30, tzinfo=UTC) + timedelta(minutes=next(FIRINGS))
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


job_names = st.from_regex(r"[a-z]([a-z0-9-]{0,30}[a-z0-9])?", fullmatch=True)
schedule_names = st.from_regex(r"[0-9a-zA-Z_-]{1,31}", fullmatch=True)
# What a job declares: valid names a job may list as parameters (so that a refused config is
# refused for its schedule, not for the job's own keys). Its environment may also set a loader
# variable, which a schedule still may not.
clean_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True).filter(
    lambda name: (
        environment.name_problem(name) is None
        and not environment.is_loader_variable(name)
        and name != "DB_PASSWORD"
    )
)
declared_names = st.lists(clean_names, max_size=4, unique=True)
job_environment = st.dictionaries(
    st.one_of(clean_names, st.sampled_from(["PATH", "LD_LIBRARY_PATH", "PYTHONPATH"])),
    st.text(max_size=10).filter(lambda v: environment.text_problem(v) is None),
    max_size=3,
)
names = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True),
    st.sampled_from(
        ["AWS_REGION", "ECS_X", "DB_PASSWORD", "1BAD", "A-B", "LD_PRELOAD", "PATH", "PYTHONPATH"]
    ),
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
def ecs(monkeypatch, config_file, dev):
    """RunTask stubbed; the runs table in moto, as the program declares it."""
    client = boto3.client("ecs", region_name="eu-west-1")
    monkeypatch.setattr(handler, "ecs", client)
    with mock_aws(), Stubber(client) as stubber:
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        monkeypatch.setattr(handler, "dynamodb", dynamodb)
        yield stubber, config_file, create_runs_table(dynamodb, dev)


@SETTINGS
@given(
    job=job_names,
    schedule=schedule_names,
    declared=job_environment,
    parameters=declared_names,
    data=st.data(),
    secret=st.booleans(),
    capacity=st.sampled_from(["spot", "on-demand"]),
)
def test_the_config_accepts_a_schedule_exactly_when_the_trigger_starts_its_runs(
    ecs, context, job, schedule, declared, parameters, data, secret, capacity
):
    stubber, config_file, table = ecs
    secrets = {"DB_PASSWORD": SECRET} if secret else {}
    # The schedule's names: mostly what the job declares, some it does not or may not.
    own = [*declared, *parameters]
    variable_names = st.sampled_from(own) | names if own else names
    variables = data.draw(st.dictionaries(variable_names, values, max_size=4), "variables")
    stack = {
        "jobs": {
            job: {
                "image": IMAGE,
                "capacity": capacity,
                "environment": declared,
                "parameters": parameters,
                "secrets": secrets,
                "schedules": {schedule: {"expression": "rate(1 day)", "environment": variables}},
            }
        }
    }
    overridable = environment.overridable(declared, parameters)
    try:
        config = parse(stack)
    except ConfigError:
        accepted = False
    else:
        accepted = True
        variables = dict(config.jobs[job].schedules[schedule].environment)
        assert config.jobs[job].overridable_environment == overridable
    # What the schedule sends (the same call the JobSchedules component makes), as Scheduler
    # fires it.
    text = json.dumps(run_event.schedule_event(job, schedule, variables))
    event = json.loads(text.replace(run_event.SCHEDULED_TIME, fired_at()))
    target = JobContract(
        log_group="/longjobs/prod/jobs",
        task_definition_arn=f"arn:aws:ecs:eu-west-1:123456789012:task-definition/p-{job}:1",
        container_name=job,
        capacity=capacity,
        reserved_environment=tuple(secrets),
        overridable_environment=overridable,
    )
    config_file.write_text(
        trigger_config.dumps(
            trigger_config.TriggerConfig(
                cluster_arn=CLUSTER,
                subnet_ids=("subnet-0123456789abcdef0",),
                security_group_ids=(),
                assign_public_ip=False,
                runs_table=table,
                run_retention_days=90,
                checkpoint_bucket="p-checkpoints-123456789012-eu-west-1",
                notifications_topic="arn:aws:sns:eu-west-1:123456789012:longjobs-prod-notifications",
                jobs={job: target},
            )
        )
    )
    handler.load_config.cache_clear()
    if accepted:
        stubber.add_response("run_task", {"tasks": [{"taskArn": TASK}], "failures": []})
    # Scheduler invokes the trigger's schedules alias.
    response = handler.handler(event, scheduler_context())
    if accepted:
        assert response["taskArn"] == TASK, response
        stubber.assert_no_pending_responses()
    else:
        # Refused by the config: the trigger would refuse every firing too.
        assert response["error"]["type"] == "ValidationError", (stack, response)
