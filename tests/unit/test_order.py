"""tests/conftest.py's order names files and folders that are there: a renamed or removed test
file would otherwise drop out of the order without a word, and start wherever it was collected."""

from __future__ import annotations

from offline.program import PROJECT_ROOT
from tests import conftest


def test_every_file_or_folder_the_order_names_is_there():
    missing = [prefix for prefix in conftest.ORDER if not (PROJECT_ROOT / prefix).exists()]
    assert missing == []


def test_nothing_is_named_twice():
    assert len(set(conftest.ORDER)) == len(conftest.ORDER)
