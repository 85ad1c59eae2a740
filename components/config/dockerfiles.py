"""hadolint over each built job's Dockerfile, worded like every other config problem.

A finding at a failing level (components/hadolint.py) is a problem of the job's `build` key,
one line each, reported with the config's other problems; the rest are warnings, which `make
plan` and `pulumi preview` print and which fail nothing. The project's own rules for a job image
(a base pinned by digest, a USER other than root) are checked with the model
(models.build_folder_problem).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from components import hadolint
from components.config.errors import key_path
from components.config.models import StackConfig, build_dockerfile, build_of


def lint_problems(job: str, settings: Mapping[str, Any]) -> list[str]:
    """The failing findings in the job's Dockerfile, one line each, if it builds one."""
    return [line for fails, line in _lines(job, build_of(job, settings)) if fails]


def lint_warnings(config: StackConfig) -> list[str]:
    """The findings in the built jobs' Dockerfiles that fail nothing, one line each."""
    return [
        line
        for name, job in config.jobs.items()
        for fails, line in _lines(name, job.build)
        if not fails
    ]


def _lines(job: str, build: Any) -> list[tuple[bool, str]]:
    dockerfile = build_dockerfile(build)
    if dockerfile is None:
        return []  # no build, or a build folder whose own problem is reported
    where = f"{key_path('jobs', job, 'build')}: {PurePosixPath(build) / 'Dockerfile'}"
    try:
        found = hadolint.findings(dockerfile)
    except hadolint.LintError as error:
        return [(True, f"{where}: {error}")]
    return [(finding.fails, f"{where}, {finding.described()}") for finding in found]
