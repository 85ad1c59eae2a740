"""`checkpointAccessLogs`: S3 server access logs of the checkpoint bucket, delivered to a bucket
of their own that only S3's log delivery, for that bucket of this account, may write to."""

from __future__ import annotations

import json

import pytest

from components.buckets import bucket_name
from components.config.names import MAX_PREFIX
from offline.program import MOCK_ACCOUNT, ProgramRun, run_program
from tests.unit.helpers import dev_config

CHECKPOINTS = f"longjobs-dev-checkpoints-{MOCK_ACCOUNT}-us-east-1"
LOGS = f"longjobs-dev-access-logs-{MOCK_ACCOUNT}-us-east-1"
LOGS_ARN = f"arn:aws:s3:::{LOGS}"
PROD_CHECKPOINTS = f"longjobs-prod-checkpoints-{MOCK_ACCOUNT}-eu-west-2"
PROD_LOGS = f"longjobs-prod-access-logs-{MOCK_ACCOUNT}-eu-west-2"
BUCKET = "aws:s3/bucket:Bucket"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)


def with_access_logs(value: object, **config: object) -> ProgramRun:
    values = dev_config()
    values["longjobs:checkpointAccessLogs"] = value
    values.update({f"longjobs:{key}": item for key, item in config.items()})
    return run_program(config=values)


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return run_program("Pulumi.prod.yaml")


def test_the_checkpoint_bucket_logs_every_request_to_the_log_bucket_by_day(dev):
    logging = dev.one(LOGGING, "checkpoints-access-logging")
    assert logging.inputs == {
        "bucket": CHECKPOINTS,
        "targetBucket": LOGS,
        "targetPrefix": "checkpoints/",
        "targetObjectKeyFormat": {"partitionedPrefix": {"partitionDateSource": "EventTime"}},
    }
    assert dev.outputs["checkpointAccessLogBucket"] == LOGS


def test_only_s3_log_delivery_for_the_checkpoint_bucket_of_this_account_writes_logs(dev):
    policy = dev.one("aws:s3/bucketPolicy:BucketPolicy", "checkpoints-access-logs-policy")
    assert policy.inputs["bucket"] == LOGS
    assert json.loads(policy.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S3ServerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{LOGS_ARN}/checkpoints/*",
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{CHECKPOINTS}"},
                    "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT},
                },
            },
            {
                "Sid": "OnlyS3ServerAccessLogDelivery",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"{LOGS_ARN}/*",
                "Condition": {
                    "ForAllValues:StringNotEquals": {
                        "aws:PrincipalServiceNamesList": "logging.s3.amazonaws.com"
                    }
                },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [LOGS_ARN, f"{LOGS_ARN}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def test_the_log_bucket_is_private_owned_by_the_account_and_versioned(dev):
    bucket = dev.one(BUCKET, "checkpoints-access-logs-bucket")
    assert bucket.inputs == {
        "bucket": LOGS,
        "forceDestroy": True,
        "tags": {"team": "platform", "longjobs:stack": "dev"},
    }
    block = dev.one(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "checkpoints-access-logs-public-access-block",
    )
    assert block.inputs == {
        "bucket": LOGS,
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    ownership = dev.one(
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "checkpoints-access-logs-ownership",
    )
    assert ownership.inputs == {"bucket": LOGS, "rule": {"objectOwnership": "BucketOwnerEnforced"}}
    versioning = dev.one(
        "aws:s3/bucketVersioning:BucketVersioning", "checkpoints-access-logs-versioning"
    )
    assert versioning.inputs == {"bucket": LOGS, "versioningConfiguration": {"status": "Enabled"}}


def lifecycle_rules(run: ProgramRun) -> list[dict]:
    lifecycle = run.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "checkpoints-access-logs-lifecycle",
    )
    return lifecycle.inputs["rules"]


def test_logs_are_kept_as_long_as_the_functions_logs(dev):
    assert lifecycle_rules(dev) == [
        {
            "id": "expire-access-logs",
            "status": "Enabled",
            "filter": {},
            "expiration": {"days": 365},
            "noncurrentVersionExpiration": {"noncurrentDays": 30},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1},
        },
        {
            "id": "remove-expired-delete-markers",
            "status": "Enabled",
            "filter": {},
            "expiration": {"expiredObjectDeleteMarker": True},
        },
    ]
    function_logs = dev.one("aws:cloudwatch/logGroup:LogGroup", "trigger-logs")
    assert function_logs.inputs["retentionInDays"] == 365
    # Run records kept longer than a year keep their functions' logs, and these, as long.
    longer = with_access_logs(True, runRetentionDays=500)
    assert lifecycle_rules(longer)[0]["expiration"] == {"days": 545}
    assert (
        longer.one("aws:cloudwatch/logGroup:LogGroup", "trigger-logs").inputs["retentionInDays"]
        == 545
    )


def test_the_log_bucket_is_sse_s3_even_with_the_stacks_key(dev, prod):
    for run in (dev, prod):
        encryption = run.one(ENCRYPTION, "checkpoints-access-logs-encryption")
        assert encryption.inputs["rules"] == [
            {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
        ]
    checkpoints = prod.one(ENCRYPTION, "checkpoints-encryption")
    assert checkpoints.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == (
        "aws:kms"
    )


def test_the_prod_stack_keeps_its_checkpoint_access_logs(prod):
    assert prod.config is not None and prod.config.checkpoint_access_logs is True
    logging = prod.one(LOGGING, "checkpoints-access-logging")
    assert (logging.inputs["bucket"], logging.inputs["targetBucket"]) == (
        PROD_CHECKPOINTS,
        PROD_LOGS,
    )
    assert prod.outputs["checkpointAccessLogBucket"] == PROD_LOGS


def test_false_declares_no_log_bucket():
    run = with_access_logs(False)
    assert run.by_type(LOGGING) == []
    assert [b.name for b in run.by_type(BUCKET)] == ["checkpoints-bucket"]
    assert run.outputs["checkpointAccessLogBucket"] is None


def test_a_long_prefix_names_two_buckets_that_never_meet():
    prefix = "longjobs-" + "a" * (MAX_PREFIX - 9)  # the longest prefix the config allows
    checkpoints = bucket_name(prefix, MOCK_ACCOUNT, "ap-southeast-5")
    logs = bucket_name(prefix, MOCK_ACCOUNT, "ap-southeast-5", kind="access-logs")
    assert len(checkpoints) == len(logs) == 63
    assert checkpoints != logs
    # The checkpoint bucket's name is the one deployed stacks already have.
    assert checkpoints == f"longjobs-aaaaaaaaaaaaaaaaa-7a3a39b1-{MOCK_ACCOUNT}-ap-southeast-5"
