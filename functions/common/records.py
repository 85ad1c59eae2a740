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
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from functions.common import clock
from longjobs_contract import runs
from longjobs_contract.run_event import RunRequest
from longjobs_contract.runs import Record

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
CONDITION_FAILED = "ConditionalCheckFailedException"
MAX_LIST_LIMIT = 100
PASS_CURSOR_ID = "reconciliation-pass"
"""The key of the table's one item that is not a run: where the supervisor's reconciliation
pass stopped in each status. Not a run id (so `status` never finds it), and without `createdAt`
(so no index lists it)."""
PASS_CURSORS = "cursors"


def now() -> datetime:
    return clock.now()


def timestamp(when: datetime) -> str:
    """ISO 8601 in UTC to the millisecond: sorts as text, as the indexes need."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """DynamoDB's numbers come back as Decimal: whole ones become int."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def to_item(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in record.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


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
    run_id: str, request: RunRequest, when: datetime, retention_days: int
) -> dict[str, Any]:
    created = timestamp(when)
    return {
        Record.RUN_ID: run_id,
        Record.JOB: request.job,
        Record.STATUS: runs.PENDING,
        Record.REQUEST: request_of(request),
        Record.ATTEMPT: 1,
        Record.ATTEMPTS: [{"attempt": 1, "capacity": request.capacity, "requestedAt": created}],
        Record.CREATED_AT: created,
        Record.UPDATED_AT: created,
        Record.EXPIRES_AT: int((when + timedelta(days=retention_days)).timestamp()),
        Record.LIST_KEY: runs.LIST_KEY_VALUE,
        Record.REVISION: 0,
    }


def current_attempt(record: Mapping[str, Any]) -> dict[str, Any]:
    """The entry of the run's current attempt."""
    number = record[Record.ATTEMPT]
    return dict(next(a for a in record[Record.ATTEMPTS] if a["attempt"] == number))


class RunStore:
    """The runs table through one DynamoDB client."""

    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

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

        False when another writer got there first: the caller reads again.
        """
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

    def save_pass_cursors(self, cursors: Mapping[str, Mapping[str, Any] | None]) -> None:
        """Keep where the pass stopped; a status without a position starts from its oldest run."""
        kept = {status: encode_token(key) for status, key in cursors.items() if key}
        self.client.update_item(
            TableName=self.table,
            Key={Record.RUN_ID: {"S": PASS_CURSOR_ID}},
            UpdateExpression="SET #cursors = :cursors",
            ExpressionAttributeNames={"#cursors": PASS_CURSORS},
            ExpressionAttributeValues={":cursors": _serializer.serialize(kept)},
        )

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
