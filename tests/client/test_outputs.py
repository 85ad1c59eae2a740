"""Finding a stack's outputs, in the documented order, and the AWS clients made from them."""

from __future__ import annotations

import json
import stat

import boto3
import pytest

from components.trigger import TIMEOUT_SECONDS
from longjobs import StackNotFound, aws, outputs

ARN = "arn:aws:lambda:eu-west-2:210987654321:function:longjobs-prod-trigger"


def written(tmp_path, name: str, document) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


@pytest.fixture
def clean(monkeypatch, tmp_path):
    for variable in (outputs.OUTPUTS_VARIABLE, outputs.OUTPUTS_FILE_VARIABLE):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    (tmp_path / "bin").mkdir()
    return monkeypatch


def fake_pulumi(tmp_path, answer: str, code: int = 0) -> None:
    """A `pulumi` on PATH that records its arguments and prints `answer`."""
    script = tmp_path / "bin" / "pulumi"
    script.write_text(  # shell builtins only: PATH holds nothing else
        f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\necho '{answer}'\n"
        f"echo 'error: no stack named prod' >&2\nexit {code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_region_account_and_function_come_from_the_triggers_arn(clean, tmp_path):
    found = outputs.discover(written(tmp_path, "o.json", {"triggerFunctionArn": ARN}))
    assert (found.region, found.account, found.trigger_function_name) == (
        "eu-west-2",
        "210987654321",
        "longjobs-prod-trigger",
    )


def test_a_given_file_comes_before_the_variables_which_come_before_pulumi(clean, tmp_path):
    other = ARN.replace("prod", "other")
    clean.setenv(outputs.OUTPUTS_VARIABLE, json.dumps({"triggerFunctionArn": other}))
    clean.setenv(
        outputs.OUTPUTS_FILE_VARIABLE, written(tmp_path, "f.json", {"triggerFunctionArn": ARN})
    )
    fake_pulumi(tmp_path, json.dumps({"triggerFunctionArn": ARN}))
    given = outputs.discover(written(tmp_path, "o.json", {"triggerFunctionArn": ARN}))
    assert given.source == f"the outputs file {tmp_path / 'o.json'}"
    assert outputs.discover().trigger_function_arn == other
    clean.delenv(outputs.OUTPUTS_VARIABLE)
    assert outputs.discover().source == f"$LONGJOBS_OUTPUTS_FILE ({tmp_path / 'f.json'})"
    clean.delenv(outputs.OUTPUTS_FILE_VARIABLE)
    assert outputs.discover(stack="prod").source == "`pulumi stack output --json --stack prod`"
    assert (tmp_path / "args").read_text().split() == [
        "stack",
        "output",
        "--json",
        "--stack",
        "prod",
    ]


def test_a_failing_pulumi_is_named_with_its_last_words(clean, tmp_path):
    fake_pulumi(tmp_path, "", code=255)
    with pytest.raises(StackNotFound) as raised:
        outputs.discover(stack="prod")
    assert str(raised.value) == (
        "no stack outputs: `pulumi stack output --json --stack prod` failed (error: no stack "
        "named prod); give --outputs FILE, or set LONGJOBS_OUTPUTS or LONGJOBS_OUTPUTS_FILE"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{",
            "$LONGJOBS_OUTPUTS is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        ("[]", "$LONGJOBS_OUTPUTS is not a JSON object of stack outputs"),
        ("{}", "$LONGJOBS_OUTPUTS is not a longjobs stack's outputs: triggerFunctionArn missing"),
        (
            '{"triggerFunctionArn": "arn:aws:sns:eu-west-2:210987654321:x"}',
            "$LONGJOBS_OUTPUTS is not a longjobs stack's outputs: triggerFunctionArn 'arn:aws:sns:eu-west-2:210987654321:x' is not a Lambda function ARN",
        ),
        (
            json.dumps({"triggerFunctionArn": ARN, "endpointUrls": {"ecs": "http://127.0.0.1:1"}}),
            "$LONGJOBS_OUTPUTS: endpointUrls must map service names to http(s) URLs, lambda among them",
        ),
        (
            json.dumps(
                {
                    "triggerFunctionArn": ARN,
                    "endpointUrls": {"lambda": "http://h:1", "s3": "ftp://h"},
                }
            ),
            "$LONGJOBS_OUTPUTS: endpointUrls.s3 'ftp://h' is not an http(s) URL with a host and a port from 1 to 65535",
        ),
    ],
)
def test_outputs_that_are_not_a_stacks_are_named(clean, text, message):
    clean.setenv(outputs.OUTPUTS_VARIABLE, text)
    with pytest.raises(StackNotFound) as raised:
        outputs.discover()
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "$LONGJOBS_OUTPUTS is not JSON: nested too deep"),
        ("1" * 5000, "$LONGJOBS_OUTPUTS is not JSON: a number too long"),
        (
            json.dumps({"triggerFunctionArn": ARN, "jobs": ["a"]}),
            "$LONGJOBS_OUTPUTS: jobs must be an object of job names, not list",
        ),
        (
            json.dumps({"triggerFunctionArn": ARN, "endpointUrls": {"lambda": "http://"}}),
            "$LONGJOBS_OUTPUTS: endpointUrls.lambda 'http://' is not an http(s) URL "
            "with a host and a port from 1 to 65535",
        ),
        (
            json.dumps(
                {"triggerFunctionArn": ARN, "endpointUrls": {"lambda": "http://x y:99999/"}}
            ),
            "$LONGJOBS_OUTPUTS: endpointUrls.lambda 'http://x y:99999/' is not an http(s) URL "
            "with a host and a port from 1 to 65535",
        ),
        (
            json.dumps(
                {
                    "triggerFunctionArn": ARN,
                    "endpointUrls": {"lambda": "http://h:1", "s3": "http://h:0"},
                }
            ),
            "$LONGJOBS_OUTPUTS: endpointUrls.s3 'http://h:0' is not an http(s) URL "
            "with a host and a port from 1 to 65535",
        ),
    ],
)
def test_outputs_too_deep_too_long_or_with_bad_jobs_or_endpoints_are_named(clean, text, message):
    clean.setenv(outputs.OUTPUTS_VARIABLE, text)
    with pytest.raises(StackNotFound) as raised:
        outputs.discover()
    assert str(raised.value) == message


@pytest.mark.parametrize(
    "data", [bytes(range(128, 256)), json.dumps({"triggerFunctionArn": ARN}).encode("utf-16")]
)
def test_outputs_that_are_not_utf8_are_named(clean, tmp_path, data):
    path = tmp_path / "outputs.json"
    path.write_bytes(data)
    clean.setenv(outputs.OUTPUTS_FILE_VARIABLE, str(path))
    with pytest.raises(StackNotFound) as raised:
        outputs.discover()
    assert str(raised.value) == (
        f"$LONGJOBS_OUTPUTS_FILE ({path}) is not UTF-8 text "
        "(`pulumi stack output --json > FILE` writes it; PowerShell's > writes UTF-16)"
    )
    with pytest.raises(StackNotFound) as given:
        outputs.discover(str(path))
    assert str(given.value).startswith(f"the outputs file {path} is not UTF-8 text")


def test_a_pulumi_printing_bytes_that_are_not_utf8_is_named(clean, tmp_path):
    script = tmp_path / "bin" / "pulumi"
    script.write_text("#!/bin/sh\nprintf '\\377\\376{'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(StackNotFound) as raised:
        outputs.discover()
    assert str(raised.value).startswith("`pulumi stack output --json` is not UTF-8 text")


def test_clients_wait_longer_than_the_trigger_can_take_and_retry_in_standard_mode(clean, tmp_path):
    assert aws.TRIGGER_TIMEOUT_SECONDS == TIMEOUT_SECONDS
    assert aws.READ_TIMEOUT_SECONDS > TIMEOUT_SECONDS + aws.INIT_SECONDS
    assert aws.READ_TIMEOUT_SECONDS == 150  # as the README says
    found = outputs.discover(written(tmp_path, "o.json", {"triggerFunctionArn": ARN}))
    client = aws.make_client(boto3.session.Session(), "lambda", found)
    config = client.meta.config
    assert (config.read_timeout, config.retries["mode"], client.meta.region_name) == (
        aws.READ_TIMEOUT_SECONDS,
        "standard",
        "eu-west-2",
    )
    assert client.meta.endpoint_url == "https://lambda.eu-west-2.amazonaws.com"


def test_a_local_stacks_endpoints_and_placeholder_credentials(clean, tmp_path):
    clean.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    clean.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for variable in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ):
        clean.delenv(variable, raising=False)
    clean.setenv("AWS_EC2_METADATA_DISABLED", "true")
    urls = {"lambda": "http://127.0.0.1:4001", "logs": "http://127.0.0.1:4002"}
    written_by_the_runtime = {**urls, "ecs": "http://127.0.0.1:4001", "s3": "http://127.0.0.1:4002"}
    found = outputs.parse(
        json.dumps({"triggerFunctionArn": ARN, "endpointUrls": written_by_the_runtime}), "x"
    )
    session = boto3.session.Session()
    assert session.get_credentials() is None
    for service, url in urls.items():
        client = aws.make_client(session, service, found)
        assert client.meta.endpoint_url == url
        assert client._request_signer._credentials.access_key == "longjobs-local"


def test_configured_credentials_are_kept_for_a_local_stack(clean, tmp_path):
    clean.setenv("AWS_ACCESS_KEY_ID", "mine")
    clean.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    found = outputs.parse(
        json.dumps({"triggerFunctionArn": ARN, "endpointUrls": {"lambda": "http://localhost:1"}}),
        "x",
    )
    client = aws.make_client(boto3.session.Session(), "lambda", found)
    assert client._request_signer._credentials.access_key == "mine"
