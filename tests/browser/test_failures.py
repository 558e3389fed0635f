"""Tier A: a tile whose read fails is drawn hatched and explained, never a silent hole.

The real bundle in real Chromium against the real Viewer over a store that
fails one chunk. The failed tile's region shows diagonal stripes in the
failure colour (and only that region), the overlay says how many tiles failed
and why, the test hooks count it; once the store recovers, a later view
retries and the real tile replaces the stripes.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from simplezarr.viewer.widget import Viewer
from tests._stores import FailingStore
from tests.browser._harness import ROOT, WAIT_MS, canvas, hosted
from tests.browser._servers import require_chromium, screenshot_dir

pytestmark = pytest.mark.browser

FAILED_RGB = (224, 64, 64)  # js/renderer.ts FAILED_COLOR


def _store() -> tuple[FailingStore, np.ndarray]:
    data = (np.arange(256 * 384, dtype=np.uint16).reshape(256, 384) % 251 * 100).astype(np.uint16)
    base = MemoryStore()
    arr = zarr.create_array(base, shape=data.shape, chunks=(128, 128), dtype=data.dtype)
    arr[:] = data
    return FailingStore(base, {"c/1/2"}), data


async def _wait(page: Any, cond: str) -> dict[str, str]:
    await page.wait_for_function(
        f"() => {{ const d = document.querySelector('{ROOT}').dataset; return {cond}; }}",
        timeout=WAIT_MS,
    )
    return dict(await page.evaluate(f"() => ({{...document.querySelector('{ROOT}').dataset}})"))


def _region(img: np.ndarray, cam: dict[str, Any], bounds: list[float]) -> np.ndarray:
    """The canvas pixels inside world rectangle ``bounds`` (dpr 1), one pixel in from its edges."""
    (cy, cx), s, (h, w) = cam["center"], cam["scale"], cam["size"]
    y0, x0 = (bounds[0] - cy) / s + h / 2, (bounds[1] - cx) / s + w / 2
    y1, x1 = (bounds[2] - cy) / s + h / 2, (bounds[3] - cx) / s + w / 2
    return img[int(y0) + 1 : int(y1) - 1, int(x0) + 1 : int(x1) - 1]


def _is_failed(px: np.ndarray) -> np.ndarray:
    return np.all(np.abs(px.astype(int) - FAILED_RGB) <= 2, axis=-1)


def test_a_failed_tile_is_hatched_explained_and_retried() -> None:
    require_chromium()
    asyncio.run(_drive())


async def _drive() -> None:
    store, _ = _store()
    viewer = Viewer(zarr.open_array(store, mode="r"), height=300, retry_after=0.0)
    async with hosted(viewer) as (page, _bridge, problems):
        d = await _wait(
            page, "d.tilesFailed === '1' && d.tilesPending === '0' && d.failedDrawn === '1'"
        )
        cam = json.loads(d["camera"])
        img = await canvas(page)
        failed = _is_failed(_region(img, cam, [127.5, 255.5, 255.5, 383.5]))
        # Stripes: a good share of the tile, not all of it (what lies under shows between).
        assert 0.3 < failed.mean() < 0.7, failed.mean()
        assert not _is_failed(_region(img, cam, [-0.5, -0.5, 127.5, 383.5])).any()
        text = await page.locator(f"{ROOT} .sz-overlay-failed").inner_text()
        assert text == "1 tile failed: OSError: injected failure reading c/1/2"
        await page.screenshot(path=str(screenshot_dir() / "failed-tile.png"))

        # The store recovers; a later view (a small pan) retries and the tile arrives.
        store.fail.clear()
        await page.locator(f"{ROOT} .sz-canvas").focus()
        await page.keyboard.press("ArrowLeft")
        d = await _wait(
            page, "d.tilesFailed === '0' && d.tilesPending === '0' && d.complete === '1'"
        )
        assert d["failedDrawn"] == "0"
        assert not _is_failed(await canvas(page)).any()
        assert not await page.locator(f"{ROOT} .sz-overlay-failed").is_visible()
        assert problems == [], problems
    viewer.close()
