"""RunNotifications: the SNS topic every run's final state is published to, once, the email
addresses the stack config subscribes to it, and the topic's policy: only the stack publishes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import policies
from components.config import NotificationsConfig
from components.context import StackContext
from longjobs_contract import alarms as stack_alarms

# SNS's own AWS managed key: encrypted at rest with no key to manage or pay for. Publishers in
# the account may use it through SNS (its key policy).
SNS_MANAGED_KEY = "alias/aws/sns"
ALARMS_PRINCIPAL = "cloudwatch.amazonaws.com"
# What the policy SNS gives a new topic lets the owner account do (`__default_statement_ID`, as
# GetTopicAttributes shows it), Publish aside; named as "Amazon SNS API permissions: Actions and
# resources reference" names them. Pulumi reads, changes and deletes the topic, and subscribes
# the stack's email addresses, with these.
OWNER_ACTIONS = (
    "sns:AddPermission",
    "sns:DeleteTopic",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:RemovePermission",
    "sns:SetTopicAttributes",
    "sns:Subscribe",
)


@dataclass(frozen=True)
class RunNotificationsArgs:
    config: NotificationsConfig
    """The stack's `notifications`: the addresses to subscribe."""
    context: StackContext
    """The stack the topic is named, tagged and encrypted for; with its key (`kms`) the stack's
    alarms publish to the topic themselves."""
    publisher_role_arns: pulumi.Input[Sequence[str]]
    """The roles that publish (the supervisor's, and the alarm forwarder's without the stack's
    key): the only principals, besides the stack's alarms with its key, that may."""


class RunNotifications(pulumi.ComponentResource):
    """`<prefix>-notifications`, and one email subscription per configured address."""

    topic: aws.sns.Topic
    """The topic: one message per run's final state, as the job's `notify` asks."""
    subscriptions: list[aws.sns.TopicSubscription]
    """One per `notifications.emails` address (AWS sends each a confirmation first)."""
    policy: aws.sns.TopicPolicy
    """The topic's policy, in place of the default one: publishing is the stack's alone."""

    arn: str
    """The topic's ARN, known before it exists: policies and the functions' config name it."""
    topic_arn: pulumi.Output[str]
    """The same, as the provider reports it."""

    def __init__(
        self,
        name: str,
        args: RunNotificationsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:RunNotifications", name, None, opts)
        self._context = args.context
        topic_name = args.context.name(name)
        self.arn = args.context.arn("sns", topic_name)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=topic_name,
            kms_master_key_id=args.context.key_arn or SNS_MANAGED_KEY,
            tags=args.context.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.subscriptions = [
            aws.sns.TopicSubscription(
                f"{name}-email-{index}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=address,
                opts=pulumi.ResourceOptions(parent=self.topic),
            )
            for index, address in enumerate(args.config.emails)
        ]
        self.policy = aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=self.topic.arn,
            policy=self._policy(topic_name, args.publisher_role_arns),
            opts=pulumi.ResourceOptions(parent=self.topic),
        )
        self.topic_arn = self.topic.arn
        self.register_outputs({"topicArn": self.topic_arn})

    def _policy(
        self, topic_name: str, publisher_role_arns: pulumi.Input[Sequence[str]]
    ) -> pulumi.Output[str]:
        """The policy document, with the `Id` SNS asks of each policy ("Amazon SNS API
        permissions: Actions and resources reference")."""
        return pulumi.Output.json_dumps(
            pulumi.Output.from_input(self.statements(publisher_role_arns)).apply(
                lambda statements: {"Id": f"{topic_name}-policy", **policies.document(statements)}
            )
        )

    def statements(
        self, publisher_role_arns: pulumi.Input[Sequence[str]]
    ) -> list[policies.Statement]:
        """The owner account keeps managing the topic through its IAM policies; Publish is
        denied to every principal but the publishers and, with the stack's key, CloudWatch for
        the stack's alarms; and to everyone without TLS."""
        ctx = self._context
        alarms = ctx.key_arn is not None
        publishers: dict = {"ArnNotEquals": {"aws:PrincipalArn": publisher_role_arns}}
        if alarms:
            # A request CloudWatch makes as its service principal carries
            # `aws:PrincipalServiceName` (IAM User Guide, "AWS global condition context keys"):
            # the Allow below then decides which alarms may publish.
            publishers["StringNotEquals"] = {"aws:PrincipalServiceName": ALARMS_PRINCIPAL}
        return [
            {
                "Sid": "OwnerManages",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{ctx.partition}:iam::{ctx.account_id}:root"},
                "Action": list(OWNER_ACTIONS),
                "Resource": self.arn,
                # Said outright, as SNS's own default policy does with AWS:SourceOwner: the
                # account's principals only, whatever a reader takes the root principal to mean.
                "Condition": {"StringEquals": {"aws:PrincipalAccount": ctx.account_id}},
            },
            {
                "Sid": "OnlyTheStackPublishes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": self.arn,
                "Condition": publishers,
            },
            # Amazon SNS security best practices, "Enforce encryption of data in transit".
            {
                "Sid": "PublishThroughTlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": self.arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            *([self._alarms_statement()] if alarms else []),
        ]

    def _alarms_statement(self) -> policies.Statement:
        """CloudWatch publishes for the stack's alarms only, each named by its whole ARN, in
        this account: the statement AWS gives for alarm actions to a topic whose policy is not
        the default, held to the alarms by `aws:SourceArn` (AWS Knowledge Center, "Why didn't I
        receive an SNS notification for my CloudWatch alarm trigger?"), and to the account by
        `aws:SourceAccount`. Without the stack's key there is none: CloudWatch cannot use SNS's
        AWS managed key, so the alarms reach the topic through the alarm forwarder."""
        ctx = self._context
        return {
            "Sid": "StackAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": ALARMS_PRINCIPAL},
            "Action": "sns:Publish",
            "Resource": self.arn,
            "Condition": {
                "ArnEquals": {
                    "aws:SourceArn": [
                        ctx.arn("cloudwatch", f"alarm:{alarm}")
                        for alarm in stack_alarms.names(ctx.prefix)
                    ]
                },
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
            },
        }
