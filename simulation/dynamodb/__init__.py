"""The runs table as DynamoDB keeps it, in memory and on an injected clock.

What the functions send (`functions.common.records.RunStore`: PutItem, GetItem, UpdateItem, Query,
and DeleteItem for a local runtime), answered as the DynamoDB Developer Guide (DG, pages under
docs.aws.amazon.com/amazondynamodb/latest/developerguide/) and API Reference (API_*, under
.../APIReference/) say, in tens of microseconds a call where moto through boto3 takes
milliseconds. tests/simulation/test_dynamodb_model.py proves it answers like moto for RunStore's
requests, and where moto cannot, like the documentation (and dynalite, which mirrors DynamoDB's
messages).

Kept from the documentation, each cited beside its code: the condition, filter, key condition and
update expression grammar with placeholders; conditional writes and ALL_OLD on a failed one;
Query on a global secondary index (sparse, eventually consistent, Limit before the filter,
LastEvaluatedKey and ExclusiveStartKey); GSI propagation after a drawn lag; TTL deletion after a
drawn delay; the errors, raised as botocore's `ClientError`. Requests are first checked against
botocore's model of the operation, as a real client does.

What it does not model raises NotImplementedError, never a made-up answer: parameters outside the
ones listed per operation (projections, legacy parameters, consumed capacity), nested document
paths and attribute names written in an expression (DynamoDB's reserved words are not kept),
BETWEEN, functions other than attribute_exists/attribute_not_exists, SET arithmetic, ADD/DELETE,
sort-key conditions, queries on the table itself, tables with a sort key, non-ALL projections.
Not modelled at all: the 1 MB page limit and 400 KB items (runs are a few KB; a page is at most
100), throttling, and stale eventually consistent reads of the table (RunStore reads consistently).

Time comes only from `now`, chance only from `index_lag` and `ttl_delay`: the same calls give the
same answers.

One module per reason to change: `errors` (DynamoDB's error answers), `values` (how attribute
values compare and sort), `expressions` (the grammar) and `evaluation` (what a parsed expression
means), `validation` (what a request must satisfy before anything is read or written), `schema`
(the table's declaration), `index` (a GSI's view), `ttl` (when items expire), `table` (items,
index propagation and the operations), `client` (the boto3-shaped facade). What users import is
named here.
"""

from simulation.dynamodb.client import Client
from simulation.dynamodb.errors import NO_KEY, Refused
from simulation.dynamodb.evaluation import Node
from simulation.dynamodb.expressions import (
    Condition,
    Expression,
    Update,
    parse_condition,
    parse_update,
)
from simulation.dynamodb.index import Place
from simulation.dynamodb.schema import Index, Schema
from simulation.dynamodb.table import Table
from simulation.dynamodb.values import Frozen, Item, Names, Values

__all__ = [
    "NO_KEY",
    "Client",
    "Condition",
    "Expression",
    "Frozen",
    "Index",
    "Item",
    "Names",
    "Node",
    "Place",
    "Refused",
    "Schema",
    "Table",
    "Update",
    "Values",
    "parse_condition",
    "parse_update",
]
