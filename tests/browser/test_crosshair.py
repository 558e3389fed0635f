"""Tier A: the crosshair of orthogonal views, in real Chromium.

A view of the xz plane of an anisotropic stack (z planes 2 units apart,
x pixels 0.5) with a crosshair: the lines are drawn at the crosshair's world
point; a click moves it to the world point under the cursor (the trait the
kernel sees, so OrthoViewer moves the other views); a drag that starts on a
line carries it instead of panning; a drag elsewhere pans and leaves it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from simplezarr.utils._pyramid import write_multiscale
from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, hosted, settled, until
from tests.browser._servers import require_chromium, screenshot_dir

pytestmark = pytest.mark.browser


def test_click_and_drag_move_the_crosshair() -> None:
    require_chromium()
    store = MemoryStore()
    z, _, x = np.mgrid[0:40, 0:8, 0:300]
    write_multiscale(
        ((x // 10 + z) % 7 * 30).astype(np.uint8), store, axes="zyx", scale=[2, 0.5, 0.5]
    )
    asyncio.run(_drive(zarr.open_group(store, mode="r")))


async def _screen_point(page: Any) -> list[float]:
    return json.loads(
        "["
        + await page.evaluate(f"() => document.querySelector('{ROOT} .sz-crosshair').dataset.at")
        + "]"
    )


async def _world_to_css(page: Any, world: list[float]) -> tuple[float, float]:
    """Page coordinates of a world point, from the camera the view reports."""
    d = await page.evaluate(f"() => ({{...document.querySelector('{ROOT}').dataset}})")
    cam = json.loads(d["camera"])
    size = cam["size"]
    box = await page.evaluate(
        f"() => {{ const r = document.querySelector('{ROOT} .sz-canvas').getBoundingClientRect(); return [r.top, r.left]; }}"
    )
    sy = (world[0] - cam["center"][0]) / cam["scale"] + size[0] / 2
    sx = (world[1] - cam["center"][1]) / cam["scale"] + size[1] / 2
    return box[0] + sy, box[1] + sx


async def _drive(node: Any) -> None:
    viewer = Viewer(node, plane="xz", height=400, crosshair=[40.0, 75.0])
    assert viewer.levels[0]["scale"] == [2.0, 0.5]
    async with hosted(viewer) as (page, _bridge, problems):
        await settled(page)
        # Drawn where the world point is.
        page_y, page_x = await _world_to_css(page, [40.0, 75.0])
        box = await page.evaluate(
            f"() => {{ const r = document.querySelector('{ROOT} .sz-canvas').getBoundingClientRect(); return [r.top, r.left]; }}"
        )
        at = await _screen_point(page)
        assert at == pytest.approx([page_y - box[0], page_x - box[1]], abs=0.1)
        await page.screenshot(path=str(screenshot_dir() / "crosshair-xz.png"))

        # A click moves it to the world point under the cursor.
        ty, tx = await _world_to_css(page, [20.0, 30.0])
        await page.mouse.click(tx, ty)
        await until(lambda: viewer.crosshair != [40.0, 75.0])
        assert viewer.crosshair == pytest.approx([20.0, 30.0], abs=0.5)

        # A drag that starts on the vertical line carries the crosshair, not the camera.
        center = list(viewer.center)
        sy, sx = await _world_to_css(page, [60.0, viewer.crosshair[1]])
        await page.mouse.move(sx, sy)
        await page.mouse.down()
        await page.mouse.move(sx + 60, sy, steps=6)
        await page.mouse.up()
        await until(lambda: viewer.crosshair[1] > 35.0)
        world_per_px = json.loads(
            await page.evaluate(f"() => document.querySelector('{ROOT}').dataset.camera")
        )["scale"]
        assert viewer.crosshair[1] == pytest.approx(30.0 + 60 * world_per_px, abs=2 * world_per_px)
        assert viewer.center == center

        # A drag elsewhere pans and leaves the crosshair where it is.
        before = list(viewer.crosshair)
        ey, ex = await _world_to_css(page, [70.0, 120.0])
        await page.mouse.move(ex, ey)
        await page.mouse.down()
        await page.mouse.move(ex - 80, ey, steps=6)
        await page.mouse.up()
        await until(lambda: viewer.center != center)
        assert viewer.crosshair == before
        await page.screenshot(path=str(screenshot_dir() / "crosshair-xz-moved.png"))
        assert problems == []
    viewer.close()
