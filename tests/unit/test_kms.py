"""`kms`: the stack's customer-managed key (created, or named by ARN) on everything the stack
keeps, the key policy that lets each service use it and nothing more, the roles' use of it; and
`secretsKmsKeyArns`, a job's own keys for its secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError
from offline.program import MOCK_ACCOUNT, AwsMocks, ProgramRun, run_program
from tests.unit.helpers import all_statements, dev_config, statements

REGION = "us-east-1"
EXISTING_KEY = f"arn:aws:kms:{REGION}:{MOCK_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRETS_KEY = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
QUEUE = "aws:sqs/queue:Queue"


def with_kms(kms: str, **mocks: Any) -> ProgramRun:
    config = dev_config()
    config["longjobs:kms"] = kms
    return run_program(config=config, mocks=AwsMocks(REGION, **mocks) if mocks else None)


@pytest.fixture(scope="module")
def created() -> ProgramRun:
    return with_kms("create")


@pytest.fixture(scope="module")
def existing() -> ProgramRun:
    return with_kms(EXISTING_KEY)


def key_arn(run: ProgramRun) -> str:
    keys = run.by_type(KEY)
    return keys[0].state["arn"] if keys else EXISTING_KEY


def encryption_by_resource(run: ProgramRun) -> dict[str, Any]:
    """Every resource of a kind that keeps data at rest, and the key it is encrypted with."""
    found: dict[str, Any] = {}
    for group in run.by_type(LOG_GROUP):
        found[f"log group {group.name}"] = group.inputs.get("kmsKeyId")
    for repository in run.by_type("aws:ecr/repository:Repository"):
        (setting,) = repository.inputs["encryptionConfigurations"]
        found[f"repository {repository.name}"] = (setting["encryptionType"], setting.get("kmsKey"))
    for queue in run.by_type(QUEUE):
        found[f"queue {queue.name}"] = queue.inputs.get("kmsMasterKeyId") or (
            "SQS-managed" if queue.inputs.get("sqsManagedSseEnabled") else None
        )
    for topic in run.by_type("aws:sns/topic:Topic"):
        found[f"topic {topic.name}"] = topic.inputs.get("kmsMasterKeyId")
    for table in run.by_type("aws:dynamodb/table:Table"):
        found[f"table {table.name}"] = table.inputs.get("serverSideEncryption")
    for rules in run.by_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"):  # fmt: skip
        (rule,) = rules.inputs["rules"]
        found[f"bucket {rules.name}"] = (rule["applyServerSideEncryptionByDefault"], rule.get("bucketKeyEnabled"))  # fmt: skip
    for schedule in run.by_type("aws:scheduler/schedule:Schedule"):
        found[f"schedule {schedule.name}"] = schedule.inputs.get("kmsKeyArn")
    for cluster in run.by_type("aws:ecs/cluster:Cluster"):
        found[f"cluster {cluster.name}"] = cluster.inputs.get("configuration")
    return found


def expected_with_key(key: str) -> dict[str, Any]:
    return {
        "log group hello-world-logs": key,
        "log group report-logs": key,
        "log group trigger-logs": key,
        "log group supervisor-logs": key,
        "repository hello-world-repository": ("KMS", key),
        "repository report-repository": ("KMS", key),
        "queue trigger-failures": key,
        "queue supervisor-failures": key,
        "queue schedules-dead-letters": key,
        "topic notifications-topic": key,
        "table runs-table": {"enabled": True, "kmsKeyArn": key},
        "bucket checkpoints-encryption": (
            {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key},
            True,
        ),
        # S3 delivers server access logs only to a bucket whose default encryption is SSE-S3.
        "bucket checkpoints-access-logs-encryption": ({"sseAlgorithm": "AES256"}, None),
        "schedule report.nightly": key,
        "cluster jobs-cluster": {
            "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": key}
        },
    }


@pytest.mark.parametrize("stack", ["created", "existing"])
def test_everything_the_stack_keeps_is_encrypted_with_the_key(stack, request):
    run: ProgramRun = request.getfixturevalue(stack)
    assert encryption_by_resource(run) == expected_with_key(key_arn(run))
    assert run.outputs["kmsKeyArn"] == key_arn(run)


def test_without_kms_each_service_encrypts_with_its_own_key(dev):
    assert encryption_by_resource(dev) == {
        "log group hello-world-logs": None,
        "log group report-logs": None,
        "log group trigger-logs": None,
        "log group supervisor-logs": None,
        "log group alarm-forwarder-logs": None,
        "repository hello-world-repository": ("AES256", None),
        "repository report-repository": ("AES256", None),
        "queue trigger-failures": "SQS-managed",
        "queue supervisor-failures": "SQS-managed",
        "queue schedules-dead-letters": "SQS-managed",
        "topic notifications-topic": "alias/aws/sns",
        # DynamoDB encrypts every table with a key it owns when none is named.
        "table runs-table": None,
        "bucket checkpoints-encryption": ({"sseAlgorithm": "AES256"}, None),
        "bucket checkpoints-access-logs-encryption": ({"sseAlgorithm": "AES256"}, None),
        "schedule report.nightly": None,
        "cluster jobs-cluster": None,
    }
    assert not dev.by_type(KEY)
    assert not [s for s in all_statements(dev) if "kms:" in json.dumps(s.get("Action"))]


def test_the_created_key_rotates_and_waits_30_days_before_deletion(created):
    (key,) = created.by_type(KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    (alias,) = created.by_type("aws:kms/alias:Alias")
    assert alias.inputs["name"] == "alias/longjobs-dev"
    assert alias.inputs["targetKeyId"] == key.state["keyId"]


def key_policy(run: ProgramRun) -> dict[str, dict[str, Any]]:
    (key,) = run.by_type(KEY)
    return {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}


def test_the_key_policy_names_every_action_and_lets_the_account_manage_the_key(created):
    policy = key_policy(created)
    for statement in policy.values():
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all(a.startswith("kms:") and "*" not in a for a in actions), statement
    account = policy["AccountThroughIam"]
    assert account["Principal"] == {"AWS": f"arn:aws:iam::{MOCK_ACCOUNT}:root"}
    # What the program and `pulumi destroy` do with the key and its alias, which KMS authorizes
    # against the key too: PutKeyPolicy also because KMS refuses a policy that would keep the
    # caller from changing it again (CreateKey's lockout safety check); the alias operations
    # because they are authorized on the key as well ("Controlling access to aliases").
    managed = {
        "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:DescribeKey",
        "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
        "kms:EnableKeyRotation", "kms:ListResourceTags", "kms:TagResource",
        "kms:UntagResource", "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion",
    }  # fmt: skip
    assert managed <= set(account["Action"]), managed - set(account["Action"])
    assert "Condition" not in account


def test_each_service_uses_the_key_for_this_stack_only(created):
    policy = key_policy(created)
    services = {
        sid: (s["Principal"]["Service"], s["Action"], s["Condition"])
        for sid, s in policy.items()
        if "Service" in s["Principal"]
    }
    cluster = {
        "kms:EncryptionContext:aws:ecs:clusterAccount": MOCK_ACCOUNT,
        "kms:EncryptionContext:aws:ecs:clusterName": "longjobs-dev",
    }
    assert services == {
        "CloudWatchLogs": (
            f"logs.{REGION}.amazonaws.com",
            [
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            ],
            {
                "StringLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:aws:logs:{REGION}:{MOCK_ACCOUNT}:log-group:/longjobs/dev/*"
                    )
                }
            },
        ),
        "FargateEphemeralStorage": (
            "fargate.amazonaws.com",
            "kms:GenerateDataKeyWithoutPlaintext",
            {"StringEquals": cluster},
        ),
        "FargateEphemeralStorageGrant": (
            "fargate.amazonaws.com",
            "kms:CreateGrant",
            {
                "StringEquals": cluster,
                "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]},
            },
        ),
        "EventBridgeDeadLetters": (
            "events.amazonaws.com",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            {
                "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT},
                # Exactly this stack's rule: a pattern on the prefix would reach a stack named
                # dev-eu too.
                "ArnEquals": {
                    "aws:SourceArn": (
                        f"arn:aws:events:{REGION}:{MOCK_ACCOUNT}:rule/longjobs-dev-task-state-changes"
                    )
                },
            },
        ),
        "CloudWatchAlarms": (
            "cloudwatch.amazonaws.com",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            {
                "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT},
                "ArnEquals": {
                    "aws:SourceArn": [
                        f"arn:aws:cloudwatch:{REGION}:{MOCK_ACCOUNT}:alarm:longjobs-dev-{name}"
                        for name in (
                            "refused-requests",
                            "refused-records",
                            "supervisor-errors",
                            "trigger-failures",
                            "supervisor-failures",
                            "schedules-dead-letters",
                        )
                    ]
                },
            },
        ),
    }


def test_every_log_group_and_rule_is_inside_what_the_key_policy_allows(created):
    for group in created.by_type(LOG_GROUP):
        assert group.inputs["name"].startswith("/longjobs/dev/"), group.name
    for rule in created.by_type("aws:cloudwatch/eventRule:EventRule"):
        assert rule.inputs["name"].startswith("longjobs-dev-"), rule.name
    assert created.one("aws:ecs/cluster:Cluster", "jobs-cluster").inputs["name"] == "longjobs-dev"


def key_statements(run: ProgramRun, policy: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements(run, policy) if "kms:" in json.dumps(s["Action"])}


def via(*services: str) -> dict[str, Any]:
    return {"StringEquals": {"kms:ViaService": [f"{s}.{REGION}.amazonaws.com" for s in services]}}


@pytest.mark.parametrize("stack", ["created", "existing"])
def test_each_role_uses_the_key_only_through_the_services_it_calls(stack, request):
    run: ProgramRun = request.getfixturevalue(stack)
    key = key_arn(run)
    table = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
    producer = ["kms:Decrypt", "kms:GenerateDataKey"]

    def allow(sid, actions, condition):
        return {sid: {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": key,
                      "Condition": condition}}  # fmt: skip

    assert key_statements(run, "trigger-policy") == {
        **allow("RunsTableKey", table, via("dynamodb")),
        **allow("FailureQueueKey", producer, via("sqs")),
    }
    assert key_statements(run, "supervisor-policy") == {
        **allow("RunsTableKey", table, via("dynamodb")),
        **allow("TopicAndFailureQueueKey", producer, via("sns", "sqs")),
    }
    schedule_arns = f"arn:aws:scheduler:{REGION}:{MOCK_ACCOUNT}:schedule/longjobs-dev/*"
    assert key_statements(run, "schedules-policy") == {
        **allow(
            "ScheduleInputKey",
            ["kms:Decrypt"],
            {
                **via("scheduler"),
                "StringLike": {"kms:EncryptionContext:aws:scheduler:schedule:arn": schedule_arns},
            },
        ),
        **allow("DeadLettersKey", producer, via("sqs")),
    }
    bucket = f"arn:aws:s3:::longjobs-dev-checkpoints-{MOCK_ACCOUNT}-{REGION}"
    for job in ("hello-world", "report"):
        checkpoints = via("s3")
        checkpoints["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] = bucket
        assert key_statements(run, f"{job}-task-policy") == {
            **allow("CheckpointsKey", producer, checkpoints)
        }
        assert key_statements(run, f"{job}-execution-policy") == {
            **allow("ImageKey", ["kms:Decrypt"], via("ecr"))
        }


def test_a_key_in_another_region_is_refused_naming_the_field_and_nothing_is_declared():
    other = EXISTING_KEY.replace(REGION, "eu-west-1")
    config = dev_config()
    config["longjobs:kms"] = other
    mocks = AwsMocks(REGION)
    with pytest.raises(ConfigError) as error:
        run_program(config=config, mocks=mocks)
    assert error.value.problems == [
        f"longjobs:kms: {other!r} is a key in eu-west-1; the stack deploys to us-east-1, and "
        "its services take keys of their own region only; allowed: create, or a key in us-east-1"
    ]
    assert mocks.resources == []


def with_secrets_keys(kms: str | None) -> ProgramRun:
    config = dev_config()
    if kms:
        config["longjobs:kms"] = kms
    job = config["longjobs:jobs"]["report"]
    job["secrets"] = {
        "DB_PASSWORD": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf",
        "API_TOKEN": f"arn:aws:ssm:{REGION}:{MOCK_ACCOUNT}:parameter/report/token",
    }
    job["secretsKmsKeyArns"] = [SECRETS_KEY]
    return run_program(config=config)


@pytest.mark.parametrize("kms", [None, "create"])
def test_a_jobs_secrets_keys_decrypt_only_through_its_secrets_services(kms):
    run = with_secrets_keys(kms)
    found = key_statements(run, "report-execution-policy")["SecretsKeys"]
    assert found == {
        "Sid": "SecretsKeys",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": [SECRETS_KEY],
        "Condition": {
            "StringEquals": {
                "kms:ViaService": [
                    "secretsmanager.eu-west-1.amazonaws.com",
                    f"ssm.{REGION}.amazonaws.com",
                ]
            }
        },
    }
    assert "SecretsKeys" not in key_statements(run, "hello-world-execution-policy")


def test_a_pushed_image_is_reused_only_from_a_repository_encrypted_as_wanted():
    from components.config.paths import PROJECT_ROOT
    from components.image import image_tag, record_name

    tag = image_tag(PROJECT_ROOT / "containers" / "hello-world", "arm64")
    digest = "sha256:" + "ab" * 32
    pushed = {"longjobs-dev/hello-world": {tag: digest}}
    recorded = {record_name("longjobs-dev", "hello-world", tag): digest}

    def built(run: ProgramRun) -> bool:
        return any(i.name == "hello-world-image" for i in run.by_type("docker:index/image:Image"))

    # AES256 repository, no kms: the pushed image is the one to run.
    assert not built(run_program(mocks=AwsMocks(REGION, pushed=pushed, parameters=recorded)))
    # The stack is about to create its key: the repository is replaced, so the image is built.
    assert built(with_kms("create", pushed=pushed, parameters=recorded))
    # The key the stack made in an earlier `pulumi up` already encrypts the repository.
    keys = {"longjobs-dev/hello-world": EXISTING_KEY}
    assert not built(with_kms("create", pushed=pushed, parameters=recorded, repository_keys=keys))
    # The repository is encrypted with another key than the config names.
    other = {"longjobs-dev/hello-world": "x"}
    assert built(with_kms(EXISTING_KEY, pushed=pushed, parameters=recorded, repository_keys=other))


def test_a_repository_is_deleted_before_its_replacement_is_created(monkeypatch):
    # ECR cannot change a repository's encryption, and the name is taken until the old one is
    # gone: a default (create first) replacement would fail with RepositoryAlreadyExists.
    import components.image

    seen = []
    original = components.image.aws.ecr.Repository

    def recording(resource_name, *args, **kwargs):
        seen.append((resource_name, kwargs["opts"].delete_before_replace))
        return original(resource_name, *args, **kwargs)

    monkeypatch.setattr(components.image.aws.ecr, "Repository", recording)
    with_kms("create")
    assert seen == [("hello-world-repository", True), ("report-repository", True)]


def test_a_new_vpcs_flow_logs_are_encrypted_with_the_key_too():
    from tools.policy_check import check

    config = dev_config()
    config["longjobs:kms"] = "create"
    config["longjobs:network"] = {"create": {"natGateways": "none"}}
    run = run_program(config=config)
    flow_logs = run.one(LOG_GROUP, "network-flow-logs")
    assert flow_logs.inputs["kmsKeyId"] == key_arn(run)
    assert flow_logs.inputs["name"].startswith("/longjobs/dev/")
    assert check(run).violations == []
