"""The stack config: `longjobs:*` keys validated once into frozen models, every error at once.

allowed.py               what each value may be, in the user's words, one text per field
types.py                 value types (names, ids, ARNs, environment values)
schedule_expressions.py  rate(), cron() and at() by EventBridge Scheduler's rules
models.py                the models components take
errors.py                how a problem is worded
regions.py               aws:region, and what the config names in other regions
load.py                  reading the stack's config and the checks across keys
control_plane.py         a job's statements against the stack's own resources
stack_file.py            reading a Pulumi.<stack>.yaml as the Pulumi CLI would, offline
"""

from components.config.errors import NAMESPACE, ConfigError
from components.config.load import from_pulumi_config, parse, parse_stack_config
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
    "parse_stack_config",
]
