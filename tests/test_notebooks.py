"""Every notebook in notebooks/ runs top to bottom in a real kernel, with no error.

(The quickstart is also run in a real JupyterLab with a real browser by
``tests/browser/test_jupyterlab.py``; here each notebook runs headless with
nbclient, which is what a reader pressing "Run all" first needs.) Each is
executed once per session (``tests/_notebooks.py``); the docs site test
builds its pages from the same executed copies.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests._notebooks import NOTEBOOKS, ExecutedNotebooks


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS][:2] == ["01-quickstart.ipynb", "02-image-pyramids.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        f"{path.name} is committed with outputs"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, executed_notebooks: ExecutedNotebooks) -> None:
    nb = executed_notebooks(path)  # raises CellExecutionError naming the cell that failed
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []
    # Every code cell ran (an execution count each), and the executed copy is on disk.
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    assert (executed_notebooks.directory / path.name).is_file()
    # The viewers were made: their widget views are in the outputs.
    views = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert views, f"{path.name} shows no widget"
