"""What each role may do: exactly the calls `pulumi preview` and `pulumi up` of the stacks make.

One catalogue. Each grant names its actions and the resources of a stack they act on, written
with the names the program gives (the prefix, the log groups' path, the checkpoint buckets'
names: components/config/names.py), so a role may touch its stacks' resources and no other. The
actions IAM lets no policy scope to a resource (`ecr:GetAuthorizationToken`, EC2's creations and
descriptions, `kms:CreateKey`) are granted on `*`, each only to the stacks that need it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components.config.names import ACCESS_LOGS, CHECKPOINTS, bucket_name
from deploy.github_oidc.settings import LONGJOBS, Settings, Stack


@dataclass(frozen=True)
class Grant:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    """ARN templates: {partition}, {account}, {region}, {prefix}, {project}, {stack},
    {checkpoints}, {access_logs} (the buckets' names) and {role} (the role's own ARN)."""
    needs: Callable[[Stack], bool] = lambda stack: True
    """Whether a stack needs it (its config's `network.create`, `kms`)."""


def _kms(stack: Stack) -> bool:
    return stack.kms is not None


def _network(stack: Stack) -> bool:
    return stack.creates_network


ECS = "arn:{partition}:ecs:{region}:{account}:"
EC2 = "arn:{partition}:ec2:{region}:{account}:*"
TAGS = ("TagResource", "UntagResource", "ListTagsForResource")

# What `pulumi preview` asks AWS: the program's lookups (offline/program.py's mocks answer the
# same ones), and nothing else; a preview reads no resource's state.
PREVIEW = (
    Grant("WhoDeploys", ("iam:GetRole",), ("{role}",)),
    Grant(
        "PushedImages",
        ("ssm:GetParametersByPath",),
        ("arn:{partition}:ssm:{region}:{account}:parameter/{prefix}/images/*",),
    ),
    Grant(
        "Lookups",
        (
            "ec2:DescribeVpcs",
            "ec2:DescribeSubnets",
            "ec2:DescribeAvailabilityZones",
            "ecr:GetAuthorizationToken",
        ),
        ("*",),
    ),
    # The program lists the account's repositories to find the stack's: IAM authorizes a list
    # of every repository against each one's ARN.
    Grant(
        "Repositories",
        ("ecr:DescribeRepositories",),
        ("arn:{partition}:ecr:{region}:{account}:repository/*",),
    ),
    Grant(
        "JobImages",
        ("ecr:ListImages",),
        ("arn:{partition}:ecr:{region}:{account}:repository/{prefix}/*",),
    ),
)

DEPLOY = PREVIEW + (
    Grant(
        "Cluster",
        (
            "ecs:CreateCluster",
            "ecs:DeleteCluster",
            "ecs:DescribeClusters",
            "ecs:UpdateCluster",
            "ecs:UpdateClusterSettings",
            "ecs:PutClusterCapacityProviders",
            "ecs:CreateService",
            "ecs:DeleteService",
            "ecs:DescribeServices",
            "ecs:UpdateService",
            "ecs:RegisterTaskDefinition",
            *(f"ecs:{a}" for a in TAGS),
        ),
        (
            ECS + "cluster/{prefix}",
            ECS + "service/{prefix}/*",
            ECS + "task-definition/{prefix}-*:*",
        ),
    ),
    Grant(
        "TaskDefinitionRevisions",
        ("ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"),
        ("*",),
    ),
    Grant(
        "JobRepositories",
        (
            "ecr:CreateRepository",
            "ecr:DeleteRepository",
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:BatchDeleteImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
            "ecr:PutLifecyclePolicy",
            "ecr:GetLifecyclePolicy",
            "ecr:DeleteLifecyclePolicy",
            "ecr:SetRepositoryPolicy",
            "ecr:GetRepositoryPolicy",
            "ecr:DeleteRepositoryPolicy",
            "ecr:PutImageScanningConfiguration",
            "ecr:PutImageTagMutability",
            *(f"ecr:{a}" for a in TAGS),
        ),
        ("arn:{partition}:ecr:{region}:{account}:repository/{prefix}/*",),
    ),
    Grant(
        "ImageRecords",
        (
            "ssm:PutParameter",
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:DeleteParameter",
            "ssm:AddTagsToResource",
            "ssm:RemoveTagsFromResource",
            "ssm:ListTagsForResource",
        ),
        ("arn:{partition}:ssm:{region}:{account}:parameter/{prefix}/images/*",),
    ),
    Grant("DescribeParameters", ("ssm:DescribeParameters",), ("*",)),
    Grant(
        "Roles",
        (
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:GetRole",
            "iam:UpdateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:ListRoleTags",
            "iam:PutRolePolicy",
            "iam:GetRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:AttachRolePolicy",
            "iam:DetachRolePolicy",
            "iam:ListInstanceProfilesForRole",
            "iam:PassRole",
        ),
        ("arn:{partition}:iam::{account}:role/{prefix}/*",),
    ),
    Grant(
        "LogGroups",
        (
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DeleteRetentionPolicy",
            "logs:PutMetricFilter",
            "logs:DeleteMetricFilter",
            "logs:AssociateKmsKey",
            "logs:DisassociateKmsKey",
            "logs:TagResource",
            "logs:UntagResource",
            "logs:ListTagsForResource",
            "logs:TagLogGroup",
            "logs:ListTagsLogGroup",
            "logs:DescribeMetricFilters",
        ),
        ("arn:{partition}:logs:{region}:{account}:log-group:/{project}/{stack}/*",),
    ),
    Grant("DescribeLogs", ("logs:DescribeLogGroups",), ("*",)),
    Grant(
        "Functions",
        (
            "lambda:CreateFunction",
            "lambda:DeleteFunction",
            "lambda:GetFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:PublishVersion",
            "lambda:ListVersionsByFunction",
            "lambda:GetFunctionCodeSigningConfig",
            "lambda:CreateAlias",
            "lambda:DeleteAlias",
            "lambda:GetAlias",
            "lambda:UpdateAlias",
            "lambda:AddPermission",
            "lambda:RemovePermission",
            "lambda:GetPolicy",
            "lambda:PutFunctionEventInvokeConfig",
            "lambda:GetFunctionEventInvokeConfig",
            "lambda:UpdateFunctionEventInvokeConfig",
            "lambda:DeleteFunctionEventInvokeConfig",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
            "lambda:TagResource",
            "lambda:UntagResource",
            "lambda:ListTags",
        ),
        ("arn:{partition}:lambda:{region}:{account}:function:{prefix}-*",),
    ),
    Grant(
        "Queues",
        (
            "sqs:CreateQueue",
            "sqs:DeleteQueue",
            "sqs:GetQueueAttributes",
            "sqs:SetQueueAttributes",
            "sqs:TagQueue",
            "sqs:UntagQueue",
            "sqs:ListQueueTags",
        ),
        ("arn:{partition}:sqs:{region}:{account}:{prefix}-*",),
    ),
    Grant(
        "Topic",
        (
            "sns:CreateTopic",
            "sns:DeleteTopic",
            "sns:GetTopicAttributes",
            "sns:SetTopicAttributes",
            "sns:Subscribe",
            "sns:ListSubscriptionsByTopic",
            "sns:TagResource",
            "sns:UntagResource",
            "sns:ListTagsForResource",
        ),
        ("arn:{partition}:sns:{region}:{account}:{prefix}-*",),
    ),
    # A subscription's ARN is its topic's and an id; IAM authorizes these on `*` only.
    Grant(
        "Subscriptions",
        ("sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes"),
        ("*",),
    ),
    Grant(
        "Buckets",
        (
            "s3:CreateBucket",
            "s3:DeleteBucket",
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:GetBucketLocation",
            "s3:GetBucketPolicy",
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
            "s3:GetBucketVersioning",
            "s3:PutBucketVersioning",
            "s3:GetEncryptionConfiguration",
            "s3:PutEncryptionConfiguration",
            "s3:GetLifecycleConfiguration",
            "s3:PutLifecycleConfiguration",
            "s3:GetBucketLogging",
            "s3:PutBucketLogging",
            "s3:GetBucketOwnershipControls",
            "s3:PutBucketOwnershipControls",
            "s3:GetBucketPublicAccessBlock",
            "s3:PutBucketPublicAccessBlock",
            "s3:GetBucketTagging",
            "s3:PutBucketTagging",
            "s3:GetBucketAcl",
            "s3:GetBucketCORS",
            "s3:GetBucketWebsite",
            "s3:GetAccelerateConfiguration",
            "s3:GetBucketRequestPayment",
            "s3:GetBucketObjectLockConfiguration",
            "s3:GetReplicationConfiguration",
        ),
        ("arn:{partition}:s3:::{checkpoints}", "arn:{partition}:s3:::{access_logs}"),
    ),
    # `pulumi destroy` empties the buckets (forceDestroy), every version of every object.
    Grant(
        "EmptyBuckets",
        ("s3:DeleteObject", "s3:DeleteObjectVersion"),
        ("arn:{partition}:s3:::{checkpoints}/*", "arn:{partition}:s3:::{access_logs}/*"),
    ),
    Grant(
        "RunsTable",
        (
            "dynamodb:CreateTable",
            "dynamodb:DeleteTable",
            "dynamodb:DescribeTable",
            "dynamodb:UpdateTable",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:UpdateContinuousBackups",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:UpdateTimeToLive",
            "dynamodb:PutResourcePolicy",
            "dynamodb:GetResourcePolicy",
            "dynamodb:DeleteResourcePolicy",
            "dynamodb:TagResource",
            "dynamodb:UntagResource",
            "dynamodb:ListTagsOfResource",
        ),
        ("arn:{partition}:dynamodb:{region}:{account}:table/{prefix}-runs",),
    ),
    Grant(
        "Rules",
        (
            "events:PutRule",
            "events:DeleteRule",
            "events:DescribeRule",
            "events:PutTargets",
            "events:RemoveTargets",
            "events:ListTargetsByRule",
            "events:TagResource",
            "events:UntagResource",
            "events:ListTagsForResource",
        ),
        ("arn:{partition}:events:{region}:{account}:rule/{prefix}-*",),
    ),
    Grant(
        "Schedules",
        (
            "scheduler:CreateScheduleGroup",
            "scheduler:DeleteScheduleGroup",
            "scheduler:GetScheduleGroup",
            "scheduler:CreateSchedule",
            "scheduler:DeleteSchedule",
            "scheduler:GetSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:TagResource",
            "scheduler:UntagResource",
            "scheduler:ListTagsForResource",
        ),
        (
            "arn:{partition}:scheduler:{region}:{account}:schedule-group/{prefix}",
            "arn:{partition}:scheduler:{region}:{account}:schedule/{prefix}/*",
        ),
    ),
    Grant(
        "Alarms",
        (
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
            "cloudwatch:ListTagsForResource",
        ),
        ("arn:{partition}:cloudwatch:{region}:{account}:alarm:{prefix}-*",),
    ),
    # EC2 names no resource by name: the tasks' security group (and a VPC of the stack's own)
    # are made and changed by id, in the stack's region and account.
    Grant(
        "SecurityGroups",
        (
            "ec2:CreateSecurityGroup",
            "ec2:DeleteSecurityGroup",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ),
        (EC2,),
    ),
    Grant(
        "DescribeNetwork",
        (
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSecurityGroupRules",
            "ec2:DescribeNetworkInterfaces",
        ),
        ("*",),
    ),
    Grant(
        "Network",
        (
            "ec2:CreateVpc",
            "ec2:DeleteVpc",
            "ec2:ModifyVpcAttribute",
            "ec2:DescribeVpcAttribute",
            "ec2:CreateSubnet",
            "ec2:DeleteSubnet",
            "ec2:CreateRouteTable",
            "ec2:DeleteRouteTable",
            "ec2:AssociateRouteTable",
            "ec2:DisassociateRouteTable",
            "ec2:CreateRoute",
            "ec2:DeleteRoute",
            "ec2:CreateInternetGateway",
            "ec2:DeleteInternetGateway",
            "ec2:AttachInternetGateway",
            "ec2:DetachInternetGateway",
            "ec2:CreateNatGateway",
            "ec2:DeleteNatGateway",
            "ec2:AllocateAddress",
            "ec2:ReleaseAddress",
            "ec2:DisassociateAddress",
            "ec2:CreateVpcEndpoint",
            "ec2:DeleteVpcEndpoints",
            "ec2:ModifyVpcEndpoint",
            "ec2:CreateFlowLogs",
            "ec2:DeleteFlowLogs",
        ),
        (EC2,),
        _network,
    ),
    Grant(
        "DescribeVpc",
        (
            "ec2:DescribeRouteTables",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeNatGateways",
            "ec2:DescribeAddresses",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribePrefixLists",
            "ec2:DescribeFlowLogs",
        ),
        ("*",),
        _network,
    ),
    Grant("CreateKey", ("kms:CreateKey",), ("*",), _kms),
    # The key's own policy decides too; DynamoDB, ECR and Fargate's storage create grants as
    # the deploying principal, and Scheduler encrypts a schedule's input as it (README, "Deploy
    # for real").
    Grant(
        "Key",
        (
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:PutKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:EnableKeyRotation",
            "kms:ListResourceTags",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:ScheduleKeyDeletion",
            "kms:CreateGrant",
            "kms:GenerateDataKey",
            "kms:Decrypt",
        ),
        ("arn:{partition}:kms:{region}:{account}:key/*",),
        _kms,
    ),
    Grant(
        "KeyAlias",
        ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
        (
            "arn:{partition}:kms:{region}:{account}:alias/{prefix}",
            "arn:{partition}:kms:{region}:{account}:key/*",
        ),
        _kms,
    ),
)


def _names(stack: Stack, partition: str, account: str, role: str) -> dict[str, str]:
    buckets = {
        kind.replace("-", "_"): (
            f"{stack.prefix}-{kind}-*"
            if stack.region == "*"
            else bucket_name(stack.prefix, account, stack.region, kind)
        )
        for kind in (CHECKPOINTS, ACCESS_LOGS)
    }
    return {
        "partition": partition,
        "account": account,
        "region": stack.region,
        "prefix": stack.prefix,
        "project": LONGJOBS,
        "stack": stack.name,
        "role": role,
        **buckets,
    }


MAX_POLICY = 6144
"""A managed policy's most characters, white space not counted ("IAM and AWS STS quotas", IAM
User Guide); a role's inline policies may hold 10,240 together, too few for the deploy role."""


def statements(
    grants: tuple[Grant, ...], settings: Settings, partition: str, account: str, role: str
) -> list[dict[str, Any]]:
    """The grants the settings' stacks need, as statements; `role`: the role's own ARN."""
    found = []
    for grant in grants:
        resources = sorted(
            {
                template.format(**_names(stack, partition, account, role))
                for stack in settings.stacks
                if grant.needs(stack)
                for template in grant.resources
            }
        )
        if resources:
            found.append(
                {
                    "Sid": grant.sid,
                    "Effect": "Allow",
                    "Action": sorted(grant.actions),
                    "Resource": resources,
                }
            )
    return found


def _size(document: dict[str, Any]) -> int:
    return len("".join(json.dumps(document, separators=(",", ":")).split()))


def documents(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements in as few managed policies as fit, in their order."""
    packed: list[dict[str, Any]] = []
    for statement in found:
        last = packed[-1]["Statement"] if packed else None
        if (
            last is not None
            and _size({"Version": "2012-10-17", "Statement": [*last, statement]}) <= MAX_POLICY
        ):
            last.append(statement)
            continue
        document = {"Version": "2012-10-17", "Statement": [statement]}
        if _size(document) > MAX_POLICY:
            raise ValueError(f"statement {statement['Sid']} alone is over {MAX_POLICY} characters")
        packed.append(document)
    return packed
