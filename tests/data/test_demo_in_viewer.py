"""The demo images open in the viewer and in ``simplezarr info``.

End to end over `simplezarr.data`: each demo image (small versions of the
ones written to disk, and the 1e12-pixel virtual one as is) is described by
``python -m simplezarr info`` (in-process `simplezarr.info` for the virtual
image, which has no path) and shown by a `simplezarr.Viewer` in sync mode
(no running loop): a ``ready`` and a ``viewport`` message (asking for every
visible channel, as the front end does in composite mode), then
``flush_now``. The tiles must come at the level `choose_level` picks for that
viewport and carry exactly the data of their chunk and channel, read with
zarr directly; closing the viewer must release every chunk. The display
defaults come from the ``omero`` metadata: ``cells_3d`` (3 channels) is
composited in its ``omero`` colours and windows, ``large_2d`` is single gray.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

import simplezarr
import simplezarr.data as demo
from simplezarr.utils.multiscale import MultiscaleInfo, ScaleInfo
from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._protocol import PROTOCOL_VERSION
from simplezarr.viewer.geometry import Viewport, choose_level, fit, wanted_chunks
from simplezarr.viewer.tiles import image_layout
from tests.viewer.conftest import Recorder, decode_values

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)

VIEW = "demo-view"


@dataclass(frozen=True)
class Case:
    """One demo image, how to make it, and the view to look at it with.

    ``center`` is given as a fraction of level 0's world extent (y, x);
    ``scale`` is world units per CSS pixel as a multiple of level 0's pixel.
    """

    name: str
    make: Callable[[Path], Any]  # a path on disk, or a zarr.Group (virtual)
    center: tuple[float, float]
    scale: float
    size: tuple[float, float]
    dpr: float = 1.0
    position: dict[str, int] = field(default_factory=dict)


CASES = [
    # dpr 2: the level is chosen per device pixel -> level 1 of 3
    Case(
        "large_2d",
        lambda tmp: demo.large_2d(tmp / "large.ome.zarr", size=2048, progress=False),
        center=(0.3, 0.55),
        scale=4.0,
        size=(300.0, 400.0),
        dpr=2.0,
    ),
    # non-square, edge chunks cut short; level 1 of 3 (y/x halve, z kept)
    Case(
        "cells_3d",
        lambda tmp: demo.cells_3d(tmp / "cells.ome.zarr", shape=(8, 768, 640), progress=False),
        center=(0.5, 0.5),
        scale=2.5,
        size=(400.0, 400.0),
    ),
    # zoomed in past native resolution (level 0), at the last time point
    Case(
        "timeseries",
        lambda tmp: demo.timeseries(tmp / "series.ome.zarr", shape=(5, 640, 512), progress=False),
        center=(0.6, 0.4),
        scale=0.6,
        size=(500.0, 600.0),
        position={"t": 4},
    ),
    # the 2**20 x 2**20 virtual image: level 6 of 12, only the chunks in view are computed
    Case(
        "virtual_fractal",
        lambda tmp: demo.virtual_fractal(),
        center=(0.37, 0.61),
        scale=80.0,
        size=(300.0, 400.0),
    ),
]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


def _info(source: Any) -> MultiscaleInfo:
    node = zarr.open_group(str(source), mode="r") if isinstance(source, Path) else source
    (info,) = MultiscaleInfo.from_zarr_node(node)
    return info


def _omero_channels(source: Any) -> list[dict[str, Any]]:
    """The raw ``omero`` channels of the image group (OME-Zarr 0.5: under ``ome``)."""
    group = zarr.open_group(str(source), mode="r") if isinstance(source, Path) else source
    attrs = dict(group.attrs)
    return list(attrs.get("ome", attrs)["omero"]["channels"])


def _level_array(source: Any, scale: ScaleInfo) -> zarr.Array:
    """A level's array, opened with zarr on its own (not the viewer's pool)."""
    group = zarr.open_group(str(source), mode="r") if isinstance(source, Path) else source
    arr = group[scale.path]
    assert isinstance(arr, zarr.Array)
    return arr


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_info_lists_the_levels(case: Case, demo_dir: Path) -> None:
    source = case.make(demo_dir)
    info = _info(source)
    group = zarr.open_group(str(source), mode="r") if isinstance(source, Path) else source
    assert info.nlevels == len(list(group.array_keys())) >= 2
    if isinstance(source, Path):
        done = subprocess.run(
            [sys.executable, "-m", "simplezarr", "info", str(source)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        text = done.stdout
    else:
        text = simplezarr.info(source)
    assert f", {info.nlevels} level(s))" in text
    level0 = _level_array(source, info.scales[0])
    assert " x ".join(map(str, level0.shape)) in text
    for s in info.scales:
        shape, chunks = (" x ".join(map(str, v)) for v in (s.shape, s.chunk_shape))
        cells = [str(s.level), s.path, shape, chunks, str(s.dtype)]
        row = r"^\s+" + r"\s+".join(re.escape(c) for c in cells) + r"\s"
        assert re.search(row, text, re.MULTILINE), f"no row for level {s.level} in:\n{text}"
    for channel in _omero_channels(source):
        assert channel["label"] in text


def _viewport_message(
    case: Case, info: MultiscaleInfo, channels: list[int]
) -> tuple[dict[str, Any], Viewport]:
    layout = image_layout(info)
    y0, x0, y1, x1 = layout.levels[0].bounds
    center = (y0 + case.center[0] * (y1 - y0), x0 + case.center[1] * (x1 - x0))
    scale = case.scale * layout.levels[0].scale[1]
    message = {
        "type": "viewport",
        "view": VIEW,
        "seq": 1,
        "center": list(center),
        "scale": scale,
        "size": list(case.size),
        "dpr": case.dpr,
        "channels": channels,
    }
    return message, Viewport(center, scale, case.size, case.dpr)


def _level_index(info: MultiscaleInfo, level: int, axis: int, index0: int) -> int:
    """The index on ``level`` of the pixel whose extent holds level-0 pixel ``index0``'s centre."""
    s0, s = info.scales[0], info.scales[level]
    world = s0.offset[axis] + index0 * s0.scale[axis]
    return min(max(round((world - s.offset[axis]) / s.scale[axis]), 0), s.shape[axis] - 1)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_viewer_streams_the_data(case: Case, demo_dir: Path) -> None:
    source = case.make(demo_dir)
    info = _info(source)
    viewer = simplezarr.Viewer(
        str(source) if isinstance(source, Path) else source, position=case.position
    )
    rec = Recorder()
    viewer.send = rec
    store = getattr(source, "store", None)
    # the coarse sample the observed ranges come from (omero min/max are the dtype's)
    sampled = store.chunks_rendered if isinstance(store, demo.ProceduralStore) else 0
    try:
        # display defaults come from the omero metadata, one channel each
        channels = _omero_channels(source)
        assert len(viewer.channels) == len(channels)
        for channel, meta in zip(viewer.channels, channels, strict=True):
            window = meta["window"]
            assert channel.contrast_limits == [float(window["start"]), float(window["end"])]
            lo, hi = channel.range  # 8-bit: the dtype's; else observed, including the limits
            assert lo <= channel.contrast_limits[0] and channel.contrast_limits[1] <= hi
            eight_bit = np.dtype(info.scales[0].dtype).itemsize == 1
            assert len(channel.histogram) == (0 if eight_bit else 64)  # the sample's, if read
            assert channel.color == f"#{str(meta['color']).lower()}"
            assert channel.name == meta["label"] and channel.visible
        c = viewer.position.get("c", 0)
        assert viewer.contrast_limits == viewer.channels[c].contrast_limits  # the alias
        sliders = {s["name"]: s for s in viewer.sliders}
        y_axis, x_axis = (info.axes_names.index(a) for a in ("y", "x"))
        assert set(sliders) == set(info.axes_names) - {"y", "x"}
        assert viewer.colormap == "gray"
        if "c" in sliders:  # cells_3d: composited
            assert len(channels) > 1 and viewer.position["c"] == 0
            assert viewer.channel_mode == "composite" and viewer.channel_axis == "c"
            assert sliders["c"]["labels"] == [ch["label"] for ch in channels]
            assert len(set(sliders["c"]["labels"])) == len(channels) > 1
        else:
            assert viewer.channel_mode == "single" and viewer.channel_axis == ""
        wanted = [ch.index for ch in viewer.channels if ch.visible]

        msg, vp = _viewport_message(case, info, wanted)
        viewer._handle_message(
            viewer, {"type": "ready", "view": VIEW, "version": PROTOCOL_VERSION}, []
        )
        viewer._handle_message(viewer, msg, [])
        layout = image_layout(info)
        level = choose_level(layout.levels, vp)
        assert viewer.level == viewer.views[VIEW].level == level
        viewer.flush_now()

        tiles = rec.tiles()
        assert tiles and all(m["level"] == level and m["view"] == VIEW for m, _ in tiles)
        chunks = {tuple(m["chunk"]) for m, _ in tiles}
        assert chunks == set(wanted_chunks(layout.levels[level], vp))
        assert {m["channel"] for m, _ in tiles} == set(wanted)
        assert len(tiles) == len(chunks) * len(wanted)  # each tile once per channel
        if isinstance(store, demo.ProceduralStore):  # virtual: only the chunks in view were made
            assert sampled == 1  # the coarsest level's one chunk, for the range
            assert store.chunks_rendered == sampled + len(chunks)
        statuses = rec.of_type("status")
        assert statuses and statuses[-1][0]["pending"] == 0
        assert statuses[-1][0]["level"] == level

        s = info.scales[level]
        arr = _level_array(source, s)
        sel: list[int | slice] = [slice(None)] * s.ndim
        for name, index0 in viewer.position.items():
            axis = info.axes_names.index(name)
            sel[axis] = _level_index(info, level, axis, index0)
        plane = ",".join(f"{name}={i}" for name, i in viewer.position.items() if name != "c")
        ch, cw = s.chunk_shape[y_axis], s.chunk_shape[x_axis]
        contents: list[float] = []
        for m, png in tiles:
            iy, ix = m["chunk"]
            assert m["plane"] == plane
            assert m["key"] == f"{level}/{iy}/{ix}/{plane}/{m['channel']}"
            if "c" in sliders:
                sel[info.axes_names.index("c")] = m["channel"]
            sel[y_axis] = slice(iy * ch, (iy + 1) * ch)
            sel[x_axis] = slice(ix * cw, (ix + 1) * cw)
            ref = np.asarray(arr[tuple(sel)])
            assert list(ref.shape) == m["shape"]
            (sy, sx), (oy, ox) = (
                (s.scale[y_axis], s.scale[x_axis]),
                (s.offset[y_axis], s.offset[x_axis]),
            )
            h, w = ref.shape
            edges = [
                oy + (iy * ch - 0.5) * sy,
                ox + (ix * cw - 0.5) * sx,
                oy + (iy * ch + h - 0.5) * sy,
                ox + (ix * cw + w - 0.5) * sx,
            ]
            assert m["bounds"] == pytest.approx(edges)
            contents.append(float(ref.std()))
            np.testing.assert_array_equal(decode_values(m, png), ref)
        assert max(contents) > 0  # real content, not only fill values
    finally:
        pool = viewer.pool
        viewer.close()
    assert pool.memory_usage == 0 and list(pool.iter_chunks()) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_readouts_are_true_before_the_first_render(case: Case, demo_dir: Path) -> None:
    """What a cell prints right after making a viewer: the fit to a 520 x 800 px view."""
    source = case.make(demo_dir)
    viewer = simplezarr.Viewer(
        str(source) if isinstance(source, Path) else source, height=520, position=case.position
    )
    try:
        layout = image_layout(viewer.multiscale_info)
        center, scale = fit(layout.levels[0], (520.0, 800.0))
        level = choose_level(layout.levels, Viewport(center, scale, (520.0, 800.0), 1.0))
        assert viewer.center == pytest.approx(list(center))
        assert viewer.zoom == pytest.approx(layout.levels[0].scale[1] / scale)
        assert viewer.zoom > 0
        assert viewer.level == level
        assert viewer._fit_pending  # the first view refits to its real size
    finally:
        viewer.close()
