"""The stack's own resources, out of a job's reach: one catalogue for the policy pack and the
stack config.

Whoever controls a job's code holds its task role. The platform gives each job its checkpoints
(under `<job>/` in the checkpoint bucket) and its log group; everything else the stack declares
is the platform's (the runs table, the notifications topic, the trigger and the supervisor, the
cluster and the jobs' task definitions, the roles, the schedules, the EventBridge rules, the
queues of what failed, the image repositories and their records, the alarms, the security
groups, the key) or another job's. Each entry below is a
way a job's own statements could reach them, with what it would let the job do. The resources'
names are those docs/jobs.md "What each job gets" lists; `StackNames` holds them, filled from the
stack config (components/config/control_plane.py) or from the declared resources (the pack's
policy/control_plane.py), and tests hold the two equal on the dev and prod stacks.

Decided, and left out:
- Using the stack's KMS key (kms:Decrypt, kms:GenerateDataKey, kms:ReEncrypt*) is not refused:
  what the key protects is reached through the services that keep it (S3, CloudWatch Logs,
  DynamoDB, SQS, SNS), which decrypt for a caller allowed their own action and hand no
  ciphertext out; those actions on another job's data are refused below. Administering the key
  is refused: disabled or deleted, everything the stack encrypts is lost; its policy or a grant
  gives it away.
- s3:ListBucket on the checkpoint bucket is not refused: the platform grants it with an
  `s3:prefix` condition (the job's own prefix), and conditions are not read here; the keys it
  lists are run ids.
- Reads of the stack's configuration (ecs:DescribeTaskDefinition, lambda:GetFunction, image
  pulls) are not refused: they hold no data (a job's secrets are references, resolved at start),
  and the images are built from the project's own folders. Reads of what runs carry (run
  records, task overrides, logs, checkpoints) are refused for another job's.
- A job's own log group may be read and written (its container writes there); its retention,
  subscriptions and existence may not be changed: the record of what a job did is what an
  intruder erases first.

How a statement is matched: it reaches an entry when one of its actions could match one of the
entry's (IAM's wildcards, case-insensitively) and one of its resource patterns could match one
of the stack's resources of the entry's kind, that is when some ARN matches both the pattern and
the resource's ARN. The partition, region and account of the stack's resources may be any: the
account is not known when the config is read, and a resource of the same name in another account
is taken as the stack's rather than let through. Conditions are not read, and Deny statements
reach nothing. A resource whose ARN is not known yet (a key the stack is about to create) is
matched by patterns with a wildcard only: a whole ARN names some other key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from longjobs_contract.iam_escalation import (
    ACCOUNT_CHARACTERS,
    PARTITION_CHARACTERS,
    AnyBut,
    Step,
    action_matches,
    meets,
)

# The kinds of the stack's resources, as the entries name them.
RUNS_TABLE = "runs table"
TOPIC = "notifications topic"
FUNCTIONS = "functions"
CLUSTER = "cluster"
TASK_DEFINITIONS = "task definitions"
ROLES = "roles"
SCHEDULES = "schedules"
RULES = "rules"
QUEUES = "queues"
REPOSITORIES = "repositories"
CHECKPOINT_BUCKET = "checkpoint bucket"
CHECKPOINTS = "checkpoints"
LOG_GROUPS = "log groups"
KEY = "key"
ALARMS = "alarms"
IMAGE_RECORDS = "image records"
NETWORK = "network"

# What a name may hold where it is not known: each stands for a run of these characters.
_NAME_CHARACTERS = PARTITION_CHARACTERS  # lowercase letters, digits and hyphens
# CloudWatch Logs' log group names: letters, digits, `_-./#` (CreateLogGroup, API reference);
# patterns are compared lower-cased.
_SEGMENT_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.#")
UNKNOWN: dict[str, frozenset[str] | None] = {
    "{partition}": PARTITION_CHARACTERS,
    "{region}": PARTITION_CHARACTERS,
    "{account}": ACCOUNT_CHARACTERS,
    "{prefix}": _NAME_CHARACTERS,
    "{segment}": _SEGMENT_CHARACTERS,
    "{key}": None,
}
"""Placeholders an ARN may hold, each for a run of its characters: a part not known (`{prefix}`
when the stack is not known, `{segment}` one part of a log group's path), or an S3 object key,
which may hold any character. A `*` is a run of any character but `:`: past the resource type,
only an S3 key holds one (a log stream's name may not, CreateLogStream, API reference), so a
pattern's wildcard in the account cannot meet a name's tail."""
_NAME_PART = AnyBut(frozenset(":"))


@dataclass(frozen=True)
class Reach:
    """One way a statement could reach the stack's resources of one kind."""

    kind: str
    actions: tuple[str, ...]
    what: str
    """What granting them would let the job do, after "could": `write the stack's runs table`."""
    why: str
    """What that means for the stack, for the message."""
    instead: str
    """What to grant instead, for the message."""
    others_only: bool = False
    """The job's own resource of the kind is spared (its checkpoints, its log group)."""
    with_actions: tuple[str, ...] = ()
    """Actions that, granted by the same role, turn this one into running code as another job:
    the message names them."""


# ECS's actions that run a task definition's containers under the roles passed with it: RunTask
# and StartTask (a task definition's or an override's roles), RegisterTaskDefinition (the roles
# a new revision names), CreateService and UpdateService (a service's task definition); each
# needs iam:PassRole on those roles ("Amazon ECS task IAM role", ECS Developer Guide).
RUNS_AS_PASSED_ROLE = (
    "ecs:RunTask",
    "ecs:StartTask",
    "ecs:RegisterTaskDefinition",
    "ecs:CreateService",
    "ecs:UpdateService",
)

CATALOGUE: tuple[Reach, ...] = (
    Reach(
        RUNS_TABLE,
        # Writes, PartiQL's included (Service Authorization Reference for DynamoDB: PartiQL
        # statements are authorized as dynamodb:PartiQL<Verb>).
        (
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:PartiQLInsert",
            "dynamodb:PartiQLUpdate",
            "dynamodb:PartiQLDelete",
        ),  # fmt: skip
        "write the stack's runs table",
        "forge or change any run's record: the state `status` answers, the attempts the "
        "supervisor re-runs and stops, the notices it publishes",
        "these actions on tables of the job's own, named by ARNs the stack's runs table does "
        "not match (like arn:aws:dynamodb:us-east-1:111122223333:table/report-results)",
    ),
    Reach(
        RUNS_TABLE,
        (
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:PartiQLSelect",
        ),  # fmt: skip
        "read the stack's runs table",
        "every job's runs, with the environment and command each was started with",
        "these actions on tables of the job's own, named by ARNs the stack's runs table does "
        "not match (like arn:aws:dynamodb:us-east-1:111122223333:table/report-results)",
    ),
    Reach(
        RUNS_TABLE,
        (
            "dynamodb:DeleteTable",
            "dynamodb:UpdateTable",
            "dynamodb:UpdateTimeToLive",
            "dynamodb:UpdateContinuousBackups",
            "dynamodb:CreateBackup",
            "dynamodb:DeleteBackup",
            "dynamodb:RestoreTableFromBackup",
            "dynamodb:RestoreTableToPointInTime",
            "dynamodb:ExportTableToPointInTime",
            "dynamodb:PutResourcePolicy",
            "dynamodb:DeleteResourcePolicy",
        ),  # fmt: skip
        "change, copy out or remove the stack's runs table",
        "its expiry, its point-in-time recovery and who else may use it, or every run in a "
        "backup or an export",
        "these actions on tables of the job's own, named by ARNs the stack's runs table does "
        "not match (like arn:aws:dynamodb:us-east-1:111122223333:table/report-results)",
    ),
    Reach(
        TOPIC,
        ("sns:Publish",),
        "publish to the stack's notifications topic",
        "false notices of runs' final states, to every subscriber, on-call's email included",
        "sns:Publish on topics of the job's own, named by ARNs the stack's topic does not "
        "match (like arn:aws:sns:us-east-1:111122223333:report-done)",
    ),
    Reach(
        TOPIC,
        (
            "sns:Subscribe",
            "sns:SetTopicAttributes",
            "sns:AddPermission",
            "sns:RemovePermission",
            "sns:DeleteTopic",
            "sns:PutDataProtectionPolicy",
        ),  # fmt: skip
        "subscribe to, change or remove the stack's notifications topic",
        "every job's final states sent where the job chooses, who may publish them, or no "
        "notices at all",
        "these actions on topics of the job's own, named by ARNs the stack's topic does not "
        "match (like arn:aws:sns:us-east-1:111122223333:report-done)",
    ),
    Reach(
        FUNCTIONS,
        # lambda:InvokeFunctionUrl authorizes a function URL's requests; lambda:InvokeAsync is
        # the deprecated asynchronous API (Service Authorization Reference for Lambda).
        ("lambda:InvokeFunction", "lambda:InvokeAsync", "lambda:InvokeFunctionUrl"),
        "invoke the stack's trigger or supervisor",
        "the trigger starts, stops and re-runs any job of the stack, under that job's roles "
        "with the environment a run may set; the supervisor takes what it is handed for ECS's "
        "task state changes and ends, re-runs or stops runs by it",
        "lambda:InvokeFunction on functions of the job's own, named by ARNs the stack's do not "
        "match (like arn:aws:lambda:us-east-1:111122223333:function:report-notify); a job does "
        "not start or stop runs",
    ),
    Reach(
        FUNCTIONS,
        (
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:AddPermission",
            "lambda:RemovePermission",
            "lambda:DeleteFunction",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
            "lambda:PutFunctionEventInvokeConfig",
            "lambda:UpdateFunctionEventInvokeConfig",
            "lambda:DeleteFunctionEventInvokeConfig",
            "lambda:CreateFunctionUrlConfig",
            "lambda:UpdateFunctionUrlConfig",
        ),  # fmt: skip
        "change the stack's trigger or supervisor",
        "code of the job's choosing under their roles, which start every job and pass every "
        "job's roles, who may invoke them, where their failures go, or none of them running",
        "none of these on the stack's functions, which change with a deploy of the stack",
    ),
    Reach(
        TASK_DEFINITIONS,
        ("ecs:RunTask", "ecs:StartTask"),
        "start the jobs' tasks outside the trigger",
        "tasks no run record, timeout or retry accounts for, each with the overrides the job "
        "chooses",
        "none of these on the stack's task definitions; runs start through the trigger",
    ),
    Reach(
        TASK_DEFINITIONS,
        # An INACTIVE revision starts no new task (DeregisterTaskDefinition, ECS API reference).
        ("ecs:DeregisterTaskDefinition", "ecs:DeleteTaskDefinitions"),
        "deregister or delete the jobs' task definitions",
        "every run of that job fails to start until the next deploy",
        "none of these on the stack's task definitions, which change with a deploy of the stack",
    ),
    Reach(
        CLUSTER,
        ("ecs:StopTask",),
        "stop tasks in the stack's cluster",
        "any job's runs ended, each by a stop the trigger never asked for",
        "none of these on the stack's cluster; a run is stopped through the trigger",
    ),
    Reach(
        CLUSTER,
        # ECS Exec runs a command in a running container ("Monitor Amazon ECS containers with
        # ECS Exec", ECS Developer Guide).
        ("ecs:ExecuteCommand",),
        "run commands in the tasks of the stack's cluster",
        "a shell in another job's running task: its code, its data and its task role's credentials",
        "none of these on the stack's cluster",
    ),
    Reach(
        CLUSTER,
        ("ecs:DescribeTasks",),
        "describe the tasks of the stack's cluster",
        "every run's environment and command overrides",
        "none of these on the stack's cluster; a task reads its own description from the task "
        "metadata endpoint",
    ),
    Reach(
        CLUSTER,
        ("ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService"),
        "create, change or remove services in the stack's cluster",
        "which task definition a job's service runs and how many of its tasks, or none",
        "none of these on the stack's cluster, whose services change with a deploy of the stack",
    ),
    Reach(
        CLUSTER,
        (
            "ecs:UpdateCluster",
            "ecs:UpdateClusterSettings",
            "ecs:PutClusterCapacityProviders",
            "ecs:DeleteCluster",
            "ecs:TagResource",
            "ecs:UntagResource",
        ),  # fmt: skip
        "change the stack's cluster or the tags of its tasks",
        "the capacity every job runs on, and a task's stack and run-id tags, which the "
        "functions' permission to stop it rests on",
        "none of these on the stack's cluster, which changes with a deploy of the stack",
    ),
    Reach(
        ROLES,
        ("iam:PassRole",),
        "pass the stack's roles",
        "every job's task and execution roles and the functions': passed to ECS, a task runs "
        "as another job",
        "iam:PassRole only on roles the job manages itself, named by ARNs outside the stack's "
        "IAM path (like arn:aws:iam::111122223333:role/report-helper)",
        with_actions=RUNS_AS_PASSED_ROLE,
    ),
    Reach(
        ROLES,
        (
            "iam:AttachRolePolicy",
            "iam:DetachRolePolicy",
            "iam:PutRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:UpdateAssumeRolePolicy",
            "iam:PutRolePermissionsBoundary",
            "iam:DeleteRolePermissionsBoundary",
            "iam:UpdateRole",
            "iam:DeleteRole",
            "iam:TagRole",
            "iam:UntagRole",
            "sts:AssumeRole",
        ),  # fmt: skip
        "change or assume the stack's roles",
        "what its own task role, another job's or the functions' may do, or who may assume them",
        "these actions only on roles the job manages itself, named by ARNs outside the stack's "
        "IAM path (like arn:aws:iam::111122223333:role/report-helper)",
    ),
    Reach(
        SCHEDULES,
        (
            "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
            "scheduler:DeleteScheduleGroup",
            "scheduler:TagResource",
            "scheduler:UntagResource",
        ),  # fmt: skip
        "add, change or remove the stack's schedules",
        "which job the trigger runs, when, and with which environment",
        "schedules in a group of the job's own, named by ARNs the stack's group does not match "
        "(like arn:aws:scheduler:us-east-1:111122223333:schedule/report-jobs/*)",
    ),
    Reach(
        RULES,
        (
            "events:PutRule",
            "events:PutTargets",
            "events:RemoveTargets",
            "events:DeleteRule",
            "events:DisableRule",
        ),  # fmt: skip
        "change the stack's EventBridge rules",
        "the task state changes the supervisor moves runs on, and its reconciliation: runs "
        "that never end, or every task's events sent where the job chooses",
        "these actions on rules of the job's own, named by ARNs the stack's rules do not match "
        "(like arn:aws:events:us-east-1:111122223333:rule/report-*)",
    ),
    Reach(
        QUEUES,
        (
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:PurgeQueue",
            "sqs:SetQueueAttributes",
            "sqs:DeleteQueue",
            "sqs:AddPermission",
            "sqs:RemovePermission",
        ),  # fmt: skip
        "use or change the stack's queues of what failed",
        "the failed invocations and schedule firings an operator replays and the alarms count, "
        "callers' environment values included: read, hidden, forged or removed",
        "these actions on queues of the job's own, named by ARNs the stack's queues do not "
        "match (like arn:aws:sqs:us-east-1:111122223333:report-work)",
    ),
    Reach(
        REPOSITORIES,
        # A deploy that finds its build's tag pushed already runs the image pushed under it
        # (components/image.py, `Registry.pushed_digest`).
        (
            "ecr:PutImage",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:BatchDeleteImage",
            "ecr:DeleteRepository",
            "ecr:SetRepositoryPolicy",
            "ecr:DeleteRepositoryPolicy",
            "ecr:PutLifecyclePolicy",
            "ecr:PutImageTagMutability",
            "ecr:PutImageScanningConfiguration",
        ),  # fmt: skip
        "push to or change the stack's image repositories",
        "an image pushed under the tag a deploy is about to build is the one that deploy runs, "
        "under that job's roles",
        "these actions on repositories of the job's own, named by ARNs the stack's do not "
        "match (like arn:aws:ecr:us-east-1:111122223333:repository/report-tools)",
    ),
    Reach(
        CHECKPOINTS,
        (
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectAttributes",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
        ),  # fmt: skip
        "use another job's checkpoints",
        "its data, and what its next attempt resumes from",
        "these actions on buckets of the job's own, named by ARNs (like arn:aws:s3:::"
        "report-inputs/*); the job's own checkpoints are granted already",
        others_only=True,
    ),
    Reach(
        CHECKPOINT_BUCKET,
        (
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketVersioning",
            "s3:PutEncryptionConfiguration",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketOwnershipControls",
            "s3:PutBucketNotification",
            "s3:PutReplicationConfiguration",
            "s3:DeleteBucket",
        ),  # fmt: skip
        "change the stack's checkpoint bucket",
        "who may read every job's checkpoints, how they are encrypted and kept, and where "
        "copies and events of them go",
        "these actions on buckets of the job's own, named by ARNs (like arn:aws:s3:::"
        "report-inputs)",
    ),
    Reach(
        LOG_GROUPS,
        ("logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:StartLiveTail"),
        "read another job's or the functions' logs",
        "what that job wrote, and the story of every run, callers' refused requests included",
        "these actions on the job's own log group or on log groups outside the stack's, named "
        "by ARNs (like arn:aws:logs:us-east-1:111122223333:log-group:/report/imports:*)",
        others_only=True,
    ),
    Reach(
        LOG_GROUPS,
        ("logs:CreateLogStream", "logs:PutLogEvents"),
        "write to another job's or the functions' logs",
        "forged lines in the record an audit reads and the refused-requests alarm counts",
        "these actions on log groups outside the stack's, named by ARNs (like arn:aws:logs:"
        "us-east-1:111122223333:log-group:/report/imports:*); the job's container writes its "
        "own already",
        others_only=True,
    ),
    Reach(
        LOG_GROUPS,
        (
            "logs:DeleteLogGroup",
            "logs:DeleteLogStream",
            "logs:PutRetentionPolicy",
            "logs:AssociateKmsKey",
            "logs:DisassociateKmsKey",
            "logs:PutSubscriptionFilter",
            "logs:DeleteSubscriptionFilter",
            "logs:PutMetricFilter",
            "logs:DeleteMetricFilter",
            "logs:CreateExportTask",
            "logs:PutDataProtectionPolicy",
            "logs:DeleteDataProtectionPolicy",
        ),  # fmt: skip
        "remove, shorten or divert the stack's logs",
        "the record of what every job did, its own included, the first thing an intruder erases",
        "these actions on log groups outside the stack's, named by ARNs (like arn:aws:logs:"
        "us-east-1:111122223333:log-group:/report/imports:*)",
    ),
    Reach(
        ALARMS,
        (
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:DisableAlarmActions",
            "cloudwatch:SetAlarmState",
        ),  # fmt: skip
        "change, silence or set off the stack's alarms",
        "no page when runs are refused, records are forged or the supervisor fails, or a false "
        "one to on-call",
        "these actions on alarms of the job's own, named by ARNs the stack's do not match (like "
        "arn:aws:cloudwatch:us-east-1:111122223333:alarm:report-slow)",
    ),
    Reach(
        IMAGE_RECORDS,
        # A found image runs only if its record says the stack pushed it (components/image.py).
        (
            "ssm:PutParameter",
            "ssm:DeleteParameter",
            "ssm:DeleteParameters",
            "ssm:LabelParameterVersion",
        ),  # fmt: skip
        "write the stack's image records",
        "an image pushed by anyone recorded as the stack's own build, which the next deploy "
        "then runs under that job's roles",
        "these actions on parameters of the job's own, named by ARNs outside the stack's "
        "/<prefix>/images/ path (like arn:aws:ssm:us-east-1:111122223333:parameter/report/*)",
    ),
    Reach(
        NETWORK,
        # ModifyNetworkInterfaceAttribute puts a task's interface in other groups (its
        # resource types include security-group, Service Authorization Reference for EC2).
        (
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:ModifySecurityGroupRules",
            "ec2:DeleteSecurityGroup",
            "ec2:ModifyNetworkInterfaceAttribute",
        ),  # fmt: skip
        "change the stack's security groups",
        "every job's tasks opened to connections from anywhere, or their egress, VPC "
        "endpoints included, cut",
        "these actions on security groups of the job's own, named by their whole ARNs (like "
        "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0)",
    ),
    Reach(
        KEY,
        (
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:DisableKey",
            "kms:DisableKeyRotation",
            "kms:CreateGrant",
            "kms:RevokeGrant",
            "kms:RetireGrant",
            "kms:UpdateAlias",
            "kms:DeleteAlias",
        ),  # fmt: skip
        "administer the stack's KMS key",
        "disabled or deleted, every log, image, table, queue, topic and checkpoint it encrypts "
        "is lost; its policy or a grant gives it away",
        "these actions on keys of the job's own, named by their whole ARNs (like arn:aws:kms:"
        "us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab)",
    ),
)


@dataclass(frozen=True)
class StackResource:
    """One resource of the stack, as the ARN patterns IAM would know it by."""

    kind: str
    arns: tuple[str, ...]
    """ARNs, with `*` (any run of characters) and the placeholders of `UNKNOWN`."""
    job: str | None = None
    """The job it is the own of (its checkpoints, its log group), or None."""
    known: bool = True
    """False when its ARN is not known yet: then only a pattern with a wildcard could match it."""


def _arn(service: str, resource: str, *, regional: bool = True) -> str:
    where = "{region}:{account}" if regional else ":"
    return f"arn:{{partition}}:{service}:{where}:{resource}"


# The ARNs of each kind of the stack's resources, `<name>` standing for the resource's name
# (Service Authorization Reference, each service's "Resource types" table). A cluster's tasks,
# services, container instances and task sets are named under it.
SHAPES: dict[str, tuple[str, ...]] = {
    RUNS_TABLE: (_arn("dynamodb", "table/<name>"), _arn("dynamodb", "table/<name>/*")),
    TOPIC: (_arn("sns", "<name>"),),
    FUNCTIONS: (_arn("lambda", "function:<name>"), _arn("lambda", "function:<name>:*")),
    CLUSTER: (
        _arn("ecs", "cluster/<name>"),
        *(
            _arn("ecs", f"{kind}/<name>/*")
            for kind in ("task", "service", "container-instance", "task-set")
        ),
    ),
    TASK_DEFINITIONS: (_arn("ecs", "task-definition/<name>:*"),),
    ROLES: ("arn:{partition}:iam::{account}:role/<name>",),
    SCHEDULES: (_arn("scheduler", "schedule-group/<name>"), _arn("scheduler", "schedule/<name>/*")),
    RULES: (_arn("events", "rule/<name>"),),
    QUEUES: (_arn("sqs", "<name>"),),
    REPOSITORIES: (_arn("ecr", "repository/<name>"),),
    CHECKPOINT_BUCKET: (_arn("s3", "<name>", regional=False),),
    CHECKPOINTS: (_arn("s3", "<name>/{key}", regional=False),),
    LOG_GROUPS: (_arn("logs", "log-group:<name>"), _arn("logs", "log-group:<name>:log-stream:*")),
    KEY: (_arn("kms", "<name>"),),
    ALARMS: (_arn("cloudwatch", "alarm:<name>"),),
    # A parameter's ARN holds its name without the leading `/` (SSM, "Working with parameter
    # hierarchies"): `/<prefix>/images/<job>/<tag>` is `parameter/<prefix>/images/<job>/<tag>`.
    IMAGE_RECORDS: (_arn("ssm", "parameter/<name>"),),
    NETWORK: (_arn("ec2", "security-group/<name>"),),
}


def stack_resource(
    kind: str, name: str, job: str | None = None, *, known: bool = True
) -> StackResource:
    """The resource of `kind` named `name`, by its ARNs."""
    return StackResource(kind, tuple(a.replace("<name>", name) for a in SHAPES[kind]), job, known)


@dataclass(frozen=True)
class StackNames:
    """The names of the stack's resources that the catalogue protects. A name may hold `*` or
    placeholders (`UNKNOWN`) where it is not known."""

    tables: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    task_families: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    """Each role's path (without its leading `/`) and name: `longjobs-dev/*`."""
    schedule_groups: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()
    checkpoint_buckets: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    """Every job: each has its prefix `<job>/` in the checkpoint buckets."""
    log_groups: tuple[tuple[str, str | None], ...] = ()
    """Each log group's name, with the job it is the own of (None: a function's, the VPC's)."""
    keys: tuple[tuple[str, bool], ...] = ()
    """The key's resource (`key/<id>`, `alias/<name>`), with whether it is known."""
    alarms: tuple[str, ...] = ()
    image_records: tuple[str, ...] = ()
    """The path of the image records, without its leading `/`, and `/*`: `longjobs-dev/images/*`."""
    security_groups: tuple[tuple[str, bool], ...] = ()
    """Each security group's id, with whether it is known (a group the stack is about to
    create has no id yet)."""

    def resources(self) -> list[StackResource]:
        """The stack's resources, by kind."""
        named = (
            (RUNS_TABLE, self.tables), (TOPIC, self.topics), (FUNCTIONS, self.functions),
            (CLUSTER, self.clusters), (TASK_DEFINITIONS, self.task_families), (ROLES, self.roles),
            (SCHEDULES, self.schedule_groups), (RULES, self.rules), (QUEUES, self.queues),
            (REPOSITORIES, self.repositories), (CHECKPOINT_BUCKET, self.checkpoint_buckets),
        )  # fmt: skip
        return [
            *(stack_resource(kind, name) for kind, names in named for name in names),
            *(
                stack_resource(CHECKPOINTS, f"{bucket}/{job}", job)
                for bucket in self.checkpoint_buckets
                for job in self.jobs
            ),
            *(stack_resource(LOG_GROUPS, name, job) for name, job in self.log_groups),
            *(stack_resource(KEY, key, known=known) for key, known in self.keys),
            *(stack_resource(ALARMS, name) for name in self.alarms),
            *(stack_resource(IMAGE_RECORDS, name) for name in self.image_records),
            *(stack_resource(NETWORK, g, known=known) for g, known in self.security_groups),
        ]


@dataclass(frozen=True)
class Finding:
    """A statement that reaches the stack: which entry, by which of the entry's actions, on
    which of the statement's resources."""

    reach: Reach
    actions: tuple[str, ...]
    resources: tuple[str, ...]


def findings(
    grants: Callable[[str], bool],
    resources: Sequence[str],
    stack: Sequence[StackResource],
    job: str | None,
) -> list[Finding]:
    """The entries an Allow statement reaches, in catalogue order: `grants` says whether it
    grants an action, `resources` are its resource patterns, `job` the job whose role it is in."""
    found = []
    for reach in CATALOGUE:
        actions = tuple(a for a in reach.actions if grants(a))
        if not actions:
            continue
        targets = [
            r
            for r in stack
            if r.kind == reach.kind
            and not (reach.others_only and r.job is not None and r.job == job)
        ]
        reached = tuple(p for p in resources if any(could_match(p, t) for t in targets))
        if reached:
            found.append(Finding(reach, actions, reached))
    return found


def could_match(pattern: str, resource: StackResource) -> bool:
    """Whether some ARN matches both the IAM resource `pattern` and one of the resource's."""
    if not resource.known and "*" not in pattern and "?" not in pattern:
        return False
    return any(_meets(pattern, arn) for arn in resource.arns)


@lru_cache(maxsize=4096)
def _meets(pattern: str, arn: str) -> bool:
    return meets(pattern, _template(arn))


@lru_cache(maxsize=1024)
def _template(arn: str) -> tuple[Step, ...]:
    """The steps of an ARN pattern (`UNKNOWN`)."""
    steps: list[Step] = []
    rest = arn
    while rest:
        token = next((t for t in UNKNOWN if rest.startswith(t)), None)
        if token is not None:
            steps.append((UNKNOWN[token], True))
            rest = rest[len(token) :]
            continue
        steps.append((_NAME_PART, True) if rest[0] == "*" else (rest[0].lower(), False))
        rest = rest[1:]
    return tuple(steps)


def covering(patterns: Sequence[str], actions: Sequence[str]) -> list[str]:
    """Each of `patterns` that covers some of `actions`, for a message: `'dynamodb:Put*'
    (covering dynamodb:PutItem)`."""
    shown = []
    for pattern in patterns:
        covered = [a for a in actions if action_matches(pattern, a)]
        if covered:
            also = "" if covered == [pattern] else f" (covering {', '.join(covered)})"
            shown.append(f"{pattern!r}{also}")
    return shown


# AWS managed policies whose grants reach the stack's own resources, each with what it would let
# a job do there, refused in a job's `managedPolicyArns` by the config and on any role by the
# policy pack. Their documents are AWS's and may grow, so they are named, not read (AWS Managed
# Policy Reference Guide, each policy's page). Customer managed policies are not read by either:
# the stack cannot see them (docs/security.md).
MANAGED_POLICIES: dict[str, str] = {
    "AdministratorAccess": "allows every action on every resource, the stack's own included",
    "PowerUserAccess": "allows every action but IAM's and Organizations': writing the runs "
    "table, invoking the trigger, running and stopping any job's tasks",
    "IAMFullAccess": "changes every role of the account, the stack's and the jobs' included",
    "ReadOnlyAccess": "reads every table and log group: every run's environment values, every "
    "job's logs",
    "AmazonECS_FullAccess": "runs, stops and registers task definitions in every cluster, "
    "passing roles to ECS: running code as another job",
    "AmazonDynamoDBFullAccess": "writes and deletes every table, the runs table included",
    "AmazonDynamoDBReadOnlyAccess": "reads every table: every run's environment values",
    "AWSLambda_FullAccess": "invokes and changes every function, the trigger and the supervisor "
    "included",
    "AmazonSNSFullAccess": "publishes to and changes every topic, the notifications topic included",
    "AmazonSQSFullAccess": "sends to, reads and purges every queue, the queues of what failed "
    "included",
    "AmazonEC2ContainerRegistryFullAccess": "pushes to and deletes every repository, the jobs' "
    "included",
    "AmazonEC2ContainerRegistryPowerUser": "pushes images to every repository, the jobs' included",
    "AmazonS3FullAccess": "reads and writes every bucket, every job's checkpoints included",
    "CloudWatchFullAccess": "deletes and silences every alarm and log group, and publishes to "
    "every topic",
    "CloudWatchFullAccessV2": "deletes and silences every alarm and log group",
    "CloudWatchLogsFullAccess": "reads, deletes and diverts every log group, the functions' and "
    "other jobs' included",
    "AmazonSSMFullAccess": "writes every parameter, the stack's image records included",
    "AmazonEC2FullAccess": "changes every security group, the tasks' and the endpoints' included",
    "AmazonEventBridgeFullAccess": "changes every rule, the supervisor's included",
    "AmazonEventBridgeSchedulerFullAccess": "changes every schedule, the stack's included",
}


def managed_policy_problem(arn: str) -> str | None:
    """Why a managed policy may not be attached to a job's role, or None: by its name (the
    ARN's last part), whatever its path, case or partition."""
    name = arn.rsplit("/", 1)[-1].lower()
    found = next((p for p in MANAGED_POLICIES if p.lower() == name), None)
    if found is None:
        return None
    return (
        f"{arn} {MANAGED_POLICIES[found]}; name the actions on the job's own resources in "
        "policyStatements instead"
    )
