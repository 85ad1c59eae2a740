"""Every problem the config model can find is worded in the user's terms: the key, the value
written and what is allowed, never pydantic's phrasing or the model's class names."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from components.config import ConfigError, StackConfig, parse
from components.config.allowed import field_type
from components.config.errors import WORDED
from components.config.models import JobConfig, PolicyStatement, ScheduleConfig
from tests.unit.test_config import dev_values

# A value of every shape YAML can give, and the edges of numbers and sizes.
WRONG: list[Any] = [
    "text", "1024", "no", ["a"], ["a"] * 30, {"k": "v"}, None, 0.5, True, 10**9, -1, "", [], {},
]  # fmt: skip
PYDANTIC_PHRASES = re.compile(
    r"Input should|valid dictionary|valid list|valid integer|instance of|Value error|model_type"
    r"|unable to interpret|after validation|\{'|\bNone\b|\bTrue\b|\bFalse\b"
)
MODEL_NAMES = re.compile(r"\b[A-Z][a-z]+(Config|Statement)\b")
# The checks across keys that say what to do instead of what a value may be.
WITHOUT_ALLOWED = re.compile(
    r"is listed \d+ times; list each|is not an IAM action like|has no secrets"
    r"|environment values are strings: write it quoted"
)
# Where each nested model sits in a valid config, so that each of its keys can be given.
SAMPLE_KEYS = {JobConfig: "report", ScheduleConfig: "nightly", PolicyStatement: 0}
# A name valid in every mapping of names to values (environment, secrets, tags, conditions), so
# that bad values are given inside them too.
SAMPLE_NAME = "SAMPLE_NAME"


def base() -> dict:
    values = dev_values()
    values["network"] = {"create": {}}
    values["notifications"] = {"emails": ["ops@example.com"]}
    return values


def key_paths(model: type[BaseModel], path: tuple = ()) -> Iterator[tuple]:
    """Every key of the model and of the models it holds, as the config spells it; a model
    held in a mapping or a list under its sample key or index."""
    for name, field in model.model_fields.items():
        key = (*path, field.alias or name)
        yield key
        inner = field_type(field.annotation)
        if get_origin(inner) in (dict, list):
            holds = get_origin(inner)
            inner = field_type(get_args(inner)[-1])
            if inner in SAMPLE_KEYS:
                yield (*key, SAMPLE_KEYS[inner])
                key = (*key, SAMPLE_KEYS[inner])
            elif holds is dict:
                yield (*key, SAMPLE_NAME)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from key_paths(inner, key)


def with_value(path: tuple, value: Any) -> dict:
    """A valid config but for `value` at `path`."""
    values = base()
    where: Any = values
    for part in path[:-1]:
        where = where[part] if isinstance(where, list) else where.setdefault(part, {})
    where[path[-1]] = copy.deepcopy(value)
    return values


def test_every_problem_names_the_key_in_the_users_words():
    worded_badly = []
    for path in key_paths(StackConfig):
        for value in WRONG:
            try:
                parse(with_value(path, value), region="us-east-1")
            except ConfigError as error:
                worded_badly += [
                    problem
                    for problem in error.problems
                    if "\n" in problem
                    or not problem.startswith("longjobs:")
                    or ("; allowed: " not in problem and not WITHOUT_ALLOWED.search(problem))
                    or PYDANTIC_PHRASES.search(problem)
                    or MODEL_NAMES.search(problem)
                ]
    assert worded_badly == []


def test_every_error_type_the_model_produces_is_worded():
    seen: set[str] = set()
    for path in key_paths(StackConfig):
        for value in WRONG:
            try:
                StackConfig.model_validate(with_value(path, value))
            except ValidationError as error:
                seen |= {e["type"] for e in error.errors()}
    assert seen <= WORDED, seen - WORDED
    # The enumeration reaches what the issue lists, so a type left unworded would show here.
    assert {
        "int_type",
        "bool_type",
        "string_type",
        "dict_type",
        "list_type",
        "model_type",
        "greater_than_equal",
        "less_than_equal",
        "too_short",
        "too_long",
        "literal_error",
        "missing",
        "extra_forbidden",
        "value_error",
    } <= seen


def test_bad_values_are_given_inside_mappings_of_names_too():
    paths = set(key_paths(StackConfig))
    assert {
        ("jobs", "report", "environment", SAMPLE_NAME),
        ("jobs", "report", "secrets", SAMPLE_NAME),
        ("jobs", "report", "tags", SAMPLE_NAME),
        ("tags", SAMPLE_NAME),
        ("jobs", "report", "schedules", "nightly", "environment", SAMPLE_NAME),
    } <= paths
