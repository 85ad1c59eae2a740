"""docs/configuration.md, generated from the config model: `python -m tools.docs` (`make docs`).

Every key of the stack config with its default and what it allows, read from the model
(components/config/models.py: each field's default, and the `Allowed` text its problems end
with) and from the per-job rules the functions share (longjobs_contract/jobs.py: each rule's
description). Also the deploy role's permissions in docs/operations.md (tools/permissions_doc.py).
`--check` exits 1 when a file differs from what its source makes.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from components.config.allowed import Node, allowed_text, is_model, unwrap
from components.config.models import StackConfig
from longjobs_contract import jobs as job_rules
from longjobs_contract.settings import Setting, settings
from tools import permissions_doc

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
NAMESPACE = "longjobs"
SECTIONS = {"stack": "Stack keys", "jobs": "Job keys", "schedules": "Schedule keys"}


@dataclass(frozen=True)
class Row:
    key: str
    default: str
    allowed: str
    about: str


def _rules() -> dict[str, Setting]:
    """The contract's declaration of each per-job rule, by the config attribute it comes from."""
    return {
        s.source: s
        for cls in (job_rules.RunRules, job_rules.LifecycleRules)
        for s in settings(cls).values()
        if s.source
    }


def attribute_docs(model: type[BaseModel]) -> dict[str, str]:
    """The docstring under each field of `model`'s class body, by field name."""
    body = ast.parse(textwrap.dedent(inspect.getsource(model))).body[0]
    assert isinstance(body, ast.ClassDef)
    found = {}
    for field, after in zip(body.body, body.body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            found[field.target.id] = " ".join(after.value.value.split())
    return found


def _filled(model: type[BaseModel]) -> dict[str, Any]:
    """What the model fills in for a key left out, where it has no plain default (a job's
    memory: the smallest the cpu allows), read by validating an empty mapping."""
    try:
        return model.model_validate({}).model_dump()
    except ValueError:
        return {}


def _default(info: Any, filled: Any = PydanticUndefined) -> str:
    if info.is_required():
        if filled is PydanticUndefined:
            return "required"
        return f"`{json.dumps(filled)}` in a job of defaults"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        return "{} (each key's default)"
    return f"`{json.dumps(value)}`"


def _mapping_of_models(node: Node) -> type[BaseModel] | None:
    """The model of each value, for a mapping of names to settings (jobs, schedules)."""
    if get_origin(node.kind) is dict:
        value = unwrap(get_args(node.kind)[1]).kind
        return value if is_model(value) else None
    return None


def _list_of_models(node: Node) -> type[BaseModel] | None:
    if get_origin(node.kind) is list:
        item = unwrap(get_args(node.kind)[0]).kind
        return item if is_model(item) else None
    return None


def rows(model: type[BaseModel], path: str, rules: dict[str, Setting]) -> Iterator[tuple[str, Row]]:
    """(section, row) for each key of `model` under `path`, and the keys under it."""
    own_docs, filled = attribute_docs(model), _filled(model)
    for attribute, info in model.model_fields.items():
        key = info.alias or attribute
        node = unwrap(info.annotation, tuple(info.metadata))
        name = f"{path}.{key}" if path else f"{NAMESPACE}:{key}"
        section = _section(name)
        rule = rules.get(attribute) if model.__name__ == "JobConfig" else None
        about = own_docs.get(attribute) or (rule.doc if rule else "")
        allowed = allowed_text(node)
        if rule and allowed == "a string":  # a check of the contract's own, without a text
            allowed = rule.allowed()
        default = _default(info, filled.get(attribute, PydanticUndefined))
        yield section, Row(name, default, allowed, about)
        named = _mapping_of_models(node)
        if named is not None:
            yield from rows(named, f"{name}.<{key.rstrip('s')}>", rules)
        elif is_model(node.kind):
            yield from rows(node.kind, name, rules)
        elif (item := _list_of_models(node)) is not None:
            yield from rows(item, f"{name}[]", rules)


def _section(name: str) -> str:
    if ".schedules.<" in name:
        return "schedules"
    return "jobs" if name.startswith(f"{NAMESPACE}:jobs.") else "stack"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    by_section: dict[str, list[Row]] = {s: [] for s in SECTIONS}
    for section, row in rows(StackConfig, "", _rules()):
        by_section[section].append(row)
    lines = [
        "# Stack configuration reference",
        "",
        "<!-- Generated by `python -m tools.docs` (`make docs`) from components/config/models.py",
        "     and longjobs_contract/jobs.py; edit those, not this file. -->",
        "",
        "Every key of a stack's config (`Pulumi.<stack>.yaml`), with its default and what it",
        "allows, in the words of the problem `make plan` prints for a value it refuses. A dotted",
        "key is a path: each dot is one level of nesting in the file; `<job>` and `<schedule>`",
        "are names you choose, `[]` an item of a list. The README's [Stack",
        "config](../README.md#stack-config) explains how keys are written and read.",
    ]
    for section, title in SECTIONS.items():
        lines += [
            "",
            f"## {title}",
            "",
            "| key | default | allowed | what it does |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{r.key}` | {_cell(r.default)} | {_cell(r.allowed)} | {_cell(r.about)} |"
            for r in by_section[section]
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    generated = {
        DOC: render(),
        permissions_doc.DOC: permissions_doc.render(permissions_doc.DOC.read_text()),
    }
    stale = [path for path, text in generated.items() if path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"docs/{path.name} is stale: run make docs", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(generated[path])
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
