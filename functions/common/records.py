"""The runs table, as the trigger reads and writes it: one item per run (`longjobs_contract.runs`).

Every write is conditional, so that a retried invocation, a duplicate request or a late writer
never moves a run backwards: a run is created once, an attempt is advanced only from the attempt
it was read at, and a final status is never changed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from functions.common import clock, request_log
from longjobs_contract import runs, settings
from longjobs_contract.jobs import JobContract
from longjobs_contract.runs import Record
from longjobs_contract.trigger_config import TriggerConfig

if TYPE_CHECKING:
    # Only the trigger's run action makes a request: its validator is not imported for the others.
    from longjobs_contract.run_event import RunRequest

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
CONDITION_FAILED = "ConditionalCheckFailedException"
MAX_LIST_LIMIT = runs.MAX_LIST_LIMIT
PASS_CURSOR_ID = "reconciliation-pass"
"""The key of the table's one item that is not a run: where the supervisor's reconciliation
pass stopped in each status. Not a run id (so `status` never finds it), and without `createdAt`
(so no index lists it)."""
PASS_CURSORS = "cursors"
PASS_LEASE = "leaseUntil"
"""Epoch seconds until which the pass that took it works (`RunStore.take_pass`)."""
PASS_OWNER = "leaseOwner"


def now() -> datetime:
    return clock.now()


def timestamp(when: datetime) -> str:
    """ISO 8601 in UTC to the millisecond: sorts as text, as the indexes need."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(text: str) -> int | float:
    """A DynamoDB number: whole ones as int, others as float (a record holds no others)."""
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


_PLAIN: dict[str, Any] = {
    # The attribute value types of DynamoDB's JSON (API reference, "AttributeValue"), as a
    # record holds them; the sets and binary, which no record holds, go through boto3's.
    "S": lambda v: v,
    "N": _number,
    "BOOL": lambda v: v,
    "NULL": lambda v: None,
    "M": lambda v: {k: _plain(x) for k, x in v.items()},
    "L": lambda v: [_plain(x) for x in v],
}


def _plain(value: Mapping[str, Any]) -> Any:
    """One attribute value as plain Python: read directly, the deserializer being most of a
    page's cost (the pass reads every open run every minute)."""
    ((kind, raw),) = value.items()
    read = _PLAIN.get(kind)
    if read is None:
        return _deserializer.deserialize(cast(Any, value))
    return read(raw)


def to_item(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in record.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in item.items()}


def request_of(request: RunRequest) -> dict[str, Any]:
    """What the record keeps of a request: enough to send the same RunTask again."""
    kept: dict[str, Any] = {
        "environment": dict(request.environment),
        "capacity": request.capacity,
        "idempotencyKey": request.idempotency_key,
        "source": _source(request.idempotency_key),
    }
    if request.command is not None:
        kept["command"] = list(request.command)
    return kept


def _source(key: str) -> str:
    # A schedule's key is schedule:<job>/<schedule>:<time> (longjobs_contract.run_event).
    if key.startswith("schedule:"):
        return "schedule " + key.removeprefix("schedule:").rsplit(":", 3)[0].replace("/", ".")
    return "caller"


def new_record(
    run_id: str,
    request: RunRequest,
    when: datetime,
    contract: JobContract | None = None,
    *,
    caller: str | None = None,
) -> dict[str, Any]:
    """A new run's record; `caller` is who asked (`longjobs_contract.callers`)."""
    created = timestamp(when)
    record = {
        Record.RUN_ID: run_id,
        Record.JOB: request.job,
        Record.STATUS: runs.PENDING,
        Record.REQUEST: request_of(request),
        Record.ATTEMPT: 1,
        # Sent by its creator right after: `sentAt` keeps other invocations from sending it too.
        Record.ATTEMPTS: [
            {
                "attempt": 1,
                "capacity": request.capacity,
                "requestedAt": created,
                "sentAt": created,
                **({"sentBy": sender} if (sender := request_log.request_id()) else {}),
            }
        ],
        Record.CREATED_AT: created,
        Record.UPDATED_AT: created,
        Record.LIST_KEY: runs.LIST_KEY_VALUE,
        Record.REVISION: 0,
        Record.SENDINGS: True,
    }
    if contract is not None:
        record[Record.JOB_CONTRACT] = settings.to_json(contract)
    if caller is not None:
        record[Record.CALLER] = caller
    return record


def job_of(record: Mapping[str, Any], config: TriggerConfig) -> JobContract | None:
    """The contract a run is supervised by: its job's as the stack now declares it, or, once
    the job has left the stack, the one it was accepted under; None for a record without
    either (written before records kept it)."""
    current = config.jobs.get(record[Record.JOB])
    if current is not None:
        return current
    kept = record.get(Record.JOB_CONTRACT)
    if not isinstance(kept, dict):
        return None
    try:
        return settings.from_json(JobContract, kept)
    except ValueError:
        return None  # not a contract these functions can read


def current_attempt(record: Mapping[str, Any]) -> dict[str, Any]:
    """The entry of the run's current attempt."""
    number = record[Record.ATTEMPT]
    return dict(next(a for a in record[Record.ATTEMPTS] if a["attempt"] == number))


class RunStore:
    """The runs table through one DynamoDB client."""

    def __init__(self, client: Any, table: str, retention_days: int | None = None):
        self.client = client
        self.table = table
        self.retention_days = retention_days
        """A run's record is kept this long after its final state (`update` sets `expiresAt`
        with it): an open run's record never expires, however long the run lasts."""

    def create(self, record: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Record a new run; if its id is taken, the run already recorded and False."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(record),
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": Record.RUN_ID},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                raise
            answer: dict[str, Any] = dict(error.response)
            return from_item(answer.get("Item") or {}), False
        return dict(record), True

    def get(self, run_id: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table, Key={Record.RUN_ID: {"S": run_id}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def update(
        self,
        read: Mapping[str, Any],
        changes: Mapping[str, Any],
        *,
        remove: tuple[str, ...] = (),
        final_ok: bool = False,
    ) -> bool:
        """Apply `changes` (and remove `remove`) to the run `read` if nobody wrote it since, and
        it is not final (or `final_ok`: what is written then is not its state, but its notice).

        False when another writer got there first: the caller reads again. A write that makes
        the run final also sets when its record expires.
        """
        if self.retention_days is not None and changes.get(Record.STATUS) in runs.FINAL:
            expires = now() + timedelta(days=self.retention_days)
            changes = {**changes, Record.EXPIRES_AT: int(expires.timestamp())}
        elif Record.EXPIRES_AT in read and read.get(Record.STATUS) not in runs.FINAL:
            # An open run's record from before records expired only once final: it no longer
            # expires while its run is open.
            remove = (*remove, Record.EXPIRES_AT)
        names = {f"#k{i}": key for i, key in enumerate(changes)}
        values = {f":v{i}": _serializer.serialize(v) for i, v in enumerate(changes.values())}
        revision = int(read.get(Record.REVISION, 0))
        values[":read"] = _serializer.serialize(revision)
        values[":next"] = _serializer.serialize(revision + 1)
        values.update({f":f{i}": {"S": s} for i, s in enumerate(sorted(runs.FINAL))})
        names.update({"#revision": Record.REVISION, "#status": Record.STATUS})
        final = ", ".join(f":f{i}" for i in range(len(runs.FINAL)))
        sets = [*(f"#k{i} = :v{i}" for i in range(len(changes))), "#revision = :next"]
        expression = "SET " + ", ".join(sets)
        if remove:
            names.update({f"#r{i}": key for i, key in enumerate(remove)})
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        condition = "#revision = :read"
        if not final_ok:
            condition += f" AND NOT #status IN ({final})"
        else:
            values = {k: v for k, v in values.items() if not k.startswith(":f")}
            names.pop("#status")
        try:
            self.client.update_item(
                TableName=self.table,
                Key={Record.RUN_ID: {"S": read[Record.RUN_ID]}},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                raise
            return False
        return True

    def page(
        self, *, job: str | None, status: str | None, limit: int, next_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Runs newest first, one page, from the index that fits the filter (never a scan)."""
        if job is not None:
            index, key, value = runs.BY_JOB_INDEX, Record.JOB, job
        elif status is not None:
            index, key, value = runs.BY_STATUS_INDEX, Record.STATUS, status
        else:
            index, key, value = runs.NEWEST_INDEX, Record.LIST_KEY, runs.LIST_KEY_VALUE
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#key = :value",
            "ExpressionAttributeNames": {"#key": key},
            "ExpressionAttributeValues": {":value": {"S": value}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if job is not None and status is not None:
            query["FilterExpression"] = "#status = :status"
            query["ExpressionAttributeNames"]["#status"] = Record.STATUS
            query["ExpressionAttributeValues"][":status"] = {"S": status}
        if next_token is not None:
            start = decode_token(next_token)
            # A position in one index is no position in another: refuse what DynamoDB would.
            if set(start) != {Record.RUN_ID, Record.CREATED_AT, key}:
                raise ValueError("a token of another job or status filter")
            query["ExclusiveStartKey"] = start
        answer = self.client.query(**query)
        last = answer.get("LastEvaluatedKey")
        return [from_item(i) for i in answer.get("Items", [])], encode_token(last) if last else None

    def oldest_in(
        self, status: str, limit: int, after: Mapping[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Runs in `status`, oldest first, one page from after `after` (an index position)."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": runs.BY_STATUS_INDEX,
            "KeyConditionExpression": "#status = :status",
            "ExpressionAttributeNames": {"#status": Record.STATUS},
            "ExpressionAttributeValues": {":status": {"S": status}},
            "ScanIndexForward": True,
            "Limit": limit,
        }
        if after is not None:
            query["ExclusiveStartKey"] = dict(after)
        answer = self.client.query(**query)
        return [from_item(i) for i in answer.get("Items", [])], answer.get("LastEvaluatedKey")

    def pass_cursors(self) -> dict[str, dict[str, Any]]:
        """Status → the index position the last reconciliation pass stopped at."""
        item = self.client.get_item(
            TableName=self.table, Key={Record.RUN_ID: {"S": PASS_CURSOR_ID}}, ConsistentRead=True
        ).get("Item")
        kept = from_item(item).get(PASS_CURSORS, {}) if item else {}
        cursors: dict[str, dict[str, Any]] = {}
        for status, token in kept.items():
            try:
                cursors[status] = decode_token(token)
            except ValueError:
                continue  # unreadable: that status starts from its oldest run again
        return cursors

    def take_pass(self, owner: str, until: datetime) -> bool:
        """Take the reconciliation pass for `owner` until `until` (the lease is kept on the
        cursors' item), unless another pass holds it: one pass works at a time, so that
        overlapping passes (a retried one beside the next minute's) neither race on the same
        runs nor move the cursors back. False when another holds it."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={Record.RUN_ID: {"S": PASS_CURSOR_ID}},
                UpdateExpression="SET #lease = :until, #owner = :owner",
                ConditionExpression="attribute_not_exists(#lease) OR #lease < :now",
                ExpressionAttributeNames={"#lease": PASS_LEASE, "#owner": PASS_OWNER},
                ExpressionAttributeValues={
                    ":until": {"N": str(int(until.timestamp()))},
                    ":now": {"N": str(int(now().timestamp()))},
                    ":owner": {"S": owner},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                raise
            return False
        return True

    def save_pass_cursors(
        self, cursors: Mapping[str, Mapping[str, Any] | None], owner: str, *, release: bool = True
    ) -> bool:
        """Keep where the pass stopped (a status without a position starts from its oldest
        run) and, with `release`, give the pass up; False when `owner` no longer held it (its
        lease ran out and another pass took it: that one's cursors stand)."""
        kept = {status: encode_token(key) for status, key in cursors.items() if key}
        try:
            self.client.update_item(
                TableName=self.table,
                Key={Record.RUN_ID: {"S": PASS_CURSOR_ID}},
                UpdateExpression="SET #cursors = :cursors" + (" REMOVE #lease" if release else ""),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={
                    "#cursors": PASS_CURSORS,
                    "#owner": PASS_OWNER,
                    **({"#lease": PASS_LEASE} if release else {}),
                },
                ExpressionAttributeValues={
                    ":cursors": _serializer.serialize(kept),
                    ":owner": {"S": owner},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                raise
            return False
        return True

    def due_notices(self, limit: int) -> list[dict[str, Any]]:
        """Runs whose final state is still to be published, oldest first (the sparse index)."""
        answer = self.client.query(
            TableName=self.table,
            IndexName=runs.TO_NOTIFY_INDEX,
            KeyConditionExpression="#due = :due",
            ExpressionAttributeNames={"#due": Record.NOTIFY_DUE},
            ExpressionAttributeValues={":due": {"S": runs.NOTIFY_DUE_VALUE}},
            Limit=limit,
        )
        return [from_item(item) for item in answer.get("Items", [])]


def status_position(record: Mapping[str, Any]) -> dict[str, Any]:
    """A run's position in the by-status index, as DynamoDB's ExclusiveStartKey takes it."""
    return {
        key: {"S": str(record[key])} for key in (Record.RUN_ID, Record.STATUS, Record.CREATED_AT)
    }


def encode_token(key: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_token(token: str) -> dict[str, Any]:
    """The index position a `nextToken` names; ValueError for anything else."""
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        # A forged token of deeply nested brackets makes json recurse past its limit.
        raise ValueError("not a token this trigger gave") from error
    if not isinstance(key, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str)
        for k, v in key.items()
    ):
        raise ValueError("not a token this trigger gave")
    return key
