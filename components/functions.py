"""What every Lambda function of the stack is shipped as: its own files, the files all functions
share (`functions/common/`), the contract package, and the functions' config file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.config.paths import PROJECT_ROOT
from longjobs_contract import MODULES as CONTRACT_MODULES
from longjobs_contract import trigger_config

FUNCTIONS_DIR = PROJECT_ROOT / "functions"
CONTRACT_DIR = PROJECT_ROOT / "longjobs_contract"
COMMON_FILES = ("attempts.py", "records.py")
"""Shared by every function: the runs table as functions read and write it, and attempts."""
RUNTIME = aws.lambda_.Runtime.PYTHON3D14


def package_files(function: str, own_files: Sequence[str]) -> dict[str, Path]:
    """Archive path → file: exactly what the function's package holds, config file aside."""
    files = {name: FUNCTIONS_DIR / function / name for name in own_files}
    files.update({name: FUNCTIONS_DIR / "common" / name for name in COMMON_FILES})
    files.update({f"longjobs_contract/{name}": CONTRACT_DIR / name for name in CONTRACT_MODULES})
    return files


def package(files: dict[str, Path], config_json: str) -> pulumi.AssetArchive:
    """The deployment package: `files` and the config file the components wrote."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        name: pulumi.FileAsset(str(path)) for name, path in files.items()
    }
    assets[trigger_config.CONFIG_FILE] = pulumi.StringAsset(config_json)
    return pulumi.AssetArchive(assets)
