"""parliament (duo-labs' IAM policy linter) over every IAM policy document the program declares.

Every stack file (`Pulumi.*.yaml`) runs under mocks; its documents are found by shape, not by a
list of resource types: any property or stack output holding a JSON object with a `Statement`.
So a role's trust policy and inline policies, role and managed policies, resource policies
(bucket, queue, and any added later: a KMS key's, a topic's) and the `callerPolicy` output are
all read, and a Lambda permission, which holds no document, is not.

parliament runs as its command line runs by default: its own checks, without the opt-in
community auditors. A finding fails the test unless an entry of ALLOWED names it, the
statement it is about, and the AWS documentation showing the finding is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.image import WRITE_ACTIONS
from offline.program import PROJECT_ROOT, ProgramRun, run_program
from policy.documents import ROLE, Document, documents
from tests.unit.helpers import dev_config
from tools.policy_check import resource_args

KMS_KEY = "aws:kms/key:Key"

STACK_FILES = sorted(PROJECT_ROOT.glob("Pulumi.*.yaml"))
TRUST_POLICY = "assumeRolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"


@dataclass(frozen=True)
class IamDocument:
    where: str
    """`aws:iam/role:Role trigger-role assumeRolePolicy`, or `output callerPolicy`."""
    kind: str
    """`trust` (a role's assumeRolePolicy), `resource` (its statements name a Principal) or
    `identity`."""
    text: str


@dataclass(frozen=True)
class Finding:
    where: str
    kind: str
    statement: Mapping[str, Any] | None
    """The statement parliament found it in; None for a finding on the whole document."""
    issue: str
    detail: str

    def __str__(self) -> str:
        about = json.dumps(self.statement) if self.statement is not None else "the document"
        return f"{self.where}: {self.issue} ({self.detail}) in {about}"


@dataclass(frozen=True)
class Allowed:
    issue: str
    detail: str | None
    """The finding's detail; None: any (the finding is wrong for every statement of the kind)."""
    kind: str
    """The kind of document the entry is for."""
    actions: frozenset[str] | None
    """The statement's Action: the entry allows the finding on statements with exactly these;
    None: on every statement of the kind."""
    aws_documentation: str
    why: str

    def allows(self, finding: Finding) -> bool:
        if finding.statement is None:
            return False
        return (
            (finding.issue, finding.kind) == (self.issue, self.kind)
            and self.detail in (None, finding.detail)
            and self.actions in (None, _actions(finding.statement))
        )


ALLOWED = (
    Allowed(
        issue="MALFORMED",
        detail="Statement contains neither Resource nor NotResource",
        kind="trust",
        actions=frozenset({"sts:AssumeRole"}),
        aws_documentation=(
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"
        ),
        why=(
            "A role's trust policy is the role's resource-based policy (\"The IAM resource-based "
            'policy type is a role trust policy"): its resource is the role it is attached to, '
            "and it names who may assume it in Principal, not a Resource. parliament reads every "
            "document as an identity policy; its own source says trust policies have no Resource "
            "element (parliament/statement.py, analyze_statement). On such a statement it still "
            "checks the Principal, Effect and Sid before it stops."
        ),
    ),
    Allowed(
        issue="MALFORMED",
        detail="Statement contains neither Resource nor NotResource",
        kind="resource",
        actions=frozenset(WRITE_ACTIONS),
        aws_documentation=(
            "https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html"
        ),
        why=(
            "An ECR repository policy applies to the repository it is set on and names no "
            "Resource: none of the documented examples has one, and ECR refuses a policy that "
            'does ("Invalid repository policy provided"; the example that had one was corrected '
            "in awsdocs/amazon-ecr-user-guide#20). parliament reads every document as an "
            "identity policy."
        ),
    ),
    Allowed(
        issue="RESOURCE_STAR",
        detail=None,
        kind="key",
        actions=None,
        aws_documentation="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html",
        why=(
            'In a key policy "Resource": "*" means the KMS key the policy is attached to, and '
            "nothing else: a key policy applies to its own key only. parliament reads it as an "
            "identity policy's every resource."
        ),
    ),
)


def _actions(statement: Mapping[str, Any]) -> frozenset[str]:
    action = statement.get("Action", [])
    return frozenset([action] if isinstance(action, str) else action)


def _document(value: Any) -> str | None:
    """`value` as a policy document's text, when it is one."""
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return value if isinstance(parsed, dict) and "Statement" in parsed else None


def _kind(text: str, property_path: str, resource_type: str | None) -> str:
    if resource_type == ROLE and property_path == TRUST_POLICY:
        return "trust"
    if resource_type == KMS_KEY:
        return "key"
    statements = json.loads(text)["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    named = any("Principal" in s or "NotPrincipal" in s for s in statements)
    return "resource" if named else "identity"


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    text = _document(value)
    if text is not None:
        yield path, text
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def iam_documents(run: ProgramRun) -> list[IamDocument]:
    found = []
    for resource in run.resources:
        for path, text in _walk(resource.inputs, ""):
            where = f"{resource.type} {resource.name} {path}"
            found.append(IamDocument(where, _kind(text, path, resource.type), text))
    for path, text in _walk(run.outputs, ""):
        found.append(IamDocument(f"output {path}", _kind(text, path, None), text))
    return found


def findings(document: IamDocument) -> list[Finding]:
    import parliament  # its catalogue loads at import: only in the worker that lints

    policy = parliament.analyze_policy_string(document.text)
    statements = json.loads(document.text)["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    in_statements = {
        id(finding): statements[index]
        for index, analyzed in enumerate(policy.statements)
        for finding in analyzed.findings
    }
    return [
        Finding(
            document.where,
            document.kind,
            in_statements.get(id(finding)),
            finding.issue,
            finding.detail or "",
        )
        for finding in policy.findings
    ]


def not_allowed(run: ProgramRun) -> list[str]:
    return [
        str(finding)
        for document in iam_documents(run)
        for finding in findings(document)
        if not any(entry.allows(finding) for entry in ALLOWED)
    ]


@pytest.fixture(scope="module", params=STACK_FILES, ids=lambda path: path.name)
def stack(request: pytest.FixtureRequest) -> ProgramRun:
    path: Path = request.param
    return run_program(path.name)


def test_every_iam_document_passes_parliament(stack: ProgramRun):
    assert not_allowed(stack) == []


def test_the_documents_include_every_one_the_policy_pack_reads(stack: ProgramRun):
    """The pack's own finder (policy/documents.py) sees no document that this test misses."""
    ours = {_read_by_the_pack(d.text) for d in iam_documents(stack)}
    theirs = [
        (resource.name, _statements(document))
        for resource in stack.resources
        for document in documents(
            resource_args(resource.type, resource.name, resource.inputs, stack.stack)
        )
        if isinstance(document, Document)
    ]
    assert theirs, "the pack found no document at all"
    assert [(name, s) for name, s in theirs if s not in ours] == []


def _statements(document: Document) -> tuple[Any, ...]:
    """A document's statements as the pack reads them, without the labels naming their place."""
    return tuple(
        (
            s.effect,
            tuple(s.actions),
            tuple(s.not_actions),
            tuple(s.resources),
            tuple(s.not_resources),
            json.dumps(s.conditions, sort_keys=True),
        )
        for s in document.statements
    )


def _read_by_the_pack(text: str) -> tuple[Any, ...]:
    (document,) = documents(resource_args(MANAGED_POLICY, "found", {"policy": text}))
    assert isinstance(document, Document), document
    return _statements(document)


def test_every_allow_list_entry_is_still_needed():
    # The prod stack holds every kind of document (a key policy only with `kms`).
    run = run_program("Pulumi.prod.yaml")
    every = [f for document in iam_documents(run) for f in findings(document)]
    assert [entry for entry in ALLOWED if not any(entry.allows(f) for f in every)] == []


def test_a_statement_parliament_faults_fails_the_check():
    """s3:GetObject acts on objects: on a bucket's ARN it grants nothing (RESOURCE_MISMATCH)."""
    config = dev_config()
    config["longjobs:jobs"]["report"]["policyStatements"].append(
        {
            "Sid": "ReadTheBucket",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": "arn:aws:s3:::longjobs-dev-report-inputs",
        }
    )
    problems = not_allowed(run_program(config=config))
    assert len(problems) == 1
    assert problems[0].startswith(
        "aws:iam/rolePolicy:RolePolicy report-task-policy policy: RESOURCE_MISMATCH "
    )
    assert '"Sid": "ReadTheBucket"' in problems[0]
