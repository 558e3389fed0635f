"""A viewer made again in the same notebook cell starts from the view it had (kernel side)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from simplezarr.viewer import _restore
from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._persist import MAX_BYTES, ViewMemory
from simplezarr.viewer.widget import Viewer

from .conftest import make_image

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)


@pytest.fixture
def image(tmp_path: Path) -> str:
    path = tmp_path / "stack.ome.zarr"
    data = np.random.default_rng(4).integers(0, 4000, (2, 8, 300, 400), dtype=np.uint16)
    make_image(data, zarr.storage.LocalStore(str(path)), axes="czyx", chunks=(1, 1, 128, 128))
    return str(path)


@pytest.fixture
def cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Pretend to run in cell ``cell["id"]`` of a notebook; states go to a temp data dir."""
    monkeypatch.setenv("SIMPLEZARR_DATA_DIR", str(tmp_path / "data"))
    where = {"notebook": str(tmp_path / "analysis.ipynb"), "id": "cell-1"}
    monkeypatch.setattr(_restore, "cell_context", lambda: (where["notebook"], where["id"]))
    return where


def _change(v: Viewer) -> None:
    v.center = [120.0, 210.0]
    v.zoom = 3.0
    v.position = {**v.position, "z": 6}
    v.channels[1].color = "#ffaa00"
    v.channels[0].contrast_limits = [100.0, 2000.0]
    v.channels[0].visible = False


def test_the_same_cell_restores_the_view(image: str, cell: dict[str, str]) -> None:
    first = Viewer(image)
    _change(first)
    first.close()  # (a close saves; in a notebook a timer also saves while you browse)
    again = Viewer(image)
    try:
        assert again.center == [120.0, 210.0] and again.zoom == 3.0
        assert not again._fit_pending
        assert again.position["z"] == 6
        assert again.channels[1].color == "#ffaa00"
        assert again.channels[0].contrast_limits == [100.0, 2000.0]
        assert again.channels[0].visible is False
    finally:
        again.close()


def test_another_cell_another_image_or_restore_false_start_fresh(
    image: str, cell: dict[str, str], tmp_path: Path
) -> None:
    first = Viewer(image)
    _change(first)
    first.close()
    fresh = Viewer(image, restore=False)
    assert fresh.zoom != 3.0 and fresh._fit_pending
    fresh.close()
    cell["id"] = "cell-2"
    other = Viewer(image)
    assert other.zoom != 3.0
    other.close()
    cell["id"] = "cell-1"
    elsewhere = Viewer(image, plane="xz")  # opened another way: another view
    assert elsewhere.zoom != 3.0
    elsewhere.close()


def test_what_the_caller_gives_wins(image: str, cell: dict[str, str]) -> None:
    first = Viewer(image)
    _change(first)
    first.close()
    again = Viewer(image, center=[10.0, 10.0], zoom=1.0, contrast_limits=[0, 50])
    try:
        assert again.center == [10.0, 10.0] and again.zoom == 1.0
        assert again.channels[0].contrast_limits == [0.0, 50.0]
        assert again.position["z"] == 6 and again.channels[1].color == "#ffaa00"
    finally:
        again.close()


def test_a_damaged_or_huge_file_is_a_warning_and_a_fresh_view(
    image: str, cell: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    first = Viewer(image)
    _change(first)
    first.close()
    memory = ViewMemory(cell["notebook"])
    memory.path.write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        v = Viewer(image)
    assert v.zoom != 3.0
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    v.zoom = 2.0
    v.close()  # a change saved: the file is replaced by a good one
    assert json.loads(memory.path.read_text(encoding="utf-8"))["views"]
    memory.path.write_bytes(b" " * (MAX_BYTES + 1))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        v = Viewer(image)
    assert any("not read" in r.getMessage() for r in caplog.records)
    v.close()


def test_a_remembered_position_out_of_range_is_skipped(image: str, cell: dict[str, str]) -> None:
    first = Viewer(image)
    first.zoom = 2.0
    first.close()
    memory = ViewMemory(cell["notebook"])
    doc: dict[str, Any] = json.loads(memory.path.read_text(encoding="utf-8"))
    (key,) = doc["views"]
    doc["views"][key]["state"]["position"] = {"z": 99, "c": 1}
    doc["views"][key]["state"]["channels"] = [{"color": "not a colour"}, {"gamma": -1}]
    memory.path.write_text(json.dumps(doc), encoding="utf-8")
    v = Viewer(image)
    try:
        assert v.position["z"] != 99 and v.position["c"] == 1
        assert v.channels[0].color.startswith("#") and v.channels[1].gamma > 0
    finally:
        v.close()
