"""docs/operations.md's table of the deploy role's permissions is what `make docs` makes from
deploy/github_oidc/permissions.py."""

from __future__ import annotations

from deploy.github_oidc import permissions
from tools import docs, permissions_doc


def test_the_deploy_permissions_table_is_current():
    text = permissions_doc.DOC.read_text()
    assert text == permissions_doc.render(text), "docs/operations.md is stale: run make docs"


def test_every_grant_has_a_row_with_each_of_its_actions():
    rows = permissions_doc.table()[2:]
    assert len(rows) == len(permissions.DEPLOY)
    for grant, row in zip(permissions.DEPLOY, rows, strict=True):
        assert row.startswith(f"| {grant.sid} |")
        assert all(f"`{action}`" in row for action in grant.actions)
    assert "| CreateKey | `kms:CreateKey` | `*` | with `kms` |" in rows


def test_the_check_fails_on_a_stale_table(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "operations.md"
    stale.write_text(permissions_doc.DOC.read_text().replace("`sqs:CreateQueue`, ", ""))
    monkeypatch.setattr(permissions_doc, "DOC", stale)
    assert docs.main(["--check"]) == 1
    assert "docs/operations.md is stale: run make docs" in capsys.readouterr().err
    assert docs.main([]) == 0
    assert docs.main(["--check"]) == 0
