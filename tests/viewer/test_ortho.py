"""Orthogonal views: plane=, OrthoViewer's crosshair and slices, one pool for all three."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import zarr

import simplezarr
from simplezarr.viewer import widget as widget_module
from simplezarr.viewer.widget import Viewer
from tests._stores import CountingStore

from .conftest import Recorder, decode_values, make_image
from .test_widget import message, ready, viewport

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)

# z planes 2 units apart, y/x pixels 0.5 units: anisotropic voxels.
SCALE = (2.0, 0.5, 0.5)
SHAPE = (20, 90, 120)


@pytest.fixture
def stack() -> tuple[Any, np.ndarray, CountingStore]:
    data = np.random.default_rng(5).integers(0, 60000, SHAPE, dtype=np.uint16)
    store = CountingStore(zarr.storage.MemoryStore())
    make_image(data, store, axes="zyx", scale=SCALE, chunks=(8, 64, 64), levels=1)
    store.gets.clear()
    return zarr.open_group(store, mode="r"), data, store


def _tiles(viewer: Viewer, center: list[float], scale: float, size: list[float]) -> Recorder:
    rec = Recorder()
    viewer.send = rec
    message(viewer, ready("a"))
    message(viewer, viewport("a", 0, center, scale, size))
    viewer.flush_now()
    return rec


def _assemble(viewer: Viewer, rec: Recorder, shape: tuple[int, int]) -> np.ndarray:
    """The plane the tiles of level 0 carry, pasted together."""
    out = np.full(shape, np.nan)
    cy, cx = viewer.levels[0]["chunk"]
    for msg, png in rec.tiles():
        if msg["level"] != 0:
            continue
        y0, x0 = msg["chunk"][0] * cy, msg["chunk"][1] * cx
        values = decode_values(msg, png)
        out[y0 : y0 + values.shape[0], x0 : x0 + values.shape[1]] = values
    return out


def test_plane_shows_the_named_axes_at_their_physical_aspect(stack: Any) -> None:
    group, data, _ = stack
    xz = Viewer(group, plane="xz", position={"y": 30})
    zy = Viewer(group, plane="zy", position={"x": 70})
    try:
        assert xz.plane == "xz" and [s["name"] for s in xz.sliders] == ["y"]
        assert xz.levels[0]["shape"] == [20, 120] and xz.levels[0]["scale"] == [2.0, 0.5]
        assert zy.levels[0]["shape"] == [90, 20] and zy.levels[0]["scale"] == [0.5, 2.0]
        whole = [1000.0, 1000.0]
        got = _assemble(xz, _tiles(xz, [19.0, 30.0], 0.5, whole), (20, 120))
        np.testing.assert_array_equal(got, data[:, 30, :])
        got = _assemble(zy, _tiles(zy, [22.0, 19.0], 0.5, whole), (90, 20))
        np.testing.assert_array_equal(got, data[:, :, 70].T)
    finally:
        xz.close()
        zy.close()


@pytest.mark.parametrize(
    ("plane", "match"),
    [
        ("xx", "must name two different axes"),
        ("xq", r"from \['z', 'y', 'x'\]"),
        ("xyz", "must name two different axes"),
    ],
)
def test_a_bad_plane_is_a_clear_error(stack: Any, plane: str, match: str) -> None:
    group, _, _ = stack
    with pytest.raises(ValueError, match=match):
        Viewer(group, plane=plane)


def test_ortho_views_share_one_pool_and_read_each_chunk_once(stack: Any) -> None:
    group, _, store = stack
    ortho = simplezarr.OrthoViewer(group)
    try:
        assert ortho.xy.pool is ortho.xz.pool is ortho.zy.pool
        assert (ortho.xy.plane, ortho.xz.plane, ortho.zy.plane) == ("xy", "xz", "zy")
        whole = [2000.0, 2000.0]
        _tiles(ortho.xy, [22.0, 30.0], 0.5, whole)
        _tiles(ortho.xz, [19.0, 30.0], 0.5, whole)
        _tiles(ortho.zy, [22.0, 19.0], 0.5, whole)
        gets = {k: n for k, n in store.gets.items() if "/c/" in k}
        # The three planes through the centre need chunks of every view; each read once.
        assert gets and set(gets.values()) == {1}, gets
    finally:
        ortho.close()


def test_a_click_moves_the_other_views_slices_and_crosshairs(stack: Any) -> None:
    group, _, _ = stack
    ortho = simplezarr.OrthoViewer(group)
    try:
        z0, y0, x0 = (ortho.point[a] for a in "zyx")
        assert ortho.xy.crosshair == [y0, x0]
        assert ortho.xz.crosshair == [z0, x0] and ortho.zy.crosshair == [y0, z0]
        # A click in the xy view (the front end writes its crosshair, world [y, x]).
        ortho.xy.crosshair = [10.2, 40.1]  # snapped to the pixel centres 10.0 and 40.0
        assert ortho.point == {"z": z0, "y": 10.0, "x": 40.0}
        assert ortho.xz.position == {"y": 20} and ortho.zy.position == {"x": 80}
        assert ortho.xz.crosshair == [z0, 40.0] and ortho.zy.crosshair == [10.0, z0]
        # The z slider of the xy view moves the point in depth.
        ortho.xy.position = {"z": 3}
        assert ortho.point["z"] == 6.0
        assert ortho.xz.crosshair == [6.0, 40.0] and ortho.zy.crosshair == [10.0, 6.0]
        # A drag in the xz view: z and x.
        ortho.xz.crosshair = [30.0, 1.0]
        assert ortho.xy.position == {"z": 15} and ortho.zy.position == {"x": 2}
    finally:
        ortho.close()


def test_ortho_needs_three_spatial_axes() -> None:
    with pytest.raises(ValueError, match=r"OrthoViewer\(\): image .* has 2 spatial axes"):
        simplezarr.OrthoViewer(np.zeros((50, 60), dtype=np.uint8))


def test_the_notebook_picture_shows_the_three_views_in_their_grid(stack: Any) -> None:
    import base64
    import io

    from PIL import Image

    group, _, _ = stack
    ortho = simplezarr.OrthoViewer(group, height=200)
    try:
        bundle = ortho._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert "application/vnd.jupyter.widget-view+json" in data
        picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))))
        width = int(widget_module.DEFAULT_VIEW_WIDTH // 2)
        assert picture.shape == (2 * 200 + 4, 2 * width + 4, 4)
        # Each view where the grid puts it, as that view's own screenshot draws it.
        for view, (y, x) in ((ortho.xy, (0, 0)), (ortho.zy, (0, width + 4)), (ortho.xz, (204, 0))):
            shot = view.screenshot(size=(width, 200))
            part = picture[y : y + 200, x : x + width]
            assert shot[..., 3].any() and np.array_equal(part, shot)
        assert not picture[204:, width + 4 :].any()  # the empty corner
    finally:
        ortho.close()
