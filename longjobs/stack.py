"""A deployed stack, as its outputs name it: start runs of its jobs, list them, find one."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from longjobs import aws, outputs, trigger
from longjobs.errors import NotARun, ValidationError
from longjobs.models import Status
from longjobs.outputs import StackOutputs
from longjobs.run import Run
from longjobs_contract import runs
from longjobs_contract.clock import Clock, SystemClock

MAX_PAGE = runs.MAX_LIST_LIMIT
"""The most runs the trigger's `list` answers a page."""


CALLER_VARIABLE = "LONGJOBS_CALLER"
"""The command's --caller, from the environment."""


class Stack:
    """The stack whose outputs are given; its AWS clients are made on first use.

    A caller from another account names its `allowedCallers` entry (`caller=`, looked up in
    the outputs' `triggerCallerQualifiers`) or its qualifier (`qualifier=`): every call then
    invokes the trigger through that alias, by which the trigger knows who asked. Without
    either, the unqualified function: a caller of the stack's own account."""

    def __init__(
        self,
        stack_outputs: StackOutputs,
        *,
        session: Any = None,
        clock: Clock | None = None,
        caller: str | None = None,
        qualifier: str | None = None,
    ):
        self.outputs = stack_outputs
        self.qualifier = _qualifier(stack_outputs, caller, qualifier)
        self.clock: Clock = clock or SystemClock()
        self._session = session
        self._clients: dict[str, Any] = {}

    @classmethod
    def from_outputs_file(cls, path: str | os.PathLike[str], **options: Any) -> Stack:
        return cls(outputs.from_file(path), **options)

    @classmethod
    def discover(
        cls, outputs_file: str | None = None, stack: str | None = None, **options: Any
    ) -> Stack:
        """The stack the outputs name, found in the order `longjobs.outputs` documents."""
        return cls(outputs.discover(outputs_file, stack), **options)

    def __repr__(self) -> str:
        qualified = f", qualifier={self.qualifier!r}" if self.qualifier else ""
        return f"Stack({self.outputs.trigger_function_arn!r}{qualified})"

    @property
    def lambda_client(self) -> Any:
        return self._client("lambda")

    @property
    def logs_client(self) -> Any:
        return self._client("logs")

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            with aws.calling(f"making the {service} client"):
                if self._session is None:
                    self._session = aws.session()
                self._clients[service] = aws.make_client(self._session, service, self.outputs)
        return self._clients[service]

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        """The trigger's answer to one event (its README documents them)."""
        return trigger.invoke(
            self.lambda_client, self.outputs.trigger_function_arn, event, self.qualifier
        )

    def run(
        self,
        job: str,
        environment: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
        capacity: str | None = None,
        key: str | None = None,
    ) -> Run:
        """Start a run of `job`. It always carries an idempotency key (a new one unless `key` is
        given), so a retried call names the same run and starts nothing new."""
        import uuid

        from longjobs_contract import run_event  # the run event's names; only `run` needs them

        event: dict[str, Any] = {
            run_event.JOB: job,
            run_event.IDEMPOTENCY_KEY: key if key is not None else str(uuid.uuid4()),
        }
        if environment:
            event[run_event.ENVIRONMENT] = dict(environment)
        if command is not None:
            event[run_event.COMMAND] = list(command)
        if capacity is not None:
            event[run_event.CAPACITY] = capacity
        answer = self.call(event)
        return Run(self, Status.of(answer).run_id, answer)  # Status.of: NotARun when it is not

    def rerun(self, run_id: str, key: str | None = None) -> Run:
        """The same request as run `run_id` (job, environment, command, capacity), under a new
        idempotency key: a new run."""
        request = Run.from_id(self, run_id).status()
        kept = request.request
        return self.run(
            request.job,
            environment=kept.get("environment") or None,
            command=kept.get("command"),
            capacity=kept.get("capacity"),
            key=key,
        )

    def runs(
        self, job: str | None = None, status: str | None = None, page_size: int = MAX_PAGE
    ) -> Iterator[Status]:
        """Every run, newest first, of `job` and in `status` when given, page by page."""
        if not 1 <= page_size <= MAX_PAGE:
            raise ValidationError(
                f"page size: {page_size} is not allowed; allowed: 1 to {MAX_PAGE}"
            )
        event: dict[str, Any] = {"action": "list", "limit": page_size}
        if job is not None:
            event["job"] = job
        if status is not None:
            event["status"] = status
        while True:
            page = self.call(event)
            found = page.get("runs", [])
            if not isinstance(found, list):
                raise NotARun(
                    "the trigger answered something that is not a run: runs is not a list"
                )
            yield from (Status.of(answer) for answer in found)
            if not page.get("nextToken"):
                return
            event["nextToken"] = page["nextToken"]


def _qualifier(found: StackOutputs, caller: str | None, qualifier: str | None) -> str | None:
    """The qualifier `caller` (an entry of the stack's triggerCallerQualifiers) or `qualifier`
    names; ValidationError, listing the entries, for an entry the stack does not have."""
    if caller is not None and qualifier is not None:
        raise ValidationError("caller: give caller or qualifier, not both")
    if caller is None:
        return qualifier or None
    if caller not in found.caller_qualifiers:
        entries = ", ".join(sorted(found.caller_qualifiers)) or "none (no allowedCallers)"
        raise ValidationError(
            f"caller: {caller[:120]!r} is not an entry of the stack's triggerCallerQualifiers; "
            f"entries: {entries}"
        )
    return found.caller_qualifiers[caller]
