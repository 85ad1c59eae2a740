"""tests/botocore_models.py: loaders share what they read, and only with loaders that look in
the same places."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
from botocore import loaders

from tests import botocore_models


def test_a_second_sessions_client_reads_no_model_file(monkeypatch):
    botocore_models.share()  # as tests/conftest.py did; a second call changes nothing
    botocore.session.Session().create_client("sqs", region_name="eu-west-1")
    read: list[str] = []
    load_file = loaders.JSONFileLoader.load_file
    monkeypatch.setattr(
        loaders.JSONFileLoader,
        "load_file",
        lambda self, path: read.append(path) or load_file(self, path),
    )
    botocore.session.Session().create_client("sqs", region_name="eu-west-1")
    assert read == []


def test_a_loader_looking_elsewhere_reads_its_own_models(tmp_path: Path):
    botocore_models.share()
    builtin = loaders.Loader().load_service_model("sqs", "service-2")
    model = tmp_path / "sqs" / builtin["metadata"]["apiVersion"]
    model.mkdir(parents=True)
    ours = {**builtin, "documentation": "the one in tmp_path"}
    (model / "service-2.json").write_text(json.dumps(ours))
    elsewhere = loaders.Loader(extra_search_paths=[str(tmp_path)])
    assert (
        elsewhere.load_service_model("sqs", "service-2")["documentation"] == ours["documentation"]
    )
    assert loaders.Loader().load_service_model("sqs", "service-2") is builtin
