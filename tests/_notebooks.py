"""Execute the notebooks of ``notebooks/`` once, for their test and for the docs site.

The notebooks are committed without outputs. Two things need them executed:
``tests/test_notebooks.py`` (each runs top to bottom without an error) and
the docs site (``tests/test_docs.py``, ``./dev docs``), which shows them with
their outputs. Both use :func:`execute_notebook`, and in one pytest session
they share one execution of each notebook (the ``executed_notebooks``
fixture of ``tests/conftest.py``, an :class:`ExecutedNotebooks`).

Execution is headless (nbclient, the ``python3`` kernel of this environment),
offline (the notebooks use the built-in demo data, made locally and cached in
``$SIMPLEZARR_DATA_DIR`` or ``~/.cache/simplezarr``) and bounded: a notebook
has ``timeout`` seconds in all (each cell gets what is left of it), and a
cell that raises fails the execution with nbclient's ``CellExecutionError``.

From the shell (what ``./dev docs`` runs)::

    python -m tests._notebooks OUTDIR     # executes every notebook into OUTDIR
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError
from nbformat import NotebookNode

__all__ = [
    "NOTEBOOKS",
    "NOTEBOOK_DIR",
    "NOTEBOOK_TIMEOUT",
    "ExecutedNotebooks",
    "execute_notebook",
    "main",
]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
"""Where the notebooks are committed."""

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
"""Every notebook, in name order."""

NOTEBOOK_TIMEOUT = 180.0
"""Seconds one notebook may run in all (the demo data may have to be written first: ~35 s)."""


def execute_notebook(
    path: Path, directory: Path, *, timeout: float = NOTEBOOK_TIMEOUT
) -> NotebookNode:
    """Execute the notebook at ``path`` and write the executed copy into ``directory``.

    Parameters
    ----------
    path : Path
        A committed notebook.
    directory : Path
        Where the executed notebook is written (as ``directory / path.name``);
        it is also the kernel's working directory. Created if missing.
    timeout : float
        Seconds the whole notebook may take; each cell gets what is left.

    Returns
    -------
    NotebookNode
        The executed notebook, with its outputs.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        A cell raised; the message shows the cell and the traceback.
    TimeoutError
        The notebook ran out of its ``timeout``, naming the notebook.
    """
    if not timeout > 0:
        raise ValueError(f"execute_notebook(): timeout must be > 0 seconds, got {timeout!r}")
    directory.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    deadline = time.monotonic() + timeout

    def left(_cell: NotebookNode) -> int:
        return max(1, math.ceil(deadline - time.monotonic()))

    client = NotebookClient(
        nb,
        timeout_func=left,
        kernel_name="python3",
        resources={"metadata": {"path": str(directory)}},
    )
    try:
        client.execute()
    except CellTimeoutError as exc:
        raise TimeoutError(
            f"execute_notebook(): {path.name} did not finish within its {timeout:g} s"
        ) from exc
    nbformat.write(nb, directory / path.name)
    return nb


class ExecutedNotebooks:
    """Each notebook executed at most once into one folder, on first request.

    Parameters
    ----------
    directory : Path
        Where the executed notebooks go.
    timeout : float
        Seconds each notebook may take (see :func:`execute_notebook`).

    Notes
    -----
    A notebook whose execution failed is not run again: asking for it again
    raises the same error.
    """

    def __init__(self, directory: Path, *, timeout: float = NOTEBOOK_TIMEOUT) -> None:
        self.directory = directory
        self._timeout = timeout
        self._done: dict[Path, NotebookNode | BaseException] = {}

    def __call__(self, path: Path) -> NotebookNode:
        """The executed notebook of ``path`` (executing it first if it was not yet)."""
        if path not in self._done:
            try:
                self._done[path] = execute_notebook(path, self.directory, timeout=self._timeout)
            except Exception as exc:
                self._done[path] = exc
        result = self._done[path]
        if isinstance(result, BaseException):
            raise result
        return result

    def all(self) -> Path:
        """Execute every notebook (those not yet executed); return the folder."""
        for path in NOTEBOOKS:
            self(path)
        return self.directory


def main(argv: list[str] | None = None) -> int:
    """``python -m tests._notebooks OUTDIR``: execute every notebook into OUTDIR.

    Returns 0, or 1 after printing which notebook failed and why.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tests._notebooks OUTDIR", file=sys.stderr)
        return 2
    notebooks = ExecutedNotebooks(Path(args[0]).resolve())
    for path in NOTEBOOKS:
        start = time.monotonic()
        try:
            notebooks(path)
        except Exception as exc:
            print(f"tests._notebooks: {path.name} failed: {exc}", file=sys.stderr)
            return 1
        print(f"executed {path.name} in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
