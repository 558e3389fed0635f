"""Tier A: "Copy view as code" writes Python that recreates the view, in real Chromium.

A two-channel image on disk is viewed, zoomed, panned, moved in z and
restyled; the toolbar's "Code" button shows (and copies) Python lines. Run
in this process, they make a new Viewer whose camera, slider position and
channels equal the first one's.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from simplezarr.utils._pyramid import write_multiscale
from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, hosted, settled
from tests.browser._servers import require_chromium, screenshot_dir

pytestmark = pytest.mark.browser


def test_copied_code_recreates_the_view(tmp_path: Path) -> None:
    require_chromium()
    path = tmp_path / "two channels.ome.zarr"
    data = np.random.default_rng(2).integers(0, 4000, (2, 6, 300, 400), dtype=np.uint16)
    write_multiscale(
        data, zarr.storage.LocalStore(str(path)), axes="czyx", chunks=(1, 1, 128, 128)
    )
    asyncio.run(_drive(str(path)))


async def _drive(path: str) -> None:
    viewer = Viewer(path, height=400)
    async with hosted(viewer) as (page, _bridge, problems):
        await settled(page)
        viewer.center = [100.0, 250.0]
        viewer.zoom = 2.0
        viewer.position = {**viewer.position, "z": 4}
        viewer.channels[1].color = "#ffaa00"
        viewer.channels[1].gamma = 0.7
        viewer.channels[0].contrast_limits = [100.0, 3000.0]
        viewer.channels[0].visible = False
        await page.wait_for_function(
            f"() => JSON.parse(document.querySelector('{ROOT}').dataset.camera).scale === 0.5"
        )
        await settled(page)
        await page.click(f"{ROOT} .sz-copy-code")
        await page.wait_for_selector(f"{ROOT} .sz-code:not([hidden])", timeout=10_000)
        code = await page.evaluate(f"() => document.querySelector('{ROOT}').dataset.viewCode")
        shown = await page.evaluate(
            f"() => document.querySelector('{ROOT} .sz-code-text').textContent"
        )
        assert shown == code
        await page.evaluate("() => window.getSelection().removeAllRanges()")
        await page.screenshot(path=str(screenshot_dir() / "view-code.png"))
        assert problems == []
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    again: Viewer = namespace["v"]
    try:
        assert again.center == pytest.approx(viewer.center)
        assert again.zoom == pytest.approx(viewer.zoom)
        assert again.position == viewer.position
        assert again.channel_mode == viewer.channel_mode
        for a, b in zip(again.channels, viewer.channels, strict=True):
            assert (a.color, a.visible) == (b.color, b.visible)
            assert a.contrast_limits == pytest.approx(b.contrast_limits)
            assert a.gamma == pytest.approx(b.gamma)
    finally:
        again.close()
        viewer.close()
