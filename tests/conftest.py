"""Fixtures shared by test modules of different folders."""

from __future__ import annotations

import pytest

from tests._notebooks import ExecutedNotebooks


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory: pytest.TempPathFactory) -> ExecutedNotebooks:
    """The notebooks, each executed at most once per session into one session temp dir.

    ``tests/test_notebooks.py`` checks each one; ``tests/test_docs.py`` builds the
    site from the same executed copies.
    """
    return ExecutedNotebooks(tmp_path_factory.mktemp("notebooks"))
