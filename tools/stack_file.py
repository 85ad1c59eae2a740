"""Read a Pulumi.<stack>.yaml as the Pulumi CLI would hand it to the program, refusing what its
YAML readers disagree on.

The CLI reads stack files with Go YAML libraries (yaml.v2 and yaml.v3) and passes structured
values to the program as JSON; this plan reads them with PyYAML. They agree on quoted strings,
and disagree on unquoted scalars such as `01234`, `1.10`, `yes` or `2026-11-01`. An environment
value must reach a container as written, so an unquoted value there that is not plainly a string
is refused with the quoted form to write. A key given twice in one mapping is refused too: one
reader refuses it, another keeps the last. Syntax errors are one line: file, line, column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config.errors import key_path


class StackFileError(yaml.YAMLError):
    """A stack file that cannot be read; its message is one line naming file, line and column."""


@dataclass(frozen=True)
class Unquoted:
    """An unquoted scalar YAML read as something other than a string, with its source text."""

    value: Any
    text: str


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
    if isinstance(node, yaml.ScalarNode) and node.style is None and not isinstance(value, str):
        return Unquoted(value, node.value)
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
    value = scalar.value
    read_as = (
        "true"
        if value is True
        else "false"
        if value is False
        else "null"
        if value is None
        else value
    )
    return (
        f"{key_path(*where, name)}: {scalar.text} is not quoted, so YAML reads it as "
        f"{read_as!s} (and the Pulumi CLI's readers may read it otherwise); environment values "
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
