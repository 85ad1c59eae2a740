"""The hello-world job, run as the container runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "containers" / "hello-world" / "hello.sh"


def run(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(SCRIPT)],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=10,
    )


def test_prints_hello_world():
    result = run(HELLO_WORLD="Hello from a test")
    assert result.returncode == 0
    assert result.stdout == "Hello from a test\n"


def test_has_a_greeting_without_the_variable():
    result = run()
    assert result.returncode == 0
    assert result.stdout == "Hello, world!\n"


def test_is_executable_for_the_entry_point():
    assert os.access(SCRIPT, os.X_OK)
