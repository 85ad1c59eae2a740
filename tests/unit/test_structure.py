"""Rules of the codebase that a reader should not have to check by eye."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPONENT_FILES = sorted((ROOT / "components").rglob("*.py"))


def component_classes():
    for path in COMPONENT_FILES:
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(base) == "pulumi.ComponentResource" for base in node.bases
            ):
                yield pytest.param(path, node, id=f"{path.stem}.{node.name}")


def _init(cls: ast.ClassDef) -> ast.FunctionDef:
    return next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")


def _calls(node: ast.AST, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == name
    ]


def test_there_are_components():
    names = sorted(param.values[1].name for param in component_classes())
    assert names == [
        "CheckpointBucket",
        "FargateJob",
        "JobCluster",
        "JobImage",
        "JobNetwork",
        "JobPlatform",
        "JobSchedules",
        "JobSupervisor",
        "JobTrigger",
        "RunNotifications",
        "RunRecords",
        "StackAlarms",
        "StackKey",
    ]


@pytest.mark.parametrize(("path", "cls"), list(component_classes()))
def test_component_registers_outputs_once_as_its_last_statement(path, cls):
    init = _init(cls)
    assert len(_calls(cls, "register_outputs")) == 1
    last = init.body[-1]
    assert isinstance(last, ast.Expr) and _calls(last, "register_outputs"), (
        f"{cls.name}.__init__ must end with self.register_outputs(...)"
    )


@pytest.mark.parametrize(("path", "cls"), list(component_classes()))
def test_component_type_token_is_in_the_project_namespace(path, cls):
    [super_init] = [
        c for c in _calls(_init(cls), "__init__") if ast.unparse(c.func) == "super().__init__"
    ]
    token = super_init.args[0].value
    assert token == f"longjobs:index:{cls.name}"


RESOURCE_CLASS = re.compile(r"(aws\.\w+|docker|pulumi)\.[A-Z]\w*")


def _creates_resource(node: ast.AST) -> bool:
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            name = ast.unparse(call.func)
            if RESOURCE_CLASS.fullmatch(name) and not name.endswith(("Args", "Asset", "Archive")):
                if name not in ("pulumi.Output", "pulumi.ResourceOptions"):
                    return True
    return False


def test_components_never_create_resources_inside_apply():
    """Preview must show what `up` will do: no resource may be declared in an apply callback."""
    checked: dict[str, int] = {}
    for path in COMPONENT_FILES:
        tree = ast.parse(path.read_text())
        functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        for call in _calls(tree, "apply"):
            callback = call.args[0]
            # A named callback: a local function or a method (`self._target`).
            name = getattr(callback, "id", None) or getattr(callback, "attr", None)
            if name in functions:
                callback = functions[name]
            assert not _creates_resource(callback), f"{path.name}: {ast.unparse(call)[:80]}"
            checked[path.name] = checked.get(path.name, 0) + 1
    # Every apply of the components was looked at; a new one shows up here.
    assert checked == {
        "image.py": 2,
        "job.py": 2,
        "network.py": 4,
        "policies.py": 1,
        "supervisor.py": 2,
        "trigger.py": 2,
    }


def test_the_resource_detector_sees_a_resource():
    assert _creates_resource(ast.parse("lambda x: aws.ecs.Cluster('c')"))
    assert not _creates_resource(ast.parse("lambda x: aws.ecs.ClusterSettingArgs(name=x)"))


def test_lambda_functions_import_neither_pulumi_nor_components():
    for path in (ROOT / "functions").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("pulumi", "components", "tools")), (path, name)
