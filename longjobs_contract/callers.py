"""Who asked: how the trigger tells its callers apart, and what each may see and do.

Lambda hands a function no IAM identity of the principal that invoked it; it does hand it the
ARN it was invoked by (the context's `invoked_function_arn`), qualifier included. So each
`allowedCallers` entry gets an alias of its own, `caller-…`, whose resource-based policy
statement admits that entry only, and the stack grants other accounts nothing on the
unqualified function: a permission on an alias covers neither the function nor another alias
(Lambda developer guide, "Using Lambda aliases in event sources and permissions policies";
"Granting Lambda function access to other accounts"). The trigger reads the entry back from the
qualifier. What reaches the unqualified function (or `$LATEST`) is an identity of the stack's
own account, whose IAM policy grants it (`callerPolicy`): the trigger names it `account`.
What the trigger cannot know: which role of an account or organization entry, which session of
a role, or which identity of the stack's own account asked; and an identity of the stack's
account whose IAM allows invoking every qualifier (`…:trigger:*`) may invoke any caller's
alias, and so act as that caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Final

from longjobs_contract import runs

ACCOUNT: Final = "account"
"""The caller of the unqualified function: any identity of the stack's own account that its
IAM lets invoke the trigger. The stack's operators: it sees and stops every run."""
SCHEDULE: Final = "schedule"
"""The caller of the schedules' alias: one of the stack's own schedules."""
SCHEDULES_ALIAS: Final = "schedules"
"""The trigger's alias that schedules, and only they, invoke: a permission on a function's
unqualified ARN covers neither its aliases nor versions (Lambda developer guide, "Using Lambda
aliases in event sources and permissions policies"), so a caller granted the trigger cannot
invoke it as a schedule, and the invoked ARN tells the trigger a firing from a caller."""
ALIAS_PREFIX: Final = "caller-"
UNQUALIFIED: Final = ("", "$LATEST")
"""Qualifiers of the function itself: invoking `…:trigger:$LATEST` is invoking the function."""


def alias(entry: str) -> str:
    """The alias an `allowedCallers` entry invokes: `caller-<account>`, `caller-<organization
    id>`, or `caller-role-<12 hex of the role ARN's SHA-256>`. Alias names take letters, digits,
    '-' and '_', up to 128 (CreateAlias, Lambda API reference); a role ARN holds ':' and '/'."""
    if entry.isdigit() or entry.startswith("o-"):
        return f"{ALIAS_PREFIX}{entry}"
    return f"{ALIAS_PREFIX}role-{hashlib.sha256(entry.encode()).hexdigest()[:12]}"


def qualifier(invoked_function_arn: str | None) -> str:
    """The qualifier of the ARN a function was invoked by: '' for an unqualified ARN
    (`arn:aws:lambda:<region>:<account>:function:<name>` has seven parts, a qualified eight)."""
    parts = (invoked_function_arn or "").split(":")
    return parts[7] if len(parts) == 8 else ""


def caller_of(
    invoked_function_arn: str | None, entries: Iterable[str], schedules_alias: str
) -> str | None:
    """Who invoked the trigger, by the qualifier it was invoked through: `account`, `schedule`,
    one of the stack's `allowedCallers` entries, or None for a qualifier that names none of
    them (a version, an alias of an earlier deploy)."""
    found = qualifier(invoked_function_arn)
    if found in UNQUALIFIED:
        return ACCOUNT
    if found == schedules_alias:
        return SCHEDULE
    return aliases(entries).get(found)


def aliases(entries: Iterable[str]) -> dict[str, str]:
    """Each entry's alias, to the entry."""
    return {alias(entry): entry for entry in entries}


def may_use_job(caller: str, allowed: tuple[str, ...] | None) -> bool:
    """Whether a caller may run, read and stop a job's runs: a job without `allowedCallers`
    takes every caller of the stack; the stack's schedules always run their own job."""
    return allowed is None or caller in (SCHEDULE, *allowed)


def may_see_values(caller: str, record: Mapping[str, object]) -> bool:
    """Whether a caller sees a run's environment values and command, and may stop it: the
    caller that asked for it, and the stack's own account. A record without a caller was
    written before records kept one: the account's alone."""
    return caller == ACCOUNT or record.get(runs.Record.CALLER) == caller
