"""Tag keys the stack puts on its resources and tasks, and that the functions read back."""

from __future__ import annotations

STACK = "longjobs:stack"
JOB = "longjobs:job"
IDEMPOTENCY_KEY = "longjobs:idempotency-key"
RUN_ID = "longjobs:run-id"
# On a task definition whose job set `readonlyRootFilesystem: false`: the policy pack's
# read-only root rule reads it as the job's own opt-out.
READONLY_ROOT = "longjobs:readonly-root"
READONLY_ROOT_OPT_OUT = "opt-out"
