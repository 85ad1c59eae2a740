"""RunNotifications: the SNS topic every run's final state is published to, once, and the
email addresses the stack config subscribes to it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import NotificationsConfig
from components.context import StackContext

# SNS's own AWS managed key: encrypted at rest with no key to manage or pay for. Publishers in
# the account may use it through SNS (its key policy).
SNS_MANAGED_KEY = "alias/aws/sns"


@dataclass(frozen=True)
class RunNotificationsArgs:
    config: NotificationsConfig
    """The stack's `notifications`: the addresses to subscribe."""
    context: StackContext
    """The stack the topic is named, tagged and encrypted for."""


class RunNotifications(pulumi.ComponentResource):
    """`<prefix>-notifications`, and one email subscription per configured address."""

    topic: aws.sns.Topic
    """The topic: one message per run's final state, as the job's `notify` asks."""
    subscriptions: list[aws.sns.TopicSubscription]
    """One per `notifications.emails` address (AWS sends each a confirmation first)."""

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
        self.topic_arn = self.topic.arn
        self.register_outputs({"topicArn": self.topic_arn})
