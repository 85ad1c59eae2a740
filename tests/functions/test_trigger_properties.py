"""Property tests: malformed events never reach ECS; valid ones always build a valid request."""

from __future__ import annotations

import base64
import json
import string

import boto3
import pytest
from botocore.stub import Stubber
from botocore.validate import validate_parameters
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.common import attempts, records
from functions.trigger import handler
from longjobs_contract import environment, loader_variables, run_event, runs
from longjobs_contract.errors import shown
from longjobs_contract.jobs import RunRules
from tests.functions.conftest import PROD, SHARED_VARIABLES

RUN_TASK_MODEL = (
    boto3.client("ecs", region_name="us-east-1")
    .meta.service_model.operation_model("RunTask")
    .input_shape
)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JOBS = sorted(PROD.jobs)
CLUSTER = PROD.cluster_arn.rsplit("/", 1)[-1]
text = st.text(max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
# Text a task can be given: no control characters (tab, newline, CR aside), no lone surrogates.
task_text = st.text(
    st.characters(exclude_categories=("Cs",)).filter(lambda c: environment.text_problem(c) is None)
)
bad_character = st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800", "\udfff"])
text_with_a_bad_character = st.builds(
    lambda head, bad, tail: head + bad + tail, task_text, bad_character, task_text
)
valid_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,15}", fullmatch=True).filter(
    lambda name: not name.startswith(("AWS_", "ECS_", "LONGJOBS_"))
)
# Names every PROD job lets a run set: a malformed value under one is refused for the value.
declared_names = st.sampled_from(SHARED_VARIABLES)
DECLARED_ANYWHERE = {name for job in PROD.jobs.values() for name in job.overridable_environment}
undeclared_names = valid_names.filter(
    lambda name: name not in DECLARED_ANYWHERE and not environment.is_loader_variable(name)
)
loader_names = st.one_of(
    st.sampled_from([e.pattern for e in loader_variables.CATALOGUE if e.match == "name"]),
    st.from_regex(r"(LD_|DYLD_|PYTHON|ld_|Python)[A-Za-z0-9_]{0,12}", fullmatch=True),
)
COMMAND_JOBS = sorted(job for job, rules in PROD.jobs.items() if rules.allow_command_override)
NO_COMMAND_JOBS = sorted(set(PROD.jobs) - set(COMMAND_JOBS))
assert COMMAND_JOBS and NO_COMMAND_JOBS  # PROD has a job of each kind


@pytest.fixture
def no_aws(prod_config, monkeypatch):
    """Clients that record every call and have no response for any: nothing may reach ECS or
    the runs table."""
    calls: list[str] = []
    clients = []
    for service, module_client in (("ecs", "ecs"), ("dynamodb", "dynamodb")):
        client = boto3.client(service, region_name="eu-west-1")
        client.meta.events.register(
            f"provide-client-params.{service}", lambda model, **_: calls.append(model.name)
        )
        monkeypatch.setattr(handler, module_client, client)
        clients.append(client)
    with Stubber(clients[0]), Stubber(clients[1]):
        yield calls


def overreaching_fields():
    """What a run may not change, however well formed: a name its job does not declare, a
    loader or interpreter variable, a command to a job that does not allow one."""
    declared = st.dictionaries(declared_names, task_text, max_size=3)
    return st.one_of(
        # A valid name the job does not declare (in its environment or parameters), maybe
        # among names it does.
        st.builds(
            lambda good, bad: {"environment": {**good, **bad}},
            declared,
            st.dictionaries(undeclared_names, text, min_size=1, max_size=3),
        ),
        # A loader or interpreter variable: never, whatever the job declares.
        st.builds(
            lambda good, bad: {"environment": {**good, **bad}},
            declared,
            st.dictionaries(loader_names, text, min_size=1, max_size=3),
        ),
        # A command, even a good one, to a job that does not allow one.
        st.fixed_dictionaries(
            {
                "job": st.sampled_from(NO_COMMAND_JOBS),
                "command": st.lists(task_text, min_size=1, max_size=3),
            }
        ),
    )


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
                    declared_names,
                    json_values.filter(lambda v: not isinstance(v, str)),
                    min_size=1,
                )
            }
        ),
        overreaching_fields(),
        st.fixed_dictionaries(
            {"environment": json_values.filter(lambda v: not isinstance(v, dict))}
        ),
        st.fixed_dictionaries(
            {
                "job": st.just("report"),  # the job whose secret it is
                "environment": st.dictionaries(st.just("DB_PASSWORD"), text, min_size=1),
            }
        ),
        st.fixed_dictionaries({"environment": st.just({SHARED_VARIABLES[0]: "x" * 9000})}),
        st.fixed_dictionaries(
            {"environment": st.dictionaries(declared_names, text_with_a_bad_character, min_size=1)}
        ),
        st.fixed_dictionaries(
            {
                "job": st.sampled_from(COMMAND_JOBS),
                "command": st.lists(text_with_a_bad_character, min_size=1, max_size=3),
            }
        ),
        st.fixed_dictionaries(
            {
                "job": st.sampled_from(COMMAND_JOBS),
                "command": json_values.filter(
                    lambda v: (
                        not (isinstance(v, list) and v and all(isinstance(p, str) for p in v))
                        and v is not None
                    )
                ),
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
            text.filter(lambda k: k not in run_event.RUN_KEYS), json_values, min_size=1, max_size=2
        ),
    )
    return st.builds(lambda b, bad: {**b, **bad}, base, bad_field)


def bad_task_events():
    actions = st.sampled_from(["status", "stop"])
    task_id = r"/[0-9a-f]{32}"
    task_arn = st.one_of(
        json_values,
        # This stack's cluster name, but another cluster, region, account or partition.
        st.from_regex(rf"arn:aws:ecs:eu-west-1:123456789012:task/other{task_id}", fullmatch=True),
        st.from_regex(
            rf"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}{task_id}", fullmatch=True
        ),
        st.from_regex(
            rf"arn:aws:ecs:eu-west-1:210987654321:task/{CLUSTER}{task_id}", fullmatch=True
        ),
        st.from_regex(
            rf"arn:aws-cn:ecs:eu-west-1:123456789012:task/{CLUSTER}{task_id}", fullmatch=True
        ),
        # Old-format ARNs without a cluster, and cluster ARNs.
        st.from_regex(rf"arn:aws:ecs:eu-west-1:123456789012:task{task_id}", fullmatch=True),
        st.just(PROD.cluster_arn),
    )
    good_arn = f"arn:aws:ecs:eu-west-1:123456789012:task/{CLUSTER}/0123456789abcdef0123456789abcdef"
    extra = st.dictionaries(
        text.filter(lambda k: k not in {"action", "taskArn", "reason"}),
        json_values,
        min_size=1,
        max_size=2,
    )
    return st.one_of(
        st.builds(lambda a, t: {"action": a, "taskArn": t}, actions, task_arn),
        # A task of this cluster, but an unknown field or a bad stop reason.
        st.builds(lambda a, e: {**e, "action": a, "taskArn": good_arn}, actions, extra),
        st.builds(
            lambda r: {"action": "stop", "taskArn": good_arn, "reason": r},
            json_values.filter(lambda v: not isinstance(v, str)) | st.just("") | st.just("x" * 256),
        ),
    )


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
    assert no_aws == []


@SETTINGS
@given(
    event=st.builds(
        lambda base, bad: {**base, **bad},
        st.fixed_dictionaries({"job": st.sampled_from(JOBS)}),
        overreaching_fields(),
    )
)
def test_a_run_that_sets_what_its_job_does_not_allow_reaches_no_aws(no_aws, context, event):
    response = handler.handler(event, context)
    assert response["error"]["type"] == "ValidationError", (event, response)
    assert response["error"]["message"].startswith(("environment: ", "command: "))
    assert no_aws == []


def valid_run(job: str):
    """A run of `job` that sets only what the job lets a run set."""
    rules = PROD.jobs[job]
    commands = st.lists(task_text.filter(lambda t: 0 < len(t) <= 30), min_size=1, max_size=5)
    return st.fixed_dictionaries(
        {
            "job": st.just(job),
            "environment": st.dictionaries(
                st.sampled_from(rules.overridable_environment),
                task_text.filter(lambda t: len(t) <= 200),
                max_size=10,
            ),
        },
        optional={"command": commands} if rules.allow_command_override else {},
    )


@SETTINGS
@given(
    run=st.sampled_from(JOBS).flatmap(valid_run),
    capacity=st.sampled_from(["spot", "on-demand"]),
    key=st.text(
        alphabet=string.ascii_letters + string.digits + "+-=._:/@ ", min_size=1, max_size=128
    ),
)
def test_valid_runs_build_a_request_botocore_accepts(prod_config, run, capacity, key):
    event = {**run, "capacity": capacity, "idempotencyKey": key}
    job, environment = run["job"], run["environment"]
    config = handler.load_config()
    request = run_event.parse_run(event, config.jobs, "request")
    run_id = runs.run_id(request.job, request.idempotency_key)
    record = records.new_record(run_id, request, records.now())
    # The longest attempt number the platform variables are counted with.
    params = attempts.run_task_request(config, record, attempts.Attempt(runs.MAX_ATTEMPT, capacity))
    validate_parameters(params, RUN_TASK_MODEL)
    provider = {"spot": "FARGATE_SPOT", "on-demand": "FARGATE"}[capacity]
    assert params["capacityProviderStrategy"] == [{"capacityProvider": provider, "weight": 1}]
    fallback = attempts.run_task_request(config, record, attempts.Attempt(2, "on-demand"))
    assert fallback["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1}]
    validate_parameters(fallback, RUN_TASK_MODEL)
    assert (
        len(json.dumps(params["overrides"], separators=(",", ":"))) <= run_event.MAX_OVERRIDES_CHARS
    )
    assert len(params["clientToken"]) <= 64
    [override] = params["overrides"]["containerOverrides"]
    assert override["name"] == config.jobs[job].container_name
    assert override.get("command") == run.get("command")
    assert {e["name"]: e["value"] for e in override.get("environment", [])} == {
        **environment,
        "LONGJOBS_RUN_ID": run_id,
        "LONGJOBS_ATTEMPT": str(runs.MAX_ATTEMPT),
        "LONGJOBS_CHECKPOINT_URI": (
            f"s3://longjobs-prod-checkpoints-123456789012-eu-west-1/{job}/{run_id}/"
        ),
    }


def test_secret_names_cannot_be_overridden(no_aws, context):
    response = handler.handler({"job": "report", "environment": {"DB_PASSWORD": "x"}}, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": "environment: 'DB_PASSWORD' is one of the job's secrets; a run may not set it",
    }
    # Another job's secret names are that job's business only.
    other = run_event.parse_run(
        {"job": "import", "environment": {"DB_PASSWORD": "x"}}, PROD.jobs, "r"
    )
    assert other.environment == {"DB_PASSWORD": "x"}


def test_each_request_logs_one_json_line(no_aws, context, capsys):
    handler.handler({"job": "nope"}, context)
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {
        "action": "run",
        "caller": "account",
        "error": "job: 'nope' is not a job of this stack; allowed: import, report",
        "outcome": "validation-error",
        "requestId": context.aws_request_id,
    }


PLATFORM = run_event.LONGEST_PLATFORM_ENVIRONMENT


def overrides_of_size(size: int) -> dict[str, str]:
    """An environment whose overrides JSON, with the longest LONGJOBS_ variables an attempt
    gets, is exactly `size` characters for the report job."""
    request = run_event.parse_run({"job": "report", "environment": {"V": ""}}, PROD.jobs, "r")
    empty = run_event.overrides_size(request.overrides(PLATFORM))
    return {"V": "x" * (size - empty)}


def test_overrides_up_to_the_limit_pass_and_one_more_character_fails(no_aws, context):
    fits = run_event.parse_run(
        {"job": "report", "environment": overrides_of_size(8192)}, PROD.jobs, "r"
    )
    assert run_event.overrides_size(fits.overrides(PLATFORM)) == 8192
    response = handler.handler({"job": "report", "environment": overrides_of_size(8193)}, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": "environment and command: 8193 characters of overrides with the LONGJOBS_ "
        "variables every attempt gets; RunTask allows 8192",
    }


def test_non_ascii_values_count_as_their_json_escapes(no_aws, context):
    # "é" travels as "\u00e9" if escaped: count the longer form so ECS never sees more than 8192.
    environment = {"V": "é" * 1400}
    response = handler.handler({"job": "report", "environment": environment}, context)
    assert response["error"]["type"] == "ValidationError"
    assert no_aws == []


def test_a_huge_bad_value_is_quoted_short(no_aws, context):
    response = handler.handler({"job": "x" * 10_000}, context)
    assert len(response["error"]["message"]) < 200


@pytest.mark.parametrize(
    "event",
    [
        {"job": "report", "environment": {"N" * 200_000: "x"}},
        {"job": "report", "environment": {"ok": "x", "bad-" + "n" * 200_000: "x"}},
        {"job": "report", "command": [1] * 5 + ["x" * 200_000]},
        {"job": "report", "idempotencyKey": "!" * 200_000},
        {"job": "report", "capacity": "c" * 200_000},
        {"action": "status", "taskArn": "t" * 200_000},
        {"job": "report", **{f"unknown-{i}-" + "k" * 20_000: 1 for i in range(50)}},
    ],
)
def test_every_quoted_caller_value_is_cut_short_in_the_answer_and_the_log(
    no_aws, context, capsys, event
):
    response = handler.handler(event, context)
    logged = capsys.readouterr().out
    assert response["error"]["type"] == "ValidationError"
    assert len(response["error"]["message"]) < 1500, response["error"]["message"][:300]
    assert len(logged) < 2000


def test_a_list_of_unknown_keys_names_ten_and_counts_the_rest(no_aws, context):
    event = {"job": "report", **{f"k{i:02}": 1 for i in range(25)}}
    message = handler.handler(event, context)["error"]["message"]
    assert message.startswith(", ".join(repr(f"k{i:02}") for i in range(10)) + " and 15 more:")


def test_a_variable_the_job_does_not_declare_is_refused_naming_ten_it_allows(no_aws, context):
    response = handler.handler({"job": "report", "environment": {"FOO": "x"}}, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": "environment: 'FOO' is not a variable this job lets a run set; allowed: BIG, "
        "REPORT_DAY, REPORT_ROWS, V, VAR_00, VAR_01, VAR_02, VAR_03, VAR_04, VAR_05 and 34 more",
    }
    assert no_aws == []


def test_a_job_that_declares_nothing_lets_a_run_set_nothing():
    rules = {"quiet": RunRules(container_name="quiet", capacity="spot")}
    with pytest.raises(run_event.ValidationError) as caught:
        run_event.parse_run({"job": "quiet", "environment": {"REPORT_DAY": "x"}}, rules, "r")
    assert str(caught.value) == (
        "environment: 'REPORT_DAY' is not a variable this job lets a run set; allowed: none"
    )
    assert run_event.parse_run({"job": "quiet"}, rules, "r").environment == {}


@pytest.mark.parametrize("name", ["LD_PRELOAD", "PATH", "PYTHONPATH", "NODE_OPTIONS", "ld_audit"])
def test_loader_variables_are_refused_even_when_the_job_lists_them(no_aws, context, name):
    # The contract refuses to list them, and a config that lists them anyway (written around
    # the contract) still cannot let a run set them.
    with pytest.raises(ValueError, match="is a loader or interpreter variable"):
        RunRules(container_name="report", capacity="spot", overridable_environment=(name,))
    listed = RunRules(container_name="report", capacity="spot")
    object.__setattr__(listed, "overridable_environment", (name,))
    rules = {"report": listed}
    with pytest.raises(run_event.ValidationError) as caught:
        run_event.parse_run({"job": "report", "environment": {name: "x"}}, rules, "r")
    message = f"environment: {environment.loader_problem(name)}; a run may never set it"
    assert str(caught.value) == message
    response = handler.handler({"job": "report", "environment": {name: "x"}}, context)
    assert response["error"] == {"type": "ValidationError", "message": message}
    assert no_aws == []


@pytest.mark.parametrize("allowed", [True, False])
def test_a_run_chooses_the_other_capacity_only_if_its_job_allows(allowed):
    rules = {
        "import": RunRules(
            container_name="importer", capacity="on-demand", allow_capacity_override=allowed
        )
    }
    same = run_event.parse_run({"job": "import", "capacity": "on-demand"}, rules, "r")
    assert same.capacity == "on-demand"
    event = {"job": "import", "capacity": "spot"}
    if allowed:
        assert run_event.parse_run(event, rules, "r").capacity == "spot"
        return
    with pytest.raises(run_event.ValidationError) as caught:
        run_event.parse_run(event, rules, "r")
    assert str(caught.value) == (
        "capacity: this job runs on on-demand only; a run may not choose spot "
        "(allowCapacityOverride)"
    )


def test_a_command_is_refused_by_a_job_that_does_not_allow_one(no_aws, context):
    response = handler.handler({"job": "import", "command": ["python", "import.py"]}, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": "command: this job does not let a run change its command (allowCommandOverride)",
    }
    assert no_aws == []
    allowed = run_event.parse_run({"job": "report", "command": ["python", "r.py"]}, PROD.jobs, "r")
    assert allowed.command == ["python", "r.py"]


def test_a_deeply_nested_next_token_is_refused_as_any_other_forged_token(no_aws, context):
    # Base64 of "[[[[…" a thousand deep: json.loads recurses once a bracket.
    token = base64.urlsafe_b64encode(b"[" * 1500).decode()
    response = handler.handler({"action": "list", "nextToken": token}, context)
    assert response["error"] == {
        "type": "ValidationError",
        "message": f"nextToken: {shown(token)} is not a nextToken this trigger gave",
    }
    assert no_aws == []


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        ("bad\x00reason", "'\\x00' at position 3"),
        ("\x1b[31mred", "'\\x1b' at position 0"),
        ("line\nbreak", "'\\n' at position 4"),
        ("lone \ud800", "'\\ud800' at position 5"),
        ("\u2028", "'\\u2028' at position 0"),
    ],
)
def test_a_stop_reason_with_control_characters_is_refused_before_anything_is_stopped(
    no_aws, context, reason, problem
):
    task = "arn:aws:ecs:eu-west-1:123456789012:task/longjobs-prod/0123456789abcdef0123456789abcdef"
    for event in (
        {"action": "stop", "taskArn": task, "reason": reason},
        {"action": "stop", "runId": "0" * 32, "reason": reason},
    ):
        response = handler.handler(event, context)
        assert response["error"] == {
            "type": "ValidationError",
            "message": f"reason: holds {problem}; a reason is one line of printable text, "
            f"1-{handler.MAX_STOP_REASON} characters",
        }
    assert no_aws == []


def test_a_task_arn_of_another_cluster_is_quoted_short(no_aws, context, capsys):
    task = f"arn:aws:ecs:eu-west-1:123456789012:task/{'c' * 255}/0123456789abcdef0123456789abcdef"
    response = handler.handler({"action": "status", "taskArn": task}, context)
    message = response["error"]["message"]
    assert message == (
        f"taskArn: {shown(task)} is not a task of this stack's cluster {PROD.cluster_arn}"
    )
    assert task not in capsys.readouterr().out
