"""Tier A: the scale bar's drawn length matches its label, as the view zooms.

An image with 0.25 x 0.4 µm pixels (anisotropic: world units are physical and
the same along both axes on screen) in real Chromium: the bar's width in CSS
pixels times the camera's world units per CSS pixel is the labelled length
within 1 px, through zooms that change the label and its unit prefix.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from simplezarr.utils._pyramid import write_multiscale
from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, hosted, settled
from tests.browser._servers import require_chromium, screenshot_dir

pytestmark = pytest.mark.browser

MICROMETRES = {"nm": 1e-3, "µm": 1.0, "mm": 1e3}


async def _bar(page: Any) -> tuple[float, float, str]:
    """(bar width in CSS px, camera scale in µm per CSS px, label)."""
    out = await page.evaluate(
        f"""() => {{ const r = document.querySelector('{ROOT}');
        const bar = r.querySelector('.sz-scalebar-bar');
        return [bar.getBoundingClientRect().width, JSON.parse(r.dataset.camera).scale,
                r.querySelector('.sz-scalebar-label').textContent,
                r.querySelector('.sz-scalebar').checkVisibility()]; }}"""
    )
    assert out[3], "the scale bar is hidden"
    return float(out[0]), float(out[1]), str(out[2])


def _check(width: float, scale: float, label: str) -> str:
    m = re.fullmatch(r"(\d+(?:\.\d+)?) (nm|µm|mm)", label)
    assert m, label
    length_um = float(m.group(1)) * MICROMETRES[m.group(2)]
    assert width == pytest.approx(length_um / scale, abs=1.0), (width, scale, label)
    assert float(m.group(1)) in {1, 2, 5, 10, 20, 50, 100, 200, 500}
    return m.group(2)


def test_scale_bar_length_matches_its_label() -> None:
    require_chromium()
    store = MemoryStore()
    y, x = np.mgrid[0:1024, 0:1024]
    write_multiscale(
        ((x ^ y) & 255).astype(np.uint8),
        store,
        axes="yx",
        scale=[0.25, 0.4],
        units="micrometer",
        chunks=256,
    )
    asyncio.run(_drive(zarr.open_group(store, mode="r")))


async def _drive(node: Any) -> None:
    viewer = Viewer(node, height=400)
    async with hosted(viewer) as (page, _bridge, problems):
        await settled(page)
        units = {_check(*await _bar(page))}
        for zoom in (0.1, 2.0, 60.0):
            viewer.zoom = zoom
            await page.wait_for_function(
                f"(s) => Math.abs(JSON.parse(document.querySelector('{ROOT}').dataset.camera).scale - s) < 1e-9",
                arg=0.4 / zoom,
            )
            units.add(_check(*await _bar(page)))
        assert units >= {"µm", "nm"}
        await page.screenshot(path=str(screenshot_dir() / "scalebar-nm.png"))
        viewer.scale_bar = False
        await page.wait_for_function(
            f"() => !document.querySelector('{ROOT} .sz-scalebar').checkVisibility()"
        )
        assert problems == [], problems
    viewer.close()
    assert json.dumps(viewer.unit) == '"micrometer"'
