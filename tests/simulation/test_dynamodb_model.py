"""The runs table's model (simulation/dynamodb/) against moto, and against DynamoDB's pages.

The differential tests run the same RunStore calls on moto (the table created as the program
declares it, offline/moto.py) and on the model (built from the same declaration), and compare
every request each makes and every answer it gets, whole. The rest prove, on the model alone,
what moto does not do: index lag, TTL, and DynamoDB's validation of expressions.
"""

from __future__ import annotations

import copy
import itertools
import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from functions.common import clock, records
from longjobs_contract import runs, trigger_config
from longjobs_contract.run_event import RunRequest
from longjobs_contract.runs import Record
from offline.moto import create_runs_table
from simulation import dynamodb

REGION = "us-east-1"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
JOBS = ("report", "import")
RUNS = 6
MINUTES = 3
"""Runs are created in one of few minutes, so that many share an index sort key (`createdAt`)."""
MAX_PAGES = 8


@pytest.fixture(scope="module")
def declared(dev) -> dict[str, Any]:
    return dev.one("aws:dynamodb/table:Table", "runs-table").inputs


@pytest.fixture(scope="module")
def rules(dev):
    return next(iter(trigger_config.loads(dev.trigger_config).jobs.values()))


@pytest.fixture(scope="module")
def moto_dynamodb() -> Iterator[Any]:
    """moto for the whole module: each test (and each example) makes its own table."""
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def model(declared, clock: Callable[[], datetime] = lambda: START, name=None, **options: Any):
    schema = dynamodb.Schema.from_declared(declared, name)
    return dynamodb.Table(schema, now=clock, **options)


_tables = itertools.count()


def moto_table(moto_dynamodb, declared) -> str:
    return create_runs_table(moto_dynamodb, declared, f"runs-{next(_tables)}")


class Recorder:
    """A DynamoDB client that keeps every request and its answer (or error), as sent."""

    def __init__(self, client: Any):
        self.client = client
        self.calls: list[tuple[str, dict, str, dict]] = []

    def __getattr__(self, operation: str) -> Callable[..., dict]:
        def call(**params: Any) -> dict:
            sent = copy.deepcopy(params)
            try:
                answer = getattr(self.client, operation)(**params)
            except ClientError as error:
                self.calls.append((operation, sent, "error", _plain_answer(error.response)))
                raise
            self.calls.append((operation, sent, "answer", _plain_answer(answer)))
            return answer

        return call


def _plain_answer(answer: Any) -> dict:
    # ConsumedCapacity comes only when a request asks for it (API_UpdateItem,
    # ReturnConsumedCapacity); moto sends it with every UpdateItem.
    return {k: v for k, v in answer.items() if k not in ("ResponseMetadata", "ConsumedCapacity")}


# --- the operations, as data: what the functions do with the table ------------------------------


def run_id(run: int) -> str:
    return runs.run_id("sim", str(run))


def created(minute: int) -> str:
    return records.timestamp(START + timedelta(minutes=minute))


def new_record(rules, run: int, job: str, status: str, minute: int, due: bool) -> dict:
    request = RunRequest(
        job=job,
        rules=rules,
        environment={"RUN": str(run)},
        command=["report", "--day", str(minute)],
        capacity="spot",
        idempotency_key=f"key-{run}",
    )
    record = records.new_record(run_id(run), request, START + timedelta(minutes=minute))
    record[Record.STATUS] = status
    if due:
        record[Record.NOTIFY_DUE] = runs.NOTIFY_DUE_VALUE
    return record


def position(run: int, status: str, minute: int) -> dict:
    return records.status_position(
        {Record.RUN_ID: run_id(run), Record.STATUS: status, Record.CREATED_AT: created(minute)}
    )


def perform(store: records.RunStore, rules, operation: tuple) -> Any:
    """One step of the functions' use of the table; its answer, or the error it raised."""
    try:
        return _perform(store, rules, *operation)
    except ClientError as error:
        return ("error", error.response["Error"])


class _Fixed:
    def now(self) -> datetime:
        return START

    def monotonic(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        raise AssertionError("nothing here waits")


def _perform(store: records.RunStore, rules, kind: str, *args: Any) -> Any:
    if kind == "create":
        return store.create(new_record(rules, *args))
    if kind == "get":
        return store.get(run_id(args[0]))
    if kind == "update":
        return _update(store, *args)
    if kind == "page":
        return _pages(store, *args)
    if kind == "oldest":
        return _oldest(store, *args)
    if kind == "cursors":
        # A pass takes the lease (a second taker is refused while it holds it), then saves
        # its cursors as its holder, and a save by another is refused.
        with clock.use(_Fixed()):  # the lease is over the clock: the same on both sides
            until = START + timedelta(minutes=5)
            taken = (store.take_pass("pass-1", until), store.take_pass("pass-2", until))
            cursors = {s: p and position(p[0], s, p[1]) for s, p in args[0].items()}
            saved = (
                store.save_pass_cursors(cursors, "pass-2"),
                store.save_pass_cursors(cursors, "pass-1"),
            )
        return taken, saved, store.pass_cursors()
    if kind == "due":
        return store.due_notices(args[0])
    if kind == "delete":
        key = {Record.RUN_ID: {"S": run_id(args[0])}}
        deleted = store.client.delete_item(TableName=store.table, Key=key, ReturnValues="ALL_OLD")
        return _plain_answer(deleted)
    raise AssertionError(kind)


def _update(store, run: int, stale: bool, final_ok: bool, status: str, due: str | None) -> bool:
    """Read, then write over the revision read (or one before it: another writer came first)."""
    read = store.get(run_id(run)) or {Record.RUN_ID: run_id(run)}
    if stale:
        read[Record.REVISION] = int(read.get(Record.REVISION, 0)) - 1
    changes = {Record.STATUS: status, Record.UPDATED_AT: created(MINUTES)}
    if due == "set":
        changes[Record.NOTIFY_DUE] = runs.NOTIFY_DUE_VALUE
    remove = (Record.NOTIFY_DUE, Record.REASON) if due == "remove" else ()
    return store.update(read, changes, remove=remove, final_ok=final_ok)


def _pages(store, job: str | None, status: str | None, limit: int) -> list:
    """Every page of a listing, following its tokens."""
    pages, token = [], None
    for _ in range(MAX_PAGES):
        found, token = store.page(job=job, status=status, limit=limit, next_token=token)
        pages.append((found, token))
        if token is None:
            break
    return pages


def _oldest(store, status: str, limit: int, after: tuple | None) -> list:
    pages, start = [], after and position(after[0], status, after[1])
    for _ in range(MAX_PAGES):
        found, start = store.oldest_in(status, limit, start)
        pages.append((found, start))
        if start is None:
            break
    return pages


def run_both(moto_dynamodb, declared, rules, operations: list[tuple]) -> tuple[Recorder, Recorder]:
    """The operations on moto and on the model; each side's calls, and its answers compared."""
    table = moto_table(moto_dynamodb, declared)
    sides = []
    for client in (moto_dynamodb, model(declared, name=table).client()):
        recorder = Recorder(client)
        store = records.RunStore(recorder, table)
        answers = [perform(store, rules, operation) for operation in operations]
        answers += [perform(store, rules, ("get", run)) for run in range(RUNS)]
        sides.append((recorder, answers))
    (moto_calls, moto_answers), (model_calls, model_answers) = sides
    assert model_answers == moto_answers
    assert model_calls.calls == moto_calls.calls
    return moto_calls, model_calls


LIFECYCLE = [
    ("create", 0, "report", runs.PENDING, 0, False),
    ("create", 1, "report", runs.RUNNING, 1, False),
    ("create", 2, "import", runs.RUNNING, 1, False),
    ("create", 3, "report", runs.RUNNING, 1, False),
    ("create", 4, "import", runs.PENDING, 2, False),
    ("create", 0, "import", runs.FAILED, 2, True),  # the same run again: the first one answers
    ("get", 0),
    ("get", 5),
    ("update", 1, True, False, runs.SUCCEEDED, "set"),  # stale: refused
    ("update", 1, False, False, runs.SUCCEEDED, "set"),
    ("update", 1, False, False, runs.FAILED, None),  # final: refused
    ("update", 1, False, True, runs.SUCCEEDED, "remove"),  # the notice, once final
    ("update", 5, False, False, runs.RUNNING, None),  # no such run: refused
    ("update", 2, False, False, runs.STOPPED, "set"),
    ("page", None, None, 2),
    ("page", None, None, 5),
    ("page", "report", None, 2),
    ("page", "report", runs.RUNNING, 2),  # a filter after the Limit: a page may come back short
    ("page", None, runs.RUNNING, 1),
    ("oldest", runs.RUNNING, 1, None),
    ("oldest", runs.RUNNING, 2, (2, 1)),
    ("oldest", runs.PENDING, 1, (5, 0)),  # a position no run holds any more
    ("cursors", {runs.RUNNING: (1, 1), runs.PENDING: None}),
    ("cursors", {}),
    ("due", 1),
    ("due", 10),
    ("delete", 4),
    ("delete", 4),
    ("page", None, runs.PENDING, 3),
]


def test_the_model_answers_like_moto_through_a_lifecycle(moto_dynamodb, declared, rules):
    moto_calls, _ = run_both(moto_dynamodb, declared, rules, LIFECYCLE)
    answers = [call[3] for call in moto_calls.calls]
    # The script reaches what it means to compare: a duplicate with its Item, refused writes,
    # a filtered page shorter than its Limit, and tokens.
    assert any("Item" in a and a["Error"]["Code"] == records.CONDITION_FAILED for a in answers)
    assert sum(a.get("Error", {}).get("Code") == records.CONDITION_FAILED for a in answers) >= 4
    assert any(a.get("Count", 0) < a.get("ScannedCount", 0) for a in answers)
    assert sum("LastEvaluatedKey" in a for a in answers) >= 4


def test_an_unknown_table_is_not_found_in_both(moto_dynamodb, declared, rules):
    moto_table(moto_dynamodb, declared)
    answers = []
    for client in (moto_dynamodb, model(declared).client()):
        with pytest.raises(ClientError) as raised:
            records.RunStore(client, "no-such-table").get(run_id(0))
        answers.append((raised.value.operation_name, _plain_answer(raised.value.response)))
    assert answers[0] == answers[1]
    assert answers[1][1]["Error"]["Code"] == "ResourceNotFoundException"


ids = st.integers(0, RUNS - 1)
minutes = st.integers(0, MINUTES - 1)
statuses = st.sampled_from(runs.STATUSES)
jobs = st.sampled_from(JOBS)
limits = st.integers(1, 4)
operations = st.one_of(
    st.tuples(st.just("create"), ids, jobs, statuses, minutes, st.booleans()),
    st.tuples(st.just("get"), ids),
    st.tuples(
        st.just("update"),
        *(ids, st.booleans(), st.booleans(), statuses, st.sampled_from(("set", "remove", None))),
    ),
    st.tuples(st.just("page"), st.none() | jobs, st.none() | statuses, limits),
    st.tuples(st.just("oldest"), statuses, limits, st.none() | st.tuples(ids, minutes)),
    st.tuples(st.just("cursors"), st.dictionaries(statuses, st.none() | st.tuples(ids, minutes))),
    st.tuples(st.just("due"), limits),
    st.tuples(st.just("delete"), ids),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=1, max_size=25))
def test_the_model_answers_like_moto_for_any_sequence(moto_dynamodb, declared, rules, steps):
    run_both(moto_dynamodb, declared, rules, steps)


# --- condition expressions, on moto and the model --------------------------------------------

ITEM = {
    "runId": {"S": "r"},
    "status": {"S": "RUNNING"},
    "revision": {"N": "5"},
    "request": {"M": {"capacity": {"S": "spot"}, "tries": {"N": "2"}}},
}
VALUES = {
    ":run": {"S": "RUNNING"},
    ":ok": {"S": "SUCCEEDED"},
    ":five": {"N": "5"},
    ":six": {"N": "6"},
    ":request": {"M": {"tries": {"N": "2"}, "capacity": {"S": "spot"}}},
}
NAMES = {"#s": "status", "#r": "revision", "#q": "request", "#none": "reason"}
CONDITIONS = [
    "attribute_exists(#s)",
    "attribute_not_exists(#s)",
    "attribute_not_exists(#none)",
    "#s = :run",
    "#s <> :run",
    "#none <> :run",
    "#none = :run",
    "#r < :six",
    "#r <= :five",
    "#r > :five",
    "#r >= :five",
    "#q = :request",
    "#s IN (:ok, :run)",
    "NOT #s IN (:ok)",
    "NOT #s = :run",
    "#s = :ok OR #r = :five AND #s = :run",
    "(#s = :ok OR #r = :five) AND #s = :ok",
    "NOT (#s = :ok) and attribute_exists(#r)",
]


def _placeholders(text: str) -> dict:
    used = set(re.findall(r"[#:]\w+", text))
    return {
        "ExpressionAttributeNames": {k: v for k, v in NAMES.items() if k in used},
        "ExpressionAttributeValues": {k: v for k, v in VALUES.items() if k in used},
    }


@pytest.mark.parametrize("condition", CONDITIONS)
def test_a_condition_holds_in_the_model_where_it_holds_in_moto(moto_dynamodb, declared, condition):
    outcomes, table = [], moto_table(moto_dynamodb, declared)
    for client in (moto_dynamodb, model(declared, name=table).client()):
        client.put_item(TableName=table, Item=ITEM)
        params = {k: v for k, v in _placeholders(condition).items() if v}
        try:
            client.put_item(TableName=table, Item=ITEM, ConditionExpression=condition, **params)
            outcomes.append("written")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize(
    ("condition", "outcome"),
    [
        # API_Condition: a value "of a different type than the one provided in the request"
        # does not match. moto raises a TypeError of its own.
        ("#s < :five", "ConditionalCheckFailedException"),
        ("NOT NOT #r = :five", "written"),  # moto cannot parse two NOTs
    ],
)
def test_a_condition_moto_cannot_evaluate_holds_as_the_documentation_says(
    declared, condition, outcome
):
    client = model(declared).client()
    client.put_item(TableName=declared["name"], Item=ITEM)
    try:
        client.put_item(
            TableName=declared["name"],
            Item=ITEM,
            ConditionExpression=condition,
            **_placeholders(condition),
        )
        assert outcome == "written"
    except ClientError as error:
        assert error.response["Error"]["Code"] == outcome


def refusal(client, **params: Any) -> str:
    with pytest.raises(ClientError) as raised:
        client.put_item(TableName="longjobs-dev-runs", Item=ITEM, **params)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    return raised.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("#s == :run", 'Invalid ConditionExpression: Syntax error; token: "=", near: "= ="'),
        ("#s = ", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="'),
        ("(#s = :run", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ":run"'),
        ("#s = :run AND", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"'),
        ("#s IN ()", 'Invalid ConditionExpression: Syntax error; token: ")", near: "( )"'),
        ("exists(#s)", "Invalid ConditionExpression: Invalid function name; function: exists"),
        ("  ", "Invalid ConditionExpression: The expression can not be empty;"),
    ],
)
def test_an_expression_outside_the_grammar_is_refused(declared, condition, message):
    client = model(declared).client()
    assert refusal(client, ConditionExpression=condition, **_placeholders(condition)) == message


def test_placeholders_must_be_given_and_used(declared):
    client = model(declared).client()
    assert refusal(
        client, ConditionExpression="#s = :run", ExpressionAttributeNames={"#s": "s"}
    ) == (
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :run"
    )
    assert refusal(
        client, ConditionExpression="attribute_exists(#x)", ExpressionAttributeNames={"#s": "s"}
    ) == (
        "Invalid ConditionExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #x"
    )
    assert refusal(
        client,
        ConditionExpression="attribute_exists(#s)",
        ExpressionAttributeNames={"#s": "s", "#t": "t"},
    ) == ("Value provided in ExpressionAttributeNames unused in expressions: keys: {#t}")


def _query(index: str, key: str, value: str, **more: Any) -> dict:
    return {
        "IndexName": index,
        "KeyConditionExpression": "#k = :v",
        "ExpressionAttributeNames": {"#k": key, **more.pop("names", {})},
        "ExpressionAttributeValues": {":v": {"S": value}, **more.pop("values", {})},
        **more,
    }


def _set(target: str, *, update: str = "SET #t = :v", **more: Any) -> dict:
    return {
        "Key": {"runId": {"S": "r"}},
        "UpdateExpression": update,
        "ExpressionAttributeNames": {"#t": target},
        "ExpressionAttributeValues": {":v": {"S": "x"}},
        **more,
    }


START_KEY = {"runId": {"S": "r"}, "job": {"S": "import"}, "createdAt": {"S": "2026"}}
# (operation, request, DynamoDB's message, whether moto answers the same)
REFUSALS = [
    (
        "put_item",
        {"Item": {"job": {"S": "report"}}},
        "One or more parameter values were invalid: Missing the key runId in the item",
        True,
    ),
    (
        "put_item",
        {"Item": {"runId": {"S": "r"}, "job": {"S": ""}}},
        "One or more parameter values are not valid. A value specified for a secondary index key "
        "is not supported. The AttributeValue for a key attribute cannot contain an empty string "
        "value. IndexName: byJob, IndexKey: job",
        True,
    ),
    (
        "put_item",
        {"Item": {"runId": {"S": "r"}, "job": {"N": "1"}}},
        "One or more parameter values were invalid: Type mismatch for Index Key job Expected: S "
        "Actual: N IndexName: byJob",
        False,  # moto takes it
    ),
    (
        "update_item",
        _set("runId"),
        "One or more parameter values were invalid: Cannot update attribute runId. This "
        "attribute is part of the key",
        True,
    ),
    (
        "update_item",
        _set("job", update="SET #t = :v REMOVE #t"),
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [job], path two: [job]",
        False,  # moto adds "1 validation error detected: "
    ),
    (
        "update_item",
        _set("job", update="SET #t = :v SET #t = :v"),
        'Invalid UpdateExpression: The "SET" section can only be used once in an update '
        "expression;",
        False,
    ),
    (
        "get_item",
        {"Key": {"runId": {"N": "1"}}},
        "The provided key element does not match the schema",
        False,
    ),
    (
        "query",
        _query(
            "byJob",
            "job",
            "report",
            FilterExpression="#j = :j",
            names={"#j": "job"},
            values={":j": {"S": "report"}},
        ),
        # Query.FilterExpression.html: a filter "cannot contain partition key or sort key
        # attributes"; the message is dynalite's, which mirrors DynamoDB's.
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: job",
        False,
    ),  # fmt: skip
    (
        "query",
        _query("nope", "job", "report"),
        "The table does not have the specified index: nope",
        False,
    ),
    (
        "query",
        _query("byJob", "status", "RUNNING"),
        "Query condition missed key schema element: job",
        False,
    ),
    (
        "query",
        _query("byJob", "job", "report", ExclusiveStartKey=START_KEY),
        "The provided starting key is outside query boundaries based on provided conditions",
        False,  # moto reads on from where the key would be
    ),
    (
        "query",
        _query("byJob", "job", "import", ExclusiveStartKey={"runId": {"S": "r"}}),
        "The provided starting key is invalid",
        False,  # moto fails with a TypeError
    ),
    (
        "put_item",
        {
            "Item": {"runId": {"S": "r"}},
            "ConditionExpression": "((attribute_not_exists(#i)))",
            "ExpressionAttributeNames": {"#i": "runId"},
        },
        "Invalid ConditionExpression: The expression has redundant parentheses;",
        False,
    ),
]


@pytest.mark.parametrize(("operation", "request_", "message", "moto_too"), REFUSALS)
def test_a_request_dynamodb_refuses_is_refused(
    moto_dynamodb, declared, operation, request_, message, moto_too
):
    table = moto_table(moto_dynamodb, declared)
    clients = [model(declared, name=table).client()] + [moto_dynamodb] * moto_too
    for client in clients:
        with pytest.raises(ClientError) as raised:
            getattr(client, operation)(TableName=table, **request_)
        assert raised.value.response["Error"] == {"Message": message, "Code": "ValidationException"}


@pytest.mark.parametrize(
    "condition",
    [
        "#r BETWEEN :five AND :six",
        "begins_with(#s, :run)",
        "size(#s) > :five",
        "status = :run",
        "(#s) = :run",
    ],
)
def test_what_the_model_does_not_keep_is_said_not_answered(declared, condition):
    with pytest.raises(NotImplementedError):
        model(declared).client().put_item(
            TableName="longjobs-dev-runs",
            Item=ITEM,
            ConditionExpression=condition,
            **{k: v for k, v in _placeholders(condition).items() if v},
        )


def test_parsed_expressions_are_kept_by_their_text(declared):
    dynamodb.parse_condition.cache_clear()
    store = records.RunStore(model(declared).client(), declared["name"])
    for run in range(3):
        store.update({Record.RUN_ID: run_id(run)}, {Record.STATUS: runs.RUNNING})
    assert dynamodb.parse_condition.cache_info().misses == 1
    assert dynamodb.parse_condition.cache_info().hits == 2


def test_requests_are_checked_against_botocores_model(declared):
    store = records.RunStore(model(declared).client(), declared["name"])
    with pytest.raises(ParamValidationError):
        store.due_notices(0)  # Limit: at least 1
    unchecked = records.RunStore(model(declared).client(validate=False), declared["name"])
    assert unchecked.due_notices(0) == []


# --- what moto does not model: GSI lag, TTL ---------------------------------------------------


def newest(store) -> list[tuple[str, str]]:
    found, _ = store.page(job=None, status=None, limit=10, next_token=None)
    return [(r[Record.RUN_ID], r[Record.STATUS]) for r in found]


def by_status(store, status: str) -> list[str]:
    return [r[Record.RUN_ID] for r in store.oldest_in(status, 10, None)[0]]


def test_an_index_shows_a_write_once_its_lag_has_passed(declared, rules):
    clock, lags = Clock(), iter([5.0, 2.0])
    store = records.RunStore(
        model(declared, clock, index_lag=lambda: next(lags)).client(), declared["name"]
    )
    store.create(new_record(rules, 0, "report", runs.PENDING, 0, False))
    clock.advance(4.9)
    assert newest(store) == []
    assert store.get(run_id(0))[Record.STATUS] == runs.PENDING  # the table is read consistently
    clock.advance(0.1)
    assert newest(store) == [(run_id(0), runs.PENDING)]


def test_writes_to_one_item_reach_an_index_in_order(declared, rules):
    clock, lags = Clock(), iter([0.0, 10.0, 1.0])
    store = records.RunStore(
        model(declared, clock, index_lag=lambda: next(lags)).client(), declared["name"]
    )
    store.create(new_record(rules, 0, "report", runs.PENDING, 0, False))
    assert store.update(store.get(run_id(0)), {Record.STATUS: runs.RUNNING})  # arrives at 10 s
    assert store.update(store.get(run_id(0)), {Record.STATUS: runs.SUCCEEDED})  # 1 s, after it
    clock.advance(9.9)
    assert newest(store) == [(run_id(0), runs.PENDING)]
    assert by_status(store, runs.PENDING) == [run_id(0)]
    assert by_status(store, runs.SUCCEEDED) == []
    clock.advance(0.1)
    assert newest(store) == [(run_id(0), runs.SUCCEEDED)]
    assert by_status(store, runs.PENDING) == by_status(store, runs.RUNNING) == []


def test_a_consistent_read_of_an_index_is_refused(declared):
    client = model(declared).client()
    with pytest.raises(ClientError) as raised:
        client.query(
            TableName=declared["name"],
            IndexName=runs.NEWEST_INDEX,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": Record.LIST_KEY},
            ExpressionAttributeValues={":v": {"S": runs.LIST_KEY_VALUE}},
            ConsistentRead=True,
        )
    assert raised.value.response["Error"] == {
        "Message": "Consistent reads are not supported on global secondary indexes",
        "Code": "ValidationException",
    }


def test_an_expired_item_stays_until_its_delay_has_passed(declared, rules):
    clock, deleted = Clock(), []
    table = model(
        declared, clock, ttl_delay=lambda: 3600.0, index_lag=lambda: 1.0, on_expire=deleted.append
    )
    store = records.RunStore(table.client(), declared["name"])
    # A final run's record expires (an open run's has no expiry at all).
    expires = int((START + timedelta(days=30)).timestamp())
    record = new_record(rules, 0, "report", runs.SUCCEEDED, 0, False) | {"expiresAt": expires}
    store.create(record)
    store.create(new_record(rules, 1, "report", runs.RUNNING, 0, False))
    clock.at = datetime.fromtimestamp(expires, UTC) + timedelta(seconds=3599)
    assert table.expire() == 0
    assert store.get(run_id(0)) is not None
    assert by_status(store, runs.SUCCEEDED) == [run_id(0)]
    clock.advance(1)
    assert table.expire() == 1
    assert deleted == [records.to_item(record)]
    assert store.get(run_id(0)) is None
    assert by_status(store, runs.SUCCEEDED) == [run_id(0)]  # the deletion is on its way
    clock.advance(1)
    assert by_status(store, runs.SUCCEEDED) == []
    assert [r for r, _ in newest(store)] == [run_id(1)]


def test_a_query_may_end_on_a_full_last_page_as_dynamodb_may(declared, rules):
    table = model(declared, key_when_limit_reached=True)
    store = records.RunStore(table.client(), declared["name"])
    for run in range(2):
        store.create(new_record(rules, run, "report", runs.PENDING, run, False))
    first, token = store.page(job=None, status=None, limit=2, next_token=None)
    assert len(first) == 2 and token is not None
    assert store.page(job=None, status=None, limit=2, next_token=token) == ([], None)


def test_the_same_calls_give_the_same_answers(declared, rules):
    def lifecycle() -> bytes:
        draws = random.Random(7)
        table = model(declared, Clock(), index_lag=lambda: draws.expovariate(10.0))
        store = records.RunStore(Recorder(table.client()), declared["name"])
        for operation in LIFECYCLE:
            perform(store, rules, operation)
        return repr(store.client.calls).encode()

    assert lifecycle() == lifecycle()
