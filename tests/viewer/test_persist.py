"""Remembered views in a real kernel: the notebook and cell come from what Jupyter sends.

``test_restore.py`` checks what is saved and restored with the cell pretended;
here a real IPython kernel is started the way jupyter-server starts one (its
working directory the notebook's folder, ``JPY_SESSION_NAME`` the notebook's
path relative to the server root) and sent execute requests that carry a
``cellId`` in their metadata, as JupyterLab and Notebook 7 do.
"""

from __future__ import annotations

import json
import os
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._persist import ViewMemory

from .conftest import make_image

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)

_TIMEOUT = 60.0


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    folder = tmp_path / "project" / "analysis"
    folder.mkdir(parents=True)
    env = {
        "JPY_SESSION_NAME": "analysis/notes.ipynb",  # relative to the server's root
        "SIMPLEZARR_DATA_DIR": str(tmp_path / "data"),
    }
    km, kc = start_new_kernel(startup_timeout=_TIMEOUT, cwd=str(folder), env=env)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _run(kc: BlockingKernelClient, code: str, cell: str | None) -> str:
    """Execute ``code`` as cell ``cell`` (no cellId when ``None``); its printed text."""
    content = {"code": code, "silent": False, "store_history": True}
    msg = kc.session.msg("execute_request", content, metadata={"cellId": cell} if cell else {})
    kc.shell_channel.send(msg)
    reply = kc.get_shell_msg(timeout=_TIMEOUT)
    assert reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
    out: list[str] = []
    while True:
        try:
            m = kc.get_iopub_msg(timeout=_TIMEOUT)
        except queue.Empty:  # pragma: no cover - a hung kernel
            raise AssertionError(f"no idle status from the kernel for {code!r}") from None
        if m["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        if m["msg_type"] == "stream":
            out.append(m["content"]["text"])
        elif m["msg_type"] == "error":
            raise AssertionError("\n".join(m["content"]["traceback"]))
        elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out)


def _wait_for_state(path: Path, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The state file once its one view satisfies ``done`` (polled, with a deadline)."""
    deadline = time.monotonic() + _TIMEOUT
    while True:
        try:
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            (entry,) = doc["views"].values()
            if done(entry["state"]):
                return doc
        except (OSError, ValueError):
            pass  # not written yet (the replace is atomic: never half a file)
        assert time.monotonic() < deadline, f"the view was not saved to {path}"
        time.sleep(0.05)


def test_the_kernel_knows_the_notebook_and_the_cell(
    kernel: tuple[KernelManager, BlockingKernelClient], tmp_path: Path
) -> None:
    _, kc = kernel
    code = "from simplezarr.viewer._persist import cell_context; print(cell_context())"
    where = tmp_path / "project" / "analysis" / "notes.ipynb"
    assert _run(kc, code, "cell-7").strip() == repr((str(where), "cell-7"))
    assert _run(kc, code, None).strip() == "None"  # nbclient and others send no cellId


def test_rerunning_a_cell_in_a_new_kernel_restores_its_view(
    kernel: tuple[KernelManager, BlockingKernelClient], tmp_path: Path
) -> None:
    image = tmp_path / "img.ome.zarr"
    data = np.random.default_rng(5).integers(0, 4000, (4, 200, 300), dtype=np.uint16)
    make_image(data, zarr.storage.LocalStore(str(image)), axes="zyx")
    km, kc = kernel
    make = f"import simplezarr; v = simplezarr.Viewer({str(image)!r})"
    _run(kc, make, "cell-a")
    _run(kc, "v.center = [50.0, 60.0]; v.zoom = 4.0; v.position = {'z': 3}", "cell-b")
    # The kernel will die without a close(): the save timer on its loop must write the view.
    memory = ViewMemory(
        str(tmp_path / "project" / "analysis" / "notes.ipynb"),
        directory=tmp_path / "data" / "views",
    )
    saved = _wait_for_state(memory.path, lambda state: state["zoom"] == 4.0)
    assert [key.split("|")[0] for key in saved["views"]] == ["cell-a"]
    km.restart_kernel(now=True)
    kc.wait_for_ready(timeout=_TIMEOUT)
    _run(kc, make, "cell-a")
    shown = _run(kc, "print(v.center, v.zoom, v.position['z'])", "cell-c")
    assert shown.split() == ["[50.0,", "60.0]", "4.0", "3"]
    _run(kc, make, "cell-other")  # another cell starts fitted
    assert _run(kc, "print(v.zoom != 4.0)", "cell-c").strip() == "True"


def test_views_and_notebooks_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simplezarr.viewer import _persist

    monkeypatch.setattr(_persist, "MAX_VIEWS", 3)
    monkeypatch.setattr(_persist, "MAX_NOTEBOOKS", 4)
    memory = ViewMemory("/nb/a.ipynb", directory=tmp_path)
    for i in range(5):
        memory.save(f"cell-{i}", {"zoom": float(i)})
    doc = json.loads(memory.path.read_text(encoding="utf-8"))
    assert sorted(doc["views"]) == ["cell-2", "cell-3", "cell-4"]  # the newest three
    assert memory.load("cell-4") == {"zoom": 4.0} and memory.load("cell-0") is None
    paths = []
    for i in range(6):
        other = ViewMemory(f"/nb/other-{i}.ipynb", directory=tmp_path / "many")
        other.save("cell", {"zoom": 1.0})
        os.utime(
            other.path, (1000.0 + i, 1000.0 + i)
        )  # saved in this order, whatever the clock's grain
        paths.append(other.path)
    left = sorted((tmp_path / "many").glob("*.json"))
    assert len(left) == 4 and set(left) == set(paths[-4:])  # the oldest files went first
