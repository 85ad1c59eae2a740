"""Rules of the codebase that a reader should not have to check by eye."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

import components.platform
from components.image import image_tag, record_name
from components.runs import RunRecords
from offline.program import DEFAULT_SUBNETS, MOCK_ACCOUNT, PROJECT_ROOT, AwsMocks, run_program
from tests.unit.helpers import dev_config

ROOT = Path(__file__).resolve().parents[2]
COMPONENT_FILES = sorted((ROOT / "components").rglob("*.py"))


@functools.cache
def _component_classes() -> tuple[tuple[Path, ast.ClassDef], ...]:
    """Parsed once a process: five parametrizations read them, in every worker's collection."""
    return tuple(
        (path, node)
        for path in COMPONENT_FILES
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.ClassDef)
        and any(ast.unparse(base) == "pulumi.ComponentResource" for base in node.bases)
    )


def component_classes():
    for path, node in _component_classes():
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
        "AccessLogBucket",
        "AlarmForwarder",
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


@pytest.mark.parametrize(("path", "cls"), list(component_classes()))
def test_component_takes_a_name_its_args_dataclass_and_options(path, cls):
    init = _init(cls)
    assert [a.arg for a in init.args.args] == ["self", "name", "args", "opts"]
    assert not (init.args.vararg or init.args.kwonlyargs or init.args.kwarg)
    annotations = [ast.unparse(a.annotation) if a.annotation else None for a in init.args.args]
    assert annotations[1:] == ["str", f"{cls.name}Args", "pulumi.ResourceOptions | None"]
    assert [ast.unparse(d) for d in init.args.defaults] == ["None"]


@pytest.mark.parametrize(("path", "cls"), list(component_classes()))
def test_component_args_are_a_frozen_dataclass_with_a_docstring_per_field(path, cls):
    tree = ast.parse(path.read_text())
    [args] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == f"{cls.name}Args"]
    assert [ast.unparse(d) for d in args.decorator_list] == ["dataclass(frozen=True)"]
    fields = [n for n in args.body if isinstance(n, ast.AnnAssign)]
    assert fields and len(args.body) == 2 * len(fields)
    for field, docstring in zip(args.body[::2], args.body[1::2], strict=True):
        assert isinstance(field, ast.AnnAssign), ast.unparse(field)
        assert (
            isinstance(docstring, ast.Expr)
            and isinstance(docstring.value, ast.Constant)
            and isinstance(docstring.value.value, str)
        ), f"{args.name}.{ast.unparse(field.target)} has no docstring"


@contextmanager
def resources_declared_in_apply() -> Iterator[list[str]]:
    """Every resource, custom or component, constructed while an `apply` callback runs, as
    `<type> '<name>'`, for as long as the block runs.

    Whatever declares it (a constructor, a helper, a component) passes through
    `pulumi.Resource.__init__`. The flag is a context variable, not a global: a task started
    from a callback inherits it, as what it declares is declared on the callback's behalf, and
    no other task sees it.
    """
    declared: list[str] = []
    in_callback: ContextVar[bool] = ContextVar("in_apply_callback", default=False)
    apply = pulumi.Output.apply
    init = pulumi.Resource.__init__

    def flagged_apply(self, func, run_with_unknowns=False):
        def callback(value):
            token = in_callback.set(True)
            try:
                return func(value)
            finally:
                in_callback.reset(token)

        return apply(self, callback, run_with_unknowns)

    def recording_init(self, t, name, *args, **kwargs):
        if in_callback.get():
            declared.append(f"{t} {name!r}")
        init(self, t, name, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pulumi.Output, "apply", flagged_apply)
        patch.setattr(pulumi.Resource, "__init__", recording_init)
        yield declared


def _nat_and_named_key() -> dict[str, Any]:
    config = dev_config()
    config["aws:region"] = "eu-west-2"
    config["longjobs:network"] = {"create": {"natGateways": "single"}}
    config["longjobs:kms"] = (
        f"arn:aws:kms:eu-west-2:{MOCK_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    return config


def _given_network_and_image() -> dict[str, Any]:
    config = dev_config()
    config["longjobs:network"] = {"subnetIds": [DEFAULT_SUBNETS[0]]}
    config["longjobs:jobs"]["hello-world"] = {
        "image": "public.ecr.aws/docker/library/busybox:1.36",
        "cpu": 256,
        "memory": 512,
    }
    config["longjobs:allowedCallers"] = ["111122223333"]
    config["longjobs:notifications"] = {"emails": ["oncall@example.com"]}
    return config


def _report_pushed() -> AwsMocks:
    tag = image_tag(PROJECT_ROOT / "containers" / "report", "arm64")
    digest = f"sha256:{'b' * 64}"
    return AwsMocks(
        "us-east-1",
        pushed={"longjobs-dev/report": {tag: digest}},
        parameters={record_name("longjobs-dev", "report", tag): digest},
    )


# Between them, every branch that declares resources: the default VPC (dev), a new VPC without
# NAT and the stack's own key (prod), a new VPC with NAT and a named key, and given subnets with
# a given image and one already pushed.
PROGRAMS = {
    "dev": lambda: run_program("Pulumi.dev.yaml"),
    "prod": lambda: run_program("Pulumi.prod.yaml"),
    "nat-and-named-key": lambda: run_program(config=_nat_and_named_key()),
    "given-network-and-images": lambda: run_program(
        config=_given_network_and_image(), mocks=_report_pushed()
    ),
}


@pytest.mark.parametrize("program", list(PROGRAMS))
def test_no_resource_is_declared_inside_an_apply_callback(program):
    """Preview must show what `up` will do: a callback does not run on unknown values."""
    with resources_declared_in_apply() as declared:
        run = PROGRAMS[program]()
    assert run.resources
    assert declared == [], f"declared inside apply: {declared}"


def _declare_late(table_name: str, parent: pulumi.Resource) -> aws.sqs.Queue:
    """A helper that declares a component and a resource, as an apply callback might call."""
    late = pulumi.ComponentResource(
        "longjobs:test:Late", "late", None, pulumi.ResourceOptions(parent=parent)
    )
    return aws.sqs.Queue(
        "late-queue", name=f"{table_name}-late", opts=pulumi.ResourceOptions(parent=late)
    )


class RecordsDeclaringInApply(RunRecords):
    def __init__(self, name, args, opts=None):
        super().__init__(name, args, opts)
        self.late = self.table.name.apply(lambda table_name: _declare_late(table_name, self))


def test_the_detector_sees_a_resource_declared_through_a_helper_in_a_callback(monkeypatch):
    monkeypatch.setattr(components.platform, "RunRecords", RecordsDeclaringInApply)
    with resources_declared_in_apply() as declared:
        run = run_program("Pulumi.dev.yaml")
    assert declared == ["longjobs:test:Late 'late'", "aws:sqs/queue:Queue 'late-queue'"]
    assert run.one("aws:sqs/queue:Queue", "late-queue").inputs["name"] == "longjobs-dev-runs-late"


def test_the_detector_leaves_pulumi_as_it_found_it():
    apply, init = pulumi.Output.apply, pulumi.Resource.__init__
    with resources_declared_in_apply():
        assert (pulumi.Output.apply, pulumi.Resource.__init__) != (apply, init)
    assert (pulumi.Output.apply, pulumi.Resource.__init__) == (apply, init)


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
                assert not name.startswith(("pulumi", "components", "tools", "offline")), (
                    path,
                    name,
                )
