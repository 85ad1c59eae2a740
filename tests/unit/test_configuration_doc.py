"""docs/configuration.md is what `make docs` makes from the config model, and covers it."""

from __future__ import annotations

from typing import Any

from components.config.models import JobConfig, PolicyStatement, StackConfig
from tools import docs


def test_the_configuration_reference_is_current():
    assert docs.DOC.read_text() == docs.render(), "docs/configuration.md is stale: run make docs"


def test_the_check_fails_on_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "configuration.md"
    stale.write_text(docs.render().replace("| `256` |", "| `512` |"))
    monkeypatch.setattr(docs, "DOC", stale)
    assert docs.main(["--check"]) == 1
    assert "is stale: run make docs" in capsys.readouterr().err
    stale.write_text(docs.render())
    assert docs.main(["--check"]) == 0


def rows() -> dict[str, docs.Row]:
    return {row.key: row for _, row in docs.rows(StackConfig, "", docs._rules())}


def test_every_key_of_the_model_has_a_row():
    def count(model: Any) -> int:
        return sum(1 for _ in model.model_fields)

    found = rows()
    assert len(found) == len(set(found))
    jobs = [k for k in found if k.startswith("longjobs:jobs.<job>.") and k.count(".") == 1 + 0 + 1]
    assert len(jobs) == count(JobConfig)
    statements = [k for k in found if k.startswith("longjobs:jobs.<job>.policyStatements[].")]
    assert len(statements) == count(PolicyStatement)
    assert [k for k in found if k.count(".") == 0] == [
        f"longjobs:{info.alias}" for info in StackConfig.model_fields.values()
    ]


def test_a_row_says_the_default_what_is_allowed_and_what_it_does():
    found = rows()
    assert found["longjobs:jobs.<job>.retries"] == docs.Row(
        "longjobs:jobs.<job>.retries",
        "`0`",
        "a whole number from 0 to 10",
        "Re-runs after the job itself fails (a non-zero exit, out of memory).",
    )
    assert found["longjobs:jobs.<job>.memory"].default == "`512` in a job of defaults"
    assert found["longjobs:jobs.<job>.schedules.<schedule>.expression"].default == "required"
    assert found["longjobs:network.create.natGateways"].allowed == "'single', 'onePerAz' or 'none'"


def test_every_row_says_what_its_key_does():
    assert [key for key, row in rows().items() if not row.about.strip()] == []
