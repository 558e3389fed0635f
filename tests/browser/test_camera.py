"""Tier A: the camera traits and the page never disagree once the page is idle.

The real bundle in real Chromium against the real Viewer (``_harness.py``).
A camera saved in Python after zooming and set again after Fit moves the view
back (the front end once took any value it had written before for its own
echo and ignored it); a centre far off the image is kept on the image, on
both sides; the first view replaces the kernel's provisional fit with the fit
to its real size.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest

from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, hosted, settled
from tests.browser._servers import require_chromium

pytestmark = pytest.mark.browser


def _image() -> np.ndarray:
    y, x = np.mgrid[0:1200, 0:1600]
    return ((np.sin(y / 37) * np.cos(x / 23) + 1) * 30000).astype(np.uint16)


async def _page_camera(page: Any) -> dict[str, Any]:
    return dict(
        json.loads(await page.evaluate(f"() => document.querySelector('{ROOT}').dataset.camera"))
    )


async def _agree(page: Any, viewer: Viewer) -> dict[str, Any]:
    """Wait until Python's center/zoom are the page's camera (the page is idle); return it."""

    async def same() -> bool:
        cam = await _page_camera(page)
        zoom = 1.0 / cam["scale"]  # level-0 pixel size is 1 world unit here
        return viewer.zoom == pytest.approx(zoom, rel=1e-9) and list(
            viewer.center
        ) == pytest.approx(cam["center"], rel=1e-9, abs=1e-9)

    for _ in range(10_000):
        if await same():
            return await _page_camera(page)
        await page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r(null)))")
    raise AssertionError(
        f"kernel {viewer.center}, {viewer.zoom} != page {await _page_camera(page)}"
    )


def test_camera_set_from_python_always_moves_the_view() -> None:
    require_chromium()
    asyncio.run(_drive())


async def _drive() -> None:
    viewer = Viewer(_image(), height=400, contrast_limits=(0, 60000))
    provisional = viewer.zoom
    assert provisional > 0  # a true readout before any view exists
    async with hosted(viewer, height=700) as (page, _bridge, problems):
        await settled(page)
        fitted = await _agree(page, viewer)
        assert viewer.zoom == pytest.approx(1 / fitted["scale"])

        # The user zooms in about a point and drags.
        box = await page.locator(f"{ROOT} .sz-canvas").bounding_box()
        await page.mouse.move(box["x"] + 200, box["y"] + 150)
        for _ in range(3):
            await page.mouse.wheel(0, -200)
        await page.mouse.down()
        await page.mouse.move(box["x"] + 260, box["y"] + 120, steps=4)
        await page.mouse.up()
        await settled(page)
        zoomed = await _agree(page, viewer)
        assert zoomed["scale"] < fitted["scale"]
        saved = (list(viewer.center), viewer.zoom)

        # Fit, then restore the saved camera from Python: the view goes back.
        await page.locator(f"{ROOT} .sz-fit").click()
        await settled(page)
        refit = await _agree(page, viewer)
        assert refit["scale"] == pytest.approx(fitted["scale"])
        viewer.center, viewer.zoom = saved
        await settled(page)
        back = await _agree(page, viewer)
        assert back["center"] == pytest.approx(saved[0])
        assert back["scale"] == pytest.approx(1 / saved[1])

        # A centre far off the image is kept on it, and both sides say the same.
        viewer.center = [1e9, -1e9]
        await settled(page)
        edge = await _agree(page, viewer)
        assert edge["center"] == pytest.approx([1199.5, -0.5])
        assert problems == [], problems
    viewer.close()
