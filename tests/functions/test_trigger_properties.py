"""Property tests: malformed events never reach ECS; valid ones always build a valid request."""

from __future__ import annotations

import dataclasses
import json
import string

import boto3
import pytest
from botocore.stub import Stubber
from botocore.validate import validate_parameters
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import contract
import handler

RUN_TASK_MODEL = (
    boto3.client("ecs", region_name="us-east-1")
    .meta.service_model.operation_model("RunTask")
    .input_shape
)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JOBS = ["hello-world", "report"]
text = st.text(max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
valid_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,15}", fullmatch=True).filter(
    lambda name: not name.startswith(("AWS_", "ECS_"))
)


@pytest.fixture
def no_aws(config_file, monkeypatch):
    """A client that fails the test on any call: nothing may reach ECS."""
    client = boto3.client("ecs", region_name="us-east-1")
    monkeypatch.setattr(handler, "ecs", client)
    with Stubber(client) as stubber:
        yield stubber


def bad_run_events():
    base = st.fixed_dictionaries({"job": st.sampled_from(JOBS)})
    bad_field = st.one_of(
        st.fixed_dictionaries({"job": text.filter(lambda job: job not in JOBS)}),
        st.fixed_dictionaries({"job": json_values.filter(lambda v: not isinstance(v, str))}),
        st.fixed_dictionaries(
            {
                "environment": st.dictionaries(
                    st.from_regex(r"(AWS|ECS)_[A-Z]{1,8}", fullmatch=True), text, min_size=1
                )
            }
        ),
        st.fixed_dictionaries(
            {
                "environment": st.dictionaries(
                    st.from_regex(r"[0-9\-. $][A-Za-z]{0,5}", fullmatch=True), text, min_size=1
                )
            }
        ),
        st.fixed_dictionaries(
            {
                "environment": st.dictionaries(
                    valid_names, json_values.filter(lambda v: not isinstance(v, str)), min_size=1
                )
            }
        ),
        st.fixed_dictionaries(
            {"environment": json_values.filter(lambda v: not isinstance(v, dict))}
        ),
        st.fixed_dictionaries({"environment": st.just({"BIG": "x" * 9000})}),
        st.fixed_dictionaries(
            {
                "command": json_values.filter(
                    lambda v: (
                        not (isinstance(v, list) and v and all(isinstance(p, str) for p in v))
                        and v is not None
                    )
                )
            }
        ),
        st.fixed_dictionaries(
            {"capacity": json_values.filter(lambda v: v not in ("spot", "on-demand"))}
        ),
        st.fixed_dictionaries(
            {
                "idempotencyKey": st.one_of(
                    st.just(""),
                    st.text(min_size=129, max_size=140),
                    st.text(alphabet="!#$%^&*(){}[]<>?", min_size=1, max_size=5),
                    json_values.filter(lambda v: not isinstance(v, str)),
                )
            }
        ),
        st.dictionaries(
            text.filter(lambda k: k not in handler.RUN_KEYS), json_values, min_size=1, max_size=2
        ),
    )
    return st.builds(lambda b, bad: {**b, **bad}, base, bad_field)


def bad_task_events():
    actions = st.sampled_from(["status", "stop"])
    task_arn = st.one_of(
        json_values,
        st.from_regex(
            r"arn:aws:ecs:us-east-1:123456789012:task/other-cluster/[0-9a-f]{32}", fullmatch=True
        ),
        st.from_regex(
            r"arn:aws:ecs:eu-west-1:123456789012:task/longjobs-dev/[0-9a-f]{32}", fullmatch=True
        ),
        st.from_regex(
            r"arn:aws:ecs:us-east-1:210987654321:task/longjobs-dev/[0-9a-f]{32}", fullmatch=True
        ),
    )
    return st.builds(lambda a, t: {"action": a, "taskArn": t}, actions, task_arn)


malformed = st.one_of(
    json_values.filter(lambda v: not isinstance(v, dict)),
    st.fixed_dictionaries({"action": text.filter(lambda a: a not in ("run", "status", "stop"))}),
    bad_run_events(),
    bad_task_events(),
)


@SETTINGS
@given(event=malformed)
def test_malformed_events_get_a_validation_error_and_reach_no_aws(no_aws, context, event):
    response = handler.handler(event, context)
    assert response["error"]["type"] == "ValidationError", (event, response)
    assert response["error"]["message"]
    no_aws.assert_no_pending_responses()


@SETTINGS
@given(
    job=st.sampled_from(JOBS),
    environment=st.dictionaries(valid_names, st.text(max_size=200), max_size=10),
    command=st.none() | st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=5),
    capacity=st.sampled_from(["spot", "on-demand"]),
    key=st.text(
        alphabet=string.ascii_letters + string.digits + "+-=._:/@ ", min_size=1, max_size=128
    ),
)
def test_valid_runs_build_a_request_botocore_accepts(
    config_file, job, environment, command, capacity, key
):
    event = {"job": job, "environment": environment, "capacity": capacity, "idempotencyKey": key}
    if command is not None:
        event["command"] = command
    config = handler.load_config()
    request = handler.parse_run(event, config, "request")
    params = handler.run_task_request(config, request, capacity)
    validate_parameters(params, RUN_TASK_MODEL)
    assert (
        len(json.dumps(params["overrides"], separators=(",", ":"))) <= handler.MAX_OVERRIDES_CHARS
    )
    assert len(params["clientToken"]) <= 64
    [override] = params["overrides"]["containerOverrides"]
    assert override["name"] == config.jobs[job].container_name
    assert {e["name"]: e["value"] for e in override.get("environment", [])} == environment


def test_secret_names_cannot_be_overridden(no_aws, context, config_file):
    config = handler.load_config()
    report = dataclasses.replace(config.jobs["report"], reserved_environment=("DB_PASSWORD",))
    config_file.write_text(
        contract.dumps(dataclasses.replace(config, jobs={**config.jobs, "report": report}))
    )
    handler.load_config.cache_clear()
    response = handler.handler({"job": "report", "environment": {"DB_PASSWORD": "x"}}, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": "environment: 'DB_PASSWORD' is one of the job's secrets",
    }


def test_each_request_logs_one_json_line(no_aws, context, capsys):
    handler.handler({"job": "nope"}, context)
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {
        "action": "run",
        "error": "job: 'nope' is not a job of this stack; allowed: hello-world, report",
        "outcome": "validation-error",
        "requestId": context.aws_request_id,
    }
