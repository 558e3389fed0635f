"""A view that survives re-running its cell: the state remembered per notebook cell.

Re-running a cell after reopening a notebook (or restarting the kernel) used
to start its viewer over, fitted, with default contrast. Now a viewer made in
a notebook cell remembers its view — camera, slider position, channel mode,
colormap, each channel's colour, contrast, gamma and visibility, and the
visibility, opacity and outline of its layers — and a viewer made again *in
the same cell, of the same image* starts from it.

Where: the kernel knows the notebook (``JPY_SESSION_NAME``, set by
jupyter-server for the kernels it starts, relative to the server's root; the
kernel runs in the notebook's folder, which makes it absolute) and the cell being run (the
``cellId`` that JupyterLab and Notebook 7 put in each execute request). The
states of one notebook's viewers are a small JSON file,
``<data dir>/views/<hash of the notebook path>.json`` (the data dir is
``$SIMPLEZARR_DATA_DIR`` or ``~/.cache/simplezarr``), keyed by cell id and
by how the viewer was opened (source, image, plane). Without a notebook path
or a cell id (plain Python, nbclient, marimo) nothing is remembered.

Bounds: a file holds at most :data:`MAX_VIEWS` views (the least recently
saved go first) and is not read past :data:`MAX_BYTES`; at most
:data:`MAX_NOTEBOOKS` notebooks have a file (the least recently saved go); a state is written
at most every :data:`SAVE_EVERY` seconds while it changes (a timer on the
kernel's loop; nothing when it did not change) and once more on ``close()``,
by an atomic replace. A missing, unreadable or malformed file is one warning
(or nothing, when missing) and the viewer starts fresh: it never fails.

What the caller gave wins: ``center``/``zoom``, ``position``,
``channel_mode``, ``colormap`` or ``contrast_limits`` passed to ``Viewer()``
are not overridden. ``Viewer(..., restore=False)`` neither reads nor writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Final

__all__ = ["MAX_BYTES", "MAX_NOTEBOOKS", "MAX_VIEWS", "SAVE_EVERY", "ViewMemory", "cell_context"]

logger = logging.getLogger("simplezarr")

MAX_VIEWS: Final = 256
"""Views remembered per notebook (the least recently saved are forgotten first)."""

MAX_NOTEBOOKS: Final = 512
"""Notebooks with remembered views (the least recently saved files are removed first)."""

MAX_BYTES: Final = 4 << 20
"""A state file larger than this is not read (and is replaced on the next save)."""

SAVE_EVERY: Final = 2.0
"""Seconds between two saves of a changing view, at least."""


def cell_context() -> tuple[str, str] | None:
    """``(notebook path, cell id)`` of the cell running now; ``None`` outside a notebook cell."""
    path = os.environ.get("JPY_SESSION_NAME")
    if not path:
        return None
    try:
        from IPython import get_ipython

        shell = get_ipython()
        kernel = getattr(shell, "kernel", None)
        parent = kernel.get_parent("shell") if kernel is not None else None
    except Exception:
        return None
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    cell = metadata.get("cellId") if isinstance(metadata, dict) else None
    if not isinstance(cell, str) or not cell:
        return None
    if not os.path.isabs(path):
        # jupyter-server names the notebook relative to its root and starts the
        # kernel in the notebook's folder: the absolute path keeps two servers'
        # (or two checkouts') "analysis.ipynb" apart.
        path = os.path.join(os.getcwd(), os.path.basename(path))
    return path, cell


def _state_dir() -> Path:
    from simplezarr.data._cache import data_dir

    return data_dir() / "views"


class ViewMemory:
    """The remembered states of one notebook's viewers (see the module docstring)."""

    def __init__(self, notebook: str, directory: Path | None = None) -> None:
        digest = hashlib.sha256(notebook.encode("utf-8")).hexdigest()[:20]
        self.notebook = notebook
        self.path = (directory if directory is not None else _state_dir()) / f"{digest}.json"

    def _read(self) -> dict[str, Any]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return {}
        except OSError as exc:
            logger.warning(
                "simplezarr Viewer: cannot read remembered views %s: %s", self.path, exc
            )
            return {}
        if size > MAX_BYTES:
            logger.warning(
                "simplezarr Viewer: remembered views %s is %d bytes (over %d): not read",
                self.path,
                size,
                MAX_BYTES,
            )
            return {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("simplezarr Viewer: remembered views %s unreadable: %s", self.path, exc)
            return {}
        views = doc.get("views") if isinstance(doc, dict) else None
        return views if isinstance(views, dict) else {}

    def load(self, key: str) -> dict[str, Any] | None:
        """The state saved under ``key``, or ``None``."""
        entry = self._read().get(key)
        state = entry.get("state") if isinstance(entry, dict) else None
        return state if isinstance(state, dict) else None

    def save(self, key: str, state: dict[str, Any]) -> None:
        """Remember ``state`` under ``key`` (an atomic replace of the file; errors are logged)."""
        views = self._read()
        views[key] = {"saved": time.time(), "state": state}
        if len(views) > MAX_VIEWS:
            newest = sorted(
                views.items(),
                key=lambda kv: kv[1].get("saved", 0) if isinstance(kv[1], dict) else 0,
            )[-MAX_VIEWS:]
            views = dict(newest)
        doc = {"notebook": self.notebook, "views": views}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                _prune(self.path.parent, MAX_NOTEBOOKS - 1)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(doc, f)
                os.replace(tmp, self.path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        except OSError as exc:
            logger.warning("simplezarr Viewer: cannot remember the view in %s: %s", self.path, exc)


def _prune(directory: Path, keep: int) -> None:
    """Remove the least recently saved state files of ``directory`` past ``keep``."""
    try:
        files = [(p.stat().st_mtime, p) for p in directory.glob("*.json")]
    except OSError:
        return
    if len(files) <= keep:
        return
    files.sort()
    for _, path in files[: len(files) - keep]:
        with contextlib.suppress(OSError):
            path.unlink()
