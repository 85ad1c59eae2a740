"""The stack config: `longjobs:*` keys validated once into frozen models, every error at once.

types.py                 value types (names, ids, ARNs, environment values)
schedule_expressions.py  rate(), cron() and at() by EventBridge Scheduler's rules
models.py                the models components take
errors.py                how a problem is worded
load.py                  reading the stack's config and the checks across keys
"""

from components.config.errors import NAMESPACE, ConfigError
from components.config.load import from_pulumi_config, parse
from components.config.models import (
    JobConfig,
    NetworkConfig,
    NotificationsConfig,
    ScheduleConfig,
    StackConfig,
)

__all__ = [
    "NAMESPACE",
    "ConfigError",
    "JobConfig",
    "NetworkConfig",
    "NotificationsConfig",
    "ScheduleConfig",
    "StackConfig",
    "from_pulumi_config",
    "parse",
]
