"""Tier A: the slider panel shows only axes there is something to browse on.

A label image opened on its own (ome-zarr's and our writer keep the image's
axes, with ``c`` of length 1) once showed a dead ``c 0 / 0`` slider.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from simplezarr.utils._pyramid import write_labels, write_multiscale
from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, hosted, settled
from tests.browser._servers import require_chromium

pytestmark = pytest.mark.browser


def _label_image() -> zarr.Group:
    store = MemoryStore()
    image = np.zeros((1, 4, 256, 256), dtype=np.uint16)
    write_multiscale(image, store, axes="czyx", chunks=(1, 1, 128, 128), name="cells")
    labels = np.zeros((1, 4, 256, 256), dtype=np.uint32)
    labels[:, :, 40:120, 50:200] = 7
    write_labels(labels, zarr.open_group(store, mode="r+"), "nuclei")
    return zarr.open_group(store, mode="r")["labels/nuclei"]


async def _visible_sliders(page: object) -> list[str]:
    return await page.evaluate(  # type: ignore[attr-defined, no-any-return]
        f"""() => [...document.querySelectorAll('{ROOT} .sz-slider-input')]
        .filter((e) => e.checkVisibility()).map((e) => e.getAttribute('aria-label'))"""
    )


def test_no_slider_for_an_axis_of_length_one() -> None:
    require_chromium()
    asyncio.run(_drive())


async def _drive() -> None:
    viewer = Viewer(_label_image(), height=300)
    assert [s["name"] for s in viewer.sliders] == ["c", "z"]
    async with hosted(viewer) as (page, _bridge, problems):
        await settled(page)
        assert await _visible_sliders(page) == ["z index"]
        assert problems == [], problems
    viewer.close()
