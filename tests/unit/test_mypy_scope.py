"""mypy reads only the pulumi_aws and moto modules pyproject.toml lists: every module of theirs
that the checked code uses must be listed, or mypy says the resource is not there (a service
left out would be Any to it, its calls unchecked). This names the module to add."""

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


def attribute_chain(node: ast.expr) -> list[str]:
    """`aws.ec2.SecurityGroup` as ["aws", "ec2", "SecurityGroup"]; [] for anything else."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.insert(0, node.attr)
        node = node.value
    return [node.id, *names] if isinstance(node, ast.Name) else []


def used_modules(tree: ast.Module) -> set[str]:
    """The modules of PACKAGES a file imports and those defining what it reads through them:
    for `import pulumi_aws as aws`, `aws.ecs` is pulumi_aws.ecs and `aws.ecs.Cluster`
    pulumi_aws.ecs.cluster too; `from pulumi_aws.ecs import Cluster` the same two."""
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
                package = importlib.import_module(node.module)
                used |= {defining_module(package, name.name) for name in node.names}
    chains = (attribute_chain(node) for node in ast.walk(tree) if isinstance(node, ast.Attribute))
    for alias, *attributes in filter(None, chains):
        if alias not in aliases:
            continue
        found: object = importlib.import_module(aliases[alias])
        for attribute in attributes:
            if not isinstance(found, ModuleType):
                break
            used.add(defining_module(found, attribute))
            found = getattr(found, attribute)
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


def test_a_service_or_a_resource_the_list_leaves_out_is_named():
    tree = ast.parse(
        "import pulumi_aws as aws\n"
        "from pulumi_aws.ecs import Cluster\n"
        "aws.rds.Instance\n"
        "aws.get_region()\n"
        "aws.ec2.Ami\n"
        "aws.ec2.SecurityGroupEgressArgs(protocol='-1').protocol\n"
    )
    assert used_modules(tree) == {
        "pulumi_aws",
        "pulumi_aws.get_region",
        "pulumi_aws.rds",
        "pulumi_aws.rds.instance",
        "pulumi_aws.ec2",
        "pulumi_aws.ec2.ami",
        "pulumi_aws.ec2._inputs",
        "pulumi_aws.ecs",
        "pulumi_aws.ecs.cluster",
    }
    assert unread(used_modules(tree), read_by_mypy()) == [
        "pulumi_aws.ec2.ami",
        "pulumi_aws.rds",
        "pulumi_aws.rds.instance",
    ]
