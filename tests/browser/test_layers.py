"""Tier A: layers in real Chromium: labels over an image, images over images.

The real bundle against the real Viewer:

- label colours are exact at known pixels (``image-label`` colours, else the
  hashed palette) and the same when zoomed out (the label pyramid's own level);
- hovering a label shows its id and its ``image-label`` properties;
- outline mode draws only the boundaries between labels;
- two images with different scales and translations line up: a known
  feature at the same screen position, edges included.

Screenshots are kept (``$SIMPLEZARR_SCREENSHOTS``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simplezarr.utils._pyramid import write_labels, write_multiscale
from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, WAIT_MS, canvas, hosted, settled, until
from tests.browser._servers import require_chromium, screenshot_dir
from tests.viewer.conftest import hashed_label_color

pytestmark = pytest.mark.browser

BLOCK = 32

# Whether the canvas pixel [y, x] is black (the drawing buffer is kept: tests read it back).
PIXEL_IS_BLACK = f"""(p) => {{
  const c = document.querySelector('{ROOT} .sz-canvas');
  const t = document.createElement('canvas');
  t.width = c.width; t.height = c.height;
  const g = t.getContext('2d');
  g.drawImage(c, 0, 0);
  const d = g.getImageData(p[1], p[0], 1, 1).data;
  return d[0] === 0 && d[1] === 0 && d[2] === 0;
}}"""


def _labels() -> np.ndarray:
    """256 x 256 ids in 32-pixel blocks; a background block of 0; ids above 2**24."""
    y, x = np.indices((256, 256))
    ids = (y // BLOCK * 8 + x // BLOCK + 1).astype(np.uint32)
    ids[:BLOCK, :BLOCK] = 0
    ids[BLOCK : 2 * BLOCK, :BLOCK] = 2**24 + 9
    ids[2 * BLOCK : 3 * BLOCK, :BLOCK] = 2**32 - 1  # alpha 0 in its tile: still exact
    return ids


async def _camera(page: Any) -> dict[str, Any]:
    return dict(
        json.loads(await page.evaluate(f"() => document.querySelector('{ROOT}').dataset.camera"))
    )


def _screen(cam: dict[str, Any], wy: float, wx: float) -> tuple[int, int]:
    """Canvas pixel (dpr 1) at the world point (wy, wx)."""
    (cy, cx), s, (h, w) = cam["center"], cam["scale"], cam["size"]
    return int((wy - cy) / s + h / 2), int((wx - cx) / s + w / 2)


def _write(tmp: Path) -> tuple[Path, np.ndarray]:
    path = tmp / "cells.ome.zarr"
    group = write_multiscale(
        np.zeros((256, 256), np.uint8), str(path), axes="yx", chunks=128, levels=2
    )
    labels = _labels()
    write_labels(
        labels,
        group,
        "blocks",
        colors={10: [255, 0, 0, 255], 20: [0, 0, 255, 255]},
        properties=[{"label-value": 20, "area": 1024, "kind": "nucleus"}],
    )
    return path, labels


def _expected(label: int) -> tuple[int, int, int]:
    return {0: (0, 0, 0), 10: (255, 0, 0), 20: (0, 0, 255)}.get(label) or hashed_label_color(label)


def _check_colours(img: np.ndarray, cam: dict[str, Any], labels: np.ndarray) -> None:
    for by in range(8):
        for bx in range(8):
            iy, ix = by * BLOCK + BLOCK // 2, bx * BLOCK + BLOCK // 2
            sy, sx = _screen(cam, iy, ix)
            if not (0 <= sy < img.shape[0] and 0 <= sx < img.shape[1]):
                continue
            got, want = img[sy, sx].astype(int), np.array(_expected(int(labels[iy, ix])))
            assert np.abs(got - want).max() <= 1, (int(labels[iy, ix]), got, want)


def test_labels_are_exact_hover_names_them_and_outlines_are_boundaries(tmp_path: Path) -> None:
    require_chromium()
    asyncio.run(_drive_labels(tmp_path))


async def _drive_labels(tmp: Path) -> None:
    path, labels = _write(tmp)
    viewer = Viewer(
        str(path), height=300, zoom=1.0, center=[128.0, 128.0], contrast_limits=(0, 255)
    )
    (_, blocks) = viewer.layers
    blocks.opacity = 1.0
    async with hosted(viewer, height=700) as (page, _bridge, problems):
        d = await settled(page, layers="[0,1]")
        assert d["level"] == "0"
        cam = await _camera(page)
        _check_colours(await canvas(page), cam, labels)
        await page.screenshot(path=str(screenshot_dir() / "layers-labels.png"))

        # The panel's layers section: hiding the labels from the page reaches Python.
        await page.locator(f"{ROOT} .sz-channels-toggle").click()
        await page.screenshot(path=str(screenshot_dir() / "layers-panel.png"))
        await page.locator(f"{ROOT} .sz-layer[data-layer='1'] .sz-layer-visible").click()
        await page.wait_for_function(
            f"() => document.querySelector('{ROOT}').dataset.layers === '[0]'", timeout=WAIT_MS
        )
        await asyncio.wait_for(until(lambda: blocks.visible is False), 10)
        blocks.visible = True
        await settled(page, layers="[0,1]")

        # Hover: the id and its properties.
        box = await page.locator(f"{ROOT} .sz-canvas").bounding_box()
        iy, ix = np.argwhere(labels == 20)[40]
        sy, sx = _screen(cam, iy, ix)
        await page.mouse.move(box["x"] + sx + 0.5, box["y"] + sy + 0.5)
        await page.wait_for_function(
            f"() => (document.querySelector('{ROOT} .sz-overlay-values')?.textContent ?? '')"
            ".includes('blocks 20 (area: 1024, kind: nucleus)')",
            timeout=WAIT_MS,
        )
        iy, ix = np.argwhere(labels == 2**24 + 9)[5]
        sy, sx = _screen(cam, iy, ix)
        await page.mouse.move(box["x"] + sx + 0.5, box["y"] + sy + 0.5)
        await page.wait_for_function(
            f"() => (document.querySelector('{ROOT} .sz-overlay-values')?.textContent ?? '')"
            f".includes('blocks {2**24 + 9}')",
            timeout=WAIT_MS,
        )

        # Zoomed out: level 1 of the label pyramid, the same colours.
        viewer.zoom = 0.5
        viewer.center = [128.0, 128.0]
        await settled(page, level="1")
        cam = await _camera(page)
        _check_colours(await canvas(page), cam, labels)

        # Outline mode (set from Python): only boundaries are drawn.
        viewer.zoom = 1.0
        viewer.center = [128.0, 128.0]
        await settled(page, level="0")
        cam = await _camera(page)
        blocks.outline = True
        cy, cx = _screen(cam, 3 * BLOCK + BLOCK / 2, 3 * BLOCK + BLOCK / 2)
        await page.wait_for_function(PIXEL_IS_BLACK, arg=[cy, cx], timeout=WAIT_MS)
        img = await canvas(page)
        for by, bx in [(3, 3), (4, 5), (6, 2)]:
            label = int(labels[by * BLOCK, bx * BLOCK])
            cy, cx = _screen(cam, by * BLOCK + BLOCK / 2, bx * BLOCK + BLOCK / 2)
            assert tuple(img[cy, cx]) == (0, 0, 0), "inside a label: nothing drawn"
            ey, ex = _screen(cam, by * BLOCK + BLOCK / 2, bx * BLOCK)  # its left edge
            edge = img[ey, ex - 1 : ex + 2].astype(int)
            want = np.array(_expected(label))
            assert any(np.abs(p - want).max() <= 1 for p in edge), (label, edge, want)
        await page.screenshot(path=str(screenshot_dir() / "layers-labels-outline.png"))
        assert problems == [], problems
    viewer.close()


def test_two_images_of_different_scale_and_translation_line_up(tmp_path: Path) -> None:
    require_chromium()
    asyncio.run(_drive_two_images(tmp_path))


async def _drive_two_images(tmp: Path) -> None:
    base = np.full((128, 256), 10, np.uint16)
    base[40:48, 80:88] = 5000
    half = base.reshape(64, 2, 128, 2).mean(axis=(1, 3)).astype(np.uint16)
    write_multiscale(
        half, str(tmp / "half.zarr"), axes="yx", scale=[2.0, 2.0], translation=[0.5, 0.5],
        levels=1,
    )  # fmt: skip
    viewer = Viewer(base, height=300, zoom=4.0, center=[44.0, 84.0], colormap="red")
    viewer.contrast_limits = [0, 5000]
    layer = viewer.add_image(str(tmp / "half.zarr"), name="half", opacity=0.5)
    layer.channels[0].color = "#00ff00"
    layer.channels[0].contrast_limits = [0, 5000]
    async with hosted(viewer, height=700) as (page, _bridge, problems):
        await settled(page, layers="[0,1]")
        cam = await _camera(page)
        img = await canvas(page)
        # Inside the feature (just inside each edge): red from the base, green from the layer.
        inside = [(40.2, 84), (47.3, 84), (44, 80.2), (44, 87.3)]
        outside = [(39.3, 84), (48.2, 84), (44, 79.3), (44, 88.2)]
        for wy, wx in inside:
            r, g, b = (int(v) for v in img[_screen(cam, wy, wx)])
            assert r >= 120 and g >= 120 and b == 0, ((wy, wx), (r, g, b))
        for wy, wx in outside:
            r, g, b = (int(v) for v in img[_screen(cam, wy, wx)])
            assert r < 10 and g < 10, ((wy, wx), (r, g, b))
        await page.screenshot(path=str(screenshot_dir() / "layers-two-images.png"))
        assert problems == [], problems
    viewer.close()


def test_a_computed_threshold_layer_shows_fn_of_the_data_and_a_new_fn(tmp_path: Path) -> None:
    require_chromium()
    asyncio.run(_drive_computed())


async def _drive_computed() -> None:
    rng = np.random.default_rng(11)
    data = rng.integers(0, 1000, (256, 256), dtype=np.uint16)
    viewer = Viewer(data, height=300, zoom=2.0, center=[64.0, 64.0], contrast_limits=(0, 1000))
    layer = viewer.add_computed(lambda b: b > 500, name="bright", contrast_limits=(0, 1))
    viewer.layers[0].visible = False  # only the computed layer: its pixels are fn's
    async with hosted(viewer, height=700) as (page, _bridge, problems):
        await settled(page, layers="[1]")
        cam = await _camera(page)
        points = [(int(y), int(x)) for y, x in rng.integers(20, 100, (24, 2))]

        def check(img: np.ndarray, threshold: int) -> None:
            for iy, ix in points:
                sy, sx = _screen(cam, iy, ix)
                want = 255 if data[iy, ix] > threshold else 0
                assert tuple(img[sy, sx]) == (want,) * 3, ((iy, ix), data[iy, ix], img[sy, sx])

        check(await canvas(page), 500)
        await page.screenshot(path=str(screenshot_dir() / "layers-computed.png"))
        # A point that changes with the new fn, to wait on.
        iy, ix = next((y, x) for y, x in points if 500 < data[y, x] <= 900)
        layer.fn = lambda b: b > 900
        await page.wait_for_function(
            PIXEL_IS_BLACK, arg=list(_screen(cam, iy, ix)), timeout=WAIT_MS
        )
        await settled(page, layers="[1]")
        check(await canvas(page), 900)
        assert problems == [], problems
    viewer.close()
