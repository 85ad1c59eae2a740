"""The AlarmForwarder component: the function the alarms invoke without the stack's key, its
package (what it imports, no config file), its async failures and its exact permissions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from offline.program import MOCK_ACCOUNT
from tests.unit.helpers import ROLE, ROLE_POLICY, statements, trust

REGION = "us-east-1"
TOPIC = f"arn:aws:sns:{REGION}:{MOCK_ACCOUNT}:longjobs-dev-notifications"
FUNCTION = "aws:lambda/function:Function"
ALARMS = [
    f"longjobs-dev-{name}"
    for name in (
        "refused-requests",
        "refused-records",
        "supervisor-errors",
        "trigger-failures",
        "supervisor-failures",
        "schedules-dead-letters",
    )
]
PACKAGE = [
    "functions/__init__.py",
    "functions/alarms/__init__.py",
    "functions/alarms/forwarder.py",
    "functions/common/__init__.py",
    "functions/common/request_log.py",
    "functions/common/runtime.py",
    # runtime.py imports trigger_config, which imports the rest.
    "longjobs_contract/__init__.py",
    "longjobs_contract/alarms.py",
    "longjobs_contract/capacity.py",
    "longjobs_contract/environment.py",
    "longjobs_contract/errors.py",
    "longjobs_contract/jobs.py",
    "longjobs_contract/loader_variables.py",
    "longjobs_contract/settings.py",
    "longjobs_contract/trigger_config.py",
]


def test_function_settings(dev):
    function = dev.one(FUNCTION, "alarm-forwarder-function")
    log_group = dev.one("aws:cloudwatch/logGroup:LogGroup", "alarm-forwarder-logs")
    assert {key: value for key, value in function.inputs.items() if key != "code"} == {
        "name": "longjobs-dev-alarms",
        "description": "longjobs: publish the stack's alarms to its notifications topic",
        "runtime": "python3.14",
        "architectures": ["arm64"],
        "handler": "functions.alarms.forwarder.handler",
        "memorySize": 256,
        "timeout": 30,
        "role": dev.one(ROLE, "alarm-forwarder-role").state["arn"],
        "loggingConfig": {"logFormat": "Text", "logGroup": "/longjobs/dev/lambda/alarms"},
        # What it needs, from the component: no config file to read.
        "environment": {
            "variables": {
                "LONGJOBS_NOTIFICATIONS_TOPIC": TOPIC,
                "LONGJOBS_ALARM_NAMES": json.dumps(ALARMS),
            }
        },
        "tags": {"longjobs:stack": "dev", "team": "platform"},
    }
    # A year, or as long as the run records if longer, as the other functions' logs.
    assert (log_group.inputs["name"], log_group.inputs["retentionInDays"]) == (
        "/longjobs/dev/lambda/alarms",
        365,
    )


def test_the_package_is_what_the_forwarder_imports_and_no_config_file(dev):
    assets = dev.one(FUNCTION, "alarm-forwarder-function").inputs["code"].assets
    assert sorted(assets) == PACKAGE


def unpack(dev, target: Path) -> str:
    """The deployment package as Lambda unpacks it; its handler setting."""
    function = dev.one(FUNCTION, "alarm-forwarder-function")
    for name, asset in function.inputs["code"].assets.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Path(asset.path).read_bytes())
    return function.inputs["handler"]


# Run in the unpacked package alone: the handler imported by its setting as Lambda does, SNS
# stubbed with botocore's Stubber (what the call must be), every file opened while it handles
# an alarm recorded (sys.addaudithook), and the project's modules it loaded listed.
RUN_ALONE = """
import importlib, json, sys
sys.path.insert(0, ".")
module, _, name = sys.argv[1].rpartition(".")
forwarder = importlib.import_module(module)
from botocore.stub import Stubber
event = json.loads(sys.argv[2])
stub = Stubber(forwarder.sns)
stub.add_response("publish", {"MessageId": "m-1"}, json.loads(sys.argv[3]))
opened = []
sys.addaudithook(lambda what, args: opened.append(str(args[0])) if what == "open" else None)
with stub:
    answer = getattr(forwarder, name)(event, None)
    stub.assert_no_pending_responses()
loaded = sorted(
    m.__file__ for n, m in sys.modules.items() if n.split(".")[0] in ("functions", "longjobs_contract")
)
print(json.dumps({"answer": answer, "opened": opened, "loaded": loaded}))
"""


@pytest.mark.parametrize("config", ["absent", "a directory", "not json"])
def test_the_package_alone_forwards_an_alarm_and_reads_no_config_file(dev, tmp_path, config):
    package = tmp_path / "package"
    handler = unpack(dev, package)
    environment = {
        "PATH": os.environ["PATH"],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PYTHONSAFEPATH": "1",
        "LONGJOBS_NOTIFICATIONS_TOPIC": TOPIC,
        "LONGJOBS_ALARM_NAMES": json.dumps(ALARMS),
    }
    if config != "absent":
        # Where the other functions would read it: unreadable (a directory) or broken.
        path = tmp_path / "longjobs-trigger.json"
        if config == "a directory":
            path.mkdir()
        else:
            path.write_text("{not json")
        environment["LONGJOBS_TRIGGER_CONFIG_PATH"] = str(path)
    alarm = "longjobs-dev-supervisor-errors"
    event = {
        "source": "aws.cloudwatch",
        "alarmArn": f"arn:aws:cloudwatch:{REGION}:{MOCK_ACCOUNT}:alarm:{alarm}",
        "alarmData": {
            "alarmName": alarm,
            "state": {"value": "ALARM", "reason": "1 error", "timestamp": "2026-12-01T10:00:00Z"},
            "configuration": {"description": "The supervisor failed an invocation."},
        },
    }
    published = {
        "TopicArn": TOPIC,
        "Subject": f"longjobs: alarm {alarm}",
        "Message": json.dumps(
            {
                "alarm": alarm,
                "alarmArn": event["alarmArn"],
                "state": "ALARM",
                "reason": "1 error",
                "at": "2026-12-01T10:00:00Z",
                "what": "The supervisor failed an invocation.",
            },
            indent=2,
        ),
    }
    result = subprocess.run(
        [sys.executable, "-I", "-c", RUN_ALONE, handler, json.dumps(event), json.dumps(published)],
        cwd=package,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["answer"] == {"outcome": "alarm-published", "alarm": alarm}
    assert [path for path in seen["opened"] if "longjobs-trigger" in path] == []
    # What it loaded of the project is exactly what its package holds: nothing is missing, and
    # nothing is shipped that it does not import.
    assert sorted(Path(path).relative_to(package).as_posix() for path in seen["loaded"]) == PACKAGE


def test_failed_forwardings_are_published_to_the_topic_after_lambdas_retries(dev):
    invoke = dev.one(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "alarm-forwarder-async"
    )
    assert invoke.inputs == {
        "functionName": "longjobs-dev-alarms",
        "maximumRetryAttempts": 2,
        "destinationConfig": {"onFailure": {"destination": TOPIC}},
    }


def test_the_forwarder_may_do_exactly_this(dev):
    assert trust(dev, "alarm-forwarder-role") == {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    assert statements(dev, "alarm-forwarder-policy") == [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{REGION}:{MOCK_ACCOUNT}:log-group:/longjobs/dev/lambda/"
            "alarms:log-stream:*",
        },
        {
            # The alarms, and the record of an invocation that failed (its destination).
            "Sid": "PublishAlarms",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": TOPIC,
        },
    ]
    # Its one inline policy, and nothing attached.
    role = dev.one(ROLE, "alarm-forwarder-role").state["arn"]
    attached = [
        r
        for r in dev.resources
        if r.type in (ROLE_POLICY, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        and r.inputs.get("role") in (role, role.rsplit("/", 1)[-1])
    ]
    assert [r.name for r in attached] == ["alarm-forwarder-policy"]
