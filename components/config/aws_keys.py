"""The AWS provider's config keys (`aws:region`, `aws:profile`, ...), as the installed pulumi-aws
SDK reads them, so that a key it does not read (`aws:regoin`) is named instead of ignored.

The SDK's `config/vars.py` is generated from the provider's schema: one `__config__.get*('key')`
a key. It is read as source, not imported, so that checking a config needs no Pulumi runtime.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path

AWS_NAMESPACE = "aws"


@cache
def aws_keys() -> tuple[str, ...]:
    """Every `aws:` key the provider reads, sorted."""
    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or spec.origin is None:
        raise RuntimeError("pulumi_aws is not installed: the program deploys with it")
    tree = ast.parse((Path(spec.origin).parent / "config" / "vars.py").read_text())
    return tuple(
        sorted(
            f"{AWS_NAMESPACE}:{call.args[0].value}"
            for call in ast.walk(tree)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "__config__"
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        )
    )
