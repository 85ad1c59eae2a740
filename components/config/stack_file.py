"""Read a Pulumi.<stack>.yaml as the Pulumi CLI would hand it to the program, refusing what its
YAML readers disagree on. Used offline (the plan, the tests); under the CLI the program gets the
values the CLI read.

The CLI reads stack files with Go YAML libraries (yaml.v2 and yaml.v3) and passes structured
values to the program as JSON; this module reads them with PyYAML. They agree on quoted
strings, and disagree on unquoted scalars such as `01234`, `1.10`, `yes`, `1e3`, `y` or
`2026-11-01`. An environment value must reach a container as written, so an unquoted value
there that any of these readers would not keep as a string is refused with the quoted form to
write. A key given twice in one mapping is refused too: one reader refuses it, another keeps
the last. Syntax errors are one line: file, line, column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from components.config.errors import key_path


class StackFileError(yaml.YAMLError):
    """A stack file that cannot be read; its message is one line naming file, line and column."""


@dataclass(frozen=True)
class Unquoted:
    """An unquoted scalar some YAML reader reads as something other than a string, with its
    source text; `reader` names the reader when PyYAML itself kept it a string."""

    value: Any
    text: str
    reader: str | None = None


# What the CLI's Go readers make of plain scalars that PyYAML, a YAML 1.1 reader, keeps as
# strings (REFERENCE.md, "The Pulumi CLI's view of stack config": the CLI uses yaml.v2 and
# yaml.v3; v3 reads `1_000` as 1000; v2 reads yes/on as true). Both resolve a scalar that starts
# with a digit or a sign by dropping `_` and parsing it as Go's integer literals (0x, 0o, 0b,
# a leading 0 for octal) or as YAML 1.2's float (`1e3`, which PyYAML wants as `1.0e+3`), and one
# that starts with `.` as a float; v2 also reads y/Y/n/N as booleans, and v3 a date with
# one-digit month or day (2026-1-5) as a timestamp (resolve.go of gopkg.in/yaml.v2 v2.4.0 and
# of yaml.v3; v2 hands timestamps to a program as strings).
_GO_NUMBER_START = re.compile(r"[-+0-9]")
_GO_INTEGER = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)")
_YAML_12_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_V3_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_V2_BOOLEANS = {"y": True, "Y": True, "n": False, "N": False}
_BOTH_GO_READERS = "the Pulumi CLI's YAML readers (yaml.v2 and yaml.v3) read"


def _go_reading(text: str) -> tuple[str, str] | None:
    """(who reads it so, as what) for a plain scalar PyYAML kept a string, or None."""
    if text in _V2_BOOLEANS:
        return "yaml.v2, one of the Pulumi CLI's YAML readers, reads", _word(_V2_BOOLEANS[text])
    date_match = _V3_DATE.fullmatch(text)
    if date_match:
        try:
            day = date(*map(int, date_match.groups()))
        except ValueError:
            return None
        return "yaml.v3, one of the Pulumi CLI's YAML readers, reads", f"the date {day}"
    plain = text.replace("_", "")
    if _GO_NUMBER_START.match(text) and _GO_INTEGER.fullmatch(plain):
        return _BOTH_GO_READERS, f"the number {_go_integer(plain)}"
    if (_GO_NUMBER_START.match(text) and _YAML_12_FLOAT.fullmatch(plain)) or (
        _GO_DOT_FLOAT.fullmatch(text)
    ):
        return _BOTH_GO_READERS, f"the number {float(plain)}"
    return None


def _go_integer(plain: str) -> int:
    """An integer literal as Go's strconv.ParseInt(plain, 0, 64) reads it: 0x, 0o and 0b
    prefixes, and a leading 0 for octal."""
    digits = plain.lstrip("+-")
    sign = -1 if plain.startswith("-") else 1
    if digits[:1] == "0" and digits[1:2].isdigit():
        return sign * int(digits, 8)
    return int(plain, 0)


def _word(value: Any) -> str:
    return (
        "true"
        if value is True
        else "false"
        if value is False
        else "null"
        if value is None
        else str(value)
    )


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
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loader, path) for item in node.value]
    value = loader.construct_object(node, deep=True)
    if isinstance(node, yaml.ScalarNode) and node.style is None:
        if not isinstance(value, str):
            return Unquoted(value, node.value)
        reading = _go_reading(node.value)
        if reading is not None:
            return Unquoted(value, node.value, f"{reading[0]} it as {reading[1]}")
    return value


def _resolved(value: Any) -> Any:
    """Values as the program receives them: what YAML read, JSON-shaped."""
    if isinstance(value, Unquoted):
        return value.value
    if isinstance(value, dict):
        return {k: _resolved(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v) for v in value]
    return value


def _environments(config: dict[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """(key path, mapping) of every environment block: each job's and each schedule's."""
    found: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    jobs = config.get("longjobs:jobs")
    for job, settings in (jobs or {}).items() if isinstance(jobs, dict) else ():
        if not isinstance(settings, dict):
            continue
        if isinstance(settings.get("environment"), dict):
            found.append((("jobs", str(job), "environment"), settings["environment"]))
        schedules = settings.get("schedules")
        for name, schedule in schedules.items() if isinstance(schedules, dict) else ():
            if isinstance(schedule, dict) and isinstance(schedule.get("environment"), dict):
                where = ("jobs", str(job), "schedules", str(name), "environment")
                found.append((where, schedule["environment"]))
    return found


def _unquoted_problem(where: tuple[str, ...], name: str, scalar: Unquoted) -> str:
    if scalar.reader is not None:
        read = f"{scalar.reader}, though PyYAML keeps it text"
    else:
        read = (
            f"YAML reads it as {_word(scalar.value)} (and the Pulumi CLI's readers may read it "
            "otherwise)"
        )
    return (
        f"{key_path(*where, name)}: {scalar.text} is not quoted, so {read}; environment values "
        f'are strings: write {name}: "{scalar.text}"'
    )


def read_config(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The `config:` block as the program would get it, and the unquoted environment values.

    An unquoted environment value is replaced by its source text, so that it is reported once,
    here, with what the user wrote.
    """
    loader = yaml.SafeLoader(path.read_text())
    try:
        node = loader.get_single_node()
        document = _build(node, loader, path) if node is not None else {}
    except StackFileError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise StackFileError(f"{_mark(path, mark)}: {error.problem or error.context}") from None
    finally:
        loader.dispose()
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name}: the file must be a mapping with a config: block")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name}: config: must be a mapping")
    problems = []
    for where, environment in _environments(config):
        for name, value in environment.items():
            if isinstance(value, Unquoted):
                problems.append(_unquoted_problem(where, str(name), value))
                environment[name] = value.text
    return _resolved(config), problems
