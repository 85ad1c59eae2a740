"""Rules on one resource each: log retention, ECR scanning and tags, Lambda function URLs,
encryption of queues, topics and tables, schedules' retries and dead letters."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .props import get, has, is_set


def log_retention(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:cloudwatch/logGroup:LogGroup":
        return
    # 0, like no value, keeps events forever.
    if not has(args.props, "retentionInDays") or get(args.props, "retentionInDays") == 0:
        report_violation(
            "The log group keeps its events forever: set retentionInDays "
            "(for a longjobs job: logRetentionDays), e.g. 30.",
            None,
        )


def ecr_scan_on_push(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:ecr/repository:Repository":
        return
    if get(get(args.props, "imageScanningConfiguration", {}), "scanOnPush") is not True:
        report_violation(
            "The repository does not scan images on push: set "
            "imageScanningConfiguration: {scanOnPush: true}.",
            None,
        )


def ecr_immutable_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:ecr/repository:Repository":
        return
    mutability = get(args.props, "imageTagMutability", "MUTABLE")
    if mutability != "IMMUTABLE":
        report_violation(
            f"The repository's tags are {mutability}: set imageTagMutability: IMMUTABLE so that "
            "a tag always names the image that was scanned and deployed.",
            None,
        )


def lambda_url_authorized(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:lambda/functionUrl:FunctionUrl":
        return
    if get(args.props, "authorizationType") == "NONE":
        report_violation(
            "The function URL lets anyone on the internet invoke the function "
            "(authorizationType: NONE): set authorizationType: AWS_IAM and sign requests, or "
            "put the function behind an API Gateway route with an authorizer.",
            None,
        )


def sqs_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:sqs/queue:Queue":
        return
    managed = get(args.props, "sqsManagedSseEnabled") is True
    if not managed and not is_set(args.props, "kmsMasterKeyId"):
        report_violation(
            "The queue is not encrypted at rest: set sqsManagedSseEnabled: true, or "
            "kmsMasterKeyId for a KMS key.",
            None,
        )


def sns_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:sns/topic:Topic":
        return
    if not is_set(args.props, "kmsMasterKeyId"):
        report_violation(
            "The topic is not encrypted at rest: set kmsMasterKeyId "
            "(alias/aws/sns, or a customer managed key that the publishers may use).",
            None,
        )


def dynamodb_encryption(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """DynamoDB encrypts every table; `serverSideEncryption.enabled: false` only picks the AWS
    owned key, as leaving it out does. Refuse the explicit false, which reads as "unencrypted"."""
    if args.resource_type != "aws:dynamodb/table:Table":
        return
    if get(get(args.props, "serverSideEncryption", {}), "enabled") is False:
        report_violation(
            "serverSideEncryption.enabled is false: remove serverSideEncryption to keep the "
            "default encryption with an AWS owned key, or set enabled: true (with kmsKeyArn "
            "for a customer managed key).",
            None,
        )


def schedule_retries_and_dead_letters(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != "aws:scheduler/schedule:Schedule":
        return
    target = get(args.props, "target", {})
    if not has(target, "retryPolicy"):
        report_violation(
            "The schedule's target has no retryPolicy: set target.retryPolicy "
            "(maximumRetryAttempts, maximumEventAgeInSeconds) so that a failed delivery is "
            "retried for a bounded time.",
            None,
        )
    if not has(get(target, "deadLetterConfig", {}), "arn"):
        report_violation(
            "The schedule's target has no deadLetterConfig: set target.deadLetterConfig.arn "
            "to an SQS queue so that a firing that could not be delivered is kept, not lost.",
            None,
        )
