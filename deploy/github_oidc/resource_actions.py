"""What `pulumi up` and `pulumi destroy` ask of AWS for each kind of resource the program
declares: the provider's create, read, update, delete and tag calls, as IAM actions.

The deploy role's grants (permissions.py) scope these actions to the stacks' resources;
tests/deploy/test_github_oidc.py holds the two together: every action a declared kind needs is
granted, and every granted action is one a declared kind or the preview's lookups need.
"""

from __future__ import annotations

TAGS = ("TagResource", "UntagResource", "ListTagsForResource")


def _each(service: str, *actions: str) -> tuple[str, ...]:
    return tuple(f"{service}:{action}" for action in actions)


PASS_ROLE = ("iam:PassRole",)
"""A resource that names a role for a service to assume (a task's, a function's, a schedule's,
a flow log's) passes it."""

ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:cloudwatch/eventRule:EventRule": _each(
        "events", "PutRule", "DeleteRule", "DescribeRule", *TAGS
    ),
    "aws:cloudwatch/eventTarget:EventTarget": _each(
        "events", "PutTargets", "RemoveTargets", "ListTargetsByRule"
    ),
    "aws:cloudwatch/logGroup:LogGroup": _each(
        "logs", "CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "PutRetentionPolicy",
        "DeleteRetentionPolicy", "AssociateKmsKey", "DisassociateKmsKey", *TAGS, "TagLogGroup",
        "ListTagsLogGroup",
    ),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": _each(
        "logs", "PutMetricFilter", "DeleteMetricFilter", "DescribeMetricFilters"
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _each(
        "cloudwatch", "PutMetricAlarm", "DeleteAlarms", "DescribeAlarms", *TAGS
    ),
    "aws:dynamodb/resourcePolicy:ResourcePolicy": _each(
        "dynamodb", "PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy"
    ),
    "aws:dynamodb/table:Table": _each(
        "dynamodb", "CreateTable", "DeleteTable", "DescribeTable", "UpdateTable",
        "DescribeContinuousBackups", "UpdateContinuousBackups", "DescribeTimeToLive",
        "UpdateTimeToLive", "TagResource", "UntagResource", "ListTagsOfResource",
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _each(
        "ec2", "DescribeSecurityGroups", "RevokeSecurityGroupEgress",
        "RevokeSecurityGroupIngress", "CreateTags", "DeleteTags",
    ),
    "aws:ec2/flowLog:FlowLog": (
        *_each("ec2", "CreateFlowLogs", "DeleteFlowLogs", "DescribeFlowLogs", "CreateTags"),
        *PASS_ROLE,
    ),
    "aws:ec2/securityGroup:SecurityGroup": _each(
        "ec2", "CreateSecurityGroup", "DeleteSecurityGroup", "DescribeSecurityGroups",
        "DescribeSecurityGroupRules", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress",
        "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "CreateTags", "DeleteTags",
        # Deleting a group waits for the network interfaces of the tasks that used it.
        "DescribeNetworkInterfaces",
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _each(
        "ec2", "CreateVpcEndpoint", "DeleteVpcEndpoints", "ModifyVpcEndpoint",
        "DescribeVpcEndpoints", "DescribePrefixLists", "CreateTags",
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _each(
        "ecr", "PutLifecyclePolicy", "GetLifecyclePolicy", "DeleteLifecyclePolicy"
    ),
    # forceDelete: DeleteRepository with force asks for BatchDeleteImage too.
    "aws:ecr/repository:Repository": _each(
        "ecr", "CreateRepository", "DeleteRepository", "DescribeRepositories", "BatchDeleteImage",
        "PutImageScanningConfiguration", "PutImageTagMutability", *TAGS,
    ),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": _each(
        "ecr", "SetRepositoryPolicy", "GetRepositoryPolicy", "DeleteRepositoryPolicy"
    ),
    "aws:ecs/cluster:Cluster": _each(
        "ecs", "CreateCluster", "DeleteCluster", "DescribeClusters", "UpdateCluster",
        "UpdateClusterSettings", *TAGS,
    ),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": _each(
        "ecs", "PutClusterCapacityProviders", "DescribeClusters"
    ),
    "aws:ecs/service:Service": _each(
        "ecs", "CreateService", "DeleteService", "DescribeServices", "UpdateService", *TAGS
    ),
    "aws:ecs/taskDefinition:TaskDefinition": (
        *_each(
            "ecs", "RegisterTaskDefinition", "DescribeTaskDefinition", "DeregisterTaskDefinition",
            *TAGS,
        ),
        *PASS_ROLE,
    ),
    "aws:iam/role:Role": _each(
        "iam", "CreateRole", "DeleteRole", "GetRole", "UpdateRole", "UpdateAssumeRolePolicy",
        "TagRole", "UntagRole", "ListRoleTags", "ListRolePolicies", "ListAttachedRolePolicies",
        "AttachRolePolicy", "DetachRolePolicy", "ListInstanceProfilesForRole",
    ),
    "aws:iam/rolePolicy:RolePolicy": _each(
        "iam", "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy"
    ),
    "aws:kms/alias:Alias": _each("kms", "CreateAlias", "DeleteAlias", "UpdateAlias"),
    # The key's use by the services that encrypt with it as the deploying principal: DynamoDB,
    # ECR and Fargate's storage create grants, Scheduler encrypts a schedule's input.
    "aws:kms/key:Key": _each(
        "kms", "CreateKey", "DescribeKey", "GetKeyPolicy", "PutKeyPolicy",
        "GetKeyRotationStatus", "EnableKeyRotation", "ListResourceTags", "TagResource",
        "UntagResource", "ScheduleKeyDeletion", "CreateGrant", "GenerateDataKey", "Decrypt",
    ),
    "aws:lambda/alias:Alias": _each(
        "lambda", "CreateAlias", "DeleteAlias", "GetAlias", "UpdateAlias"
    ),
    "aws:lambda/function:Function": (
        *_each(
            "lambda", "CreateFunction", "DeleteFunction", "GetFunction",
            "GetFunctionConfiguration", "UpdateFunctionCode", "UpdateFunctionConfiguration",
            "PublishVersion", "ListVersionsByFunction", "GetFunctionCodeSigningConfig",
            "PutFunctionConcurrency", "DeleteFunctionConcurrency", "TagResource",
            "UntagResource", "ListTags",
        ),
        *PASS_ROLE,
    ),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": _each(
        "lambda", "PutFunctionEventInvokeConfig", "GetFunctionEventInvokeConfig",
        "UpdateFunctionEventInvokeConfig", "DeleteFunctionEventInvokeConfig",
    ),
    "aws:lambda/permission:Permission": _each(
        "lambda", "AddPermission", "RemovePermission", "GetPolicy"
    ),
    # The provider reads every configuration of a bucket; forceDestroy empties it first.
    "aws:s3/bucket:Bucket": _each(
        "s3", "CreateBucket", "DeleteBucket", "ListBucket", "ListBucketVersions",
        "DeleteObject", "DeleteObjectVersion", "GetBucketLocation", "GetBucketTagging",
        "PutBucketTagging", "GetBucketAcl", "GetBucketCORS", "GetBucketWebsite",
        "GetAccelerateConfiguration", "GetBucketRequestPayment",
        "GetBucketObjectLockConfiguration", "GetReplicationConfiguration", "GetBucketPolicy",
        "GetBucketVersioning", "GetEncryptionConfiguration", "GetLifecycleConfiguration",
        "GetBucketLogging",
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _each(
        "s3", "PutLifecycleConfiguration", "GetLifecycleConfiguration"
    ),
    "aws:s3/bucketLogging:BucketLogging": _each("s3", "PutBucketLogging", "GetBucketLogging"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _each(
        "s3", "PutBucketOwnershipControls", "GetBucketOwnershipControls"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _each(
        "s3", "PutBucketPolicy", "GetBucketPolicy", "DeleteBucketPolicy"
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _each(
        "s3", "PutBucketPublicAccessBlock", "GetBucketPublicAccessBlock"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _each(
        "s3", "PutEncryptionConfiguration", "GetEncryptionConfiguration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _each(
        "s3", "PutBucketVersioning", "GetBucketVersioning"
    ),
    "aws:scheduler/schedule:Schedule": (
        *_each("scheduler", "CreateSchedule", "DeleteSchedule", "GetSchedule", "UpdateSchedule"),
        *PASS_ROLE,
    ),
    "aws:scheduler/scheduleGroup:ScheduleGroup": _each(
        "scheduler", "CreateScheduleGroup", "DeleteScheduleGroup", "GetScheduleGroup", *TAGS
    ),
    "aws:sns/topic:Topic": _each(
        "sns", "CreateTopic", "DeleteTopic", "GetTopicAttributes", "SetTopicAttributes", *TAGS
    ),
    "aws:sns/topicPolicy:TopicPolicy": _each("sns", "SetTopicAttributes", "GetTopicAttributes"),
    "aws:sns/topicSubscription:TopicSubscription": _each(
        "sns", "Subscribe", "Unsubscribe", "GetSubscriptionAttributes",
        "SetSubscriptionAttributes", "ListSubscriptionsByTopic",
    ),
    "aws:sqs/queue:Queue": _each(
        "sqs", "CreateQueue", "DeleteQueue", "GetQueueAttributes", "SetQueueAttributes",
        "TagQueue", "UntagQueue", "ListQueueTags",
    ),
    "aws:sqs/queuePolicy:QueuePolicy": _each("sqs", "SetQueueAttributes", "GetQueueAttributes"),
    # The record of the images the stack pushed (components/image.py).
    "aws:ssm/parameter:Parameter": _each(
        "ssm", "PutParameter", "GetParameter", "GetParameters", "DeleteParameter",
        "DescribeParameters", "AddTagsToResource", "RemoveTagsFromResource",
        "ListTagsForResource",
    ),
    # A job's image, built and pushed to its repository (pulling its layers for the cache).
    "docker:index/image:Image": _each(
        "ecr", "GetAuthorizationToken", "BatchCheckLayerAvailability", "InitiateLayerUpload",
        "UploadLayerPart", "CompleteLayerUpload", "PutImage", "BatchGetImage",
        "GetDownloadUrlForLayer",
    ),
    # network.create: awsx's VPC, whose own resources (subnets, route tables, gateways, Elastic
    # IPs) are opaque under mocks.
    "awsx:ec2:Vpc": _each(
        "ec2", "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "DescribeVpcAttribute",
        "DescribeVpcs", "DescribeAvailabilityZones", "CreateSubnet", "DeleteSubnet",
        "DescribeSubnets", "CreateRouteTable", "DeleteRouteTable", "AssociateRouteTable",
        "DisassociateRouteTable", "DescribeRouteTables", "CreateRoute", "DeleteRoute",
        "CreateInternetGateway", "DeleteInternetGateway", "AttachInternetGateway",
        "DetachInternetGateway", "DescribeInternetGateways", "CreateNatGateway",
        "DeleteNatGateway", "DescribeNatGateways", "AllocateAddress", "ReleaseAddress",
        "DisassociateAddress", "DescribeAddresses", "CreateTags",
    ),
}  # fmt: skip
