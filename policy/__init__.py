"""longjobs guardrails: the policy pack `pulumi preview --policy-pack policy` runs.

Each rule is a plain function `(args, report_violation)` in a module of this package, importable
and testable without a server; `pack.py` names them as policies; only `__main__.py` starts the
pack's server (constructing a `PolicyPack` blocks).

Every message says what is wrong and how to fix it. `report_violation(message, urn)`: resource
rules pass None as the urn (the SDK files the violation under the resource being checked); stack
rules pass the urn of the resource at fault.
"""
