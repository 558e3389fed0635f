"""Tier A: the minimap, in real Chromium.

Zoomed into a 2000 x 3000 image, the minimap (bottom right) shows the whole
image, drawn in the kernel, with the part on screen outlined where the
camera says; a click in it centres the view there (the camera trait the
kernel sees); with the whole image on screen it hides itself.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest

from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, hosted, settled, until
from tests.browser._servers import require_chromium, screenshot_dir

pytestmark = pytest.mark.browser


def test_minimap_outlines_the_view_and_moves_it() -> None:
    require_chromium()
    y, x = np.mgrid[0:2000, 0:3000]
    image = (((x // 250) + (y // 250)) % 2 * 200 + 30).astype(np.uint8)
    asyncio.run(_drive(image))


async def _minimap(page: Any) -> dict[str, Any]:
    return await page.evaluate(
        f"""() => {{ const m = document.querySelector('{ROOT} .sz-minimap');
        const r = m.getBoundingClientRect();
        return {{shown: m.dataset.shown, view: m.dataset.view, box: [r.top, r.left, r.height, r.width],
                 loaded: m.querySelector('img').complete && m.querySelector('img').naturalWidth > 0}}; }}"""
    )


async def _drive(image: np.ndarray) -> None:
    viewer = Viewer(image, height=420, center=[500.0, 800.0], zoom=1.0)
    async with hosted(viewer) as (page, _bridge, problems):
        await settled(page)
        await until(lambda: bool(viewer._overview))
        await page.wait_for_function(
            f"() => document.querySelector('{ROOT} .sz-minimap').dataset.shown === '1'",
            timeout=20_000,
        )
        m = await _minimap(page)
        top, left, h, w = m["box"]
        assert (
            m["loaded"]
            and w == pytest.approx(160, abs=1)
            and h == pytest.approx(160 * 2 / 3, abs=1)
        )
        cam = json.loads(
            await page.evaluate(f"() => document.querySelector('{ROOT}').dataset.camera")
        )
        # The outline is the world rectangle on screen, at 160 / 3000 minimap px per world unit.
        k = w / 3000
        vy, vx, _vh, vw = (float(v) for v in m["view"].split(","))
        assert vy == pytest.approx(
            (cam["center"][0] - cam["size"][0] / 2 * cam["scale"] + 0.5) * k, abs=1
        )
        assert vx == pytest.approx(
            (cam["center"][1] - cam["size"][1] / 2 * cam["scale"] + 0.5) * k, abs=1
        )
        assert vw == pytest.approx(cam["size"][1] * cam["scale"] * k, abs=1)
        await page.screenshot(path=str(screenshot_dir() / "minimap.png"))

        # A click in the minimap centres the view on that world point.
        await page.mouse.click(left + w * 0.75, top + h * 0.5)
        await until(lambda: abs(viewer.center[1] - 2250) < 30)
        assert viewer.center[0] == pytest.approx(1000, abs=30)
        assert viewer.zoom == pytest.approx(1.0)

        # The whole image on screen: the minimap has nothing to add.
        viewer.zoom = 0.05
        await page.wait_for_function(
            f"() => document.querySelector('{ROOT} .sz-minimap').dataset.shown === '0'",
            timeout=20_000,
        )
        assert problems == []
    viewer.close()
