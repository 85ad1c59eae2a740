"""The checkpoint bucket: its name, its settings, each job's access to its own prefix, and the
checkpoint URI every attempt gets."""

from __future__ import annotations

import json

import pytest

from components.buckets import bucket_name, bucket_name_problem
from components.config.names import MAX_JOB_NAME, MAX_PREFIX
from longjobs_contract import run_event, runs, trigger_config
from offline.program import MOCK_ACCOUNT, run_program
from tests.unit.helpers import dev_config, statements

BUCKET = f"longjobs-dev-checkpoints-{MOCK_ACCOUNT}-us-east-1"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
S3 = "aws:s3/"


def one(run, kind: str, name: str):
    return run.one(f"{S3}{kind}", name)


def test_the_bucket_is_named_after_the_stack_account_and_region(dev):
    bucket = one(dev, "bucket:Bucket", "checkpoints-bucket")
    assert bucket.inputs["bucket"] == BUCKET
    assert bucket.inputs["forceDestroy"] is True
    assert dev.outputs["checkpointBucket"] == BUCKET
    assert bucket.inputs["tags"] == {"team": "platform", "longjobs:stack": "dev"}


def test_the_bucket_blocks_public_access_encrypts_and_owns_every_object(dev):
    block = one(
        dev, "bucketPublicAccessBlock:BucketPublicAccessBlock", "checkpoints-public-access-block"
    )
    assert block.inputs == {
        "bucket": BUCKET,
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    ownership = one(dev, "bucketOwnershipControls:BucketOwnershipControls", "checkpoints-ownership")
    assert ownership.inputs == {
        "bucket": BUCKET,
        "rule": {"objectOwnership": "BucketOwnerEnforced"},
    }
    encryption = one(
        dev,
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "checkpoints-encryption",
    )
    assert encryption.inputs == {
        "bucket": BUCKET,
        "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
    }
    # Versioning on: a checkpoint a bad save overwrote is kept a day (the lifecycle below).
    versioning = one(dev, "bucketVersioning:BucketVersioning", "checkpoints-versioning")
    assert versioning.inputs == {
        "bucket": BUCKET,
        "versioningConfiguration": {"status": "Enabled"},
    }


def test_the_bucket_refuses_requests_not_over_tls(dev):
    policy = one(dev, "bucketPolicy:BucketPolicy", "checkpoints-policy")
    assert policy.inputs["bucket"] == BUCKET
    assert json.loads(policy.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def lifecycle_rules(run) -> list[dict]:
    lifecycle = one(
        run, "bucketLifecycleConfiguration:BucketLifecycleConfiguration", "checkpoints-lifecycle"
    )
    return lifecycle.inputs["rules"]


def test_objects_expire_after_the_run_retention_and_unfinished_uploads_are_aborted(dev):
    assert lifecycle_rules(dev) == [
        {
            "id": "expire-checkpoints",
            "status": "Enabled",
            "filter": {},
            "expiration": {"days": 90},
            "noncurrentVersionExpiration": {"noncurrentDays": 1},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1},
        },
        {
            "id": "remove-expired-delete-markers",
            "status": "Enabled",
            "filter": {},
            "expiration": {"expiredObjectDeleteMarker": True},
        },
    ]
    changed = dev_config()
    changed["longjobs:runRetentionDays"] = 400
    [rule, _] = lifecycle_rules(run_program(config=changed))
    assert rule["expiration"] == {"days": 400}


@pytest.mark.parametrize("job", ["report", "hello-world"])
def test_each_task_role_uses_its_own_jobs_prefix_only(dev, job):
    assert statements(dev, f"{job}-task-policy")[:2] == [
        {
            "Sid": "Checkpoints",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"{BUCKET_ARN}/{job}/*",
        },
        {
            "Sid": "CheckpointList",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": BUCKET_ARN,
            "Condition": {"StringLike": {"s3:prefix": f"{job}/*"}},
        },
    ]


def test_the_functions_are_told_the_bucket(dev):
    config = trigger_config.loads(dev.trigger_config)
    assert config.checkpoint_bucket == BUCKET
    assert config.checkpoint_uri("report", "0" * 32) == f"s3://{BUCKET}/report/{'0' * 32}/"


def test_a_long_prefix_keeps_account_and_region_whole_and_stays_distinct():
    prefix = "longjobs-" + "a" * (MAX_PREFIX - 9)  # the longest prefix the config allows
    name = bucket_name(prefix, MOCK_ACCOUNT, "ap-southeast-5")
    assert len(name) == 63
    assert name == f"longjobs-aaaaaaaaaaaaaaaaa-7a3a39b1-{MOCK_ACCOUNT}-ap-southeast-5"
    assert bucket_name(prefix, MOCK_ACCOUNT, "ap-southeast-5") == name  # the same every deploy
    other = bucket_name(prefix[:-1] + "b", MOCK_ACCOUNT, "ap-southeast-5")
    assert other != name and len(other) == 63
    # Just short enough: kept whole.
    fits = "p" * (63 - len(f"-checkpoints-{MOCK_ACCOUNT}-us-east-1"))
    assert (
        bucket_name(fits, MOCK_ACCOUNT, "us-east-1")
        == f"{fits}-checkpoints-{MOCK_ACCOUNT}-us-east-1"
    )


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (BUCKET, None),
        ("ab", "must be 3 to 63"),
        ("a" * 64, "must be 3 to 63"),
        ("Longjobs-dev", "must be 3 to 63"),
        ("longjobs-dev-", "must be 3 to 63"),
        ("a..b", "two adjacent dots"),
        ("192.168.5.4", "IP address"),
        ("sthree-dev-checkpoints", "'sthree-'"),
        ("xn--dev", "'xn--'"),
        ("amzn-s3-demo-x", "'amzn-s3-demo-'"),
        ("dev-s3alias", "'-s3alias'"),
        ("dev--x-s3", "'--x-s3'"),
    ],
)
def test_s3_naming_rules(name, problem):
    found = bucket_name_problem(name)
    assert (found is None) if problem is None else (problem in found)


def test_a_prefix_s3_reserves_is_refused_with_the_rule():
    with pytest.raises(ValueError, match="'sthree-'"):
        bucket_name("sthree-dev", MOCK_ACCOUNT, "us-east-1")


def test_the_longest_checkpoint_uri_is_counted_in_the_overrides_limit():
    longest = trigger_config.TriggerConfig(
        cluster_arn="arn:aws:ecs:eu-west-1:123456789012:cluster/c",
        subnet_ids=("subnet-0123456789abcdef0",),
        security_group_ids=(),
        assign_public_ip=False,
        runs_table="runs",
        run_retention_days=1,
        checkpoint_bucket="b" * 63,  # S3's longest name
        notifications_topic="arn:aws:sns:eu-west-1:123456789012:t",
    ).checkpoint_uri("j" * MAX_JOB_NAME, "0" * runs.RUN_ID_LENGTH)
    counted = run_event.LONGEST_PLATFORM_ENVIRONMENT[runs.CHECKPOINT_URI_VARIABLE]
    assert len(counted) == len(longest) == 135
