"""Label layers in the kernel's pictures: exact ids, the browser's colours, outlines, opacity.

``tests/browser/test_render_vs_canvas.py`` compares these pictures with the
canvas in Chromium; here the colours are checked against the documented
arithmetic and the image-label table, without a browser.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simplezarr.utils import write_labels, write_multiscale
from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._renderlabels import hashed_colors
from simplezarr.viewer.widget import Viewer

from .conftest import hashed_label_color

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)

BLOCK = 32
SIZE = (256, 256)  # CSS px of the pictures: the 256 x 256 image at zoom 1 fills it


def _labels() -> np.ndarray:
    y, x = np.indices((256, 256))
    ids = (y // BLOCK * 8 + x // BLOCK + 1).astype(np.uint32)
    ids[:BLOCK, :BLOCK] = 0
    ids[BLOCK : 2 * BLOCK, :BLOCK] = 2**32 - 1
    return ids


def _image(tmp_path: Path) -> tuple[Path, np.ndarray]:
    path = tmp_path / "blocks.ome.zarr"
    group = write_multiscale(
        np.full((256, 256), 100, np.uint8), str(path), axes="yx", chunks=128, levels=2
    )
    labels = _labels()
    write_labels(labels, group, "blocks", colors={10: [255, 0, 0, 255], 20: [0, 0, 255, 128]})
    return path, labels


def _centre(shot: np.ndarray, by: int, bx: int, zoom: float = 1.0) -> np.ndarray:
    """The picture's pixel at the centre of block (by, bx) (camera on the image's centre)."""
    h, w = shot.shape[:2]
    y = (by * BLOCK + BLOCK / 2 - 127.5) * zoom + h / 2
    x = (bx * BLOCK + BLOCK / 2 - 127.5) * zoom + w / 2
    return shot[int(y), int(x)].astype(int)


def test_hashed_colours_follow_the_documented_arithmetic() -> None:
    ids = np.concatenate([np.arange(1, 5000), [2**24 + 9, 2**31, 2**32 - 1]]).astype(np.uint64)
    got = hashed_colors(ids).astype(int)
    want = np.array([hashed_label_color(int(i)) for i in ids])
    assert np.abs(got - want).max() <= 1
    # Neighbouring ids never share a colour (their hues are 39 or 40 of 64 apart).
    assert (np.abs(got[1:] - got[:-1]).max(axis=1) > 0).all()


def test_a_screenshot_draws_the_label_layer_over_the_image(tmp_path: Path) -> None:
    path, labels = _image(tmp_path)
    v = Viewer(str(path), zoom=1.0, center=[127.5, 127.5], contrast_limits=(0, 255))
    try:
        (_, blocks) = v.layers
        blocks.opacity = 1.0
        shot = v.screenshot(size=SIZE)
        assert tuple(_centre(shot, 0, 0)[:3]) == (100, 100, 100)  # id 0: the image shows
        assert tuple(_centre(shot, 1, 1)[:3]) == (255, 0, 0)  # id 10: its image-label colour
        # id 20: blue at alpha 128/255 over grey 100
        a = 128 / 255
        assert (
            np.abs(
                _centre(shot, 2, 3)[:3]
                - np.array([100 * (1 - a), 100 * (1 - a), 100 * (1 - a) + 255 * a])
            ).max()
            <= 1
        )
        for by, bx in [(1, 0), (3, 5), (7, 7)]:  # hashed, the largest id among them
            label = int(labels[by * BLOCK, bx * BLOCK])
            assert np.abs(_centre(shot, by, bx)[:3] - hashed_label_color(label)).max() <= 1, label
        # Opacity blends with what lies under; a hidden layer draws nothing.
        blocks.opacity = 0.5
        half = v.screenshot(size=SIZE)
        want = 0.5 * np.array(hashed_label_color(int(labels[3 * BLOCK, 5 * BLOCK]))) + 50
        assert np.abs(_centre(half, 3, 5)[:3] - want).max() <= 1
        blocks.visible = False
        assert (v.screenshot(size=SIZE)[..., :3][v.screenshot(size=SIZE)[..., 3] > 0] == 100).all()
    finally:
        v.close()


def test_outlines_and_the_label_pyramid_zoomed_out(tmp_path: Path) -> None:
    path, labels = _image(tmp_path)
    v = Viewer(str(path), zoom=1.0, center=[127.5, 127.5], contrast_limits=(0, 255))
    try:
        (_, blocks) = v.layers
        blocks.opacity = 1.0
        blocks.outline = True
        shot = v.screenshot(size=SIZE)
        assert tuple(_centre(shot, 3, 5)[:3]) == (100, 100, 100)  # inside: nothing drawn
        edge_y = int(3 * BLOCK + BLOCK / 2 - 127.5 + SIZE[1] / 2)
        edge_x = int(5 * BLOCK - 127.5 + SIZE[0] / 2)  # the block's left boundary
        row = shot[edge_y, edge_x - 1 : edge_x + 1, :3].astype(int)
        assert (row != 100).any(axis=1).all()  # both sides of the boundary are drawn
        # Zoomed out: level 1 of the label pyramid, the same colours (never a blend of ids).
        blocks.outline = False
        v.zoom = 0.5
        small = v.screenshot(size=SIZE)
        for by, bx in [(1, 1), (3, 5), (6, 2)]:
            label = int(labels[by * BLOCK, bx * BLOCK])
            want = (255, 0, 0) if label == 10 else hashed_label_color(label)
            assert np.abs(_centre(small, by, bx, zoom=0.5)[:3] - want).max() <= 1, label
    finally:
        v.close()


def test_a_label_image_opened_alone_is_pictured_as_labels(tmp_path: Path) -> None:
    path, labels = _image(tmp_path)
    v = Viewer(str(path / "labels" / "blocks"), zoom=1.0, center=[127.5, 127.5])
    try:
        assert v.layers[0].kind == "labels"
        shot = v.screenshot(size=SIZE)
        assert _centre(shot, 0, 0)[3] == 0  # id 0: transparent, not a grey value
        assert tuple(_centre(shot, 1, 1)[:3]) == (255, 0, 0)
        label = int(labels[5 * BLOCK, 4 * BLOCK])
        assert np.abs(_centre(shot, 5, 4)[:3] - hashed_label_color(label)).max() <= 1
    finally:
        v.close()
