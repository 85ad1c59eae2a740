"""Tag keys the stack puts on its resources and tasks, and that the functions read back."""

from __future__ import annotations

STACK = "longjobs:stack"
JOB = "longjobs:job"
IDEMPOTENCY_KEY = "longjobs:idempotency-key"
RUN_ID = "longjobs:run-id"
