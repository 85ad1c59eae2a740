"""`pip install .` brings the client, the command and the contract, and not the Pulumi program:
the wheel is built as pip builds it and read whole."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
        ],
        check=True,
        cwd=out,
    )
    [built] = out.glob("longjobs-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_holds_the_client_and_the_contract_only(wheel):
    tops = {name.split("/", 1)[0] for name in wheel.namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {
        "longjobs",
        "longjobs_contract",
    }
    shipped = {Path(name).name for name in wheel.namelist() if name.startswith("longjobs/")}
    assert shipped == {path.name for path in (ROOT / "longjobs").glob("*.py")}


def test_the_wheel_needs_boto3_click_and_rich_and_not_pulumi(wheel):
    [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    fields = Parser().parsestr(wheel.read(metadata).decode())
    requires = sorted(fields.get_all("Requires-Dist"))
    assert requires == ["boto3<2,>=1.35", "click<9,>=8.1", "rich<16,>=13.7"]
    [entry_points] = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert wheel.read(entry_points).decode().split() == [
        "[console_scripts]",
        "longjobs",
        "=",
        "longjobs.cli:main",
    ]


def imported(source: str) -> set[str]:
    """The top-level modules a module imports."""
    tops = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    return tops


def test_what_is_shipped_imports_only_itself_the_stdlib_boto3_click_and_rich(wheel):
    allowed = {"longjobs", "longjobs_contract", "boto3", "botocore", "click", "rich"}
    for name in wheel.namelist():
        if name.endswith(".py"):
            outside = imported(wheel.read(name).decode()) - allowed - sys.stdlib_module_names
            assert not outside, (name, outside)


def test_the_dependencies_install_together_with_the_repositorys():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    dev = (ROOT / "requirements-dev.txt").read_text()
    for requirement in declared:
        name = requirement.split(">", 1)[0].split("<", 1)[0]
        assert any(line.startswith(name) for line in dev.splitlines()), name
