"""The trigger benchmark's call counts, as docs/development.md quotes them: its stubs must
answer every call the handler makes, on both paths."""

from __future__ import annotations

from benchmarks import trigger_bench
from functions.trigger import handler
from longjobs_contract import trigger_config


def test_the_call_counts_the_development_docs_quote(dev, tmp_path, monkeypatch):
    config = tmp_path / "longjobs-trigger.json"
    config.write_text(dev.trigger_config)
    monkeypatch.setenv(trigger_config.CONFIG_PATH_VARIABLE, str(config))
    for client in ("ecs", "dynamodb"):  # the benchmark puts its own: restored after
        monkeypatch.setattr(handler, client, getattr(handler, client))
    handler.load_config.cache_clear()
    try:
        assert trigger_bench.calls_per_run(handler, spot_full=False) == ["PutItem", "RunTask"]
        assert trigger_bench.calls_per_run(handler, spot_full=True) == [
            "PutItem",
            "RunTask",
            "UpdateItem",
            "RunTask",
        ]
    finally:
        handler.load_config.cache_clear()
