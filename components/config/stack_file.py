"""Read a Pulumi.<stack>.yaml as the Pulumi CLI would hand it to the program, refusing what its
YAML readers disagree on. Used offline (the plan, the tests); under the CLI the program gets the
values the CLI read.

The CLI reads stack files with Go YAML libraries (yaml.v2 and yaml.v3), hands each top-level
value to the program as its text and a mapping or a list as JSON; this module reads them with
PyYAML (components/config/readers.py says who reads what). Values are returned as the program
gets them. A plain (unquoted) scalar under `longjobs:` that the readers do not all read alike
(`2:00`, `0o17`, `yes`, `2026-11-01`, ...), or that a YAML 1.2 reader would read otherwise
(`017`), is refused, naming what each reads and the form to write; an environment value must
reach a container as written, so any unquoted one that some reader does not keep as text is
refused with its quoted form. A Pulumi secret under `longjobs:` is refused: the config's values
are written into resources in plaintext. A key given twice in one mapping is refused too: one
reader refuses it, another keeps the last. Syntax errors and a file not shaped as Pulumi reads
one (no `config:`, config keys outside it) are one line: file, line, column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from components.config import readers
from components.config.allowed import (
    Duration,
    Node,
    allowed_metadata,
    allowed_text,
    descend,
    scalar_kind,
)
from components.config.errors import NAMESPACE, key_path, secret_refused
from components.config.models import StackConfig


class StackFileError(yaml.YAMLError):
    """A stack file that cannot be read; its message is one line naming file, line and column."""


@dataclass(frozen=True)
class Plain:
    """A plain (unquoted) scalar: what PyYAML made of it, and its text."""

    value: Any
    text: str


@dataclass(frozen=True)
class Secure:
    """A Pulumi secret as the stack file holds it: `{secure: <ciphertext>}`."""

    ciphertext: str


def _mark(path: Path, mark: yaml.Mark | None) -> str:
    if mark is None:
        return path.name
    return f"{path.name}:{mark.line + 1}:{mark.column + 1}"


def _build(node: yaml.Node, loader: yaml.SafeLoader, path: Path) -> Any:
    if isinstance(node, yaml.MappingNode):
        mapping: dict[Any, Any] = {}
        first: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in first:
                raise StackFileError(
                    f"{_mark(path, key_node.start_mark)}: {key!r} is given twice in one mapping "
                    f"(first at line {first[key].start_mark.line + 1}); one YAML reader refuses "
                    "this and another keeps the last value: keep one"
                )
            first[key] = key_node
            mapping[key] = _build(value_node, loader, path)
        # The CLI's mark of a secret (sdk/go/common/resource/config/value.go, isSecureValue).
        secure = mapping.get("secure")
        if len(mapping) == 1 and isinstance(secure, Plain) and isinstance(secure.value, str):
            return Secure(secure.value)
        if len(mapping) == 1 and isinstance(secure, str):
            return Secure(secure)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loader, path) for item in node.value]
    value = loader.construct_object(node, deep=True)
    if isinstance(node, yaml.ScalarNode) and node.style is None:
        return Plain(value, node.value)
    return value


def _config_node(path: Path, document: yaml.Node | None) -> yaml.Node | None:
    """The `config:` block's node; StackFileError for a file Pulumi would not read config from."""
    if document is not None and not isinstance(document, yaml.MappingNode):
        raise StackFileError(f"{path.name}: the file must be a mapping with a config: block")
    pairs = document.value if document is not None else []
    for key_node, value_node in pairs:
        if key_node.value == "config":
            return value_node
    stray = next((k for k, _ in pairs if ":" in k.value or k.value == NAMESPACE), None)
    if stray is not None:
        raise StackFileError(
            f"{_mark(path, stray.start_mark)}: {stray.value} is outside config:, and Pulumi "
            "reads a stack's settings only from its config: block: indent it under config:"
        )
    raise StackFileError(
        f"{path.name}: no config: block; a stack's settings go under config:, each key "
        f"written namespace:key, like config: {{{NAMESPACE}:jobs: {{report: {{}}}}}}"
    )


def read_config(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The `config:` block as the program would get it, and what the readers disagree on.

    A refused scalar is handed on as its text, so that it is reported once, here, with what
    the user wrote: the caller passes the key paths of these problems on as `named`.
    """
    loader = yaml.SafeLoader(path.read_text())
    try:
        node = _config_node(path, loader.get_single_node())
        raw = _build(node, loader, path) if node is not None else {}
    except StackFileError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise StackFileError(f"{_mark(path, mark)}: {error.problem or error.context}") from None
    finally:
        loader.dispose()
    if raw is None or isinstance(raw, Plain) and raw.value is None:
        raw = {}
    if not isinstance(raw, dict):
        raise StackFileError(f"{path.name}: config: must be a mapping")
    problems: list[str] = []
    values = {str(key): _top_level(str(key), value, problems) for key, value in raw.items()}
    return values, problems


def _top_level(key: str, value: Any, problems: list[str]) -> Any:
    """A config key's value as the program gets it: a scalar as the text the CLI hands over,
    read as JSON where it is JSON; a mapping or a list as YAML made it."""
    namespace, colon, name = key.partition(":")
    # A dotted key (`longjobs:jobs.report.cpu`) is named by the config's own checks.
    ours = namespace == NAMESPACE and bool(colon) and not any(c in name for c in ".[")
    if isinstance(value, Plain):
        if ours:
            problem = _plain_problem((name,), value, _node((name,)), top=True)
            if problem:
                problems.append(problem)
        return readers.program_value(value.text)
    if isinstance(value, str):
        return readers.program_value(value)
    if namespace != NAMESPACE or not colon:
        return _as_read(value)
    if isinstance(value, Secure):
        problems.append(f"{key}: {secret_refused(None)}")
        return value.ciphertext
    return _nested(value, (name,), _node((name,)) if ours else None, problems)


def _as_read(value: Any) -> Any:
    """A value outside `longjobs:` as PyYAML read it (its provider reads it, not this program)."""
    if isinstance(value, Plain):
        return value.value
    if isinstance(value, Secure):
        return {"secure": value.ciphertext}
    if isinstance(value, dict):
        return {k: _as_read(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_read(v) for v in value]
    return value


def _nested(value: Any, loc: tuple[Any, ...], node: Node | None, problems: list[str]) -> Any:
    if isinstance(value, Secure):
        problems.append(f"{key_path(*loc)}: {secret_refused(_held_in(loc))}")
        return value.ciphertext
    if isinstance(value, dict):
        return {
            k: _nested(v, (*loc, str(k)), descend(node, str(k)), problems) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_nested(v, (*loc, i), descend(node, str(i)), problems) for i, v in enumerate(value)]
    if isinstance(value, Plain):
        problem = (
            _environment_problem(loc, value)
            if _held_in(loc) == "environment"
            else _plain_problem(loc, value, node, top=False)
        )
        if problem:
            problems.append(problem)
            return value.text
        return value.value
    return value


def _held_in(loc: Sequence[Any]) -> Literal["environment", "secrets"] | None:
    """`environment` or `secrets` for a value of a job's (or a schedule's) such mapping."""
    job_level = len(loc) == 4 and loc[0] == "jobs"
    schedule_level = len(loc) == 6 and loc[0] == "jobs" and loc[2] == "schedules"
    if (job_level or schedule_level) and loc[-2] in ("environment", "secrets"):
        return "environment" if loc[-2] == "environment" else "secrets"
    return None


def _node(loc: Sequence[Any]) -> Node | None:
    node: Node | None = Node(StackConfig)
    for part in loc:
        node = descend(node, str(part))
    return node


# What each reader is called in a message.
_NAMES = {
    ("PyYAML",): "PyYAML",
    ("yaml.v2",): "the Pulumi CLI's yaml.v2",
    ("yaml.v3",): "the Pulumi CLI's yaml.v3",
    ("yaml.v2", "yaml.v3"): "the Pulumi CLI's YAML readers (yaml.v2 and yaml.v3)",
    ("PyYAML", "yaml.v2"): "PyYAML and the Pulumi CLI's yaml.v2",
    ("PyYAML", "yaml.v3"): "PyYAML and the Pulumi CLI's yaml.v3",
    ("PyYAML", "yaml.v2", "yaml.v3"): "PyYAML and the Pulumi CLI's YAML readers (yaml.v2 and "
    "yaml.v3)",
    ("YAML 1.2",): "a YAML 1.2 reader",
}


def _readings(scalar: Plain) -> list[tuple[tuple[str, ...], Any]]:
    """Each reading of a scalar under a mapping or a list, with its readers, in reader order;
    a YAML 1.1 octal also as YAML 1.2 reads it."""
    found: list[tuple[tuple[str, ...], Any]] = []
    every = [("PyYAML", scalar.value)] + [
        (r, readers.go_yaml(scalar.text, r)) for r in readers.GO_READERS
    ]
    for reader, value in every:
        index = next((i for i, (_, v) in enumerate(found) if readers.same(v, value)), None)
        if index is None:
            found.append(((reader,), value))
        else:
            found[index] = ((*found[index][0], reader), found[index][1])
    if readers.octal(scalar.text) and len(found) == 1:
        found.append((("YAML 1.2",), int(scalar.text.replace("_", ""), 10)))
    return found


def _plain_problem(
    loc: tuple[Any, ...], scalar: Plain, node: Node | None, *, top: bool
) -> str | None:
    """Why an unquoted scalar is refused (the readers disagree on it, or JSON cannot carry
    what they all read), or None."""
    found = _top_readings(scalar) if top else _readings(scalar)
    values = [value for _, value in found]
    if len(found) == 1 and not _not_finite(values[0]):
        return None
    read = _in_words(scalar, found, top)
    written = f"{scalar.text} is not quoted" if scalar.text else "the value is empty"
    line = f"{key_path(*loc)}: {written}, so {read}"
    fix = _fix(loc[-1], scalar, _numbers(values), node)
    if fix:
        line += f"; {fix}"
    if node is not None:
        line += f"; allowed: {allowed_text(scalar_kind(node))}"
    return line


def _top_readings(scalar: Plain) -> list[tuple[tuple[str, ...], Any]]:
    """PyYAML's reading of a top-level scalar, and the program's of the text the CLI hands it."""
    handed = readers.program_value(scalar.text)
    if readers.same(scalar.value, handed):
        return [(("PyYAML", "the Pulumi CLI"), handed)]
    return [(("PyYAML",), scalar.value), (("the Pulumi CLI",), handed)]


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _in_words(scalar: Plain, found: list[tuple[tuple[str, ...], Any]], top: bool) -> str:
    """Who reads the scalar as what: `PyYAML reads it as the number 120 (base 60) and ...`."""
    if len(found) == 1:
        return (
            f"every reader reads it as {readers.described(found[0][1], scalar.text)}, which the "
            "Pulumi CLI cannot hand to the program (JSON has no such number)"
        )
    if top:
        (_, mine), (_, handed) = found
        return (
            f"PyYAML reads it as {readers.described(mine, scalar.text)} and the Pulumi CLI "
            f"hands it to the program as {readers.described(handed, scalar.text)}"
        )
    (first, value), *rest = found
    verb = "reads" if len(first) == 1 else "read"
    parts = [f"{_NAMES[first]} {verb} it as {readers.described(value, scalar.text)}"]
    for who, other in rest:
        # A YAML 1.2 reader's number is decimal: the text's octal does not describe it.
        source = "" if who == ("YAML 1.2",) else scalar.text
        parts.append(f"{_NAMES[who]} as {readers.described(other, source)}")
    return _and(parts)


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _numbers(values: Sequence[Any]) -> list[int | float]:
    """The finite numbers among the readings, whole ones as integers, each once."""
    found: list[int | float] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            continue
        number = int(value) if float(value).is_integer() else value
        if number not in found:
            found.append(number)
    return found


def _fix(name: Any, scalar: Plain, numbers: list[int | float], node: Node | None) -> str | None:
    """The form to write, as far as the field's kind says it: a duration with its units, a
    number or a boolean plainly, text quoted."""
    as_text = f'"{scalar.text}"'
    quoted = f"write {name}: {as_text}" if isinstance(name, str) else f"write it quoted: {as_text}"
    if node is None:
        return quoted
    leaf = scalar_kind(node)
    if isinstance(allowed_metadata(leaf), Duration) and readers.base_60(scalar.text):
        return _duration_fix(name, scalar.text)
    if leaf.kind is bool:
        read = [scalar.value, *(readers.go_yaml(scalar.text, r) for r in readers.GO_READERS)]
        word = next((w for w in read if w is True or w is False), None)
        return None if word is None else f"write {_written(name, str(word).lower())}"
    if leaf.kind is int or isinstance(allowed_metadata(leaf), Duration):
        if len(numbers) > 1:
            forms = " or ".join(_written(name, n) for n in numbers)
            return f"write {forms}, as you mean it"
        if numbers and readers.base_60(scalar.text):
            return f"if you mean {numbers[0]}, write {_written(name, numbers[0])}"
        return f"write {_written(name, numbers[0])}" if numbers else None
    return quoted if leaf.kind is str else None


def _written(name: Any, value: object) -> str:
    return f"{name}: {value}" if isinstance(name, str) else str(value)


def _duration_fix(name: Any, text: str) -> str:
    """`2:00` as hours and minutes or as minutes and seconds; `1:30:00` as all three."""
    parts = [int(p or 0) for p in text.split(".")[0].replace("_", "").lstrip("+").split(":")]
    if len(parts) == 3:
        return f"write {_written(name, _units(parts, 'hms'))}"
    if len(parts) == 2:
        hours, minutes = _units(parts, "hm"), _units(parts, "ms")
        return f"write {_written(name, hours)} or {_written(name, minutes)}, as you mean it"
    return f"write it with units, like {_written(name, '1h30m')}"


def _units(parts: list[int], units: str) -> str:
    return "".join(f"{n}{u}" for n, u in zip(parts, units, strict=True) if n) or "0s"


def _environment_problem(loc: tuple[Any, ...], scalar: Plain) -> str | None:
    """An unquoted environment value some reader does not keep as text."""
    name = str(loc[-1])
    if not isinstance(scalar.value, str):
        read = (
            f"YAML reads it as {_word(scalar.value)} (and the Pulumi CLI's readers may read it "
            "otherwise)"
        )
    else:
        found = [(r, readers.go_yaml(scalar.text, r)) for r in readers.GO_READERS]
        other = [(r, v) for r, v in found if not isinstance(v, str)]
        if not other:
            return None
        if len(other) == 2 and readers.same(other[0][1], other[1][1]):
            who = "the Pulumi CLI's YAML readers (yaml.v2 and yaml.v3) read"
        else:
            who = f"{other[0][0]}, one of the Pulumi CLI's YAML readers, reads"
        what = readers.described(other[0][1], scalar.text)
        read = f"{who} it as {what}, though PyYAML keeps it text"
    return (
        f"{key_path(*loc)}: {scalar.text} is not quoted, so {read}; environment values "
        f'are strings: write {name}: "{scalar.text}"'
    )


def _word(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
