"""Tier A: the kernel's ``screenshot()`` and the browser's canvas agree for the same view.

The real bundle draws a view in real Chromium (WebGL through SwiftShader);
once every tile of the level in use is drawn, ``screenshot()`` (no size:
the size the browser reported) renders the same view in the kernel. Inside
the image the two agree within a small tolerance (the GPU's float32 against
numpy's float64 in the minifying box filter, rounding at tile edges);
outside it the screenshot is transparent where the canvas shows its
background. A zoom between two levels makes the box filter run; a single
channel through a colormap, a two-channel composite and label layers
(filled with opacity, and outlines) over an image are checked.
Screenshots of both are kept side by side to look at.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest
from PIL import Image

from simplezarr.viewer.widget import Viewer
from tests.browser._harness import canvas, hosted, settled
from tests.browser._servers import require_chromium, screenshot_dir

pytestmark = pytest.mark.browser

BACKGROUND = (28, 28, 31)  # js/renderer.ts BACKGROUND, 0.11/0.11/0.12 of 255


def _pattern(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Smooth structure plus fine noise: both the colours and the filtering show."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[-2], 0 : shape[-1]]
    base = 20000 + 15000 * np.sin(x / 37.0 + seed) * np.cos(y / 23.0)
    noise = rng.integers(0, 6000, shape)
    return (base + noise).astype(np.uint16)


async def _compare(page: Any, viewer: Viewer, name: str) -> None:
    d = await settled(page)
    cam = json.loads(d["camera"])
    img = await canvas(page)
    shot = viewer.screenshot()  # the size the browser reported
    assert shot.shape[:2] == img.shape[:2] == (round(cam["size"][0]), round(cam["size"][1]))
    both = np.concatenate([img, shot[..., :3]], axis=1)
    Image.fromarray(both).save(screenshot_dir() / f"render-vs-canvas-{name}.png")
    inside = shot[..., 3] == 255
    assert inside.mean() > 0.3, "the image should fill much of the view"
    diff = np.abs(img.astype(int) - shot[..., :3].astype(int)).max(axis=-1)
    # Most pixels are exact; the rest are one ramp or colormap entry off (the GPU's float32
    # and its approximate pow() near a rounding tie: +-1 per channel, symmetric; up to 3 per
    # byte in viridis's steepest steps), a handful at tile edges a little more.
    assert (diff[inside] == 0).mean() >= 0.6, np.percentile(diff[inside], [50, 90, 100])
    close = (diff[inside] <= 3).mean()
    assert close >= 0.999, (close, np.percentile(diff[inside], [50, 99, 100]))
    assert diff[inside].max() <= 12
    outside = ~inside
    assert outside.any()
    assert (np.abs(img[outside].astype(int) - BACKGROUND).max(axis=-1) <= 1).all()


def test_single_channel_screenshot_matches_the_canvas() -> None:
    require_chromium()
    asyncio.run(_drive_single())


async def _drive_single() -> None:
    data = _pattern((900, 1300), 1)
    viewer = Viewer(
        data,
        height=420,
        zoom=0.7,  # level 0 is finer than a device pixel: the box filter runs
        center=[500.0, 700.0],
        contrast_limits=(8000, 40000),
        colormap="viridis",
        gamma=1.6,
    )
    async with hosted(viewer, width=760, height=480) as (page, _bridge, problems):
        await _compare(page, viewer, "viridis")
        assert problems == [], problems
    viewer.close()


def test_composite_screenshot_matches_the_canvas() -> None:
    require_chromium()
    asyncio.run(_drive_composite())


async def _drive_composite() -> None:
    data = np.stack([_pattern((700, 1000), 2), _pattern((700, 1000), 3)])
    viewer = Viewer(data, height=400, contrast_limits=(5000, 42000))
    viewer.channels[0].color = "#00ff00"
    viewer.channels[1].color = "#ff00ff"
    viewer.channels[1].contrast_limits = [10000, 30000]
    assert viewer.channel_mode == "composite"
    async with hosted(viewer, width=700, height=460) as (page, _bridge, problems):
        await _compare(page, viewer, "composite")
        assert problems == [], problems
    viewer.close()


def _blocks(shape: tuple[int, int]) -> np.ndarray:
    """Label ids in 40-pixel blocks, some above 2**24, a background block of 0."""
    y, x = np.indices(shape)
    ids = (y // 40 * 97 + x // 40 + 1).astype(np.uint32)
    ids[:40, :40] = 0
    ids[40:80, :40] = 2**24 + 9
    ids[80:120, :40] = 2**32 - 1
    return ids


@pytest.mark.parametrize("outline", [False, True], ids=["filled", "outline"])
def test_labels_over_an_image_screenshot_matches_the_canvas(outline: bool) -> None:
    require_chromium()
    asyncio.run(_drive_labels(outline))


async def _drive_labels(outline: bool) -> None:
    data = _pattern((320, 480), 4)
    # (A third of a pixel off the grid: no pixel centre on a texel edge, where the GPU's
    # float32 and numpy may round apart.)
    viewer = Viewer(
        data, height=400, zoom=1.0, center=[160.3, 240.3], contrast_limits=(5000, 42000)
    )
    viewer.add_labels(_blocks((320, 480)), name="blocks", opacity=0.6, outline=outline)
    async with hosted(viewer, width=700, height=460) as (page, _bridge, problems):
        await _compare(page, viewer, "labels-outline" if outline else "labels")
        assert problems == [], problems
    viewer.close()
