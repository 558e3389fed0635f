"""Tier A: channels composited in the browser, their panel, and the values under the cursor.

The real bundle in real Chromium against the real Viewer:

- three uint16 channels in red, green and blue with windows [0, 255] add up
  to the exact (R, G, B) of their values at every probed pixel;
- dragging a contrast slider in the panel, hiding a channel and changing a
  colour change the pixels and send no custom message either way;
- the histogram the panel shows is numpy's over the same level;
- the readout under the cursor is the data, exactly, for every channel;
- an RGB photo (numpy (H, W, 3) uint8) comes out exact.

Screenshots of the panel are kept.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest

from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, WAIT_MS, canvas, hosted, settled, until
from tests.browser._servers import require_chromium, screenshot_dir

pytestmark = pytest.mark.browser


def _stack() -> np.ndarray:
    y, x = np.mgrid[0:512, 0:512]
    return np.stack(
        [(x // 2) % 256, (y // 2) % 256, ((x + y) // 4) % 256 + 30000 * ((x // 64) % 2)]
    ).astype(np.uint16)


def _screen(cam: dict[str, Any], iy: int, ix: int) -> tuple[int, int]:
    """Canvas pixel (dpr 1) at the centre of level-0 pixel (iy, ix) (scale 1, offset 0)."""
    (cy, cx), s, (h, w) = cam["center"], cam["scale"], cam["size"]
    return int((iy - cy) / s + h / 2), int((ix - cx) / s + w / 2)


async def _camera(page: Any) -> dict[str, Any]:
    return dict(
        json.loads(await page.evaluate(f"() => document.querySelector('{ROOT}').dataset.camera"))
    )


def test_channels_add_up_exactly_and_restyle_without_messages() -> None:
    require_chromium()
    asyncio.run(_drive_channels())


async def _drive_channels() -> None:
    data = _stack()
    viewer = Viewer(data, height=360, zoom=2.0, center=[200.0, 200.0])
    assert viewer.channel_mode == "composite" and len(viewer.channels) == 3
    for ch, color in zip(viewer.channels, ["#ff0000", "#00ff00", "#0000ff"], strict=True):
        ch.color = color
        ch.contrast_limits = [0, 255]
    async with hosted(viewer, height=900) as (page, bridge, problems):
        d = await settled(page)
        assert d["passes"] == "[0,1,2]"
        cam = await _camera(page)
        img = await canvas(page)
        points = [(180, 170), (200, 230), (215, 190), (190, 250)]
        for iy, ix in points:
            sy, sx = _screen(cam, iy, ix)
            want = [min(255, int(v)) for v in data[:, iy, ix]]
            assert list(img[sy, sx]) == want, (iy, ix, img[sy, sx], want)

        # The panel: open it (asks for histograms), the histogram is numpy's.
        await page.locator(f"{ROOT} .sz-channels-toggle").click()
        # uint16: each range is observed (not 0..65535), widened by the panel's histograms to
        # include the limits set ([0, 255]; channel 2 starts at 30)
        wanted = [[min(0.0, float(d.min())), max(255.0, float(d.max()))] for d in data]
        await asyncio.wait_for(until(lambda: [ch.range for ch in viewer.channels] == wanted), 30)
        for i, ch in enumerate(viewer.channels):
            counts, _ = np.histogram(data[i], bins=64, range=tuple(ch.range))
            assert ch.histogram == [int(c) for c in counts]
        await page.wait_for_function(
            f"() => document.querySelectorAll('{ROOT} .sz-channel-histogram').length === 3"
        )

        # Restyling sends nothing: contrast slider, hiding a channel, a colour.
        before_kernel = bridge.custom_sent
        page_sent = len(bridge.from_page)
        hi = page.locator(f"{ROOT} .sz-channel[data-channel='0'] .sz-channel-hi")
        await hi.focus()
        start = int(await hi.input_value())  # 255 of 0..255 in 1000 steps: 1000
        assert start == 1000
        while int(await hi.input_value()) > start - 50:
            await page.keyboard.press("ArrowLeft")
        await page.wait_for_function(
            f"() => JSON.parse(document.querySelector('{ROOT}').dataset.display).hi < 255"
        )
        await page.locator(f"{ROOT} .sz-channel[data-channel='1'] .sz-channel-visible").click()
        await page.wait_for_function(
            f"() => document.querySelector('{ROOT}').dataset.passes === '[0,2]'"
        )
        img = await canvas(page)
        for iy, ix in points:
            sy, sx = _screen(cam, iy, ix)
            assert img[sy, sx][1] == 0  # green hidden
        assert bridge.custom_sent == before_kernel  # no tile, drop or status for any of it
        assert bridge.from_page[page_sent:] == []  # and the page sent nothing either
        await asyncio.wait_for(until(lambda: viewer.channels[1].visible is False), 10)
        await page.screenshot(path=str(screenshot_dir() / "channels-panel.png"))

        # The value under the cursor, exactly, for the channels shown.
        box = await page.locator(f"{ROOT} .sz-canvas").bounding_box()
        iy, ix = 210, 260
        sy, sx = _screen(cam, iy, ix)
        await page.mouse.move(box["x"] + sx + 0.5, box["y"] + sy + 0.5)
        want = f"{viewer.channels[0].name} {data[0, iy, ix]} · {viewer.channels[2].name} {data[2, iy, ix]}"
        await page.wait_for_function(
            f"(t) => document.querySelector('{ROOT} .sz-overlay-values')?.textContent === t",
            arg=want,
            timeout=WAIT_MS,
        )
        assert problems == [], problems
    viewer.close()


def test_rgb_photo_is_exact() -> None:
    require_chromium()
    asyncio.run(_drive_rgb())


async def _drive_rgb() -> None:
    rng = np.random.default_rng(7)
    photo = rng.integers(0, 256, size=(300, 400, 3), dtype=np.uint8)
    viewer = Viewer(
        photo, height=360, zoom=1.0, center=[150.5, 200.5]
    )  # pixels on whole canvas pixels
    assert viewer.channel_mode == "composite"
    assert [c.color for c in viewer.channels] == ["#ff0000", "#00ff00", "#0000ff"]
    async with hosted(viewer, height=700) as (page, _bridge, problems):
        await settled(page)
        cam = await _camera(page)
        img = await canvas(page)
        for iy, ix in [(10, 10), (150, 200), (299, 399), (77, 311)]:
            sy, sx = _screen(cam, iy, ix)
            assert list(img[sy, sx]) == list(photo[iy, ix]), (iy, ix)
        await page.screenshot(path=str(screenshot_dir() / "channels-rgb.png"))
        assert problems == [], problems
    viewer.close()
