"""How config problems are worded: one line per bad key,
`longjobs:<path>: <the value written> ...; allowed: <what is allowed>`.

pydantic's own messages ("Input should be a valid integer") name neither what was written nor
what would do, and some name the model's classes: every error type the model can produce is
worded here instead, from the field's allowed text (components/config/allowed.py).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, get_origin

from pydantic import BaseModel

from components.config.allowed import (
    Node,
    allowed_metadata,
    allowed_text,
    branch,
    child,
    fields,
    is_model,
    is_union,
)

NAMESPACE = "longjobs"
MAX_SHOWN = 80
# Errors that say the value is of another kind than the field's (a string for a number): in a
# value of several kinds they are reported once, for the field, unless the value is of one of
# its kinds.
TYPE_ERRORS = frozenset(
    {
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "bool_type",
        "bool_parsing",
        "string_type",
        "dict_type",
        "list_type",
        "model_type",
        "model_attributes_type",
    }
)
WORDED = TYPE_ERRORS | {
    "missing",
    "extra_forbidden",
    "literal_error",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "too_short",
    "too_long",
    "string_too_short",
    "string_too_long",
    "value_error",
    "assertion_error",
}
"""The pydantic error types worded here; any other is worded as "not allowed" with the field's
allowed text, never with pydantic's message."""
# YAML 1.1's words for true and false (PyYAML and the CLI's yaml.v2 read them so).
TRUE_WORDS = frozenset({"true", "yes", "y", "on"})
FALSE_WORDS = frozenset({"false", "no", "n", "off"})


class ConfigError(Exception):
    """Stack config that cannot be deployed; `problems` holds one line per bad key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the stack config:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def key_path(*parts: object) -> str:
    """`longjobs:jobs.report.memory` from ("jobs", "report", "memory")."""
    return f"{NAMESPACE}:{'.'.join(map(str, parts))}" if parts else NAMESPACE


def shown(value: Any) -> str:
    """A value as the user wrote it in YAML, cut short: strings quoted, true, false, null."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, bool | None | list | dict):
        text = json.dumps(value, default=str, separators=(", ", ": "))
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= MAX_SHOWN else f"{text[: MAX_SHOWN - 3]}..."


def _what(value: Any) -> str:
    """A value named in a sentence about its kind: containers by kind, the rest shown."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "null (an empty value)"
    return shown(value)


def _flow(value: Any) -> str:
    """A value in YAML's one-line flow form."""
    return json.dumps(value, default=str)


@dataclass(frozen=True)
class _Place:
    """Where an error is, in the config's terms."""

    loc: tuple[Any, ...]
    nodes: tuple[Node | None, ...]
    """The node at each step, the root's first."""
    is_name: bool
    branch: str | None
    """The tag of the kind pydantic tried, for a value of several kinds."""

    @property
    def node(self) -> Node | None:
        return self.nodes[-1]


def _place(root: type[BaseModel], loc: Sequence[Any]) -> _Place:
    node: Node | None = Node(root)
    nodes: list[Node | None] = [node]
    user: list[Any] = []
    is_name, tag = False, None
    for part in loc:
        if node is not None and is_union(node):
            # pydantic names the kind it tried ("str", "list[str]"): not the user's key.
            tag = str(part)
            node = branch(node, str(part))
        elif part == "[key]":
            is_name = True
            node = child(node, "[key]") if node else None
        else:
            user.append(part)
            node = child(node, str(part)) if node else None
        nodes.append(node)
    return _Place(tuple(user), tuple(nodes), is_name, tag)


def _at(values: Any, loc: Sequence[Any]) -> Any:
    """The raw value at `loc`, or None."""
    for part in loc:
        if isinstance(values, Mapping):
            values = values.get(part)
        elif isinstance(values, list) and isinstance(part, int) and part < len(values):
            values = values[part]
        else:
            return None
    return values


def describe_errors(
    root: type[BaseModel],
    errors: Sequence[Mapping[str, Any]],
    values: Mapping[str, Any],
    explained: Collection[tuple[Any, ...]] = (),
) -> list[str]:
    """pydantic's errors as config problem lines, in order; a value of several kinds gets one.

    A required key is not called missing where a key written otherwise stands for it: a near
    miss (`expresion`) or the places in `explained`.
    """
    problems: list[str] = []
    union_places: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    meant = {*explained, *_near_misses(root, errors, values).values()}
    for error in errors:
        place = _place(root, error["loc"])
        if error["type"] == "missing" and place.loc in meant:
            continue
        if place.branch is not None:
            union_places.setdefault(_union_loc(root, error["loc"]), []).append(error)
            continue
        problems.append(describe_error(root, error, values))
    for loc, group in union_places.items():
        problems += _describe_union(root, loc, group, values)
    return _name_first(list(dict.fromkeys(problems)))


def _name_first(problems: list[str]) -> list[str]:
    """One line for a refused name: its value, at the same place, is checked once renamed."""
    named = {p.split(": ", 1)[0] for p in problems if p.split(": ", 1)[1].startswith("the name ")}
    return [
        p
        for p in problems
        if p.split(": ", 1)[0] not in named or p.split(": ", 1)[1].startswith("the name ")
    ]


def _near_misses(
    root: type[BaseModel], errors: Sequence[Mapping[str, Any]], values: Mapping[str, Any]
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The place of each unknown key that is a near miss of a key of its mapping -> the place
    of that key."""
    found = {}
    for error in errors:
        if error["type"] != "extra_forbidden":
            continue
        place = _place(root, error["loc"])
        parent = place.nodes[-2] if len(place.nodes) > 1 else None
        if parent is not None and is_model(parent.kind) and place.loc:
            near = nearest(str(place.loc[-1]), list(fields(parent.kind)))
            if near is not None:
                found[place.loc] = (*place.loc[:-1], near)
    return found


def _union_loc(root: type[BaseModel], loc: Sequence[Any]) -> tuple[Any, ...]:
    """The raw location of the union a branch error is under."""
    node: Node | None = Node(root)
    for index, part in enumerate(loc):
        if node is not None and is_union(node):
            return tuple(loc[:index])
        node = child(node, str(part)) if node else None
    return tuple(loc)


def _describe_union(
    root: type[BaseModel],
    loc: tuple[Any, ...],
    group: list[Mapping[str, Any]],
    values: Mapping[str, Any],
) -> list[str]:
    place = _place(root, loc)
    value = _at(values, place.loc)
    # The errors of the kind the value is (a list's items, say), if it is one of them.
    kind = "list" if isinstance(value, list) else "str" if isinstance(value, str) else None
    relevant = [
        error
        for error in group
        if kind is not None
        and (str(error["loc"][len(loc)]).startswith("list[") == (kind == "list"))
        and not (error["type"] in TYPE_ERRORS and len(error["loc"]) == len(loc) + 1)
    ]
    allowed = allowed_text(place.node) if place.node else "another value"
    if relevant:
        # The value's own kind's problems; one at the value itself says what the field takes.
        return [
            describe_error(
                root, error, values, allowed if len(error["loc"]) == len(loc) + 1 else None
            )
            for error in relevant
        ]
    return [f"{key_path(*place.loc)}: {_what(value)} is not allowed; allowed: {allowed}"]


def describe_error(
    root: type[BaseModel],
    error: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    allowed: str | None = None,
) -> str:
    """One pydantic error as a config problem line; `allowed` in place of the field's own."""
    place = _place(root, error["loc"])
    siblings = _at(values, place.loc[:-1]) if values is not None else None
    node = place.node
    if allowed is None:
        allowed = (
            allowed_text(node, siblings if isinstance(siblings, Mapping) else None)
            if node
            else "another value"
        )
    message = _message(error, place, allowed)
    return f"{key_path(*place.loc)}: {'the name ' if place.is_name else ''}{message}"


def _message(error: Mapping[str, Any], place: _Place, allowed: str) -> str:
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    name = str(place.loc[-1]) if place.loc else NAMESPACE
    if kind == "extra_forbidden":
        parent = place.nodes[-2] if len(place.nodes) > 1 else None
        if parent is None or not is_model(parent.kind):
            return "unknown key"
        return unknown_key(name, list(fields(parent.kind)))
    if kind == "missing":
        return f"required; allowed: {allowed}"
    if kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in ("int_type", "int_parsing", "int_from_float", "float_type", "float_parsing"):
        return f"{_not_a_number(value, name)}; allowed: {allowed}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{_not_a_boolean(value, name)}; allowed: {allowed}"
    if kind == "string_type":
        if isinstance(value, int | float) and not isinstance(value, bool):
            # A number where text goes (an account id, a tag value) is text once quoted.
            quoted = f"write it quoted: '{value}'; "
            return f"{shown(value)} is a number, not a string; {quoted}allowed: {allowed}"
        return f"{_what(value)} is not a string; allowed: {allowed}"
    if kind == "list_type":
        return f"{_not_a_list(value, name, place)}; allowed: {allowed}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        # A list where a mapping goes is a mapping's keys written as list items, with '-'.
        hint = " (write its keys without '-')" if isinstance(value, list) else ""
        misplaced = _misplaced_setting(value, name, place)
        return misplaced or f"{_what(value)} is not a mapping{hint}; allowed: {allowed}"
    bound = _out_of_bounds(kind, value, ctx)
    if bound:
        return f"{bound}; allowed: {allowed}"
    return f"{shown(value)} is not allowed; allowed: {allowed}"


def _out_of_bounds(kind: str, value: Any, ctx: Mapping[str, Any]) -> str | None:
    if kind == "greater_than_equal":
        return f"{shown(value)} is less than {ctx['ge']}"
    if kind == "greater_than":
        return f"{shown(value)} is not more than {ctx['gt']}"
    if kind == "less_than_equal":
        return f"{shown(value)} is more than {ctx['le']}"
    if kind == "less_than":
        return f"{shown(value)} is not less than {ctx['lt']}"
    if kind in ("too_short", "string_too_short"):
        if ctx.get("min_length") == 1:
            return "must not be empty"
        return f"{shown(value)} is shorter than {ctx['min_length']}"
    if kind == "too_long":
        return f"{ctx['actual_length']} items are more than {ctx['max_length']}"
    if kind == "string_too_long":
        return f"{len(value)} characters are more than {ctx['max_length']}"
    return None


def _not_a_number(value: Any, name: str) -> str:
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return (
            f"{shown(value)} is a string, not a number; write {name}: {int(value)} (without quotes)"
        )
    if isinstance(value, float) and value.is_integer():
        return f"{shown(value)} is a decimal number; write {name}: {int(value)}"
    if isinstance(value, float):
        return f"{shown(value)} is not a whole number"
    return f"{_what(value)} is not a number"


def _not_a_boolean(value: Any, name: str) -> str:
    word = value.strip().lower() if isinstance(value, str) else None
    if word in TRUE_WORDS or word in FALSE_WORDS:
        written = "true" if word in TRUE_WORDS else "false"
        return (
            f"{shown(value)} is a string, not true or false; write {name}: {written} "
            "(without quotes)"
        )
    return f"{_what(value)} is not true or false"


def _not_a_list(value: Any, name: str, place: _Place) -> str:
    if not isinstance(value, str):
        return f"{_what(value)} is not a list"
    meta = allowed_metadata(place.node) if place.node else None
    items = meta.written_as(value) if meta and meta.written_as else [value]
    return f"{shown(value)} is a string, not a list; write {name}: {_flow(items)}"


def _misplaced_setting(value: Any, name: str, place: _Place) -> str | None:
    """A setting written one level too far left, where a name of the mapping above goes
    (`schedules: {expression: ...}`): said so, with the indentation that was meant."""
    node, parent = place.node, place.nodes[-2] if len(place.nodes) > 1 else None
    if node is None or parent is None or not is_model(node.kind) or isinstance(value, dict):
        return None
    if get_origin(parent.kind) is not dict:
        return None
    if name not in fields(node.kind) or len(place.loc) < 2:
        return None
    return _indent_it(value, name, str(place.loc[-2]), parent)


def misplaced_block(holder: Node, holder_name: str, name: str, value: Any) -> str | None:
    """A block-valued setting one level too far left (`environment:` among the jobs): a
    mapping under a name that is a setting of the items, holding no key that is one (nor a near
    miss of one: a job named `service` with a misspelt key is still a job). Said so, with the
    indentation meant, as for a setting of one value."""
    item = child(holder, name) if get_origin(holder.kind) is dict else None
    if item is None or not is_model(item.kind) or not isinstance(value, dict) or not value:
        return None
    settings = list(fields(item.kind))
    if name not in settings or any(nearest(str(k), settings) or k in settings for k in value):
        return None
    return _indent_it(value, name, holder_name, holder)


def _indent_it(value: Any, name: str, holder: str, parent: Node) -> str:
    return (
        f"{shown(value)} is where a name goes, but {name} is a setting: indent it under a name, "
        f"like {holder}: {{NAME: {{{name}: {_flow(value)}}}}}; allowed: {allowed_text(parent)}"
    )


def unknown_key(name: str, keys: Sequence[str], allowed: str | None = None) -> str:
    """`unknown key; allowed: ...`, naming the key it is a near miss of, if any; `allowed`
    in place of the keys' list."""
    near = nearest(name, keys)
    guess = f" {shown(name)}; did you mean {near}?" if near else ";"
    return f"unknown key{guess} allowed: {allowed or ', '.join(keys)}"


def nearest(name: str, candidates: Sequence[str]) -> str | None:
    """The candidate `name` is a near miss of: the same but for case, else the fewest edits,
    at most two and at most a third of the candidate's length (`job` is jobs, `cmd` is not
    cpu)."""
    lowered = name.lower()
    same = [c for c in candidates if c.lower() == lowered and c != name]
    if same:
        return same[0]
    scored = [(edits(lowered, c.lower()), c) for c in candidates if c != name]
    near = [(n, c) for n, c in scored if n <= min(2, max(1, len(c) // 3))]
    return min(near, key=lambda pair: pair[0])[1] if near else None


def edits(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


_SECRET = "a secret (a value set with pulumi config set --secret)"


def secret_refused(place: str | None) -> str:
    """Why a Pulumi secret is refused in a job's `environment`, its `secrets` or elsewhere
    under `longjobs:`: the program writes config values into resources as they are."""
    if place == "environment":
        return (
            f"{_SECRET} is not taken as an environment value: environment values are written in "
            "plaintext in the task definition; allowed: a string here, or the secret kept in SSM "
            "Parameter Store or Secrets Manager and named by its ARN under the job's secrets:"
        )
    if place == "secrets":
        return (
            f"{_SECRET} is not taken here: secrets: names where a secret is kept, and ECS reads "
            "it from there; allowed: the ARN of an SSM parameter or a Secrets Manager secret "
            "holding the value"
        )
    return (
        f"{_SECRET} is not taken under {NAMESPACE}:, whose values are written into resources in "
        "plaintext (task definitions, tags, policies, the trigger's package); allowed: plain "
        "values; a job reads a secret through its secrets: (an SSM parameter or Secrets "
        "Manager ARN)"
    )


def secret_held() -> str:
    """Why a `longjobs:` key the CLI marks secret is refused."""
    return (
        "holds a secret (a value set with pulumi config set --secret, on the key or on a path "
        f"under it); the program writes {NAMESPACE}: values into resources in plaintext (a job's "
        "environment into its task definition, tags, policies), so none is taken there; "
        "allowed: plain values; a job reads a secret through its secrets: (an SSM parameter or "
        "Secrets Manager ARN)"
    )
