"""Tier A: the real widget bundle in real Chromium against the real Python Viewer, no Jupyter.

The page, the comm bridge and the waits are in ``_harness.py``. These tests
drive a view the way a person does (fit, drag, wheel, keys, a second view)
and check what it draws against the data under the chosen contrast.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from simplezarr.utils._pyramid import write_multiscale
from simplezarr.utils.multiscale import MultiscaleInfo
from simplezarr.viewer.widget import Viewer
from tests.browser._harness import (
    ROOT,
    WAIT_MS,
    canvas,
    canvas_pixel,
    expected_level,
    hosted,
    settled,
    until,
)
from tests.browser._servers import require_chromium, screenshot_dir

pytestmark = pytest.mark.browser


def _volume() -> np.ndarray:
    """(z, y, x) uint16 with smooth structure and the full 16-bit range."""
    z, y, x = np.mgrid[0:4, 0:1200, 0:1600].astype(np.float64)
    waves = np.sin(y / (40 + 10 * z)) * np.cos(x / 55) + 1
    return (waves * 30000 + x * 2 + z * 500).clip(0, 65535).astype(np.uint16)


def _data_under(
    info: MultiscaleInfo,
    level: int,
    plane: int,
    camera: dict[str, Any],
    css_yx: tuple[float, float],
) -> np.ndarray:
    """The data values of ``level`` around the world point under CSS pixel ``css_yx`` (3x3)."""
    s = info.scales[level]
    world = [
        camera["center"][k] + (css_yx[k] + 0.5 - camera["size"][k] / 2) * camera["scale"]
        for k in (0, 1)
    ]
    iy, ix = (
        round((world[k] - s.spatial_offset[-2 + k]) / s.spatial_scale[-2 + k]) for k in (0, 1)
    )
    s0 = info.scales[0]
    world_z = s0.spatial_offset[0] + plane * s0.spatial_scale[0]
    zl = min(max(0, round((world_z - s.spatial_offset[0]) / s.spatial_scale[0])), s.shape[0] - 1)
    return np.asarray(s.array[zl, max(0, iy - 1) : iy + 2, max(0, ix - 1) : ix + 2])


def _gray(values: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    t = np.clip((values.astype(np.float64) - lo) / (hi - lo), 0, 1)
    return int(np.floor(t.min() * 255)) - 1, int(np.ceil(t.max() * 255)) + 1


def test_real_bundle_against_real_viewer() -> None:
    require_chromium()
    store = MemoryStore()
    data = _volume()
    write_multiscale(
        data,
        store,
        axes="zyx",
        chunks=(1, 256, 256),
        scale=[2.0, 0.5, 0.5],
        units="micrometer",
        name="waves",
    )
    node = zarr.open_group(store, mode="r")
    (info,) = MultiscaleInfo.from_zarr_node(node)
    assert len(info.scales) >= 3
    shots = screenshot_dir()
    asyncio.run(_drive(node, info, shots))
    print(f"screenshots in {shots}")


async def _drive(node: Any, info: MultiscaleInfo, shots: Path) -> None:
    viewer = Viewer(node, height=420, contrast_limits=(0, 65535))
    async with hosted(viewer, height=1000) as (page, bridge, problems):
        # 1. Fitted: tiles of the level the screen needs.
        d = await settled(page)
        cam = json.loads(d["camera"])
        assert int(d["level"]) == expected_level(info, cam["scale"], 1.0) == viewer.level
        assert int(d["level"]) > 0
        await page.screenshot(path=str(shots / "bundle-1-fit.png"))

        # 2. A pixel read back is the data under the contrast (gray, 0..65535).
        probe = (cam["size"][0] / 2 + 3, cam["size"][1] / 2 + 7)
        lo, hi = _gray(_data_under(info, int(d["level"]), 1, cam, probe), 0, 65535)
        r, g, b = await canvas_pixel(page, 0, probe)
        assert r == g == b and lo <= r <= hi

        # 3. A narrow contrast window shows that 16-bit values arrive exactly.
        v = int(_data_under(info, int(d["level"]), 1, cam, probe)[1, 1])
        viewer.contrast_limits = [v - 100, v + 155]
        tiles_before = bridge.custom_sent
        await page.wait_for_function(
            f"() => JSON.parse(document.querySelector('{ROOT}').dataset.display).lo === {v - 100}"
        )
        lo, hi = _gray(_data_under(info, int(d["level"]), 1, cam, probe), v - 100, v + 155)
        r, _, _ = await canvas_pixel(page, 0, probe)
        assert lo <= r <= hi
        assert bridge.custom_sent == tiles_before  # contrast needs no round trip

        # 4. Drag pans: the camera moves by the drag, in world units.
        box = await page.locator(f"{ROOT} .sz-canvas").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        await page.mouse.move(cx, cy)
        await page.mouse.down()
        await page.mouse.move(cx - 120, cy - 60, steps=6)
        await page.mouse.up()
        d = await settled(page)
        moved = json.loads(d["camera"])
        assert moved["center"][1] == pytest.approx(cam["center"][1] + 120 * cam["scale"], rel=1e-3)
        assert moved["center"][0] == pytest.approx(cam["center"][0] + 60 * cam["scale"], rel=1e-3)

        # 5. Wheel zoom in: finer level, tiles arrive, expected level.
        await page.mouse.move(cx, cy)
        for _ in range(6):
            await page.mouse.wheel(0, -200)
        await page.wait_for_function(
            f"() => document.querySelector('{ROOT}').dataset.level === '0'", timeout=WAIT_MS
        )
        d = await settled(page)
        zcam = json.loads(d["camera"])
        assert zcam["scale"] < moved["scale"]
        assert int(d["level"]) == expected_level(info, zcam["scale"], 1.0) == 0
        viewer.contrast_limits = [0, 65535]
        await page.wait_for_function(
            f"() => JSON.parse(document.querySelector('{ROOT}').dataset.display).hi === 65535"
        )
        lo, hi = _gray(_data_under(info, 0, 1, zcam, probe), 0, 65535)
        r, _, _ = await canvas_pixel(page, 0, probe)
        assert lo <= r <= hi
        await page.screenshot(path=str(shots / "bundle-2-zoomed.png"))

        # 6. A new view starts in the middle of the stack; a key steps z.
        assert viewer.position == {"z": 1} and d["plane"] == "z=1"
        await page.locator(f"{ROOT} .sz-canvas").focus()
        await page.keyboard.press("]")
        d = await settled(page, plane="z=2")
        assert viewer.position == {"z": 2}
        lo, hi = _gray(_data_under(info, 0, 2, json.loads(d["camera"]), probe), 0, 65535)
        r, _, _ = await canvas_pixel(page, 0, probe)
        assert lo <= r <= hi

        # 7. Colormap from Python: redrawn in the browser with no new tiles.
        before = bridge.custom_sent
        viewer.colormap = "viridis"
        await page.wait_for_function(
            f"() => JSON.parse(document.querySelector('{ROOT}').dataset.display).colormap === 'viridis'"
        )
        r, g, b = await canvas_pixel(page, 0, probe)
        assert not (r == g == b)
        assert bridge.custom_sent == before
        await page.screenshot(path=str(shots / "bundle-3-viridis-z2.png"))

        # 8. A second view of the same widget is served too; closing it leaves the first working.
        await page.evaluate("() => window.addView()")
        await settled(page, 1)
        assert len(viewer.views) == 2
        await page.evaluate("() => window.removeView(1)")
        await asyncio.wait_for(until(lambda: len(viewer.views) == 1), 30)
        await page.keyboard.press("0")  # fit the remaining view again
        d = await settled(page)
        assert int(d["level"]) == expected_level(info, json.loads(d["camera"])["scale"], 1.0)

        assert problems == [], problems
    viewer.close()
    assert viewer.pool.memory_usage == 0


def test_minified_tiles_are_box_filtered_not_aliased() -> None:
    """A 1-pixel checkerboard shown at 0.8x is its mean, gray, not a moire of black and white."""
    require_chromium()
    checker = (np.indices((512, 512)).sum(axis=0) % 2 * 255).astype(np.uint8)
    asyncio.run(_drive_checker(checker))


async def _drive_checker(checker: np.ndarray) -> None:
    viewer = Viewer(checker, height=420, contrast_limits=(0, 255))
    async with hosted(viewer, height=700) as (page, _, problems):
        d = await settled(page)
        cam = json.loads(d["camera"])
        assert 1 < cam["scale"] < 2  # minified: one device pixel spans 1..2 texels
        img = (await canvas(page)).mean(axis=2)
        h, w = cam["size"]
        centre = img[int(h / 2) - 60 : int(h / 2) + 60, int(w / 2) - 60 : int(w / 2) + 60]
        # Nearest sampling would give only 0 and 255 here; the mean of the checks is 127.5.
        assert 100 <= centre.min() and centre.max() <= 155, (centre.min(), centre.max())
        # Magnified (zoom 4x), every pixel shows one check again, crisp.
        viewer.zoom = 4.0
        await page.wait_for_function(
            f"() => JSON.parse(document.querySelector('{ROOT}').dataset.camera).scale < 0.3"
        )
        await settled(page)
        img = (await canvas(page)).mean(axis=2)
        values = set(
            np.unique(img[int(h / 2) - 60 : int(h / 2) + 60, int(w / 2) - 60 : int(w / 2) + 60])
        )
        assert values <= {0, 255} and len(values) == 2
        assert problems == [], problems
    viewer.close()
