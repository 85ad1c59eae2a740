"""mypy reads only the pulumi_aws and moto modules pyproject.toml lists (the rest are Any to it):
every module of theirs that the checked code uses must be listed, or its calls go unchecked."""

from __future__ import annotations

import ast
import importlib
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pulumi_aws", "moto")


def mypy_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def read_by_mypy() -> set[str]:
    """The modules of PACKAGES an override sets to `follow_imports = "normal"`."""
    return {
        module
        for override in mypy_config()["overrides"]
        if override.get("follow_imports") == "normal"
        for module in override["module"]
        if module.split(".")[0] in PACKAGES
    }


def checked_files() -> Iterator[Path]:
    for entry in mypy_config()["files"]:
        yield from sorted((ROOT / entry).rglob("*.py"))


def defining_module(module: ModuleType, name: str) -> str:
    """The module `module.name` comes from: a submodule, or the one that defines the object."""
    found = getattr(module, name)
    return found.__name__ if isinstance(found, ModuleType) else found.__module__


def used_modules(tree: ast.Module) -> set[str]:
    """The modules of PACKAGES a file imports, and for each alias of one (`import pulumi_aws as
    aws`), the module of each attribute it reads (`aws.ecs` is pulumi_aws.ecs)."""
    used, aliases = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for name in node.names:
                if name.name.split(".")[0] in PACKAGES:
                    used.add(name.name)
                    aliases[name.asname or name.name] = name.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in PACKAGES:
                used.add(node.module)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            package = importlib.import_module(aliases[node.value.id])
            used.add(defining_module(package, node.attr))
    return used


def unread(used: set[str], read: set[str]) -> list[str]:
    """The used modules that mypy does not read: neither listed nor under a listed `pkg.*`."""

    def listed(module: str) -> bool:
        parts = module.split(".")
        prefixes = {".".join(parts[:i]) + ".*" for i in range(1, len(parts))}
        return module in read or bool(prefixes & read)

    return sorted(m for m in used if not listed(m))


def test_mypy_reads_every_pulumi_aws_and_moto_module_the_code_uses():
    used = {m for path in checked_files() for m in used_modules(ast.parse(path.read_text()))}
    assert "pulumi_aws.ecs" in used and "moto.server" in used
    assert unread(used, read_by_mypy()) == []


def test_a_service_the_list_leaves_out_is_named():
    tree = ast.parse("import pulumi_aws as aws\naws.rds.Instance\naws.get_region()\n")
    assert used_modules(tree) == {"pulumi_aws", "pulumi_aws.rds", "pulumi_aws.get_region"}
    assert unread(used_modules(tree), read_by_mypy()) == ["pulumi_aws.rds"]
