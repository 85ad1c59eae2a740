"""The functions make their clients at import: they need a region (the simulation's models
answer every call, nothing leaves the process)."""

import os

os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
