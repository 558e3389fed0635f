"""Fixtures shared by test modules of different folders."""

from __future__ import annotations

import faulthandler
from collections.abc import Generator

import pytest

from tests._notebooks import ExecutedNotebooks


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory: pytest.TempPathFactory) -> ExecutedNotebooks:
    """The notebooks, each executed at most once per session into one session temp dir.

    ``tests/test_notebooks.py`` checks each one; ``tests/test_docs.py`` builds the
    site from the same executed copies.
    """
    return ExecutedNotebooks(tmp_path_factory.mktemp("notebooks"))


# A hard watchdog under pytest-timeout. pytest-timeout's SIGALRM cannot fire
# while a thread holds the GIL in C code (a native deadlock), and nothing
# bounds the interpreter's exit (it joins worker threads). faulthandler's
# watchdog is a C thread: past its limit it prints every thread's stack and
# ends the process, so a hang costs minutes and names itself, never the CI's
# whole budget.
_WATCHDOG_TEST = 420.0  # seconds per test, above pytest-timeout's 300
_WATCHDOG_EXIT = 180.0  # seconds from the end of the session to the process's exit


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    faulthandler.dump_traceback_later(_WATCHDOG_TEST, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def pytest_sessionfinish(session: pytest.Session) -> None:
    faulthandler.dump_traceback_later(_WATCHDOG_EXIT, exit=True)
