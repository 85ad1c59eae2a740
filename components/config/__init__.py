"""The stack config: `longjobs:*` keys validated once into frozen models, every error at once.

allowed.py               what each value may be, in the user's words, one text per field
types.py                 value types (names, ids, ARNs, environment values)
schedule_expressions.py  rate(), cron() and at() by EventBridge Scheduler's rules
models.py                the models components take
errors.py                how a problem is worded, and the near miss of a key
shape.py                 keys written in another shape: dotted paths, settings taken for names
regions.py               aws:region, and what the config names in other regions
aws_keys.py              the AWS provider's keys, as its installed SDK reads them
load.py                  reading the stack's config and the checks across keys
control_plane.py         a job's statements against the stack's own resources
readers.py               what each YAML reader, and the Pulumi CLI, makes of a plain scalar
unquoted.py              the words for an unquoted scalar the readers disagree on
stack_file.py            reading a Pulumi.<stack>.yaml as the Pulumi CLI would, offline
dockerfiles.py           hadolint over each built job's Dockerfile: problems and warnings
"""

from components.config.dockerfiles import lint_warnings
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
    "lint_warnings",
    "parse",
    "parse_stack_config",
]
