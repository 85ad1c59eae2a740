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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeGuard, get_origin

import yaml

from components.config import readers, unquoted
from components.config.allowed import Node, descend, is_model, scalar_kind
from components.config.errors import NAMESPACE, key_path, secret_refused
from components.config.models import StackConfig
from components.config.unquoted import Plain


class StackFileError(yaml.YAMLError):
    """A stack file that cannot be read; its message is one line naming file, line and column."""


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


# What a stack file holds besides config: (the Pulumi CLI's ProjectStack, in
# sdk/go/common/workspace/project.go): the secrets provider, its key and salt, ESC environments.
_STACK_FILE_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt", "environment")


def _config_node(path: Path, document: yaml.Node | None) -> yaml.Node | None:
    """The `config:` block's node; StackFileError for a file Pulumi would not read config from."""
    if document is not None and not isinstance(document, yaml.MappingNode):
        raise StackFileError(f"{path.name}: the file must be a mapping with a config: block")
    pairs = document.value if document is not None else []
    for key_node, value_node in pairs:
        if key_node.value == "config":
            return value_node
    stray = next((k for k, _ in pairs if k.value not in _STACK_FILE_KEYS), None)
    if stray is not None:
        key = str(stray.value)
        named = "" if ":" in key else f", as {NAMESPACE}:{key}"
        raise StackFileError(
            f"{_mark(path, stray.start_mark)}: {key} is outside config:, and Pulumi reads a "
            f"stack's settings only from its config: block: indent it under config:{named}"
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
        node = _node((name,)) if ours else None
        if _takes_scalar(node):
            problem = unquoted.plain_problem((name,), value, node, top=True)
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
    """A value under a `longjobs:` key as the CLI's JSON hands it over: what every reader reads
    alike as read, and a scalar they do not as written (reported where the key takes one)."""
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
        if _held_in(loc) == "environment":
            problem = unquoted.environment_problem(loc, value)
        elif _takes_scalar(node):
            problem = unquoted.plain_problem(loc, value, node, top=False)
        else:
            # Under a key the config does not take, or where a mapping or a list goes, the key
            # or the shape is the problem: the value is shown as written if readers differ.
            return value.text if len(unquoted.readings(value)) > 1 else value.value
        if problem:
            problems.append(problem)
            return value.text
        return value.value
    return value


def _takes_scalar(node: Node | None) -> TypeGuard[Node]:
    """Whether a known key takes a scalar there (not a mapping or a list)."""
    if node is None:
        return False
    kind = scalar_kind(node).kind
    return not (is_model(kind) or get_origin(kind) in (dict, list))


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
