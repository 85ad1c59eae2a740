"""Stack config validation: every bad value named with its key path and what is allowed."""

from __future__ import annotations

import copy
import re
from datetime import date

import botocore.session
import pytest

from components.config import ConfigError, parse
from components.config.names import MAX_JOB_NAME, MAX_PREFIX, name_prefix
from components.config.schedule_expressions import expression_problem
from components.config.types import MAX_SCHEDULE_NAME, scheduler_name
from longjobs_contract.environment import loader_problem
from offline.program import AwsMocks, run_program
from tests.unit.helpers import dev_config

SCHEDULE = "aws:scheduler/schedule:Schedule"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
ROLE_ARN = "arn:aws:iam::123456789012:role/report-helper"
POLICY_ARNS = [f"arn:aws:iam::123456789012:policy/p{n}" for n in range(21)]
CIDR_ALLOWED = (
    "allowed: an IPv4 network in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (RFC 1918) of /16 "
    "to /28, like 10.0.0.0/16"
)
PUSHER_ALLOWED = (
    "an IAM role or user ARN (arn:<partition>:iam::<account>:role/<path/name> or "
    ":user/<path/name>, like arn:aws:iam::111122223333:role/release), without wildcards"
)
BUILD_ALLOWED = (
    "a folder under containers/ holding a Dockerfile whose base images are pinned by digest"
)
SCRATCH_ALLOWED = (
    "allowed: an absolute, normalized path of letters, digits, '.', '_' and '-' between single "
    "slashes, not / and not under /proc, /sys, /dev, like /var/cache/app"
)


def dev_values() -> dict:
    """Pulumi.dev.yaml's `longjobs:` keys, without the namespace."""
    return {
        key.split(":", 1)[1]: value
        for key, value in dev_config().items()
        if key.startswith("longjobs:")
    }


def aws_name_rule(service: str, shape: str) -> tuple[re.Pattern, int, int]:
    """A name's pattern and length limits, from botocore's model of the AWS API."""
    model = botocore.session.get_session().get_service_model(service).shape_for(shape)
    rule = model.metadata
    return re.compile(rule["pattern"]), rule["min"], rule["max"]


def assert_aws_accepts(service: str, shape: str, name: str) -> None:
    pattern, shortest, longest = aws_name_rule(service, shape)
    assert pattern.fullmatch(name) and shortest <= len(name) <= longest, (shape, name)


def statement(action, resource, effect="Allow", sid=None) -> dict:
    found = {"Effect": effect, "Action": action, "Resource": resource}
    return found if sid is None else {"Sid": sid, **found}


_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ACCESS_LOGS_ALLOWED = (
    "true (S3 server access logs of the checkpoint bucket, kept in a bucket of their own as long "
    "as the functions' logs) or false"
)


def with_job(**changes) -> dict:
    values = dev_values()
    values["jobs"]["report"].update(changes)
    return values


def problems(values: dict, region: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(values, region=region)
    return caught.value.problems


def test_dev_config_is_valid_and_defaults_are_documented_values():
    config = parse(dev_values())
    hello = config.jobs["hello-world"]
    assert hello.build == "containers/hello-world"
    assert (hello.architecture, hello.capacity) == ("arm64", "spot")
    # A year of job logs by default (what an audit expects; storage is the cheap part of logs).
    assert (hello.log_retention_days, hello.retries, hello.timeout) == (365, 0, None)
    assert hello.service.desired_count == 0
    assert config.jobs["report"].timeout == 7200
    assert config.network.public_ip is True
    # Who read or wrote which checkpoint is kept unless a stack says otherwise.
    assert config.checkpoint_access_logs is True


BAD = [
    pytest.param(
        with_job(cpu=300),
        "longjobs:jobs.report.cpu: 300 is not a Fargate CPU size; allowed: 256, 512, 1024, 2048, "
        "4096, 8192, 16384 (CPU units; 1024 is 1 vCPU)",
        id="cpu",
    ),
    pytest.param(
        with_job(cpu=1024, memory=1024),
        "longjobs:jobs.report.memory: 1024 MiB is not valid with cpu 1024; allowed: 2048 to 8192 "
        "in steps of 1024 (MiB, with cpu 1024)",
        id="memory-for-cpu",
    ),
    pytest.param(
        with_job(architecture="arm"),
        "longjobs:jobs.report.architecture: 'arm' is not allowed; allowed: 'arm64' or 'x86_64'",
        id="architecture",
    ),
    pytest.param(
        with_job(capacity="spot-only"),
        "longjobs:jobs.report.capacity: 'spot-only' is not allowed; allowed: 'spot' or 'on-demand'",
        id="capacity",
    ),
    pytest.param(
        with_job(ephemeralStorageGiB=500),
        "longjobs:jobs.report.ephemeralStorageGiB: 500 is more than 200; allowed: 20 to 200 (GiB; "
        "20, the default, is what Fargate gives free, and more is billed)",
        id="ephemeral-storage",
    ),
    pytest.param(
        with_job(logRetentionDays=10),
        "longjobs:jobs.report.logRetentionDays: 10 is not a CloudWatch Logs retention; allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
        id="log-retention",
    ),
    pytest.param(
        with_job(environment={"AWS_REGION": "eu-west-1"}),
        "longjobs:jobs.report.environment.AWS_REGION: the name 'AWS_REGION' is reserved; names may not start with AWS_, ECS_, LONGJOBS_",
        id="reserved-env",
    ),
    pytest.param(
        with_job(environment={"1BAD": "x"}),
        "longjobs:jobs.report.environment.1BAD: the name '1BAD' is not a variable name; use letters, digits and '_', not starting with a digit",
        id="env-name",
    ),
    pytest.param(
        with_job(environment={"ROWS": [5]}),
        'longjobs:jobs.report.environment.ROWS: a list is not a string; allowed: one string, quoted, like "5000"',
        id="env-value-not-string",
    ),
    pytest.param(
        with_job(environment={"REPORT_ROWS": {"a": 1}}),
        'longjobs:jobs.report.environment.REPORT_ROWS: a mapping is not a string; allowed: one string, quoted, like "5000"',
        id="env-value-a-mapping",
    ),
    pytest.param(
        {**dev_values(), "allowedCallers": [111122223333]},
        "longjobs:allowedCallers.0: 111122223333 is a number, not a string; write it quoted: '111122223333'; allowed: an IAM role ARN (arn:<partition>:iam::<account>:role/<path/name>, like arn:aws:iam::111122223333:role/api), an AWS account id (12 digits, like 111122223333) or an AWS Organizations id (like o-a1b2c3d4e5), without wildcards",
        id="allowed-caller-a-number",
    ),
    pytest.param(
        {**dev_values(), "tags": {"build": 1234}},
        "longjobs:tags.build: 1234 is a number, not a string; write it quoted: '1234'; allowed: 0-256 letters, digits, spaces and _.:/=+-@",
        id="tag-value-a-number",
    ),
    pytest.param(
        with_job(secrets={"DB": "my-password"}),
        "longjobs:jobs.report.secrets.DB: 'my-password' is not allowed; allowed: the ARN of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME, optionally followed by :JSON-KEY:VERSION-STAGE:VERSION-ID, each of the three possibly empty)",
        id="secret-not-arn",
    ),
    pytest.param(
        with_job(policyStatements=[{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]),
        "longjobs:jobs.report.policyStatements.0: Action 's3:*' allows a whole service; name the actions the job needs",
        id="wildcard-action",
    ),
    pytest.param(
        with_job(policyStatements=[{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
        "longjobs:jobs.report.policyStatements.0: Action '*' is not an IAM action like s3:GetObject",
        id="star-action",
    ),
    pytest.param(
        with_job(policyStatements=[{"Effect": "Allow", "NotAction": "s3:GetObject"}]),
        [
            "longjobs:jobs.report.policyStatements.0.Action: required; allowed: an IAM action "
            "like s3:GetObject, or a list of them",
            "longjobs:jobs.report.policyStatements.0.Resource: required; allowed: a resource ARN "
            "like arn:aws:s3:::bucket/*, or '*', or a list of them",
            "longjobs:jobs.report.policyStatements.0.NotAction: unknown key; allowed: Sid, "
            "Effect, Action, Resource, Condition",
        ],
        id="statement-unknown-key",
    ),
    pytest.param(
        with_job(policyStatements=[statement("iam:PassRole", "*")]),
        "longjobs:jobs.report.policyStatements.0: Action 'iam:PassRole' on Resource '*' could reach the job's own task role or another role, user, group or policy of the account, so the job could grant itself anything (Rhino Security Labs' IAM privilege escalation methods: iam:PassRole, part of methods 3, 15, 16, 17, 19, 21, 22, 24, 27); allowed: these actions only on the roles, users, groups or policies the job manages, each named by its whole ARN without '*' or '?' (like arn:aws:iam::123456789012:role/report-helper)",
        id="iam-action-on-every-resource",
    ),
    pytest.param(
        with_job(
            policyStatements=[statement(["s3:GetObject", "iam:Put*"], ["arn:aws:s3:::b/*", "*"])]
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'iam:Put*' (covering iam:PutUserPolicy, iam:PutGroupPolicy, iam:PutRolePolicy) on Resource '*' could reach the job's own task role or another role, user, group or policy of the account, so the job could grant itself anything (Rhino Security Labs' IAM privilege escalation methods: iam:PutUserPolicy, method 10; iam:PutGroupPolicy, method 11; iam:PutRolePolicy, method 12); allowed: these actions only on the roles, users, groups or policies the job manages, each named by its whole ARN without '*' or '?' (like arn:aws:iam::123456789012:role/report-helper)",
        id="iam-wildcard-action-among-resources",
    ),
    pytest.param(
        with_job(
            policyStatements=[
                statement("s3:GetObject", "arn:aws:s3:::b/*"),
                statement("iam:PutRolePolicy", "arn:aws:iam::*:role/*", sid="SelfGrant"),
            ]
        ),
        "longjobs:jobs.report.policyStatements.1: Action 'iam:PutRolePolicy' on Resource 'arn:aws:iam::*:role/*' could reach the job's own task role or another role, user, group or policy of the account, so the job could grant itself anything (Rhino Security Labs' IAM privilege escalation methods: iam:PutRolePolicy, method 12); allowed: these actions only on the roles, users, groups or policies the job manages, each named by its whole ARN without '*' or '?' (like arn:aws:iam::123456789012:role/report-helper)",
        id="escalation-on-every-role",
    ),
    pytest.param(
        with_job(
            policyStatements=[
                statement(
                    ["iam:AttachRolePolicy", "iam:GetRole", "sts:AssumeRole"],
                    ["arn:aws:iam::123456789012:role/longjobs-dev/*", ROLE_ARN],
                )
            ]
        ),
        "longjobs:jobs.report.policyStatements.0: Action 'iam:AttachRolePolicy' on Resource 'arn:aws:iam::123456789012:role/longjobs-dev/*' could reach the job's own task role or another role, user, group or policy of the account, so the job could grant itself anything (Rhino Security Labs' IAM privilege escalation methods: iam:AttachRolePolicy, method 9); Action 'sts:AssumeRole' on Resource 'arn:aws:iam::123456789012:role/longjobs-dev/*' could reach the job's own task role or another role, user, group or policy of the account, so the job could grant itself anything (Rhino Security Labs' IAM privilege escalation methods: sts:AssumeRole, part of method 14); allowed: these actions only on the roles, users, groups or policies the job manages, each named by its whole ARN without '*' or '?' (like arn:aws:iam::123456789012:role/report-helper)",
        id="escalation-on-a-role-prefix",
    ),
    pytest.param(
        with_job(policyStatements=[statement("iam:CreatePolicyVersion", "arn:aws:*")]),
        "longjobs:jobs.report.policyStatements.0: Action 'iam:CreatePolicyVersion' on Resource 'arn:aws:*' could reach the job's own task role or another role, user, group or policy of the account, so the job could grant itself anything (Rhino Security Labs' IAM privilege escalation methods: iam:CreatePolicyVersion, method 1); allowed: these actions only on the roles, users, groups or policies the job manages, each named by its whole ARN without '*' or '?' (like arn:aws:iam::123456789012:role/report-helper)",
        id="escalation-on-a-pattern-that-spans-services",
    ),
    pytest.param(
        with_job(policyStatements=[statement("iam:DeleteRolePermissionsBoundary", "*")]),
        "longjobs:jobs.report.policyStatements.0: Action 'iam:DeleteRolePermissionsBoundary' with Resource '*' would let the job change its own permissions; allowed: iam: actions on the ARNs of the roles, policies or users the job manages, or iam:Get* and iam:List* (reads) on '*'",
        id="iam-write-on-every-resource",
    ),
    pytest.param(
        with_job(scratchPaths=["var/cache"]),
        "longjobs:jobs.report.scratchPaths.0: 'var/cache' is not an absolute path; "
        + SCRATCH_ALLOWED,
        id="scratch-path-relative",
    ),
    pytest.param(
        with_job(scratchPaths=["/data/../etc"]),
        "longjobs:jobs.report.scratchPaths.0: '/data/../etc' holds '..'; " + SCRATCH_ALLOWED,
        id="scratch-path-dot-dot",
    ),
    pytest.param(
        with_job(scratchPaths=["/data", "/var//cache/"]),
        "longjobs:jobs.report.scratchPaths.1: '/var//cache/' is not normalized (write '/var/cache'); "
        + SCRATCH_ALLOWED,
        id="scratch-path-not-normalized",
    ),
    pytest.param(
        with_job(scratchPaths=["/"]),
        "longjobs:jobs.report.scratchPaths.0: '/' is the whole root filesystem; " + SCRATCH_ALLOWED,
        id="scratch-path-root",
    ),
    pytest.param(
        with_job(scratchPaths=["/my data"]),
        "longjobs:jobs.report.scratchPaths.0: '/my data' holds other characters; "
        + SCRATCH_ALLOWED,
        id="scratch-path-characters",
    ),
    pytest.param(
        with_job(scratchPaths=["/proc/cache"]),
        "longjobs:jobs.report.scratchPaths.0: '/proc/cache' is on /proc, which the container runtime mounts itself; "
        + SCRATCH_ALLOWED,
        id="scratch-path-kernel-filesystem",
    ),
    pytest.param(
        with_job(scratchPaths=["/data", "/tmp", "/data/cache", "/data", "/tmp/x"]),
        "longjobs:jobs.report.scratchPaths: '/data' is listed 2 times; list each path once; '/tmp' is always writable (a scratch volume with a read-only root, the container's own directory otherwise); leave it out; '/data/cache' is inside '/data', which is writable already; leave it out; '/tmp/x' is inside '/tmp', which is writable already; leave it out",
        id="scratch-paths-repeated-or-nested",
    ),
    pytest.param(
        with_job(scratchPaths=[f"/data{n}" for n in range(11)]),
        "longjobs:jobs.report.scratchPaths: 11 paths; at most 10 besides /tmp, which every job with a read-only root gets",
        id="too-many-scratch-paths",
    ),
    pytest.param(
        with_job(readonlyRootFilesystem="maybe"),
        "longjobs:jobs.report.readonlyRootFilesystem: 'maybe' is not true or false; allowed: true or false",
        id="readonly-root-not-boolean",
    ),
    pytest.param(
        with_job(policyStatements=[statement("iam:*", ROLE_ARN)]),
        "longjobs:jobs.report.policyStatements.0: Action 'iam:*' allows a whole service; name the actions the job needs",
        id="iam-whole-service",
    ),
    pytest.param(
        with_job(policyStatements=[statement("IAM:PassRole", "*")]),
        "longjobs:jobs.report.policyStatements.0: Action 'IAM:PassRole' is not an IAM action like s3:GetObject",
        id="iam-action-upper-case",
    ),
    pytest.param(
        with_job(
            policyStatements=[
                statement("s3:GetObject", "arn:aws:s3:::b/*", sid="Read"),
                statement("s3:PutObject", "arn:aws:s3:::b/*", sid="Write"),
                statement("s3:ListBucket", "arn:aws:s3:::b", sid="Read"),
                statement("s3:DeleteObject", "arn:aws:s3:::b/*", sid="Write"),
            ]
        ),
        "longjobs:jobs.report.policyStatements: Sid 'Read' of statement 2 is already used by "
        "statement 0; Sid 'Write' of statement 3 is already used by statement 1; each Sid must be "
        "unique within a job's statements (IAM refuses a policy with repeated statement IDs)",
        id="duplicate-sid",
    ),
    pytest.param(
        with_job(managedPolicyArns=[POLICY_ARNS[0], POLICY_ARNS[1], POLICY_ARNS[0]]),
        "longjobs:jobs.report.managedPolicyArns: arn:aws:iam::123456789012:policy/p0 is listed 2 "
        "times; list each policy once",
        id="duplicate-managed-policy",
    ),
    pytest.param(
        with_job(managedPolicyArns=POLICY_ARNS),
        "longjobs:jobs.report.managedPolicyArns: 21 policies; IAM attaches at most 20 managed "
        "policies to a role (and 10 until the account's quota is raised); merge them or use "
        "policyStatements",
        id="too-many-managed-policies",
    ),
    pytest.param(
        with_job(schedules={"night.ly": {"expression": "rate(1 hour)"}}),
        "longjobs:jobs.report.schedules.night.ly: the name 'night.ly' is not allowed; allowed: "
        "1-31 letters, digits, '-' or '_' (no '.': the Scheduler name is <job>.<schedule>)",
        id="schedule-name-dot",
    ),
    pytest.param(
        with_job(schedules={"n" * 32: {"expression": "rate(1 hour)"}}),
        "longjobs:jobs.report.schedules.nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn: the name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn' is not allowed; allowed: 1-31 letters, digits, '-' or '_' (no '.': the Scheduler name is <job>.<schedule>)",
        id="schedule-name-too-long",
    ),
    pytest.param(
        with_job(managedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"]),
        "longjobs:jobs.report.managedPolicyArns: arn:aws:iam::aws:policy/AdministratorAccess allows every action on every resource, the stack's own included; name the actions on the job's own resources in policyStatements instead",
        id="admin-policy",
    ),
    pytest.param(
        with_job(timeout="forever"),
        "longjobs:jobs.report.timeout: 'forever' is not a duration; allowed: 1 minute to 30 days, as seconds or like 45m, 2h, 1h30m",
        id="timeout",
    ),
    pytest.param(
        with_job(retries=11),
        "longjobs:jobs.report.retries: 11 is more than 10; allowed: a whole number from 0 to 10",
        id="retries",
    ),
    pytest.param(
        with_job(service={"desiredCount": -1}),
        "longjobs:jobs.report.service.desiredCount: -1 is less than 0; allowed: a whole number from 0 to 5000",
        id="desired-count",
    ),
    pytest.param(
        with_job(schedules={"nightly": {"expression": "every day"}}),
        "longjobs:jobs.report.schedules.nightly.expression: 'every day' is not allowed; allowed: rate(VALUE UNIT) with minute(s)/hour(s)/day(s), cron(MINUTES HOURS DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR) or at(yyyy-mm-ddThh:mm:ss)",
        id="schedule-expression",
    ),
    pytest.param(
        with_job(schedules={"nightly": {"expression": "rate(1 hour)", "timezone": "Mars/Base"}}),
        "longjobs:jobs.report.schedules.nightly.timezone: 'Mars/Base' is not an IANA time zone; allowed: an IANA time zone, like UTC or Europe/Paris",
        id="schedule-timezone",
    ),
    pytest.param(
        with_job(build="../secrets"),
        "longjobs:jobs.report.build: '../secrets' is not a folder under containers/; allowed: "
        + BUILD_ALLOWED,
        id="build-outside",
    ),
    pytest.param(
        with_job(build="containers/missing"),
        "longjobs:jobs.report.build: 'containers/missing' has no Dockerfile; set build to a folder under containers/ that has one, or image",
        id="build-missing",
    ),
    pytest.param(
        with_job(image="alpine"),
        "longjobs:jobs.report.image: 'alpine' is not allowed; allowed: an image URI with a registry and a tag, a digest or both, like 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3 or <registry>/app:1.2.3@sha256:<64 hex>",
        id="image-uri",
    ),
    pytest.param(
        with_job(image="public.ecr.aws/x/y:1", build="containers/report"),
        "longjobs:jobs.report.image: set either build or image, not both",
        id="build-and-image",
    ),
    pytest.param(
        with_job(entryPoint="python report.py"),
        'longjobs:jobs.report.entryPoint: \'python report.py\' is a string, not a list; write entryPoint: ["python", "report.py"]; allowed: a list of words, each one argument (the exec form, no shell), like ["python", "report.py"]',
        id="entry-point-not-list",
    ),
    pytest.param(
        with_job(cpuUnits=512),
        "longjobs:jobs.report.cpuUnits: unknown key; allowed: build, image, entryPoint, command, cpu, memory, architecture, ephemeralStorageGiB, capacity, environment, parameters, allowCommandOverride, allowCapacityOverride, secrets, secretsKmsKeyArns, allowedCallers, policyStatements, managedPolicyArns, logRetentionDays, timeout, maxWaitForCapacity, startTimeout, retries, interruptionRetries, onInterruption, notify, service, schedules, tags, readonlyRootFilesystem, scratchPaths",
        id="unknown-job-key",
    ),
    pytest.param(
        {**dev_values(), "jobs": {"Report_Job": {"image": "public.ecr.aws/x/y:1"}}},
        "longjobs:jobs.Report_Job: the name 'Report_Job' is not allowed; allowed: a DNS-safe name: 1-32 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen",
        id="job-name",
    ),
    pytest.param(
        {**dev_values(), "jobs": {"ghost": {"cpu": 256}}},
        "longjobs:jobs.ghost.build: 'containers/ghost' has no Dockerfile; set build to a folder under containers/ that has one, or image",
        id="no-default-build-folder",
    ),
    pytest.param(
        {**dev_values(), "jobs": {"Report": 5}},
        "longjobs:jobs.Report: the name 'Report' is not allowed; allowed: a DNS-safe name: 1-32 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen",
        id="job-name-and-its-value",
    ),
    pytest.param(
        {**dev_values(), "jobs": {}},
        "longjobs:jobs: must not be empty; allowed: a mapping from job name (1-32 lowercase "
        "letters, digits and hyphens) to the job's settings, like report: {cpu: 1024}",
        id="no-jobs",
    ),
    pytest.param(
        {**dev_values(), "network": {"subnetIds": ["subnet-xyz"]}},
        "longjobs:network.subnetIds.0: 'subnet-xyz' is not allowed; allowed: subnet- and 8 or 17 hex digits, like subnet-0123456789abcdef0",
        id="subnet-id",
    ),
    pytest.param(
        {**dev_values(), "network": {"securityGroupIds": []}},
        "longjobs:network.securityGroupIds: must not be empty; allowed: a list of 1 to 5, each sg- and 8 or 17 hex digits, like sg-0123456789abcdef0",
        id="empty-security-groups",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"zones": 2}}},
        "longjobs:network.create.zones: unknown key; allowed: availabilityZones, availabilityZoneNames, natGateways, cidrBlock",
        id="create-unknown-key",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"availabilityZoneNames": ["us-west-1"]}}},
        "longjobs:network.create.availabilityZoneNames.0: 'us-west-1' is not allowed; allowed: "
        "an Availability Zone name: the region's name and a letter, like us-west-1a",
        id="zone-name-without-its-letter",
    ),
    pytest.param(
        {
            **dev_values(),
            "network": {"create": {"availabilityZoneNames": ["us-west-1a", "us-west-1a"]}},
        },
        "longjobs:network.create.availabilityZoneNames: us-west-1a listed more than once; list "
        "each zone once",
        id="zone-name-repeated",
    ),
    pytest.param(
        {
            **dev_values(),
            "network": {
                "create": {
                    "availabilityZones": 3,
                    "availabilityZoneNames": ["us-west-1a", "us-west-1c"],
                }
            },
        },
        "longjobs:network.create: availabilityZones 3 and availabilityZoneNames (2 zones) "
        "disagree; set one of them",
        id="zones-disagree",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"availabilityZones": 0}}},
        "longjobs:network.create.availabilityZones: 0 is less than 1; allowed: a whole number from 1 to 6",
        id="create-no-zones",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"availabilityZones": 7}}},
        "longjobs:network.create.availabilityZones: 7 is more than 6; allowed: a whole number from 1 to 6",
        id="create-more-zones-than-a-region-has",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"natGateways": "perAz"}}},
        "longjobs:network.create.natGateways: 'perAz' is not allowed; allowed: 'single', 'onePerAz' or 'none'",
        id="create-nat-gateways",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"cidrBlock": "10.0.0.0"}}},
        "longjobs:network.create.cidrBlock: '10.0.0.0' has no prefix length; " + CIDR_ALLOWED,
        id="cidr-without-prefix",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"cidrBlock": "10.0.0.1/16"}}},
        "longjobs:network.create.cidrBlock: '10.0.0.1/16' has host bits set (the network is 10.0.0.0/16); "
        + CIDR_ALLOWED,
        id="cidr-host-bits",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"cidrBlock": "10.0.300.0/24"}}},
        "longjobs:network.create.cidrBlock: '10.0.300.0/24' is not an IPv4 network (Octet 300 (> 255) not permitted in '10.0.300.0'); "
        + CIDR_ALLOWED,
        id="cidr-not-an-address",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"cidrBlock": "100.64.0.0/16"}}},
        "longjobs:network.create.cidrBlock: '100.64.0.0/16' is not a private range; "
        + CIDR_ALLOWED,
        id="cidr-not-private",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"cidrBlock": "10.0.0.0/15"}}},
        "longjobs:network.create.cidrBlock: '10.0.0.0/15' is a /15; " + CIDR_ALLOWED,
        id="cidr-too-large",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {"cidrBlock": "192.168.0.0/29"}}},
        "longjobs:network.create.cidrBlock: '192.168.0.0/29' is a /29; " + CIDR_ALLOWED,
        id="cidr-too-small",
    ),
    pytest.param(
        {
            **dev_values(),
            "network": {"create": {"cidrBlock": "10.0.0.0/26", "availabilityZones": 3}},
        },
        "longjobs:network.create.cidrBlock: '10.0.0.0/26' leaves /29 subnets for 3 Availability "
        "Zones (its private and public subnet in each), smaller than AWS's smallest, /28; allowed "
        "with these settings: a block of /25 or larger, like 10.0.0.0/16",
        id="cidr-subnets-too-small-with-nat",
    ),
    pytest.param(
        {
            **dev_values(),
            "network": {
                "create": {
                    "cidrBlock": "10.0.0.0/28",
                    "availabilityZones": 2,
                    "natGateways": "none",
                }
            },
        },
        "longjobs:network.create.cidrBlock: '10.0.0.0/28' leaves /29 subnets for 2 Availability "
        "Zones (its subnet in each), smaller than AWS's smallest, /28; allowed with these "
        "settings: a block of /27 or larger, like 10.0.0.0/16",
        id="cidr-subnets-too-small-without-nat",
    ),
    pytest.param(
        {
            **dev_values(),
            "network": {"create": {}, "subnetIds": ["subnet-0123456789abcdef0"]},
        },
        "longjobs:network.subnetIds: not with network.create, which makes the subnets; allowed: "
        "create or subnetIds, not both",
        id="create-and-subnets",
    ),
    pytest.param(
        {
            **dev_values(),
            "network": {"create": {}, "securityGroupIds": ["sg-0123456789abcdef0"]},
        },
        "longjobs:network.securityGroupIds: not with network.create, which makes the tasks' "
        "security group; allowed: create or securityGroupIds, not both",
        id="create-and-security-groups",
    ),
    pytest.param(
        {**dev_values(), "network": {"create": {}, "assignPublicIp": True}},
        "longjobs:network.assignPublicIp: true is not allowed with network.create, whose tasks "
        "run in private subnets with no public IP; allowed: false, or leave it out",
        id="create-and-public-ip",
    ),
    pytest.param(
        {
            **with_job(image="public.ecr.aws/docker/library/python:3.13"),
            "network": {"create": {"natGateways": "none"}},
        },
        "longjobs:jobs.report.image: 'public.ecr.aws/docker/library/python:3.13' is not in a "
        "private ECR repository, and with network.create.natGateways none tasks reach only ECR "
        "in the stack's region (through VPC endpoints); allowed: an image in a private ECR "
        "repository of the stack's region (<account>.dkr.ecr.<region>.amazonaws.com/<name>), "
        "build, or natGateways single or onePerAz",
        id="create-without-nat-and-a-public-image",
    ),
    pytest.param(
        {**dev_values(), "tags": {"aws:owner": "me"}},
        "longjobs:tags.aws:owner: the name 'aws:owner' is not allowed; allowed: 1-128 letters, digits, spaces and _.:/=+-@, not starting with 'aws:' (AWS's) or 'longjobs:' (the stack's own, which IAM conditions and the functions read)",
        id="tag-key",
    ),
    pytest.param(
        with_job(tags={"longjobs:stack": "other"}),
        "longjobs:jobs.report.tags.longjobs:stack: the name 'longjobs:stack' is not allowed; allowed: 1-128 letters, digits, spaces and _.:/=+-@, not starting with 'aws:' (AWS's) or 'longjobs:' (the stack's own, which IAM conditions and the functions read)",
        id="job-tag-key-of-the-stack",
    ),
    pytest.param(
        with_job(
            policyStatements=[statement("s3:GetObject", "arn:aws:s3:::b/*", sid="Checkpoints")]
        ),
        "longjobs:jobs.report.policyStatements: Sid 'Checkpoints' of statement 0 is the platform's "
        "own (it names the checkpoint statements of every task role); each Sid must be unique "
        "within a job's statements (IAM refuses a policy with repeated statement IDs)",
        id="platform-sid",
    ),
    pytest.param(
        with_job(maxWaitForCapacity="2d"),
        "longjobs:jobs.report.maxWaitForCapacity: '2d' is 2 days; allowed: 1 minute to 1 day, as "
        "seconds or like 45m, 2h, 1h30m",
        id="max-wait-for-capacity",
    ),
    pytest.param(
        {**dev_values(), "kms": "alias/longjobs"},
        "longjobs:kms: 'alias/longjobs' is not allowed; allowed: 'create' (the stack makes a "
        "key) or the ARN of a key in the stack's region, like arn:aws:kms:us-east-1:"
        "111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab (an alias is not taken)",
        id="kms-alias",
    ),
    pytest.param(
        {
            **dev_values(),
            "kms": "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        },
        "longjobs:kms: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab' "
        "is a multi-Region key, which Fargate cannot encrypt a task's ephemeral storage with; "
        "name a single-Region key",
        id="kms-multi-region",
    ),
    pytest.param(
        {**dev_values(), "kms": True},
        "longjobs:kms: true is not a string; allowed: 'create' (the stack makes a key) or the ARN "
        "of a key in the stack's region, like arn:aws:kms:us-east-1:111122223333:key/"
        "1234abcd-12ab-34cd-56ef-1234567890ab (an alias is not taken)",
        id="kms-not-a-string",
    ),
    pytest.param(
        with_job(
            secrets={"DB": "arn:aws:ssm:us-east-1:111122223333:parameter/db"},
            secretsKmsKeyArns=["arn:aws:kms:us-east-1:111122223333:alias/db"],
        ),
        "longjobs:jobs.report.secretsKmsKeyArns.0: 'arn:aws:kms:us-east-1:111122223333:alias/db' "
        "is not allowed; allowed: a KMS key ARN like arn:aws:kms:us-east-1:111122223333:key/"
        "1234abcd-12ab-34cd-56ef-1234567890ab (an alias is not taken)",
        id="secrets-kms-key-alias",
    ),
    pytest.param(
        with_job(
            secrets={"DB": "arn:aws:ssm:us-east-1:111122223333:parameter/db"},
            secretsKmsKeyArns=[_KEY, _KEY],
        ),
        f"longjobs:jobs.report.secretsKmsKeyArns: {_KEY} listed more than once; list each key once",
        id="secrets-kms-key-repeated",
    ),
    pytest.param(
        with_job(secretsKmsKeyArns=[_KEY]),
        "longjobs:jobs.report.secretsKmsKeyArns: the job has no secrets; name the keys of the "
        "secrets it reads, or remove it",
        id="secrets-kms-keys-without-secrets",
    ),
    pytest.param(
        {**dev_values(), "runRetentionDays": 0},
        "longjobs:runRetentionDays: 0 is less than 1; allowed: a whole number from 1 to 3653",
        id="run-retention-days",
    ),
    pytest.param(
        {**dev_values(), "job": {}},
        "longjobs:job: unknown key 'job'; did you mean jobs? allowed: network, jobs, tags, runRetentionDays, notifications, allowedCallers, imagePushers, containerInsights, kms, checkpointAccessLogs",
        id="unknown-top-level-key",
    ),
    pytest.param(
        {**dev_values(), "allowedCallers": ["arn:aws:iam::111122223333:role/*"]},
        "longjobs:allowedCallers.0: 'arn:aws:iam::111122223333:role/*' is not allowed; allowed: an IAM role ARN (arn:<partition>:iam::<account>:role/<path/name>, like arn:aws:iam::111122223333:role/api), an AWS account id (12 digits, like 111122223333) or an AWS Organizations id (like o-a1b2c3d4e5), without wildcards",
        id="allowed-caller-wildcard",
    ),
    pytest.param(
        {**dev_values(), "allowedCallers": ["arn:aws:iam::111122223333:user/developer"]},
        "longjobs:allowedCallers.0: 'arn:aws:iam::111122223333:user/developer' is not allowed; allowed: an IAM role ARN (arn:<partition>:iam::<account>:role/<path/name>, like arn:aws:iam::111122223333:role/api), an AWS account id (12 digits, like 111122223333) or an AWS Organizations id (like o-a1b2c3d4e5), without wildcards",
        id="allowed-caller-user",
    ),
    pytest.param(
        {**dev_values(), "allowedCallers": ["11112222333"]},
        "longjobs:allowedCallers.0: '11112222333' is not allowed; allowed: an IAM role ARN (arn:<partition>:iam::<account>:role/<path/name>, like arn:aws:iam::111122223333:role/api), an AWS account id (12 digits, like 111122223333) or an AWS Organizations id (like o-a1b2c3d4e5), without wildcards",
        id="allowed-caller-short-account",
    ),
    pytest.param(
        {**dev_values(), "allowedCallers": ["111122223333", "111122223333"]},
        "longjobs:allowedCallers: 111122223333 listed more than once; list each caller once",
        id="allowed-caller-twice",
    ),
    pytest.param(
        {**dev_values(), "allowedCallers": "111122223333"},
        "longjobs:allowedCallers: '111122223333' is a string, not a list; write allowedCallers: [\"111122223333\"]; allowed: a list, each an IAM role ARN (arn:<partition>:iam::<account>:role/<path/name>, like arn:aws:iam::111122223333:role/api), an AWS account id (12 digits, like 111122223333) or an AWS Organizations id (like o-a1b2c3d4e5), without wildcards",
        id="allowed-callers-not-list",
    ),
    pytest.param(
        {**dev_values(), "containerInsights": "on"},
        "longjobs:containerInsights: 'on' is not allowed; allowed: 'enabled', 'enhanced' or 'disabled'",
        id="container-insights",
    ),
    pytest.param(
        {**dev_values(), "checkpointAccessLogs": "yes"},
        "longjobs:checkpointAccessLogs: 'yes' is a string, not true or false; write checkpointAccessLogs: true (without quotes); allowed: "
        + ACCESS_LOGS_ALLOWED,
        id="checkpoint-access-logs-quoted",
    ),
    pytest.param(
        {**dev_values(), "checkpointAccessLogs": {"retentionDays": 30}},
        "longjobs:checkpointAccessLogs: a mapping is not true or false; allowed: "
        + ACCESS_LOGS_ALLOWED,
        id="checkpoint-access-logs-mapping",
    ),
    pytest.param(
        {**dev_values(), "checkpointAccessLogs": None},
        "longjobs:checkpointAccessLogs: null (an empty value) is not true or false; allowed: "
        + ACCESS_LOGS_ALLOWED,
        id="checkpoint-access-logs-empty",
    ),
    # What a newcomer writes, each named with what is allowed instead.
    pytest.param(
        with_job(cpu="1 vCPU"),
        "longjobs:jobs.report.cpu: '1 vCPU' is not a number; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU units; 1024 is 1 vCPU)",
        id="cpu-in-words",
    ),
    pytest.param(
        with_job(cpu=0.5),
        "longjobs:jobs.report.cpu: 0.5 is not a whole number; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU units; 1024 is 1 vCPU)",
        id="cpu-fraction",
    ),
    pytest.param(
        with_job(cpu=1024.0),
        "longjobs:jobs.report.cpu: 1024.0 is a decimal number; write cpu: 1024; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU units; 1024 is 1 vCPU)",
        id="cpu-decimal",
    ),
    pytest.param(
        with_job(cpu="1024"),
        "longjobs:jobs.report.cpu: '1024' is a string, not a number; write cpu: 1024 (without quotes); allowed: 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU units; 1024 is 1 vCPU)",
        id="cpu-quoted",
    ),
    pytest.param(
        with_job(memory="2GB"),
        "longjobs:jobs.report.memory: '2GB' is not a number; allowed: 2048 to 8192 in steps of 1024 (MiB, with cpu 1024)",
        id="memory-with-a-unit",
    ),
    pytest.param(
        with_job(cpu="2 vCPU", memory="4GB"),
        [
            "longjobs:jobs.report.cpu: '2 vCPU' is not a number; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU units; 1024 is 1 vCPU)",
            "longjobs:jobs.report.memory: '4GB' is not a number; allowed: a size in MiB that Fargate allows with the cpu (cpu 256: 512, 1024, 2048; cpu 512: 1024 to 4096 in steps of 1024; cpu 1024: 2048 to 8192 in steps of 1024; cpu 2048: 4096 to 16384 in steps of 1024; cpu 4096: 8192 to 30720 in steps of 1024; cpu 8192: 16384 to 61440 in steps of 4096; cpu 16384: 32768 to 122880 in steps of 8192)",
        ],
        id="memory-with-a-unit-and-no-valid-cpu",
    ),
    pytest.param(
        with_job(schedules={"nightly": {"expression": "rate(1 hour)", "enabled": "no"}}),
        "longjobs:jobs.report.schedules.nightly.enabled: 'no' is a string, not true or false; write enabled: false (without quotes); allowed: true or false",
        id="enabled-quoted",
    ),
    pytest.param(
        {**dev_values(), "jobs": [{"report": {"cpu": 1024}}]},
        "longjobs:jobs: a list is not a mapping (write its keys without '-'); allowed: a mapping from job name (1-32 lowercase letters, digits and hyphens) to the job's settings, like report: {cpu: 1024}",
        id="jobs-as-a-list",
    ),
    pytest.param(
        with_job(environment=["REPORT_ROWS=5000"]),
        'longjobs:jobs.report.environment: a list is not a mapping (write its keys without \'-\'); allowed: a mapping of variable names to string values, one KEY: "value" a line, like REPORT_ROWS: "5000"',
        id="environment-as-a-list",
    ),
    pytest.param(
        with_job(schedules=[{"nightly": {"expression": "rate(1 hour)"}}]),
        "longjobs:jobs.report.schedules: a list is not a mapping (write its keys without '-'); allowed: a mapping from schedule name to its settings, like nightly: {expression: \"rate(1 hour)\"}",
        id="schedules-as-a-list",
    ),
    pytest.param(
        with_job(command="python x.py"),
        'longjobs:jobs.report.command: \'python x.py\' is a string, not a list; write command: ["python", "x.py"]; allowed: a list of words, each one argument (the exec form, no shell), like ["python", "report.py"]',
        id="command-as-a-string",
    ),
    pytest.param(
        {**dev_values(), "jobs": {**dev_values()["jobs"], "report": None}},
        "longjobs:jobs.report: null (an empty value) is not a mapping; allowed: the job's settings, a mapping ({} for every default)",
        id="job-without-settings",
    ),
    pytest.param(
        with_job(schedules={"expression": "rate(1 hour)"}),
        'longjobs:jobs.report.schedules.expression: \'rate(1 hour)\' is where a name goes, but expression is a setting: indent it under a name, like schedules: {NAME: {expression: "rate(1 hour)"}}; allowed: a mapping from schedule name to its settings, like nightly: {expression: "rate(1 hour)"}',
        id="schedule-setting-not-indented",
    ),
    pytest.param(
        with_job(schedules={"nightly": "rate(1 hour)"}),
        "longjobs:jobs.report.schedules.nightly: 'rate(1 hour)' is not a mapping; allowed: the schedule's settings, a mapping with expression, like {expression: \"rate(1 hour)\"}",
        id="schedule-without-settings",
    ),
    pytest.param(
        with_job(ephemeralStorageGiB=10),
        "longjobs:jobs.report.ephemeralStorageGiB: 10 is less than 20; allowed: 20 to 200 (GiB; "
        "20, the default, is what Fargate gives free, and more is billed)",
        id="ephemeral-storage-below-the-free-size",
    ),
    pytest.param(
        with_job(policyStatements=[{"Effect": "Allow", "Action": 5, "Resource": "*"}]),
        "longjobs:jobs.report.policyStatements.0.Action: 5 is not allowed; allowed: an IAM action like s3:GetObject, or a list of them",
        id="statement-action-not-text",
    ),
    pytest.param(
        {**dev_values(), "imagePushers": ["arn:aws:sts::123456789012:assumed-role/ci/gh-4242"]},
        "longjobs:imagePushers.0: 'arn:aws:sts::123456789012:assumed-role/ci/gh-4242' is a session; name the role: arn:aws:iam::123456789012:role/ci (with its path); allowed: "
        + PUSHER_ALLOWED,
        id="image-pusher-session",
    ),
    pytest.param(
        {**dev_values(), "imagePushers": ["arn:aws:iam::123456789012:role/ci-*"]},
        "longjobs:imagePushers.0: 'arn:aws:iam::123456789012:role/ci-*' has a wildcard, which would let every principal it matches push; allowed: "
        + PUSHER_ALLOWED,
        id="image-pusher-wildcard",
    ),
    pytest.param(
        {**dev_values(), "imagePushers": ["arn:aws:iam::123456789012:group/ci"]},
        "longjobs:imagePushers.0: 'arn:aws:iam::123456789012:group/ci' is not allowed; allowed: "
        + PUSHER_ALLOWED,
        id="image-pusher-group",
    ),
    pytest.param(
        {**dev_values(), "imagePushers": [ROLE_ARN, ROLE_ARN]},
        f"longjobs:imagePushers: {ROLE_ARN} listed more than once; list each pusher once",
        id="image-pusher-twice",
    ),
    pytest.param(
        {
            **dev_values(),
            "imagePushers": [f"arn:aws:iam::123456789012:role/ci{n}" for n in range(21)],
        },
        "longjobs:imagePushers: 21 items are more than 20; allowed: a list of at most 20, each "
        + PUSHER_ALLOWED,
        id="too-many-image-pushers",
    ),
    # A key misspelt, written as a path, or one level too far left: one line, in its terms.
    pytest.param(
        {key: value for key, value in dev_values().items() if key != "jobs"}
        | {"job": dev_values()["jobs"]},
        "longjobs:job: unknown key 'job'; did you mean jobs? allowed: network, jobs, tags, runRetentionDays, notifications, allowedCallers, imagePushers, containerInsights, kms, checkpointAccessLogs",
        id="top-level-key-near-miss",
    ),
    pytest.param(
        {key: value for key, value in dev_values().items() if key != "jobs"}
        | {"Jobs": dev_values()["jobs"]},
        "longjobs:Jobs: unknown key 'Jobs'; did you mean jobs? allowed: network, jobs, tags, runRetentionDays, notifications, allowedCallers, imagePushers, containerInsights, kms, checkpointAccessLogs",
        id="top-level-key-in-another-case",
    ),
    pytest.param(
        with_job(schedules={"nightly": {"expresion": "rate(1 hour)"}}),
        "longjobs:jobs.report.schedules.nightly.expresion: unknown key 'expresion'; did you mean expression? allowed: timezone, expression, environment, enabled",
        id="schedule-key-near-miss",
    ),
    pytest.param(
        with_job(
            policyStatements=[
                {"effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
            ]
        ),
        "longjobs:jobs.report.policyStatements.0.effect: unknown key 'effect'; did you mean Effect? allowed: Sid, Effect, Action, Resource, Condition",
        id="statement-key-in-another-case",
    ),
    pytest.param(
        with_job(timout="2h"),
        "longjobs:jobs.report.timout: unknown key 'timout'; did you mean timeout? allowed: build, image, entryPoint, command, cpu, memory, architecture, ephemeralStorageGiB, capacity, environment, parameters, allowCommandOverride, allowCapacityOverride, secrets, secretsKmsKeyArns, allowedCallers, policyStatements, managedPolicyArns, logRetentionDays, timeout, maxWaitForCapacity, startTimeout, retries, interruptionRetries, onInterruption, notify, service, schedules, tags, readonlyRootFilesystem, scratchPaths",
        id="job-key-near-miss",
    ),
    pytest.param(
        {**dev_values(), "jobs": {"report.cpu": 512, "hello-world": {}}},
        "longjobs:jobs.report.cpu: a dotted key is the path pulumi config set --path takes, not a key of the stack file: nest it, report: {cpu: 512}",
        id="dotted-key-among-jobs",
    ),
    pytest.param(
        with_job(**{"service.desiredCount": 1}),
        "longjobs:jobs.report.service.desiredCount: a dotted key is the path pulumi config set --path takes, not a key of the stack file: nest it, service: {desiredCount: 1}",
        id="dotted-key-in-a-job",
    ),
    pytest.param(
        with_job(**{"service.desiredCount": -1}),
        "longjobs:jobs.report.service.desiredCount: a dotted key is the path pulumi config set --path takes, not a key of the stack file: nest it, service: {desiredCount: -1}; its value: -1 is less than 0; allowed: a whole number from 0 to 5000",
        id="dotted-key-with-a-bad-value",
    ),
    pytest.param(
        {**dev_values(), "jobs": {**dev_values()["jobs"], "environment": {"REPORT_ROWS": "5000"}}},
        'longjobs:jobs.environment: {"REPORT_ROWS": "5000"} is where a name goes, but environment is a setting: indent it under a name, like jobs: {NAME: {environment: {"REPORT_ROWS": "5000"}}}; allowed: a mapping from job name (1-32 lowercase letters, digits and hyphens) to the job\'s settings, like report: {cpu: 1024}',
        id="environment-at-the-jobs-level",
    ),
    pytest.param(
        {
            **dev_values(),
            "jobs": {
                **dev_values()["jobs"],
                "schedules": {"nightly": {"expression": "rate(1 hour)"}},
            },
        },
        'longjobs:jobs.schedules: {"nightly": {"expression": "rate(1 hour)"}} is where a name goes, but schedules is a setting: indent it under a name, like jobs: {NAME: {schedules: {"nightly": {"expression": "rate(1 hour)"}}}}; allowed: a mapping from job name (1-32 lowercase letters, digits and hyphens) to the job\'s settings, like report: {cpu: 1024}',
        id="schedules-at-the-jobs-level",
    ),
    pytest.param(
        {
            **dev_values(),
            "jobs": {
                **dev_values()["jobs"],
                "service": {"image": "public.ecr.aws/x/y:1", "timout": "2h"},
            },
        },
        "longjobs:jobs.service.timout: unknown key 'timout'; did you mean timeout? allowed: build, image, entryPoint, command, cpu, memory, architecture, ephemeralStorageGiB, capacity, environment, parameters, allowCommandOverride, allowCapacityOverride, secrets, secretsKmsKeyArns, allowedCallers, policyStatements, managedPolicyArns, logRetentionDays, timeout, maxWaitForCapacity, startTimeout, retries, interruptionRetries, onInterruption, notify, service, schedules, tags, readonlyRootFilesystem, scratchPaths",
        id="a-job-named-after-a-setting",
    ),
    pytest.param(
        with_job(
            schedules={
                "nightly": {"expression": "rate(1 hour)"},
                "environment": {"REPORT_ROWS": "1"},
            }
        ),
        'longjobs:jobs.report.schedules.environment: {"REPORT_ROWS": "1"} is where a name goes, but environment is a setting: indent it under a name, like schedules: {NAME: {environment: {"REPORT_ROWS": "1"}}}; allowed: a mapping from schedule name to its settings, like nightly: {expression: "rate(1 hour)"}',
        id="environment-at-the-schedules-level",
    ),
]


@pytest.mark.parametrize(("values", "expected"), BAD)
def test_bad_config_names_the_key_and_what_is_allowed(values, expected):
    found = problems(copy.deepcopy(values))
    # The whole set: a spurious extra message fails the case.
    assert found == (expected if isinstance(expected, list) else [expected])


def test_a_base_image_not_pinned_by_digest_is_a_config_problem(tmp_path, monkeypatch):
    import components.config.models

    folder = tmp_path / "containers" / "report"
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(
        "# The report, built on a tag only\nFROM python:3.13-slim\nCOPY . /app\n"
        "COPY --from=busybox:1.37 /bin/busybox /bin/\n"
    )
    monkeypatch.setattr(components.config.models, "PROJECT_ROOT", tmp_path)
    pin = (
        "is not pinned by digest: write it as name:tag@sha256:<digest> (`docker buildx "
        "imagetools inspect name:tag` prints the digest)"
    )
    values = with_job(build="containers/report", cpu=300)
    del values["jobs"]["hello-world"]  # not in this project folder
    assert problems(values) == [
        "longjobs:jobs.report.build: 'containers/report' builds from images not pinned by "
        f"digest: containers/report/Dockerfile, line 2: FROM python:3.13-slim {pin}; line 4: "
        f"COPY --from=busybox:1.37 {pin}; allowed: {BUILD_ALLOWED}",
        "longjobs:jobs.report.cpu: 300 is not a Fargate CPU size; allowed: 256, 512, 1024, "
        "2048, 4096, 8192, 16384 (CPU units; 1024 is 1 vCPU)",
    ]


ROOT_PINNED = "public.ecr.aws/docker/library/alpine:3.22.2@sha256:" + "4" * 64


@pytest.mark.parametrize(
    ("dockerfile", "problem"),
    [
        (
            f"FROM {ROOT_PINNED}\nCOPY job.sh /job.sh\n",
            "line 1: the last stage sets no USER: add USER <a user or uid other than root and "
            "0> after its FROM",
        ),
        (
            f"FROM {ROOT_PINNED} AS build\nUSER nobody\n# the image\nFROM {ROOT_PINNED}\n",
            "line 4: the last stage sets no USER: add USER <a user or uid other than root and "
            "0> after its FROM",
        ),
        (
            f"FROM {ROOT_PINNED}\nUSER nobody\nRUN true\nUSER 0:0\n",
            "line 4: USER 0:0 is root: name another user or uid",
        ),
    ],
    ids=["no-user", "user-in-an-earlier-stage", "root-by-uid"],
)
def test_a_job_image_that_runs_as_root_is_a_config_problem(
    tmp_path, monkeypatch, dockerfile, problem
):
    import components.config.models

    folder = tmp_path / "containers" / "report"
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(dockerfile)
    monkeypatch.setattr(components.config.models, "PROJECT_ROOT", tmp_path)
    values = with_job(build="containers/report")
    del values["jobs"]["hello-world"]  # not in this project folder
    assert problems(values) == [
        "longjobs:jobs.report.build: 'containers/report' runs its job as root: "
        f"containers/report/Dockerfile, {problem}"
    ]


def test_a_job_image_with_a_user_of_its_own_is_no_problem(tmp_path, monkeypatch):
    import components.config.models

    folder = tmp_path / "containers" / "report"
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(f"FROM {ROOT_PINNED}\nUSER 65534:65534\n")
    monkeypatch.setattr(components.config.models, "PROJECT_ROOT", tmp_path)
    values = with_job(build="containers/report")
    del values["jobs"]["hello-world"]
    assert parse(values).jobs["report"].build == "containers/report"


@pytest.mark.parametrize("name", ["Report", "hello_world", "r" * 40, "rapport-été"])
def test_a_bad_job_name_is_named_alone(name):
    # No build folder is made up for a name that is refused: its folder is not the problem.
    values = {**dev_values(), "jobs": {name: {"cpu": 512}}}
    assert problems(values) == [
        f"longjobs:jobs.{name}: the name {name!r} is not allowed; allowed: a DNS-safe name: "
        "1-32 lowercase letters, digits and hyphens, starting with a letter, not ending with a "
        "hyphen"
    ]


def test_create_defaults_to_two_zones_one_nat_gateway_and_10_0_0_0_16():
    config = parse({**dev_values(), "network": {"create": {}}})
    assert config.network.create is not None
    create = config.network.create
    assert (create.availability_zones, create.nat_gateways, create.cidr_block) == (
        2,
        "single",
        "10.0.0.0/16",
    )
    assert config.network.public_ip is False


@pytest.mark.parametrize(
    ("create", "network"),
    [
        ({"cidrBlock": "10.0.0.0/28", "availabilityZones": 1, "natGateways": "none"}, {}),
        ({"cidrBlock": "192.168.0.0/25", "availabilityZones": 3}, {"assignPublicIp": False}),
        ({"cidrBlock": "172.31.0.0/16", "availabilityZones": 6, "natGateways": "onePerAz"}, {}),
    ],
)
def test_the_smallest_blocks_awsx_can_cut_are_accepted(create, network):
    config = parse({**dev_values(), "network": {"create": create, **network}})
    assert config.network.create is not None
    assert config.network.create.cidr_block == create["cidrBlock"]


def test_an_ecr_image_or_a_build_may_run_without_nat():
    image = "123456789012.dkr.ecr.eu-west-2.amazonaws.com/shared/tools:1.2"
    values = with_job(image=image)
    values["network"] = {"create": {"natGateways": "none"}}
    assert parse(values).jobs["report"].image == image


def test_a_public_image_may_run_behind_nat():
    values = with_job(image="public.ecr.aws/docker/library/python:3.13")
    values["network"] = {"create": {"natGateways": "single"}}
    assert parse(values).jobs["report"].image == "public.ecr.aws/docker/library/python:3.13"


def test_every_network_conflict_is_reported_at_once():
    values = dev_values()
    values["network"] = {
        "create": {"natGateways": "two"},
        "subnetIds": ["subnet-0123456789abcdef0"],
        "securityGroupIds": ["sg-0123456789abcdef0"],
        "assignPublicIp": True,
    }
    assert [p.split(": ", 1)[0] for p in problems(values)] == [
        "longjobs:network.create.natGateways",
        "longjobs:network.subnetIds",
        "longjobs:network.securityGroupIds",
        "longjobs:network.assignPublicIp",
    ]


def test_secret_services_are_read_from_the_arns():
    values = with_job(
        secrets={
            "DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db",
            "API": "arn:aws:secretsmanager:us-east-1:123456789012:secret:api",
        }
    )
    assert parse(values).secret_services == {"ssm", "secretsmanager"}
    assert parse(dev_values()).secret_services == frozenset()


def test_unknown_keys_deep_down_list_what_is_allowed():
    [problem] = problems(
        with_job(schedules={"nightly": {"expression": "rate(1 hour)", "tz": "UTC"}})
    )
    assert problem == (
        "longjobs:jobs.report.schedules.nightly.tz: unknown key; allowed: timezone, expression, "
        "environment, enabled"
    )


def test_managed_policy_problems_are_reported_together():
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    [problem] = problems(with_job(managedPolicyArns=[admin, *POLICY_ARNS[:19], POLICY_ARNS[0]]))
    assert problem == (
        f"longjobs:jobs.report.managedPolicyArns: {admin} allows every action on every resource, "
        "the stack's own included; name the actions on the job's own resources in "
        f"policyStatements instead; {POLICY_ARNS[0]} is listed 2 times; list each policy once; 21 "
        "policies; IAM attaches at most 20 managed policies to a role (and 10 until the "
        "account's quota is raised); merge them or use policyStatements"
    )


def test_iam_statements_on_named_resources_denies_and_unnamed_sids_are_accepted():
    job = parse(
        with_job(
            policyStatements=[
                statement(["iam:PassRole", "iam:GetRole"], ROLE_ARN),
                statement("iam:*", "*", effect="Deny"),
                statement("s3:ListAllMyBuckets", "*"),
                statement("s3:GetObject", "arn:aws:s3:::b/*"),
            ],
            managedPolicyArns=POLICY_ARNS[:20],
        )
    ).jobs["report"]
    assert len(job.policy_statements) == 4 and len(job.managed_policy_arns) == 20


def test_the_longest_names_make_a_scheduler_name_aws_accepts():
    job = "j" * MAX_JOB_NAME
    schedule = ("S_-9" * MAX_SCHEDULE_NAME)[:MAX_SCHEDULE_NAME]
    values = dev_values()
    values["jobs"] = {
        job: {
            "image": "public.ecr.aws/x/y:1",
            "schedules": {schedule: {"expression": "rate(1 hour)"}},
        }
    }
    config = parse(values)
    assert_aws_accepts("scheduler", "Name", scheduler_name(job, *config.jobs[job].schedules))


def test_schedules_of_jobs_with_hyphens_do_not_collide():
    config = dev_config()
    hourly = {"expression": "rate(1 hour)"}
    image = "public.ecr.aws/x/y:1"
    config["longjobs:jobs"] = {
        "a": {"image": image, "schedules": {"b-c": hourly}},
        "a-b": {"image": image, "schedules": {"c": hourly}},
    }
    schedules = run_program(config=config).by_type(SCHEDULE)
    assert sorted((s.name, s.inputs["name"]) for s in schedules) == [
        ("a-b.c", "a-b.c"),
        ("a.b-c", "a.b-c"),
    ]


@pytest.mark.parametrize(
    ("stack", "prefix"),
    [
        ("dev", "longjobs-dev"),
        ("dev_", "longjobs-dev"),
        ("_Dev.-_eu--1-", "longjobs-dev-eu-1"),
        ("__", "longjobs"),
    ],
)
def test_prefix_is_lowercase_words_joined_by_single_hyphens(stack, prefix):
    assert name_prefix("longjobs", stack) == prefix


def test_a_stack_with_odd_characters_gets_names_aws_accepts():
    run = run_program("Pulumi.Dev_.yaml", config=dev_config())
    repositories = sorted(r.inputs["name"] for r in run.by_type("aws:ecr/repository:Repository"))
    assert repositories == ["longjobs-dev/hello-world", "longjobs-dev/report"]
    for repository in repositories:
        assert_aws_accepts("ecr", "RepositoryName", repository)
    [group] = run.by_type("aws:scheduler/scheduleGroup:ScheduleGroup")
    assert_aws_accepts("scheduler", "ScheduleGroupName", group.inputs["name"])
    assert run.outputs["clusterName"] == "longjobs-dev"


def test_the_longest_stack_name_allowed_is_deployed():
    stack = "s" * (MAX_PREFIX - len("longjobs-"))
    run = run_program(f"Pulumi.{stack}.yaml", config=dev_config())
    [group] = run.by_type("aws:scheduler/scheduleGroup:ScheduleGroup")
    assert group.inputs["name"] == f"longjobs-{stack}"
    assert_aws_accepts("scheduler", "ScheduleGroupName", group.inputs["name"])
    for rule in run.by_type("aws:cloudwatch/eventRule:EventRule"):
        assert_aws_accepts("events", "RuleName", rule.inputs["name"])
    for function in run.by_type("aws:lambda/function:Function"):
        assert_aws_accepts("lambda", "FunctionName", function.inputs["name"])


def test_a_stack_name_too_long_for_aws_names_declares_nothing():
    stack = "s" * (MAX_PREFIX - len("longjobs-") + 1)
    mocks = AwsMocks("us-east-1")
    with pytest.raises(ConfigError) as caught:
        run_program(f"Pulumi.{stack}.yaml", config=dev_config(), mocks=mocks)
    assert caught.value.problems == [
        f"longjobs: stack '{stack}' of project 'longjobs': the name prefix 'longjobs-{stack}' is "
        "46 characters; allowed: at most 45, because it names the EventBridge rule names, "
        "<prefix>-task-state-changes (at most 64); use a shorter stack name"
    ]
    assert mocks.resources == [] and mocks.invokes == []


def test_numbers_booleans_and_dates_in_environment_are_refused_with_the_quoted_form():
    # What the Pulumi CLI hands over after its YAML reader made numbers of 5000, 1.10 and 01234.
    values = with_job(environment={"ROWS": 5000, "RATIO": 1.1, "ZIP": 668, "DEBUG": True})
    values["jobs"]["report"]["schedules"]["nightly"]["environment"] = {"DAY": date(2026, 11, 1)}
    assert problems(values) == [
        "longjobs:jobs.report.environment.ROWS: 5000 is a number, not a string; environment "
        'values are strings: write it quoted, "5000", as you mean it (unquoted, YAML readers '
        "differ on what it is)",
        "longjobs:jobs.report.environment.RATIO: 1.1 is a number, not a string; environment "
        'values are strings: write it quoted, "1.1", as you mean it (unquoted, YAML readers '
        "differ on what it is)",
        "longjobs:jobs.report.environment.ZIP: 668 is a number, not a string; environment "
        'values are strings: write it quoted, "668", as you mean it (unquoted, YAML readers '
        "differ on what it is)",
        "longjobs:jobs.report.environment.DEBUG: true is a boolean, not a string; environment "
        'values are strings: write it quoted, "true", as you mean it (unquoted, YAML readers '
        "differ on what it is)",
        "longjobs:jobs.report.schedules.nightly.environment.DAY: 2026-11-01 is a date, not a "
        'string; environment values are strings: write it quoted, "2026-11-01", as you mean it '
        "(unquoted, YAML readers differ on what it is)",
    ]


def test_every_problem_is_reported_at_once():
    values = with_job(cpu=300, logRetentionDays=10, capacity="cheap")
    values["network"] = {"subnetIds": ["nope"]}
    found = problems(values)
    assert [p.split(": ", 1)[0] for p in found] == [
        "longjobs:network.subnetIds.0",
        "longjobs:jobs.report.cpu",
        "longjobs:jobs.report.capacity",
        "longjobs:jobs.report.logRetentionDays",
    ]
    # memory is only checked against a valid cpu: one problem, not two.


def test_checks_across_keys_folders_and_the_stack_name_come_with_the_field_problems():
    values = with_job(
        cpu=300,
        image="public.ecr.aws/x/y:1",
        build="containers/report",
        environment={"DB": "x", "LD_X": "y"},
        secrets={"DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"},
    )
    values["jobs"]["report"]["schedules"]["nightly"]["environment"] = {"DB": "override"}
    values["jobs"]["ghost"] = {"cpu": 512}
    with pytest.raises(ConfigError) as caught:
        parse(values, project="longjobs", stack="s" * 60)
    assert [p.split(": ", 1)[0] for p in caught.value.problems] == [
        "longjobs",  # the stack name
        "longjobs:jobs.report.cpu",
        "longjobs:jobs.ghost.build",
        "longjobs:jobs.report.image",
        "longjobs:jobs.report.secrets.DB",
    ]
    # A schedule's run event is checked against the job the trigger will know: once the job's
    # own problems are fixed.
    values = with_job(environment={"DB": "x"})
    values["jobs"]["report"]["schedules"]["nightly"]["environment"] = {"ZONE": "override"}
    assert [p.split(": ", 1)[0] for p in problems(values)] == [
        "longjobs:jobs.report.schedules.nightly.environment"
    ]


def test_a_schedule_the_trigger_would_refuse_is_refused_by_the_same_code():
    values = with_job(
        secrets={"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db"},
        parameters=["BIG", "ESC"],
    )
    nightly = values["jobs"]["report"]["schedules"]["nightly"]
    nightly["environment"] = {"DB_PASSWORD": "x"}
    assert problems(values) == [
        "longjobs:jobs.report.schedules.nightly.environment: the trigger would refuse every run "
        "of this schedule: environment: 'DB_PASSWORD' is one of the job's secrets; a run may "
        "not set it"
    ]
    nightly["environment"] = {"BIG": "x" * 8200}
    assert problems(values) == [
        "longjobs:jobs.report.schedules.nightly.environment: the trigger would refuse every run "
        "of this schedule: environment and command: 8578 characters of overrides with the "
        "LONGJOBS_ variables every attempt gets; RunTask allows 8192"
    ]
    nightly["environment"] = {"ESC": "\x1b[0m"}
    [problem] = problems(values)
    assert problem.startswith("longjobs:jobs.report.schedules.nightly.environment.ESC: holds")


@pytest.mark.parametrize(
    ("cpu", "smallest"),
    [(256, 512), (512, 1024), (1024, 2048), (2048, 4096), (4096, 8192), (8192, 16384),
     (16384, 32768)],
)  # fmt: skip
def test_the_default_memory_is_the_smallest_fargate_allows_with_the_cpu(cpu, smallest):
    values = with_job(cpu=cpu)
    del values["jobs"]["report"]["memory"]
    assert parse(values).jobs["report"].memory == smallest


@pytest.mark.parametrize(
    ("effect", "expected"),
    [("allow", "'allow' is not allowed; allowed: 'Allow' or 'Deny'"), ("Deny", None)],
)
def test_effect_lists_the_values_as_iam_spells_them(effect, expected):
    values = with_job(policyStatements=[statement("s3:GetObject", "arn:aws:s3:::b/*", effect)])
    if expected is None:
        parse(values)
    else:
        assert problems(values) == [f"longjobs:jobs.report.policyStatements.0.Effect: {expected}"]


@pytest.mark.parametrize(
    ("ids", "accepted"),
    [
        (["subnet-0a1b2c3d"], True),
        (["subnet-0a1b2c3d4e5f60718"], True),
        (["subnet-0a1b2c3d4"], False),  # 9 hex digits: no such id
        (["subnet-0A1B2C3D"], False),
    ],
)
def test_subnet_ids_have_8_or_17_hex_digits(ids, accepted):
    values = {**dev_values(), "network": {"subnetIds": ids}}
    if accepted:
        assert parse(values).network.subnet_ids == ids
    else:
        [problem] = problems(values)
        assert problem.startswith("longjobs:network.subnetIds.0: ")


DIGEST = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("image", "accepted"),
    [
        ("public.ecr.aws/docker/library/python:3.13", True),
        (f"public.ecr.aws/docker/library/python@{DIGEST}", True),
        (f"public.ecr.aws/docker/library/python:3.13@{DIGEST}", True),
        ("public.ecr.aws/docker/library/python", False),
        ("public.ecr.aws/docker/library/python:3.13@sha256:abc", False),
    ],
)
def test_image_with_a_tag_a_digest_or_both(image, accepted):
    values = with_job(image=image)
    values["jobs"]["report"].pop("build", None)
    if accepted:
        assert parse(values).jobs["report"].image == image
    else:
        [problem] = problems(values)
        assert problem.startswith("longjobs:jobs.report.image: ")


SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"


@pytest.mark.parametrize(
    ("value_from", "accepted"),
    [
        (SECRET, True),
        (f"{SECRET}:username::", True),
        (f"{SECRET}::AWSPREVIOUS:", True),
        (f"{SECRET}:::0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f", True),
        (f"{SECRET}:username", False),  # the documented form keeps every colon
        (f"{SECRET}:username:AWSCURRENT", False),
        (f"{SECRET}::AWSCURRENT:0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f", False),  # stage or id
        ("arn:aws:ssm:us-east-1:123456789012:parameter/app/db", True),
        ("arn:aws:ssm:us-east-1:123456789012:parameter", False),
    ],
)
def test_secret_references_follow_the_documented_value_from_form(value_from, accepted):
    values = with_job(secrets={"DB": value_from})
    if accepted:
        assert parse(values).jobs["report"].secrets == {"DB": value_from}
    else:
        [problem] = problems(values)
        assert problem.startswith("longjobs:jobs.report.secrets.DB: ")


def test_bad_config_declares_nothing():
    config = dev_config()
    config["longjobs:jobs"]["report"]["cpu"] = 300
    mocks = AwsMocks("us-east-1")
    with pytest.raises(ConfigError):
        run_program(config=config, mocks=mocks)
    # Validation runs before anything is declared or looked up.
    assert mocks.resources == [] and mocks.invokes == []


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(15 minutes)",
        "rate(2 days)",
        "cron(0 3 * * ? *)",
        "cron(0/15 8-18 ? * MON-FRI *)",
        "cron(0 12 L * ? *)",
        "cron(0 12 LW * ? *)",
        "cron(0 12 15W * ? 2027)",
        "cron(0 12 ? * 6L *)",
        "cron(0 12 ? * FRIL *)",
        "cron(0 12 ? * 3#2 *)",
        "cron(0 12 ? * TUE#2 1970-2199)",
        "cron(0,30 */2 1-15/3 JAN,jul ? *)",
        "cron(59 23 31 12 ? 2199)",
        "at(2099-12-24T18:00:00)",
    ],
)
def test_valid_schedule_expressions(expression):
    assert expression_problem(expression) is None


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 hours)",
        "rate(5 weeks)",
        "cron(0 3 * * *)",
        "cron(0 3 * * MON *)",
        "cron(0 3 ? * ? *)",
        "at(2026-02-30T00:00:00)",
        "at(2026-12-24 18:00)",
        "at(2020-01-01T00:00:00)",  # in the past: would never run
        "cron(60 3 * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 3 0 * ? *)",
        "cron(0 3 32 * ? *)",
        "cron(0 3 * 13 ? *)",
        "cron(0 3 * JANUARY ? *)",
        "cron(0 3 ? * 0 *)",
        "cron(0 3 ? * 8 *)",
        "cron(0 3 ? * FUNDAY *)",
        "cron(0 3 ? * MON#6 *)",
        "cron(0 3 L * MON *)",
        "cron(0 3 ? * * 1969)",
        "cron(0 3 ? * * 2200)",
        "cron(0 3 32W * ? *)",
        "cron(0 3 ? * 9L *)",
        "cron(0/0 3 * * ? *)",
        "cron(0 3 ?W * ? *)",
        "cron(0 3 1,,2 * ? *)",
        "cron(0 L * * ? *)",
        "cron(0 3 * * 1# *)",
        "daily",
    ],
)
def test_invalid_schedule_expressions(expression):
    assert expression_problem(expression)


@pytest.mark.parametrize(
    ("job", "capacity"),
    [
        ({}, "spot"),
        ({"service": {"desiredCount": 0}}, "spot"),
        ({"service": {"desiredCount": 2}}, "on-demand"),  # a worker kept running stays on-demand
        ({"service": {"desiredCount": 2}, "capacity": "spot"}, "spot"),
        ({"capacity": "on-demand"}, "on-demand"),
    ],
)
def test_spot_is_the_default_capacity_but_for_services_kept_running(job, capacity):
    values = dev_values()
    values["jobs"]["hello-world"] = {"build": "containers/hello-world", **job}
    assert parse(values).jobs["hello-world"].capacity == capacity


def test_the_wait_for_capacity_reaches_the_functions():
    from longjobs_contract import trigger_config

    config = dev_config()
    config["longjobs:jobs"]["report"]["maxWaitForCapacity"] = "30m"
    run = run_program(config=config)
    jobs = trigger_config.loads(run.trigger_config).jobs
    assert jobs["report"].max_wait_for_capacity_seconds == 1800
    assert jobs["hello-world"].max_wait_for_capacity_seconds == 900


def test_what_a_run_may_change_reaches_the_functions():
    from longjobs_contract import trigger_config

    config = dev_config()
    jobs = trigger_config.loads(run_program(config=config).trigger_config).jobs
    # The dev stack: report's environment and parameters; hello-world's environment; no command.
    assert jobs["report"].overridable_environment == (
        "REPORT_DAY",
        "REPORT_ROWS",
        "REPORT_STEP_SECONDS",
    )
    assert jobs["hello-world"].overridable_environment == ("HELLO_WORLD",)
    assert not jobs["report"].allow_command_override
    report = config["longjobs:jobs"]["report"]
    report["environment"] = {**report["environment"], "PATH": "/app/bin:/usr/bin"}
    report["parameters"] = ["ZONE", "REPORT_DAY", "REPORT_ROWS"]
    report["allowCommandOverride"] = True
    jobs = trigger_config.loads(run_program(config=config).trigger_config).jobs
    # Sorted, each once, and PATH, which the job's own environment may set, is not a run's.
    assert jobs["report"].overridable_environment == ("REPORT_DAY", "REPORT_ROWS", "ZONE")
    assert jobs["report"].allow_command_override


def test_parameters_and_command_override_default_to_nothing():
    job = parse(with_job()).jobs["hello-world"]
    assert (job.parameters, job.allow_command_override) == ([], False)


@pytest.mark.parametrize("name", ["LD_PRELOAD", "PYTHONPATH", "PATH", "NODE_OPTIONS", "ld_audit"])
def test_a_loader_variable_cannot_be_a_parameter(name):
    assert problems(with_job(parameters=["REPORT_DAY", name])) == [
        f"longjobs:jobs.report.parameters.1: {loader_problem(name)}; a run may never set it, so "
        "it cannot be a parameter (a job's own environment may set it)"
    ]


def test_a_loader_variable_may_be_set_by_the_jobs_own_environment():
    environment = {"REPORT_ROWS": "1", "PATH": "/app/bin:/usr/bin"}
    job = parse(with_job(environment=environment)).jobs["report"]
    assert job.environment == environment
    assert job.overridable_environment == ("REPORT_DAY", "REPORT_ROWS", "REPORT_STEP_SECONDS")


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            ["REPORT_DAY", "REPORT_DAY"],
            "longjobs:jobs.report.parameters: 'REPORT_DAY' is listed 2 times; list each variable "
            "once",
        ),
        (
            ["1DAY"],
            "longjobs:jobs.report.parameters.0: '1DAY' is not a variable name; use letters, "
            "digits and '_', not starting with a digit",
        ),
        (
            ["AWS_REGION"],
            "longjobs:jobs.report.parameters.0: 'AWS_REGION' is reserved; names may not start "
            "with AWS_, ECS_, LONGJOBS_",
        ),
    ],
)
def test_parameters_are_unique_valid_names(parameters, message):
    assert problems(with_job(parameters=parameters)) == [message]


def test_a_secret_cannot_be_a_parameter():
    values = with_job(
        parameters=["REPORT_DAY", "DB"],
        secrets={"DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"},
    )
    assert problems(values) == [
        "longjobs:jobs.report.secrets.DB: also listed in parameters; a run may not set a secret"
    ]


def test_allow_command_override_is_a_boolean():
    assert problems(with_job(allowCommandOverride="sometimes")) == [
        "longjobs:jobs.report.allowCommandOverride: 'sometimes' is not true or false; allowed: "
        "true or false"
    ]


def test_a_schedule_sets_only_what_its_job_declares():
    values = with_job(environment={"REPORT_ROWS": "1", "PATH": "/app/bin"})
    nightly = values["jobs"]["report"]["schedules"]["nightly"]
    nightly["environment"] = {"REPORT_BATCH": "10"}
    assert problems(values) == [
        "longjobs:jobs.report.schedules.nightly.environment: the trigger would refuse every run "
        "of this schedule: environment: 'REPORT_BATCH' is not a variable this job lets a run "
        "set; allowed: REPORT_DAY, REPORT_ROWS, REPORT_STEP_SECONDS"
    ]
    # Declared by the job's environment, but a loader variable: never a run's.
    nightly["environment"] = {"PATH": "/tmp"}
    assert problems(values) == [
        "longjobs:jobs.report.schedules.nightly.environment: the trigger would refuse every run "
        "of this schedule: environment: 'PATH' is a loader or interpreter variable (PATH: every "
        "program started by name is looked up there); a run may never set it"
    ]
    values["jobs"]["report"]["parameters"] = ["REPORT_DAY", "REPORT_BATCH"]
    nightly["environment"] = {"REPORT_BATCH": "10", "REPORT_DAY": "2026-11-01"}
    assert parse(values).jobs["report"].schedules["nightly"].environment == nightly["environment"]


def test_twenty_gib_of_storage_is_the_default_and_declares_none():
    # Fargate gives 20 GiB free; a task definition may only ask for 21 to 200 (ECS task
    # definition parameters, "ephemeralStorage").
    assert parse(with_job(ephemeralStorageGiB=20)).jobs["report"].ephemeral_storage_gib is None
    config = dev_config()
    report = config["longjobs:jobs"]["report"]
    report["ephemeralStorageGiB"] = 20
    assert "ephemeralStorage" not in run_program(config=config).one(TASK, "report-task").inputs
    report["ephemeralStorageGiB"] = 21
    storage = run_program(config=config).one(TASK, "report-task").inputs["ephemeralStorage"]
    assert storage == {"sizeInGib": 21}


ECR_US_EAST_1 = "123456789012.dkr.ecr.us-east-1.amazonaws.com/report:1"
TOKEN_US_EAST_1 = "arn:aws:ssm:us-east-1:123456789012:parameter/token"


def test_what_other_regions_hold_is_refused_with_every_other_problem():
    values = with_job(cpu=300, image=ECR_US_EAST_1, secrets={"TOKEN": TOKEN_US_EAST_1})
    values["kms"] = _KEY
    values["network"] = {
        "create": {"natGateways": "none", "availabilityZoneNames": ["us-east-1a", "eu-west-2b"]}
    }
    assert problems(values, region="eu-west-2") == [
        "longjobs:jobs.report.cpu: 300 is not a Fargate CPU size; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU units; 1024 is 1 vCPU)",
        f"longjobs:kms: {_KEY!r} is a key in us-east-1; the stack deploys to eu-west-2, and its services take keys of their own region only; allowed: create, or a key in eu-west-2",
        "longjobs:network.create.availabilityZoneNames: 'us-east-1a' is not a zone of eu-west-2, where the stack deploys; allowed: eu-west-2 and a letter",
        f"longjobs:jobs.report.image: {ECR_US_EAST_1!r} is in us-east-1, and with network.create.natGateways none tasks reach only ECR in eu-west-2 (through VPC endpoints); allowed: an image in a private ECR repository of eu-west-2 (<account>.dkr.ecr.eu-west-2.amazonaws.com/<name>), build, or natGateways single or onePerAz",
        f"longjobs:jobs.report.secrets.TOKEN: {TOKEN_US_EAST_1!r} is in us-east-1; with network.create.natGateways none tasks reach ssm in eu-west-2 only; allowed: a secret of the stack's region, or natGateways single or onePerAz",
    ]
    # In the stack's own region, or with a NAT gateway, nothing of it is refused.
    assert problems(values, region="us-east-1") == [
        "longjobs:jobs.report.cpu: 300 is not a Fargate CPU size; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU units; 1024 is 1 vCPU)",
        "longjobs:network.create.availabilityZoneNames: 'eu-west-2b' is not a zone of us-east-1, where the stack deploys; allowed: us-east-1 and a letter",
    ]


def test_a_public_image_without_nat_is_one_problem_naming_the_stacks_region():
    values = with_job(image="public.ecr.aws/docker/library/python:3.13")
    values["network"] = {"create": {"natGateways": "none"}}
    assert problems(values, region="eu-west-2") == [
        "longjobs:jobs.report.image: 'public.ecr.aws/docker/library/python:3.13' is not in a private ECR repository, and with network.create.natGateways none tasks reach only ECR in eu-west-2 (through VPC endpoints); allowed: an image in a private ECR repository of eu-west-2 (<account>.dkr.ecr.eu-west-2.amazonaws.com/<name>), build, or natGateways single or onePerAz"
    ]
