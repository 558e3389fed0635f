"""Tier A: tile outlines (``Viewer.show_tiles``) in real Chromium against the real Viewer.

Uses the tier-A harness (``_harness.py``: the real bundle, the widget's comm
carried as Jupyter carries it). Where the outlines must be is derived from what the
page reports (``data-camera``, ``data-level``) and the ``levels`` trait (scale,
offset, chunk of the level in use); their colour from the page's own legend.
The outline of an edge at device coordinate ``e`` is the one device pixel
that contains it (the last one for an edge on the canvas's far border), see
``js/outlines.ts``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from simplezarr.utils._pyramid import write_multiscale
from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, WAIT_MS, canvas, hosted, settled, until
from tests.browser._servers import require_chromium, screenshot_dir
from tests.browser.test_bundle import _volume

pytestmark = pytest.mark.browser


def test_tile_outlines_follow_the_trait() -> None:
    require_chromium()
    store = MemoryStore()
    write_multiscale(_volume(), store, axes="zyx", chunks=(1, 256, 256), scale=[2.0, 0.5, 0.5])
    node = zarr.open_group(store, mode="r")
    asyncio.run(_drive(node, screenshot_dir()))


async def _shows(page: Any, flag: str) -> dict[str, str]:
    await page.wait_for_function(
        f"() => document.querySelector('{ROOT}').dataset.showTiles === '{flag}'", timeout=WAIT_MS
    )
    return await settled(page)


async def _legend(page: Any) -> list[tuple[int, str, tuple[int, int, int]]]:
    """(level, text, swatch colour) of each visible legend entry."""
    items = await page.evaluate(
        f"""() => [...document.querySelectorAll('{ROOT} .sz-legend-item')]
        .filter((e) => e.offsetParent !== null)
        .map((e) => [Number(e.dataset.level), e.textContent,
                     getComputedStyle(e.querySelector('.sz-legend-swatch')).borderTopColor])"""
    )
    out = []
    for level, text, css in items:
        m = re.fullmatch(r"rgb\((\d+), (\d+), (\d+)\)", css)
        assert m is not None, css
        out.append((level, text, (int(m[1]), int(m[2]), int(m[3]))))
    return out


def _edge_pixel(e: float, n: int) -> int:
    """The device pixel that draws an edge at device coordinate ``e`` (js/outlines.ts edgePixel)."""
    p = math.floor(e + 1e-6)
    return n - 1 if p == n and e <= n + 1e-6 else p


def _grid_lines(level: dict[str, Any], camera: dict[str, Any], axis: int, n: int) -> list[int]:
    """Device pixels (rows for axis 0, columns for axis 1) of the level's tile edges in view."""
    size, chunk = level["shape"][axis], level["chunk"][axis]
    scale, offset = level["scale"][axis], level["offset"][axis]
    out = []
    for k in range(math.ceil(size / chunk) + 1):
        world = offset + (min(k * chunk, size) - 0.5) * scale
        css = (world - camera["center"][axis]) / camera["scale"] + camera["size"][axis] / 2
        p = _edge_pixel(css * n / camera["size"][axis], n)
        if 0 <= p < n:
            out.append(p)
    return out


def _between(lines: list[int]) -> list[int]:
    """Middles of the gaps between consecutive lines: away from every line across them."""
    return [(a + b) // 2 for a, b in itertools.pairwise(lines) if b - a > 8]


async def _drive(node: Any, shots: Path) -> None:
    viewer = Viewer(node, height=420, contrast_limits=(0, 65535))
    async with hosted(viewer) as (page, bridge, problems):
        # Off by default: no outlines, no legend, the toggle not pressed.
        d = await _shows(page, "0")
        off = await canvas(page)
        assert await _legend(page) == []
        button = page.locator(f"{ROOT} .sz-tiles")
        assert await button.get_attribute("aria-pressed") == "false"

        # From Python: the same frame with outlines, and nothing fetched.
        sent = bridge.custom_sent
        viewer.show_tiles = True
        d = await _shows(page, "1")
        on = await canvas(page)
        assert bridge.custom_sent == sent
        assert await button.get_attribute("aria-pressed") == "true"
        level = int(d["level"])
        camera = json.loads(d["camera"])
        assert level > 0  # fitted: a coarse level, so the colour is not level 0's
        legend = await _legend(page)
        assert [(lv, text) for lv, text, _ in legend] == [(level, f"level {level}")]
        color = np.array(legend[0][2])
        assert color.max() - color.min() > 100  # a saturated colour, unlike the gray image

        h, w = on.shape[:2]
        assert h == round(camera["size"][0] * w / camera["size"][1])  # one device-pixel ratio
        info = viewer.levels[level]
        rows = _grid_lines(info, camera, 0, h)
        cols = _grid_lines(info, camera, 1, w)
        # Fitted: every edge of the level's tile grid is in view, the image's own edges included.
        for axis, lines in ((0, rows), (1, cols)):
            assert len(lines) == math.ceil(info["shape"][axis] / info["chunk"][axis]) + 1 >= 3
        changed = np.any(on != off, axis=2)
        gray = (off[..., 0] == off[..., 1]) & (off[..., 1] == off[..., 2])
        # Along rows that cross no horizontal edge, exactly the vertical edges' pixels changed,
        # one device pixel wide, to the level's colour; inside the image they were gray.
        # Likewise along columns.
        for y in _between(rows):
            assert np.flatnonzero(changed[y]).tolist() == cols, y
            assert np.abs(on[y, cols].astype(int) - color).max() <= 2
            assert gray[y, cols[1:-1]].all()
        for x in _between(cols):
            assert np.flatnonzero(changed[:, x]).tolist() == rows, x
            assert np.abs(on[rows, x].astype(int) - color).max() <= 2
            assert gray[rows[1:-1], x].all()
        # Nothing else changed: every changed pixel lies on one of the edges.
        on_lines = np.zeros_like(changed)
        on_lines[rows, cols[0] : cols[-1] + 1] = True
        on_lines[rows[0] : rows[-1] + 1, cols] = True
        assert not (changed & ~on_lines).any()
        await page.screenshot(path=str(shots / "bundle-tiles.png"))

        # The toolbar toggle writes the trait; the outlines go, the image is as before.
        await button.click()
        await asyncio.wait_for(until(lambda: viewer.show_tiles is False), 30)
        await _shows(page, "0")
        assert np.array_equal(await canvas(page), off)
        assert await _legend(page) == []
        assert await button.get_attribute("aria-pressed") == "false"

        # The `t` key toggles too.
        await page.locator(f"{ROOT} .sz-canvas").focus()
        await page.keyboard.press("t")
        await asyncio.wait_for(until(lambda: viewer.show_tiles is True), 30)
        await _shows(page, "1")
        assert np.array_equal(await canvas(page), on)
        assert bridge.custom_sent == sent
        assert problems == [], problems
    viewer.close()
