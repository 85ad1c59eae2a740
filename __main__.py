"""longjobs: long-running jobs on ECS Fargate, declared in stack config."""

import pulumi

from components.config import from_pulumi_config
from components.context import StackContext
from components.platform import JobPlatform

config = from_pulumi_config()
platform = JobPlatform("longjobs", config, StackContext.current(config.tags))
for key, value in platform.outputs.items():
    pulumi.export(key, value)
