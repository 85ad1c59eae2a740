"""A job a user adds: hadolint's findings in its Dockerfile, as `make plan` and the program
(`pulumi preview`) report them, and a clean user job that `make test` leaves alone."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import components.config.models
import components.image
import components.job
from offline.program import PROJECT_ROOT
from tools import plan

DIGEST = "sha256:" + "4" * 64
# A user's base: pinned by digest as make plan requires, but not the examples' habits (an ECR
# Public base with a version tag beside the digest).
BASE = f"docker.io/library/debian@{DIGEST}"
CLEAN = f'FROM {BASE}\nCOPY job.sh /job.sh\nUSER 65534\nENTRYPOINT ["/job.sh"]\n'
WHERE = "longjobs:jobs.resize.build: containers/resize/Dockerfile"


def plan_user_job(root: Path, dockerfile: str) -> tuple[int, str, str]:
    """`make plan` of a stack holding one job, `resize`, built from containers/resize under
    `root`: its exit code, stdout and stderr."""
    folder = root / "containers" / "resize"
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(dockerfile)
    (folder / "job.sh").write_text("#!/bin/sh\necho resized\n")
    return plan_user_job_again(root)


def plan_user_job_again(root: Path) -> tuple[int, str, str]:
    """`make plan` of the stack plan_user_job wrote, its files as they are now."""
    stack_file = root / "Pulumi.mine.yaml"
    config = {"aws:region": "us-east-1", "longjobs:jobs": {"resize": {"cpu": 512}}}
    stack_file.write_text(yaml.safe_dump({"config": config}))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = plan.main(["--file", str(stack_file)])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """A project folder of the user's: the config's checks and the image's build read jobs'
    folders there."""
    for module in (components.config.models, components.job, components.image):
        monkeypatch.setattr(module, "PROJECT_ROOT", tmp_path)
    return tmp_path


def test_an_error_finding_fails_the_plan_like_a_config_problem(root):
    # DL3004 (sudo) is an error in hadolint's own levels.
    dockerfile = CLEAN.replace("COPY job.sh /job.sh\n", "COPY job.sh /job.sh\nRUN sudo true\n")
    assert plan_user_job(root, dockerfile) == (
        1,
        "",
        "Pulumi.mine.yaml: 1 problem(s) in the stack config:\n"
        f"  - {WHERE}, line 3: DL3004 Do not use sudo as it leads to unpredictable behavior. Use "
        "a tool like gosu to enforce root (hadolint error, "
        "https://github.com/hadolint/hadolint/wiki/DL3004)\n",
    )


def test_a_dockerfile_that_cannot_be_parsed_fails_the_plan(root):
    code, out, err = plan_user_job(root, CLEAN + "RUN [ unclosed\nCOPY\n")
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        f"  - {WHERE}, line 6: DL1000 missing whitespace (hadolint error, "
        "https://github.com/hadolint/hadolint/wiki/DL1000)"
    ]


def test_a_warning_finding_is_printed_and_fails_nothing(root):
    dockerfile = CLEAN.replace("COPY job.sh /job.sh\n", "COPY job.sh /job.sh\nRUN cd /tmp\n")
    code, out, err = plan_user_job(root, dockerfile)
    assert code == 0
    assert out.startswith("longjobs plan: stack mine")
    # The program's own warnings, as the Pulumi CLI prints them under `pulumi preview`.
    assert err.splitlines() == [
        f"warning: {WHERE}, line 3: DL3003 Use WORKDIR to switch to a directory (hadolint "
        "warning, https://github.com/hadolint/hadolint/wiki/DL3003)",
        f"warning: {WHERE}, line 3: SC2164 Use 'cd ... || exit' or 'cd ... || return' in case "
        "cd fails. (hadolint warning, https://www.shellcheck.net/wiki/SC2164)",
    ]


def test_a_project_hadolint_config_decides_a_rules_level(root, monkeypatch):
    # hadolint reads .hadolint.yaml from the folder it runs in: the project's root.
    import components.hadolint

    monkeypatch.setattr(components.hadolint, "PROJECT_ROOT", root)
    (root / ".hadolint.yaml").write_text("override:\n  error: [DL3003]\nignored: [SC2164]\n")
    dockerfile = CLEAN.replace("COPY job.sh /job.sh\n", "COPY job.sh /job.sh\nRUN cd /tmp\n")
    code, _, err = plan_user_job(root, dockerfile)
    assert code == 1
    assert err.splitlines()[1:] == [
        f"  - {WHERE}, line 3: DL3003 Use WORKDIR to switch to a directory (hadolint error, "
        "https://github.com/hadolint/hadolint/wiki/DL3003)"
    ]


def test_without_hadolint_a_built_job_is_a_config_problem(root, monkeypatch):
    import components.hadolint

    monkeypatch.setattr(components.hadolint, "executable", lambda: None)
    components.hadolint._findings.cache_clear()
    code, out, err = plan_user_job(root, CLEAN)
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [f"  - {WHERE}: {components.hadolint.NOT_INSTALLED}"]


def test_a_clean_user_job_passes_the_plan_and_make_tests_dockerfile_checks(tmp_path):
    """In a copy of the project with the user's job in containers/ and a stack of their own,
    the plan passes with nothing on stderr, and the Dockerfile tests `make test` runs pass."""
    copy = tmp_path / "project"
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    folder = copy / "containers" / "resize"
    folder.mkdir()
    (folder / "Dockerfile").write_text(CLEAN)
    (folder / "job.sh").write_text("#!/bin/sh\necho resized\n")
    config = {"aws:region": "us-east-1", "longjobs:jobs": {"resize": {"cpu": 512}}}
    (copy / "Pulumi.mine.yaml").write_text(yaml.safe_dump({"config": config}))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    planned = subprocess.run(
        [sys.executable, "-m", "tools.plan", "--stack", "mine"],
        cwd=copy, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert (planned.returncode, planned.stderr) == (0, "")
    assert "  resize  (containers/resize)" in planned.stdout
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/containers/test_dockerfiles.py"],
        cwd=copy, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert tested.returncode == 0, tested.stdout[-2000:]


def test_an_inline_ignore_silences_a_finding_on_the_next_instruction(root):
    dockerfile = CLEAN.replace(
        "COPY job.sh /job.sh\n",
        "COPY job.sh /job.sh\n# hadolint ignore=DL3003,SC2164\nRUN cd /tmp\n",
    )
    code, _, err = plan_user_job(root, dockerfile)
    assert (code, err) == (0, "")


def test_a_hadolint_config_it_cannot_read_is_a_config_problem(root, monkeypatch):
    # hadolint itself reads past it, saying so on stderr only, and lints without its levels.
    import components.hadolint

    monkeypatch.setattr(components.hadolint, "PROJECT_ROOT", root)
    (root / ".hadolint.yaml").write_text("ignored: 5\n")
    code, out, err = plan_user_job(root, CLEAN)
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        f"  - {WHERE}: hadolint could not lint it (expected !!seq instead of !!int); check the "
        ".hadolint.yaml at the project's root"
    ]


def test_a_dockerfile_that_is_not_utf8_is_a_config_problem(root):
    code, out, err = plan_user_job(root, CLEAN)
    assert code == 0
    (root / "containers" / "resize" / "Dockerfile").write_bytes(
        CLEAN.encode() + "# café\n".encode("latin-1")
    )
    code, out, err = plan_user_job_again(root)
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        "  - longjobs:jobs.resize.build: 'containers/resize' has a Dockerfile that is not UTF-8 "
        "text: containers/resize/Dockerfile; save it as UTF-8"
    ]


@pytest.mark.parametrize("dockerfile", ["", "# only a comment\n\n"])
def test_a_dockerfile_with_no_from_is_a_config_problem(root, dockerfile):
    code, out, err = plan_user_job(root, dockerfile)
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        "  - longjobs:jobs.resize.build: 'containers/resize' has no FROM: "
        "containers/resize/Dockerfile; docker build needs a FROM naming the base image"
    ]


@pytest.mark.parametrize(
    ("lines", "user"),
    [
        ("ARG U=root\nUSER $U\n", "$U (root)"),
        ("ARG U=0:0\nUSER ${U}\n", "${U} (0:0)"),
        ("ENV U=root:root\nUSER $U\n", "$U (root:root)"),
        ("ENV U root\nUSER ${U:-65534}\n", "${U:-65534} (root)"),
        ("USER ${NOBODY:-0}\n", "${NOBODY:-0} (0)"),
    ],
)
def test_a_user_that_a_variable_makes_root_is_refused(root, lines, user):
    dockerfile = f"FROM {BASE}\n{lines}"
    code, out, err = plan_user_job(root, dockerfile)
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        "  - longjobs:jobs.resize.build: 'containers/resize' runs its job as root: "
        f"containers/resize/Dockerfile, line {dockerfile.count(chr(10))}: USER {user} is root: "
        "name another user or uid"
    ]


def test_a_user_variable_with_no_known_value_is_refused(root):
    code, out, err = plan_user_job(root, f"FROM {BASE}\nARG U\nUSER $U\n")
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        "  - longjobs:jobs.resize.build: 'containers/resize' runs its job as root: "
        "containers/resize/Dockerfile, line 3: USER $U: a variable it uses has no value, so it "
        "may be root: give the variable a default other than root or 0, or name the user"
    ]


def test_a_user_variable_set_to_another_user_passes(root):
    code, _, err = plan_user_job(root, f"FROM {BASE}\nARG U=65534\nUSER $U\n")
    assert code == 0, err


def test_a_hadolint_config_that_is_not_utf8_is_a_config_problem(root, monkeypatch):
    import components.hadolint

    monkeypatch.setattr(components.hadolint, "PROJECT_ROOT", root)
    (root / ".hadolint.yaml").write_bytes("# café\nignored: []\n".encode("latin-1"))
    code, out, err = plan_user_job(root, CLEAN)
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        f"  - {WHERE}: .hadolint.yaml at the project's root is not UTF-8 text; save it as UTF-8"
    ]


def test_a_hadolint_config_that_is_a_folder_is_a_config_problem(root, monkeypatch):
    import components.hadolint

    monkeypatch.setattr(components.hadolint, "PROJECT_ROOT", root)
    (root / ".hadolint.yaml").mkdir()
    code, out, err = plan_user_job(root, CLEAN)
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        f"  - {WHERE}: .hadolint.yaml at the project's root is not a file; make it a YAML file "
        "or remove it"
    ]


def test_a_hadolint_config_it_cannot_parse_gives_the_parsers_reason(root, monkeypatch):
    import components.hadolint

    monkeypatch.setattr(components.hadolint, "PROJECT_ROOT", root)
    (root / ".hadolint.yaml").write_text("ignored: [DL3008\n")
    code, out, err = plan_user_job(root, CLEAN)
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        f"  - {WHERE}: hadolint could not lint it (Unexpected '\\n'); check the .hadolint.yaml "
        "at the project's root"
    ]


def test_a_stage_arg_takes_the_default_of_the_global_arg_it_names(root):
    code, out, err = plan_user_job(root, f"ARG U=root\nFROM {BASE}\nARG U\nUSER $U\n")
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        "  - longjobs:jobs.resize.build: 'containers/resize' runs its job as root: "
        "containers/resize/Dockerfile, line 4: USER $U (root) is root: name another user or uid"
    ]
