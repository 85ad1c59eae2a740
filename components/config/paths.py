"""Where the project's files are, for config checks and builds."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONTAINERS_DIR = "containers"
