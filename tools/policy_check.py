"""Run the policy pack's rules over the program offline: `python -m tools.policy_check`.

The program runs under Pulumi mocks (as `make plan` runs it); every rule of `policy/` then sees
every resource it declares, as `pulumi preview --policy-pack policy` would show them to it: a
resource rule gets the resource's inputs, a stack rule gets every resource's state, each wrapped
in the SDK's own property proxies. Prints one line of counts and each violation; exits 1 when
a mandatory rule is violated.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from offline.program import PROJECT_ROOT, ProgramRun, Resource, run_program
from policy.pack import POLICIES, enforcement_level


@dataclass(frozen=True)
class Violation:
    policy: str
    level: EnforcementLevel
    resource_type: str
    resource_name: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.level.value} {self.policy}: {self.resource_type} {self.resource_name}: "
            f"{self.message}"
        )


@dataclass(frozen=True)
class Report:
    resources: int
    rules: int
    violations: list[Violation]

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == EnforcementLevel.MANDATORY]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == EnforcementLevel.ADVISORY]

    def summary(self) -> str:
        return (
            f"policy: {self.resources} resources checked, {self.rules} rules run, "
            f"{len(self.violations)} violations"
        )


def urn(stack: str, resource_type: str, name: str) -> str:
    """A URN of the engine's shape (without the parent types the engine also puts in)."""
    return f"urn:pulumi:{stack}::longjobs::{resource_type}::{name}"


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def _proxied(props: Mapping[str, Any]) -> Mapping[str, Any]:
    # The SDK hands rules JSON-like values behind read-only proxies; so do we, so a rule that
    # would only work on a dict or a list fails here first.
    return unknown_checking_proxy(json.loads(json.dumps(props, default=repr)))


def resource_args(
    resource_type: str, name: str, props: Mapping[str, Any], stack: str = "dev"
) -> ResourceValidationArgs:
    """What `pulumi preview --policy-pack` hands a resource rule for one resource."""
    return ResourceValidationArgs(
        resource_type, _proxied(props), urn(stack, resource_type, name), name, _options(), None
    )


def stack_resource(
    resource_type: str, name: str, props: Mapping[str, Any], stack: str = "dev"
) -> PolicyResource:
    """What a stack rule sees of one resource (no dependencies: the mocks do not record them)."""
    return PolicyResource(
        resource_type,
        _proxied(props),
        urn(stack, resource_type, name),
        name,
        _options(),
        None,
        None,
        [],
        {},
    )


def check(
    run: ProgramRun,
    levels: Mapping[str, EnforcementLevel] | None = None,
    policies: Iterable[Policy] = POLICIES,
) -> Report:
    """Every rule over every resource of `run`, at the pack's levels overridden by `levels`."""
    violations: list[Violation] = []
    rules = 0
    # The engine registers resources in no fixed order; report them in one.
    run = replace(run, resources=sorted(run.resources, key=lambda r: (r.type, r.name)))
    for policy in policies:
        level = (levels or {}).get(policy.name, enforcement_level(policy))
        if level != EnforcementLevel.DISABLED:
            rules += 1
            violations += _run_policy(policy, level, run)
    return Report(len(run.resources), rules, violations)


def _run_policy(policy: Policy, level: EnforcementLevel, run: ProgramRun) -> list[Violation]:
    found: list[Violation] = []

    def report(resource: Resource | None, message: str) -> None:
        type_, name = (resource.type, resource.name) if resource else ("stack", run.stack)
        found.append(Violation(policy.name, level, type_, name, message))

    if isinstance(policy, ResourceValidationPolicy):
        for resource in run.resources:
            args = resource_args(resource.type, resource.name, resource.inputs, run.stack)
            policy.validate(args, _reporter(report, resource))
    elif isinstance(policy, StackValidationPolicy):
        by_urn = {urn(run.stack, r.type, r.name): r for r in run.resources}
        resources = [stack_resource(r.type, r.name, r.state, run.stack) for r in run.resources]

        def report_on_urn(message: str, at: str | None = None) -> None:
            report(by_urn.get(at or ""), message)

        policy.validate(StackValidationArgs(resources), report_on_urn)
    return found


def _reporter(
    report: Callable[[Resource | None, str], None], resource: Resource
) -> Callable[[str, str | None], None]:
    """A resource rule's report_violation: the violation is the resource's, whatever urn."""

    def report_violation(message: str, _urn: str | None = None) -> None:
        report(resource, message)

    return report_violation


def load_levels(path: Path, policies: Iterable[Policy] = POLICIES) -> dict[str, EnforcementLevel]:
    """Enforcement levels from a `--policy-pack-config` file of the Pulumi CLI: `"all"` or a
    policy name, each to a level or to an object with `enforcementLevel`."""
    config = json.loads(path.read_text())
    names = [p.name for p in policies]
    unknown = sorted(set(config) - {"all", *names})
    if unknown:
        raise ValueError(f"{path}: no policy named {', '.join(unknown)}; have {', '.join(names)}")

    def level(value: Any) -> EnforcementLevel | None:
        if isinstance(value, Mapping):
            value = value.get("enforcementLevel")
        return None if value is None else EnforcementLevel(value)

    levels: dict[str, EnforcementLevel] = {}
    every = level(config.get("all"))
    for name in names:
        chosen = level(config.get(name)) or every
        if chosen is not None:
            levels[name] = chosen
    return levels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument(
        "--policy-pack-config",
        type=Path,
        help="enforcement levels, as `pulumi preview --policy-pack-config` reads them",
    )
    args = parser.parse_args(argv)
    stack_file = PROJECT_ROOT / f"Pulumi.{args.stack}.yaml"
    if not stack_file.is_file():
        print(f"{stack_file.name}: no such stack file", file=sys.stderr)
        return 2
    from components.config import ConfigError

    try:
        levels = load_levels(args.policy_pack_config) if args.policy_pack_config else {}
        run = run_program(stack_file)
    except (ConfigError, ValueError) as error:
        print(f"{error}", file=sys.stderr)
        return 2
    report = check(run, levels)
    print(report.summary())
    for violation in report.mandatory + report.advisory:
        print(f"  {violation}")
    return 1 if report.mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
