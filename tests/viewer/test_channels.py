"""Channels in Python: defaults (omero, palette, RGB, percentiles), the Channel objects, their
sync with the front end both ways, the aliases, and that none of it sends a tile.

Real images in real stores; the front end's side of the comm is played by writing the
``update`` messages Jupyter would deliver (``Viewer._handle_msg``) and by recording what the
kernel sends on the comm.
"""

from __future__ import annotations

import logging
from typing import Any

import ipywidgets as widgets
import numpy as np
import pytest
import traitlets
import zarr

from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._defaults import PALETTE
from simplezarr.viewer.widget import Viewer

from .conftest import make_image
from .test_widget import message, ready, viewport

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)

CHANNELS: list[dict[str, Any]] = [
    {"label": "DAPI", "color": "0000FF", "window": {"start": 10, "end": 200}},
    {"label": "GFP", "color": "00ff00", "window": {"start": 5, "end": 50}, "active": False},
    {"label": "bright", "color": "FFFFFF", "window": {"start": 20, "end": 900}},
]


class Comm:
    """Everything the kernel sends on a viewer's comm: state updates and custom messages."""

    def __init__(self, viewer: Viewer) -> None:
        self.sent: list[dict[str, Any]] = []
        viewer.comm.send = self.record  # type: ignore[union-attr]

    def record(self, data: Any = None, buffers: Any = None, **_: Any) -> None:
        self.sent.append(data)

    def custom(self) -> list[dict[str, Any]]:
        return [m["content"] for m in self.sent if m.get("method") == "custom"]

    def updates(self, name: str) -> list[Any]:
        return [m["state"][name] for m in self.sent if m.get("method") == "update"
                and name in m.get("state", {})]  # fmt: skip

    def clear(self) -> None:
        self.sent.clear()


def front_end_writes(viewer: Viewer, state: dict[str, Any]) -> None:
    """An ``update`` from the front end, as ipywidgets delivers it."""
    viewer._handle_msg(
        {
            "content": {"data": {"method": "update", "state": state, "buffer_paths": []}},
            "buffers": [],
        }
    )


def coarsest_plane(viewer: Viewer, channel: int) -> np.ndarray:
    """A channel's plane of the coarsest level at the viewer's position, read with zarr."""
    info = viewer.multiscale_info
    s = info.scales[-1]
    sel: list[Any] = [slice(None)] * s.ndim
    for name, index0 in viewer.position.items():
        axis = info.axes_names.index(name)
        s0 = info.scales[0]
        world = s0.offset[axis] + index0 * s0.scale[axis]
        sel[axis] = min(max(round((world - s.offset[axis]) / s.scale[axis]), 0), s.shape[axis] - 1)
    if "c" in info.axes_names:
        sel[info.axes_names.index("c")] = channel
    return np.asarray(s.array[tuple(sel)])


@pytest.fixture(scope="module")
def czyx(tmp_path_factory: pytest.TempPathFactory) -> tuple[zarr.Group, np.ndarray]:
    """A 3-channel z-stack on disk with omero labels, colours, windows, one inactive."""
    rng = np.random.default_rng(3)
    data = rng.integers(0, 1000, (len(CHANNELS), 5, 96, 128), dtype=np.uint16)
    path = tmp_path_factory.mktemp("czyx") / "img.zarr"
    _, group, _ = make_image(
        data, zarr.storage.LocalStore(str(path)), axes="czyx", chunks=(1, 2, 64, 64),
        channels=CHANNELS,
    )  # fmt: skip
    return group, data


def test_omero_gives_names_colours_windows_and_visibility(czyx: Any) -> None:
    group, _ = czyx
    viewer = Viewer(group)
    assert [c.name for c in viewer.channels] == ["DAPI", "GFP", "bright"]
    assert [c.color for c in viewer.channels] == ["#0000ff", "#00ff00", "#ffffff"]
    assert [c.contrast_limits for c in viewer.channels] == [[10, 200], [5, 50], [20, 900]]
    assert [c.visible for c in viewer.channels] == [True, False, True]
    assert [c.gamma for c in viewer.channels] == [1.0, 1.0, 1.0]
    # uint16, omero min/max the dtype's (the writer's placeholder): the range is observed in
    # the coarse sample (read without a loop), widened to include the window
    for channel in viewer.channels:
        values = coarsest_plane(viewer, channel.index).astype(np.float64)
        lo, hi = channel.contrast_limits
        assert channel.range == [min(values.min(), lo), max(values.max(), hi)]
        counts, _ = np.histogram(values, bins=64, range=tuple(channel.range))
        assert channel.histogram == counts.tolist()
    assert viewer.channels[0].range[1] < 1000 < 65535
    assert viewer.channel_mode == "composite" and viewer.channel_axis == "c"
    assert viewer.colormap == "gray" and viewer.invert is False
    assert viewer.nan_color == "transparent"
    assert viewer.contrast_limits == [10.0, 200.0]  # the alias: channel 0, position c=0
    state = viewer.get_state()
    assert state["channels"][1] == {
        "name": "GFP",
        "color": "#00ff00",
        "contrast_limits": [5.0, 50.0],
        "gamma": 1.0,
        "visible": False,
        "range": viewer.channels[1].range,
        "histogram": viewer.channels[1].histogram,
    }
    assert state["channel_mode"] == "composite" and state["protocol_version"] == 3
    viewer.close()


@pytest.mark.parametrize(
    ("n", "colors"),
    [
        (1, ["#ffffff"]),
        (2, ["#00ff00", "#ff00ff"]),
        (3, ["#ff0000", "#00ff00", "#0000ff"]),
        (4, list(PALETTE[:4])),
        (9, [*PALETTE, PALETTE[0], PALETTE[1]]),
    ],
)
def test_without_omero_the_palette_and_the_first_seven_visible(n: int, colors: list[str]) -> None:
    data = np.random.default_rng(n).integers(0, 4000, (n, 40, 50), dtype=np.uint16)
    _, group, _ = make_image(data, axes="cyx", chunks=(1, 40, 50), levels=1)
    viewer = Viewer(group)
    assert [c.color for c in viewer.channels] == colors
    assert [c.name for c in viewer.channels] == [f"channel {i}" for i in range(n)]
    assert [c.visible for c in viewer.channels] == [i < 7 for i in range(n)]
    assert viewer.channel_mode == ("composite" if n > 1 else "single")
    viewer.close()


def test_an_image_without_a_channel_axis_has_one_channel_named_by_the_image() -> None:
    data = np.random.default_rng(2).integers(0, 255, (40, 50), dtype=np.uint8)
    _, group, _ = make_image(data, axes="yx", name="tissue")
    viewer = Viewer(group)
    (channel,) = viewer.channels
    assert channel.name == "tissue" and channel.color == "#ffffff" and channel.index == 0
    assert viewer.channel_axis == "" and viewer.channel_mode == "single"
    assert channel.range == [0.0, 255.0]
    viewer.close()


def test_default_limits_range_and_histogram_from_the_coarsest_level() -> None:
    rng = np.random.default_rng(11)
    data = rng.integers(0, 4000, (2, 3, 4, 300, 400), dtype=np.uint16)
    data[:, 1] //= 5  # channel 1 darker
    _, group, _ = make_image(data, axes="tczyx", chunks=(1, 1, 2, 128, 128))
    viewer = Viewer(group)  # no loop: waits (bounded) for the sample
    for channel in viewer.channels:
        values = coarsest_plane(viewer, channel.index).astype(np.float64)
        assert channel.contrast_limits == pytest.approx(list(np.percentile(values, [0.5, 99.5])))
        assert channel.range == [values.min(), values.max()]  # uint16: observed
        counts, _ = np.histogram(values, bins=64, range=(values.min(), values.max()))
        assert channel.histogram == counts.tolist() and sum(channel.histogram) == values.size
    assert viewer.channels[1].contrast_limits[1] < viewer.channels[0].contrast_limits[1]
    viewer.close()


def test_a_uint16_range_is_observed_so_the_histogram_spreads() -> None:
    """Camera counts 100..3000 in uint16: the slider spans them, not 0..65535."""
    data = np.random.default_rng(12).integers(100, 3001, (256, 320), dtype=np.uint16)
    _, group, _ = make_image(data, axes="yx", chunks=(128, 128), levels=1)
    viewer = Viewer(group)  # no loop: waits (bounded) for the sample
    (channel,) = viewer.channels
    assert channel.range == pytest.approx([100.0, 3000.0], abs=30)
    assert sum(1 for n in channel.histogram if n) > 32
    values = coarsest_plane(viewer, 0).astype(np.float64)
    counts, _ = np.histogram(values, bins=64, range=tuple(channel.range))
    assert channel.histogram == counts.tolist()
    viewer.close()


def test_the_range_includes_the_contrast_limits_given() -> None:
    data = np.random.default_rng(13).integers(100, 3001, (2, 64, 80), dtype=np.uint16)
    _, group, _ = make_image(data, axes="cyx", chunks=(1, 32, 32), levels=1)
    viewer = Viewer(group, contrast_limits=(0, 4095))
    for channel in viewer.channels:
        values = data[channel.index].astype(np.float64)
        assert channel.contrast_limits == [0.0, 4095.0]
        assert channel.range == [0.0, 4095.0]  # observed [~100, ~3000], widened
        counts, _ = np.histogram(values, bins=64, range=(0.0, 4095.0))
        assert channel.histogram == counts.tolist()
    viewer.close()


def test_omero_window_min_max_give_the_range_per_channel() -> None:
    data = np.random.default_rng(14).integers(0, 4000, (2, 64, 80), dtype=np.uint16)
    channels = [
        {"label": "a", "window": {"start": 100, "end": 3000, "min": 0, "max": 4095}},
        {"label": "b", "window": {"start": 50, "end": 900, "min": 10, "max": 1000}},
    ]
    _, group, _ = make_image(data, axes="cyx", chunks=(1, 32, 32), levels=1, channels=channels)
    viewer = Viewer(group)
    assert [c.range for c in viewer.channels] == [[0.0, 4095.0], [10.0, 1000.0]]
    assert [c.contrast_limits for c in viewer.channels] == [[100, 3000], [50, 900]]
    assert all(c.histogram == [] for c in viewer.channels)  # all from omero: nothing read
    viewer.close()


def test_a_float_range_is_observed_and_nan_is_left_out() -> None:
    rng = np.random.default_rng(5)
    data = rng.normal(0, 1, (2, 64, 80)).astype(np.float32)
    data[1] = data[1] * 100 + 1000
    data[0, :10, :10] = np.nan
    data[1, 0, 0] = -np.inf
    _, group, _ = make_image(data, axes="cyx", chunks=(1, 32, 32), levels=1)
    viewer = Viewer(group)
    for channel in viewer.channels:
        values = data[channel.index].astype(np.float64)
        finite = values[np.isfinite(values)]
        assert channel.range == pytest.approx([finite.min(), finite.max()])
        assert channel.contrast_limits == pytest.approx(list(np.percentile(finite, [0.5, 99.5])))
        counts, _ = np.histogram(finite, bins=64, range=(finite.min(), finite.max()))
        assert channel.histogram == counts.tolist()
    viewer.close()


def test_uint8_rgb_shows_in_true_colour_and_alpha_is_hidden() -> None:
    rng = np.random.default_rng(8)
    viewer = Viewer(rng.integers(50, 100, (60, 70, 3), dtype=np.uint8))  # numpy (H, W, 3)
    assert [(c.name, c.color, c.contrast_limits, c.gamma, c.visible) for c in viewer.channels] == [
        ("red", "#ff0000", [0.0, 255.0], 1.0, True),
        ("green", "#00ff00", [0.0, 255.0], 1.0, True),
        ("blue", "#0000ff", [0.0, 255.0], 1.0, True),
    ]
    assert viewer.channel_mode == "composite" and viewer.channel_axis == "c"
    viewer.close()
    rgba = Viewer(rng.integers(0, 255, (4, 5, 4), dtype=np.uint8))  # tiny: still (y, x, c)
    assert [c.visible for c in rgba.channels] == [True, True, True, False]
    assert rgba.channels[3].name == "alpha" and rgba.levels[0]["shape"] == [4, 5]
    rgba.close()
    plain = Viewer(rng.integers(50, 100, (60, 70, 3), dtype=np.uint8), rgb=False)
    assert [c.name for c in plain.channels] == ["channel 0", "channel 1", "channel 2"]
    for channel in plain.channels:  # the data's percentiles, not [0, 255]
        assert 50 <= channel.contrast_limits[0] < channel.contrast_limits[1] <= 99
    plain.close()


def test_rgb_needs_no_omero_and_a_3_or_4_long_channel_axis() -> None:
    data = np.random.default_rng(9).integers(0, 255, (3, 30, 40), dtype=np.uint8)
    _, group, _ = make_image(data, axes="cyx", channels=CHANNELS)
    viewer = Viewer(group)  # uint8 and 3 channels, but omero says how to draw them
    assert [c.color for c in viewer.channels] == ["#0000ff", "#00ff00", "#ffffff"]
    forced = Viewer(group, rgb=True)
    assert [c.color for c in forced.channels] == ["#ff0000", "#00ff00", "#0000ff"]
    viewer.close()
    forced.close()
    with pytest.raises(ValueError, match=r"Viewer\(\): rgb=True needs a channel axis of length 3"):
        Viewer(np.zeros((2, 30, 40), np.uint8), rgb=True)


def test_channel_objects_validate_their_values(czyx: Any) -> None:
    group, _ = czyx
    viewer = Viewer(group)
    channel = viewer.channels[0]
    channel.color = "magenta"
    assert channel.color == "#ff00ff"
    channel.color = "#ABCDEF"
    assert channel.color == "#abcdef"
    with pytest.raises(traitlets.TraitError, match=r"Channel\.color: 'purple' is not"):
        channel.color = "purple"
    with pytest.raises(traitlets.TraitError, match=r"Channel\.contrast_limits: \[5\.0, 1\.0\]"):
        channel.contrast_limits = [5, 1]
    with pytest.raises(traitlets.TraitError, match=r"Channel\.gamma: 0\.0 must be"):
        channel.gamma = 0
    with pytest.raises(traitlets.TraitError):
        channel.range = [0.0, 1.0]  # read-only: the viewer sets it
    with pytest.raises(traitlets.TraitError, match=r"Viewer\.channels: the list of channels"):
        viewer.channels = viewer.channels[:1]
    assert channel.color == "#abcdef" and channel.contrast_limits == [10.0, 200.0]
    assert "DAPI" in repr(channel) and len(viewer.channels) == 3
    viewer.close()


def test_the_aliases_are_the_current_channels_values(czyx: Any) -> None:
    group, _ = czyx
    viewer = Viewer(group, position={"c": 2})
    assert viewer.contrast_limits == [20.0, 900.0]
    viewer.contrast_limits = [1.0, 2.0]
    viewer.gamma = 0.5
    assert viewer.channels[2].contrast_limits == [1.0, 2.0] and viewer.channels[2].gamma == 0.5
    assert viewer.channels[0].contrast_limits == [10.0, 200.0]  # others untouched
    viewer.channels[2].contrast_limits = [3.0, 4.0]
    assert viewer.contrast_limits == [3.0, 4.0]
    viewer.position = {"c": 1}  # the aliases follow the channel slider
    assert viewer.contrast_limits == [5.0, 50.0] and viewer.gamma == 1.0
    viewer.close()
    given = Viewer(group, contrast_limits=(7, 8), gamma=2.0)  # every channel starts with them
    assert all(c.contrast_limits == [7.0, 8.0] and c.gamma == 2.0 for c in given.channels)
    given.close()


def test_python_changes_reach_the_front_end_and_send_no_tile(czyx: Any) -> None:
    group, _ = czyx
    viewer = Viewer(group)
    comm = Comm(viewer)
    message(viewer, ready("a"))
    message(viewer, viewport("a", 0, [48.0, 64.0], 1.0, [96.0, 128.0], [0, 2]))
    viewer.flush_now()
    assert any(m["type"] == "tile" for m in comm.custom())
    comm.clear()
    viewer.channels[0].color = "#ff8000"
    viewer.channels[0].contrast_limits = [11.0, 150.0]
    viewer.channels[2].gamma = 1.5
    viewer.channels[2].visible = False
    viewer.channel_mode = "single"
    viewer.colormap = "magma_r"
    viewer.invert = True
    assert comm.custom() == []  # not one tile, drop or status
    last = comm.updates("channels")[-1]
    assert last[0]["color"] == "#ff8000" and last[0]["contrast_limits"] == [11.0, 150.0]
    assert last[2]["gamma"] == 1.5 and last[2]["visible"] is False
    assert len(comm.updates("channels")) == 4  # one per change
    assert comm.updates("channel_mode") == ["single"] and comm.updates("colormap") == ["magma_r"]
    assert comm.updates("contrast_limits") == [[11.0, 150.0]]  # the alias of channel 0
    viewer.close()


def test_front_end_writes_reach_the_channel_objects(
    czyx: Any, caplog: pytest.LogCaptureFixture
) -> None:
    group, _ = czyx
    viewer = Viewer(group)
    comm = Comm(viewer)
    seen: list[tuple[int, str, Any]] = []
    for channel in viewer.channels:
        channel.observe(lambda ch: seen.append((ch["owner"].index, ch["name"], ch["new"])))
    kernels = viewer.channels[2].histogram  # from the coarse sample
    assert len(kernels) == 64
    state = viewer.get_state()["channels"]
    state[1] = {**state[1], "visible": True, "color": "#FF0000", "contrast_limits": [6, 60]}
    state[2] = {**state[2], "gamma": 0.8, "name": "renamed", "histogram": [1, 2]}
    front_end_writes(viewer, {"channels": state})
    assert viewer.channels[1].visible and viewer.channels[1].color == "#ff0000"
    assert viewer.channels[1].contrast_limits == [6.0, 60.0] and viewer.channels[2].gamma == 0.8
    assert viewer.channels[2].name == "bright" and viewer.channels[2].histogram == kernels
    assert (1, "visible", True) in seen and (2, "gamma", 0.8) in seen
    # what the front end sent was taken as is, but for what it may not write: the kernel
    # answers once with its own list (name and histogram restored), never tile by tile
    assert comm.custom() == []
    (answer,) = comm.updates("channels")
    assert answer[2]["name"] == "bright" and answer[2]["histogram"] == kernels
    comm.clear()

    good = viewer.get_state()["channels"]  # an exact copy: nothing to answer
    good[0] = {**good[0], "gamma": 2.0}
    front_end_writes(viewer, {"channels": good})
    assert viewer.channels[0].gamma == 2.0 and comm.updates("channels") == []

    bad = viewer.get_state()["channels"]
    bad[0] = {**bad[0], "contrast_limits": [9, 1], "color": "#00ffff"}
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        front_end_writes(viewer, {"channels": bad})
        front_end_writes(viewer, {"channels": "nonsense"})
    assert viewer.channels[0].color == "#00ffff"  # the valid field is applied
    assert viewer.channels[0].contrast_limits == [10.0, 200.0]  # the invalid one is not
    warnings = [r.getMessage() for r in caplog.records]
    assert any("channel 0 contrast_limits" in w and "[9.0, 1.0]" in w for w in warnings)
    assert any("must be a list of 3 dicts" in w for w in warnings)
    assert comm.updates("channels")[-1][0]["contrast_limits"] == [10.0, 200.0]  # truth back
    viewer.close()


def test_a_channel_links_with_ipywidgets_both_ways(czyx: Any) -> None:
    group, _ = czyx
    viewer = Viewer(group)
    slider = widgets.FloatRangeSlider(value=viewer.channels[0].contrast_limits, min=0, max=1000)
    link = widgets.link((slider, "value"), (viewer.channels[0], "contrast_limits"))
    assert tuple(slider.value) == (10.0, 200.0)
    slider.value = (30.0, 300.0)
    assert viewer.channels[0].contrast_limits == [30.0, 300.0]
    assert viewer.contrast_limits == [30.0, 300.0]  # and the alias follows
    state = viewer.get_state()["channels"]
    state[0] = {**state[0], "contrast_limits": [40, 400]}
    front_end_writes(viewer, {"channels": state})
    assert tuple(slider.value) == (40.0, 400.0)
    toggle = widgets.Checkbox()
    widgets.link((toggle, "value"), (viewer.channels[1], "visible"))
    toggle.value = True
    assert viewer.channels[1].visible is True
    link.unlink()
    viewer.close()


def test_channel_mode_and_colormap_from_the_front_end(czyx: Any) -> None:
    group, _ = czyx
    viewer = Viewer(group)
    comm = Comm(viewer)
    front_end_writes(viewer, {"channel_mode": "single", "colormap": "turbo", "invert": True})
    assert viewer.channel_mode == "single" and viewer.colormap == "turbo" and viewer.invert
    assert comm.custom() == []
    viewer.close()
