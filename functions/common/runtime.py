"""What every function of the stack sets up the same way: its AWS client settings and its
config file, read once per execution environment."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from botocore.config import Config

from longjobs_contract import trigger_config

# Every AWS call, its retries included, must end well inside the function's timeout, so that a
# hung call is retried or raised as a failure rather than cut off by Lambda: 2 attempts of at
# most 2 s to connect and 5 s to read, with standard mode's backoff between them (at most 20 s a
# call), where botocore's defaults (60 s each) would outlast the function.
CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "total_max_attempts": 2},
)


PACKAGE_ROOT = Path(__file__).parents[2]
"""The deployment package's root (Lambda's /var/task), which holds `functions/common/` here."""


@cache
def load_config() -> trigger_config.TriggerConfig:
    """The functions' config file, at the root of the function's package (or where
    LONGJOBS_TRIGGER_CONFIG_PATH says); read at the first request, not at import."""
    path = os.environ.get(trigger_config.CONFIG_PATH_VARIABLE) or str(
        PACKAGE_ROOT / trigger_config.CONFIG_FILE
    )
    return trigger_config.loads(Path(path).read_text())
