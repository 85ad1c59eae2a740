"""The policy pack `pulumi preview --policy-pack policy` runs: it serves until the CLI stops it.

The CLI runs this file with this folder on sys.path; the rules are the `policy` package (as the
tests and `tools/policy_check.py` import them), so the folder above must be importable too.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack  # noqa: E402

from policy.pack import PACK_ENFORCEMENT_LEVEL, PACK_NAME, POLICIES  # noqa: E402

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=PACK_ENFORCEMENT_LEVEL)
