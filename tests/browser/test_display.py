"""Tier A: NaN pixels and a kernel of another protocol version, as the user sees them.

- NaN pixels of a float image are transparent by default (the empty image's
  grey shows, never black) and take ``nan_color`` when set; the finite
  pixels around them keep their values.
- A page whose viewer speaks another protocol version than the kernel says
  so in the widget and draws nothing, instead of a broken canvas.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest

from simplezarr.viewer._protocol import PROTOCOL_VERSION
from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, WAIT_MS, canvas, hosted, settled
from tests.browser._servers import require_chromium, screenshot_dir

pytestmark = pytest.mark.browser

IMAGE_BACKGROUND = (41, 41, 46)  # js/renderer.ts IMAGE_BACKGROUND, 0.16/0.16/0.18 of 255


def _screen(cam: dict[str, Any], iy: int, ix: int) -> tuple[int, int]:
    (cy, cx), s, (h, w) = cam["center"], cam["scale"], cam["size"]
    return int((iy - cy) / s + h / 2), int((ix - cx) / s + w / 2)


def test_nan_pixels_are_transparent_or_nan_color() -> None:
    require_chromium()
    asyncio.run(_drive_nan())


async def _drive_nan() -> None:
    data = np.linspace(0.0, 1.0, 256 * 256, dtype=np.float32).reshape(256, 256)
    data[100:150, 100:150] = np.nan
    viewer = Viewer(data, height=300, zoom=1.0, center=[128.5, 128.5], contrast_limits=(0, 1))
    async with hosted(viewer) as (page, _bridge, problems):
        d = await settled(page)
        cam = json.loads(d["camera"])
        img = await canvas(page)
        nan_px = img[_screen(cam, 125, 125)]
        assert np.abs(nan_px.astype(int) - IMAGE_BACKGROUND).max() <= 2, nan_px
        finite = img[_screen(cam, 200, 200)]
        assert finite[0] == finite[1] == finite[2] and finite[0] > 150  # gray, bright
        viewer.nan_color = "#ff00ff"
        for _ in range(200):  # frame by frame until the change is drawn
            img = await canvas(page)
            if tuple(img[_screen(cam, 125, 125)]) == (255, 0, 255):
                break
            await page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r(null)))")
        assert tuple(img[_screen(cam, 125, 125)]) == (255, 0, 255)
        assert tuple(img[_screen(cam, 200, 200)]) == tuple(finite)
        await page.screenshot(path=str(screenshot_dir() / "nan-color.png"))
        assert problems == [], problems
    viewer.close()


def test_another_protocol_version_is_named_not_drawn() -> None:
    require_chromium()
    asyncio.run(_drive_mismatch())


async def _drive_mismatch() -> None:
    viewer = Viewer(np.zeros((64, 64), dtype=np.uint8), height=200)
    viewer.set_trait("protocol_version", 1)  # a kernel of the previous version
    async with hosted(viewer) as (page, bridge, problems):
        await page.wait_for_function(
            f"() => document.querySelector('{ROOT}')?.dataset.protocolMismatch === '1'",
            timeout=WAIT_MS,
        )
        text = await page.locator(f"{ROOT} .sz-message").inner_text()
        assert (
            f"protocol {PROTOCOL_VERSION}" in text
            and "kernel's speaks 1" in text
            and "Restart the kernel" in text
        )
        assert bridge.custom_sent == 0 and viewer.views == {}  # no ready, nothing served
        assert problems == [], problems
    viewer.close()
