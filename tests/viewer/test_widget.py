"""Viewer: traitlets, message routing, views, defaults and clean-up (no browser)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import numpy as np
import pytest
import traitlets
import zarr

from simplezarr.utils import ChunkPool, MultiscaleInfo
from simplezarr.viewer import widget as widget_module
from simplezarr.viewer.tiles import image_layout
from simplezarr.viewer.widget import Viewer

from .conftest import Recorder, decode_values, make_image

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)


def viewer_with_recorder(source: Any, **kwargs: Any) -> tuple[Viewer, Recorder]:
    viewer = Viewer(source, **kwargs)
    rec = Recorder()
    viewer.send = rec
    return viewer, rec


def message(viewer: Viewer, content: Any) -> None:
    viewer._handle_message(viewer, content, [])


def viewport(
    view: str, seq: int, center: list[float], scale: float, size: list[float]
) -> dict[str, Any]:
    return {
        "type": "viewport",
        "view": view,
        "seq": seq,
        "center": center,
        "scale": scale,
        "size": size,
        "dpr": 1.0,
    }


@pytest.fixture(scope="module")
def tczyx() -> tuple[Any, np.ndarray]:
    rng = np.random.default_rng(11)
    data = rng.integers(0, 4000, (2, 3, 4, 300, 400), dtype=np.uint16)
    _, group, _ = make_image(data, axes="tczyx", chunks=(1, 1, 2, 128, 128), name="cells")
    return group, data


def test_traits_describe_the_image(tczyx: Any) -> None:
    group, data = tczyx
    viewer = Viewer(group)
    info = viewer.multiscale_info
    assert viewer.name == "cells" and viewer.dtype == "uint16" and viewer.unit == ""
    assert [lv["shape"] for lv in viewer.levels] == [list(s.shape[-2:]) for s in info.scales]
    assert [lv["chunk"] for lv in viewer.levels] == [list(s.chunk_shape[-2:]) for s in info.scales]
    assert [lv["scale"] for lv in viewer.levels] == [list(s.scale[-2:]) for s in info.scales]
    assert [lv["offset"] for lv in viewer.levels] == [list(s.offset[-2:]) for s in info.scales]
    assert [s["name"] for s in viewer.sliders] == ["t", "c", "z"]
    assert [s["size"] for s in viewer.sliders] == list(data.shape[:3])
    assert [s["labels"] for s in viewer.sliders] == [[], [], []]  # no omero metadata
    # the first time point and channel, the middle of the z-stack
    assert viewer.position == {"t": 0, "c": 0, "z": (data.shape[2] - 1) // 2}
    assert viewer.position["z"] != 0
    assert viewer.center == [149.5, 199.5]  # the middle of level 0, pixel-centre convention
    # a provisional fit of 300 x 400 pixels to the default 500 x 800 CSS px view
    assert viewer.zoom == pytest.approx(min(500 / 300, 800 / 400)) and viewer._fit_pending
    assert viewer.level == 0
    assert viewer.colormap == "gray" and viewer.height == 500
    with pytest.raises(traitlets.TraitError):
        viewer.levels = []
    with pytest.raises(traitlets.TraitError):
        viewer.level = 1
    viewer.close()


def test_default_contrast_from_the_coarsest_level(tczyx: Any) -> None:
    group, _ = tczyx
    viewer = Viewer(group)
    info = viewer.multiscale_info
    coarsest = info.scales[-1].array
    t, c, z = image_layout(info).slider_indices(len(info.scales) - 1, viewer.position)
    values = np.asarray(coarsest[t, c, z])
    assert viewer.contrast_limits == pytest.approx(list(np.percentile(values, [0.5, 99.5])))
    viewer.close()


def test_default_contrast_from_omero_window() -> None:
    data = np.random.default_rng(1).integers(0, 255, (2, 64, 64), dtype=np.uint8)
    _, group, _ = make_image(
        data,
        axes="cyx",
        channels=[
            {"label": "a", "window": {"start": 10, "end": 200}},
            {"label": "b", "window": {"start": 3, "end": 7}},
        ],
    )
    assert Viewer(group).contrast_limits == [10.0, 200.0]
    assert Viewer(group, position={"c": 1}).contrast_limits == [3.0, 7.0]
    assert Viewer(group, contrast_limits=(1, 2)).contrast_limits == [1.0, 2.0]


def test_numpy_source_and_image_choice() -> None:
    data = np.arange(50 * 60, dtype=np.float32).reshape(50, 60)
    viewer, rec = viewer_with_recorder(data)
    assert viewer.sliders == [] and viewer.dtype == "float32"
    message(viewer, {"type": "ready", "view": "a"})
    message(viewer, viewport("a", 0, [25.0, 30.0], 1.0, [50.0, 60.0]))
    viewer.flush_now()
    ((tile, png),) = rec.tiles()
    assert tile["plane"] == "" and tile["key"] == "0/0/0/"
    np.testing.assert_allclose(decode_values(tile, png), data, atol=tile["value_scale"] / 2)
    with pytest.raises(IndexError, match=r"Viewer\(\): image 3 is out of range"):
        Viewer(data, image=3)
    with pytest.raises(ValueError, match=r"Viewer\(\): no image named 'nope'"):
        Viewer(data, image="nope")
    viewer.close()


def test_messages_route_to_views_and_tiles_match_the_data(tczyx: Any) -> None:
    group, data = tczyx
    viewer, rec = viewer_with_recorder(group)  # default position: the middle of z
    message(viewer, {"type": "ready", "view": "a"})
    message(viewer, viewport("a", 1, [150.0, 200.0], 2.0, [150.0, 200.0]))
    assert viewer.level == 1
    viewer.flush_now()
    tiles = rec.tiles()
    assert tiles and all(m["level"] == 1 and m["view"] == "a" for m, _ in tiles)
    z0 = (data.shape[2] - 1) // 2
    assert all(m["plane"] == f"t=0,c=0,z={z0}" for m, _ in tiles)
    level1 = viewer.multiscale_info.scales[1].array
    z1 = z0 // 2  # the pyramid halves z too
    for m, png in tiles:
        iy, ix = m["chunk"]
        ref = np.asarray(level1[0, 0, z1, iy * 128 : (iy + 1) * 128, ix * 128 : (ix + 1) * 128])
        np.testing.assert_array_equal(decode_values(m, png), ref)
    viewer.close()


def test_setting_position_from_python_retiles(tczyx: Any) -> None:
    group, data = tczyx
    viewer, rec = viewer_with_recorder(group)
    message(viewer, {"type": "ready", "view": "a"})
    message(viewer, viewport("a", 0, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    before = {m["key"] for m, _ in rec.tiles()}
    rec.clear()
    viewer.position = {"t": 1, "c": 2, "z": 3}
    viewer.flush_now()
    assert set(rec.dropped()) == before
    tiles = rec.tiles()
    assert tiles and all(m["plane"] == "t=1,c=2,z=3" for m, _ in tiles)
    for m, png in tiles:
        iy, ix = m["chunk"]
        ref = data[1, 2, 3, iy * 128 : (iy + 1) * 128, ix * 128 : (ix + 1) * 128]
        np.testing.assert_array_equal(decode_values(m, png), ref)
    viewer.position = {"z": 1}  # partial: the others stay
    assert viewer.position == {"t": 1, "c": 2, "z": 1}
    viewer.close()


@pytest.mark.parametrize(
    ("position", "match"),
    [
        ({"q": 0}, "'q' is not a slider"),
        ({"z": 4}, r"z=4 is out of range \(0..3\)"),
        ({"z": -1}, "out of range"),
        ({"z": 1.5}, "must be an int"),
        ({"z": True}, "must be an int"),
    ],
)
def test_position_is_validated(tczyx: Any, position: dict[str, Any], match: str) -> None:
    group, _ = tczyx
    viewer = Viewer(group)
    before = dict(viewer.position)
    with pytest.raises(traitlets.TraitError, match=match):
        viewer.position = position
    assert viewer.position == before
    viewer.close()


def test_style_traits_are_validated(tczyx: Any) -> None:
    group, _ = tczyx
    viewer = Viewer(group)
    for name in ("gray", "viridis", "magma", "inferno"):
        viewer.colormap = name
        assert viewer.colormap == name
    viewer.colormap = "#FF8000"
    assert viewer.colormap == "#ff8000"
    for bad in ("jet", "#ff80", "ff8000"):
        with pytest.raises(traitlets.TraitError, match=r"Viewer\.colormap"):
            viewer.colormap = bad
    with pytest.raises(traitlets.TraitError, match=r"Viewer\.contrast_limits"):
        viewer.contrast_limits = [5.0, 1.0]
    with pytest.raises(traitlets.TraitError, match=r"Viewer\.zoom"):
        viewer.zoom = -1.0
    with pytest.raises(traitlets.TraitError):
        viewer.center = [1.0]
    viewer.close()


def test_show_tiles_is_a_synced_bool_off_by_default(tczyx: Any) -> None:
    group, _ = tczyx
    viewer, rec = viewer_with_recorder(group)
    assert viewer.show_tiles is False
    assert viewer.trait_metadata("show_tiles", "sync") is True
    assert viewer.get_state()["show_tiles"] is False
    viewer.show_tiles = True
    assert viewer.get_state()["show_tiles"] is True
    for bad in ("yes", None, 2, 0.5, [True]):
        with pytest.raises(traitlets.TraitError, match="show_tiles"):
            viewer.show_tiles = bad
    assert viewer.show_tiles is True
    # From the front end: an update message sets it; a served view gets no new messages.
    message(viewer, {"type": "ready", "view": "a"})
    message(viewer, viewport("a", 1, viewer.center, 1.0, [200, 300]))
    viewer.flush_now()
    assert rec.tiles()
    rec.clear()
    viewer._handle_msg(
        {"content": {"data": {"method": "update", "state": {"show_tiles": False}}}, "buffers": []}
    )
    viewer.flush_now()
    assert viewer.show_tiles is False
    assert rec.tiles() == [] and rec.dropped() == []
    viewer.close()
    shown = Viewer(group, show_tiles=True)
    assert shown.show_tiles is True and shown.get_state()["show_tiles"] is True
    shown.close()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("not a dict", "JSON object"),
        ({"type": "dance", "view": "a"}, "unknown type 'dance'"),
        ({"type": "ready"}, "lacks field 'view'"),
        ({"type": "ready", "view": 3}, "'view' must be a string of 1 to 128"),
        (
            {**viewport("a", 0, [0.0, 0.0], 1.0, [10.0, 10.0]), "seq": "x"},
            "'seq' must be an integer",
        ),
        ({**viewport("a", 0, [0.0, 0.0], 1.0, [10.0, 10.0]), "center": [1.0]}, "'center' must be"),
        ({**viewport("a", 0, [0.0, 0.0], 0.0, [10.0, 10.0])}, "'scale' must be in (0, inf]"),
        (
            {**viewport("a", 0, [0.0, 0.0], 1.0, [10.0, 10.0]), "dpr": float("nan")},
            "'dpr' must be",
        ),
        ({**viewport("a", 0, [0.0, 0.0], 1.0, [-1.0, 10.0])}, "'size' must be in [0, 16384]"),
        (
            {
                k: v
                for k, v in viewport("a", 0, [0.0, 0.0], 1.0, [1.0, 1.0]).items()
                if k != "scale"
            },
            "'scale'",
        ),
    ],
)
def test_malformed_messages_are_logged_and_ignored(
    tczyx: Any, caplog: pytest.LogCaptureFixture, content: Any, named: str
) -> None:
    group, _ = tczyx
    viewer, rec = viewer_with_recorder(group)
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        message(viewer, content)
    (record,) = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert record.levelno == logging.WARNING and named in record.getMessage()
    assert rec.messages == []
    # and the viewer still works
    message(viewer, viewport("a", 1, [150.0, 200.0], 1.0, [100.0, 100.0]))
    viewer.flush_now()
    assert rec.tiles()
    viewer.close()


def test_raising_level_observer_does_not_break_the_viewer(
    tczyx: Any, caplog: pytest.LogCaptureFixture
) -> None:
    group, _ = tczyx
    viewer, rec = viewer_with_recorder(group)

    def observer(change: Any) -> None:
        raise RuntimeError("user observer bug")

    viewer.observe(observer, "level")
    with caplog.at_level(logging.ERROR, logger="simplezarr"):
        message(viewer, viewport("a", 0, [150.0, 200.0], 2.0, [100.0, 100.0]))
    assert any("observer" in r.getMessage() for r in caplog.records)
    viewer.flush_now()
    assert rec.tiles() and viewer.views["a"].level == 1
    viewer.close()


def test_two_views_close_one(tczyx: Any) -> None:
    group, _ = tczyx
    viewer, rec = viewer_with_recorder(group)
    for view in ("a", "b"):
        message(viewer, {"type": "ready", "view": view})
        message(viewer, viewport(view, 0, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    a_keys = {m["key"] for m, _ in rec.tiles() if m["view"] == "a"}
    assert a_keys and a_keys == {m["key"] for m, _ in rec.tiles() if m["view"] == "b"}
    a = viewer.views["a"]
    message(viewer, {"type": "close", "view": "a"})
    assert a.closed and set(viewer.views) == {"b"}
    held = [c for c in viewer.pool.iter_chunks() if c.refs]  # (others are cached)
    assert held and all(c.refs == {viewer.views["b"].ref} for c in held)
    rec.clear()
    message(viewer, viewport("b", 1, [50.0, 50.0], 2.0, [100.0, 100.0]))  # level 1: new tiles
    viewer.flush_now()
    assert rec.tiles() and all(m["view"] == "b" for m, _ in rec.tiles())
    message(viewer, {"type": "close", "view": "nobody"})  # unknown: ignored
    viewer.close()


def test_views_beyond_max_views_are_closed_oldest_first(tczyx: Any) -> None:
    group, _ = tczyx
    viewer, rec = viewer_with_recorder(group, max_views=2)
    for i, view in enumerate(("a", "b", "c")):
        message(viewer, viewport(view, 0, [150.0, 200.0], 1.0, [100.0, 100.0]))
        if i == 0:
            viewer.flush_now()
    assert set(viewer.views) == {"b", "c"}
    assert any(m["view"] == "a" for m, _ in rec.of_type("drop"))
    viewer.close()


def test_close_releases_everything(tczyx: Any) -> None:
    group, _ = tczyx
    viewer, _ = viewer_with_recorder(group)
    message(viewer, viewport("a", 0, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    pool = viewer.pool
    assert pool.memory_usage > 0
    viewer.close()
    assert pool.memory_usage == 0 and list(pool.iter_chunks()) == []
    assert viewer.views == {}
    viewer.close()  # twice is fine
    message(viewer, viewport("a", 1, [150.0, 200.0], 1.0, [300.0, 400.0]))  # ignored


def test_shared_pool_survives_the_viewer(tczyx: Any) -> None:
    group, _ = tczyx
    (pool,) = ChunkPool.from_zarr_node(group)
    kept = pool.get_chunk(0, (0, 0, 0, 0, 0))
    viewer, _ = viewer_with_recorder(pool)
    message(viewer, viewport("a", 0, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    viewer.close()
    assert {(c.level, c.index) for c in pool.iter_chunks()} == {(0, kept.index)}
    pool.destroy()


def test_in_a_running_loop_tiles_flow_and_only_the_loop_sends(tczyx: Any) -> None:
    group, data = tczyx

    async def main() -> tuple[Viewer, Recorder, set[int], int]:
        threads: set[int] = set()
        rec = Recorder()
        viewer = Viewer(group)

        def send(content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
            threads.add(threading.get_ident())
            rec(content, buffers)

        viewer.send = send
        message(viewer, {"type": "ready", "view": "a"})
        message(viewer, viewport("a", 0, [150.0, 200.0], 1.0, [300.0, 400.0]))
        await asyncio.wait_for(viewer.wait_idle(), 30)
        # a position set from another thread is marshalled onto the loop
        done = asyncio.Event()
        loop = asyncio.get_running_loop()

        def elsewhere() -> None:
            viewer.position = {"z": 2}
            loop.call_soon_threadsafe(done.set)

        threading.Thread(target=elsewhere).start()
        await asyncio.wait_for(done.wait(), 30)
        await asyncio.wait_for(viewer.wait_idle(), 30)
        executor = viewer._executor
        viewer.close()
        assert executor is not None and executor._shutdown
        return viewer, rec, threads, threading.get_ident()

    _, rec, threads, loop_thread = asyncio.run(main())
    assert threads == {loop_thread}
    z2 = [(m, p) for m, p in rec.tiles() if m["plane"] == "t=0,c=0,z=2"]
    assert z2
    for m, png in z2:
        iy, ix = m["chunk"]
        np.testing.assert_array_equal(
            decode_values(m, png),
            data[0, 0, 2, iy * 128 : (iy + 1) * 128, ix * 128 : (ix + 1) * 128],
        )


def test_missing_bundle_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widget_module, "_BUNDLE_FOUND", False)
    with pytest.raises(RuntimeError, match="npm run build"):
        Viewer(np.zeros((4, 4), np.uint8))


def test_zarr_array_source(tmp_path: Any) -> None:
    path = tmp_path / "img.zarr"
    arr = zarr.create_array(str(path), shape=(20, 30), chunks=(8, 8), dtype="u1")
    arr[:] = np.arange(600).reshape(20, 30) % 251
    viewer, rec = viewer_with_recorder(str(path))
    message(viewer, viewport("a", 0, [10.0, 15.0], 1.0, [20.0, 30.0]))
    viewer.flush_now()
    assert len(rec.tiles()) == 12
    for m, png in rec.tiles():
        iy, ix = m["chunk"]
        np.testing.assert_array_equal(
            decode_values(m, png), arr[iy * 8 : iy * 8 + 8, ix * 8 : ix * 8 + 8]
        )
    viewer.close()


def test_ready_again_starts_the_view_afresh(tczyx: Any) -> None:
    group, _ = tczyx
    viewer, rec = viewer_with_recorder(group, level_cache=3)
    assert viewer.pool.cache_size == 3
    message(viewer, {"type": "ready", "view": "a"})
    message(viewer, viewport("a", 0, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    first = sorted(m["key"] for m, _ in rec.tiles())
    message(viewer, viewport("a", 1, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    assert sorted(m["key"] for m, _ in rec.tiles()) == first  # nothing new: already sent
    message(viewer, {"type": "ready", "view": "a"})  # re-rendered: it has no tiles
    message(viewer, viewport("a", 0, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    assert sorted(m["key"] for m, _ in rec.tiles()) == sorted(first + first)
    viewer.close()


# -- display defaults that follow the channel (omero colours and windows) --------------

CHANNELS: list[dict[str, Any]] = [
    {"label": "DAPI", "color": "0000FF", "window": {"start": 10, "end": 200}},
    {"label": "GFP", "color": "00ff00", "window": {"start": 5, "end": 50}},
    {"label": "bright", "color": "FFFFFF", "window": {"start": 20, "end": 900}},
]


def colormap_of(channel: dict[str, Any]) -> str:
    """The colormap a channel's omero colour stands for: "#rrggbb", white is gray."""
    color = str(channel["color"]).lower()
    return "gray" if color == "ffffff" else f"#{color}"


def window_of(channel: dict[str, Any]) -> list[float]:
    return [float(channel["window"]["start"]), float(channel["window"]["end"])]


@pytest.fixture(scope="module")
def czyx(tmp_path_factory: pytest.TempPathFactory) -> tuple[zarr.Group, np.ndarray]:
    """A 3-channel z-stack on disk with omero labels, colours and windows."""
    rng = np.random.default_rng(3)
    data = rng.integers(0, 1000, (len(CHANNELS), 5, 96, 128), dtype=np.uint16)
    path = tmp_path_factory.mktemp("czyx") / "img.zarr"
    _, group, _ = make_image(
        data,
        zarr.storage.LocalStore(str(path)),
        axes="czyx",
        chunks=(1, 2, 64, 64),
        channels=CHANNELS,
    )
    return group, data


def test_default_colormap_and_contrast_follow_the_channel(czyx: Any) -> None:
    group, data = czyx
    viewer, rec = viewer_with_recorder(group)
    assert viewer.position == {"c": 0, "z": (data.shape[1] - 1) // 2}
    assert viewer.colormap == colormap_of(CHANNELS[0]) == "#0000ff"
    assert viewer.contrast_limits == window_of(CHANNELS[0])
    seen: list[tuple[str, Any]] = []
    viewer.observe(
        lambda change: seen.append((change["name"], change["new"])),
        ["colormap", "contrast_limits"],
    )
    message(viewer, {"type": "ready", "view": "a"})
    message(viewer, viewport("a", 0, [48.0, 64.0], 1.0, [96.0, 128.0]))
    viewer.flush_now()

    viewer.position = {"c": 1}
    assert viewer.colormap == colormap_of(CHANNELS[1])
    assert viewer.contrast_limits == window_of(CHANNELS[1])
    assert ("colormap", colormap_of(CHANNELS[1])) in seen  # observable (synced) changes
    viewer.flush_now()  # and the view shows channel 1
    z0 = viewer.position["z"]
    tiles = [(m, p) for m, p in rec.tiles() if m["plane"] == f"c=1,z={z0}"]
    assert tiles
    for m, png in tiles:
        iy, ix = m["chunk"]
        np.testing.assert_array_equal(
            decode_values(m, png), data[1, z0, iy * 64 : (iy + 1) * 64, ix * 64 : (ix + 1) * 64]
        )

    viewer.position = {"c": 2}  # white: gray
    assert viewer.colormap == "gray"
    assert viewer.contrast_limits == window_of(CHANNELS[2])
    viewer.position = {"z": 0}  # not the channel: nothing changes
    assert viewer.colormap == "gray" and viewer.contrast_limits == window_of(CHANNELS[2])
    viewer.position = {"c": 0}  # and back
    assert viewer.colormap == colormap_of(CHANNELS[0])
    assert viewer.contrast_limits == window_of(CHANNELS[0])
    viewer.close()


def test_a_colormap_set_by_the_user_stays_but_contrast_follows(czyx: Any) -> None:
    group, _ = czyx
    viewer = Viewer(group)
    viewer.colormap = "magma"
    viewer.position = {"c": 1}
    assert viewer.colormap == "magma"
    assert viewer.contrast_limits == window_of(CHANNELS[1])
    viewer.position = {"c": 0}
    assert viewer.colormap == "magma"
    assert viewer.contrast_limits == window_of(CHANNELS[0])
    viewer.close()


def test_contrast_set_by_the_user_stays_but_colormap_follows(czyx: Any) -> None:
    group, _ = czyx
    viewer = Viewer(group)
    viewer.contrast_limits = [1.0, 2.0]
    viewer.position = {"c": 1}
    assert viewer.contrast_limits == [1.0, 2.0]
    assert viewer.colormap == colormap_of(CHANNELS[1])
    viewer.close()


def test_display_settings_given_at_creation_do_not_follow(czyx: Any) -> None:
    group, _ = czyx
    viewer = Viewer(group, colormap="viridis", position={"c": 1})
    assert viewer.colormap == "viridis"
    assert viewer.contrast_limits == window_of(CHANNELS[1])  # the channel asked for
    viewer.position = {"c": 0}
    assert viewer.colormap == "viridis"
    assert viewer.contrast_limits == window_of(CHANNELS[0])
    viewer.close()
    viewer = Viewer(group, contrast_limits=(3, 4))
    viewer.position = {"c": 1}
    assert viewer.contrast_limits == [3.0, 4.0]
    assert viewer.colormap == colormap_of(CHANNELS[1])
    viewer.close()


def test_channel_slider_labels(czyx: Any) -> None:
    group, data = czyx
    viewer = Viewer(group)
    assert [(s["name"], s["type"], s["size"]) for s in viewer.sliders] == [
        ("c", "channel", data.shape[0]),
        ("z", "space", data.shape[1]),
    ]
    assert [s["labels"] for s in viewer.sliders] == [[ch["label"] for ch in CHANNELS], []]
    viewer.close()


def test_labels_need_one_omero_channel_per_index(czyx: Any, tmp_path: Any) -> None:
    """omero metadata listing fewer channels than the data: no labels, no colour beyond it."""
    _, data = czyx
    path = tmp_path / "img.zarr"
    make_image(data, zarr.storage.LocalStore(str(path)), axes="czyx", channels=CHANNELS)
    rw = zarr.open_group(str(path), mode="r+")
    attrs: dict[str, Any] = rw.attrs.asdict()
    ome = attrs["ome"]
    ome["omero"]["channels"] = ome["omero"]["channels"][:2]
    rw.attrs["ome"] = ome
    group = zarr.open_group(str(path), mode="r")
    viewer = Viewer(group, position={"c": 2})
    assert viewer.sliders[0]["name"] == "c" and viewer.sliders[0]["labels"] == []
    assert viewer.colormap == "gray"
    info = viewer.multiscale_info
    c, z = image_layout(info).slider_indices(len(info.scales) - 1, viewer.position)
    values = np.asarray(info.scales[-1].array[c, z])  # no window: its own percentiles
    assert viewer.contrast_limits == pytest.approx(list(np.percentile(values, [0.5, 99.5])))
    viewer.close()


def test_contrast_without_omero_follows_the_channel_percentiles(tczyx: Any) -> None:
    group, _ = tczyx
    viewer = Viewer(group)
    info = viewer.multiscale_info
    coarsest = info.scales[-1].array
    layout = image_layout(info)
    before = list(viewer.contrast_limits)
    viewer.position = {"c": 2}
    t, c, z = layout.slider_indices(len(info.scales) - 1, viewer.position)
    assert c == 2
    expected = list(np.percentile(np.asarray(coarsest[t, c, z]), [0.5, 99.5]))
    assert viewer.contrast_limits == pytest.approx(expected) and viewer.contrast_limits != before
    assert viewer.colormap == "gray"  # no omero colours
    viewer.close()


@pytest.mark.parametrize(
    ("axes", "shape"), [("cyx", (1, 40, 50)), ("yx", (40, 50)), ("zyx", (3, 40, 50))]
)
def test_a_single_channel_image_defaults_to_gray(axes: str, shape: tuple[int, ...]) -> None:
    data = np.random.default_rng(4).integers(0, 255, shape, dtype=np.uint8)
    red = {"label": "only", "color": "FF0000", "window": {"start": 2, "end": 9}}
    _, group, _ = make_image(data, axes=axes, channels=[red])
    attrs: dict[str, Any] = group.attrs.asdict()
    assert attrs["ome"]["omero"]["channels"][0]["color"] == "FF0000"  # a colour, unused
    viewer = Viewer(group)
    assert viewer.colormap == "gray"
    assert viewer.contrast_limits == window_of(red)  # its window still counts
    labels = {s["name"]: s["labels"] for s in viewer.sliders}
    assert labels == {"cyx": {"c": ["only"]}, "yx": {}, "zyx": {"z": []}}[axes]
    viewer.close()


def test_a_failed_read_in_a_notebook_is_logged_once_and_the_rest_is_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from zarr.storage import MemoryStore

    from simplezarr.utils import write_multiscale
    from tests._stores import FailingStore

    store = MemoryStore()
    data = np.arange(256 * 384, dtype="uint16").reshape(256, 384)
    write_multiscale(data, store, axes="yx", chunks=128, levels=1)
    failing = FailingStore(store, {"0/c/1/2"})

    async def main() -> tuple[Recorder, Viewer]:
        rec = Recorder()
        viewer = Viewer(zarr.open_group(failing, mode="r+"))
        assert viewer.pool.async_load_handlers  # made in a running loop, as in a cell
        viewer.send = rec
        message(viewer, {"type": "ready", "view": "a"})
        message(viewer, viewport("a", 0, [128.0, 192.0], 1.0, [256.0, 384.0]))
        await asyncio.wait_for(viewer.wait_idle(), 30)
        return rec, viewer

    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        rec, viewer = asyncio.run(main())
    about = [
        r
        for r in caplog.records
        if "chunk (1, 2) of level 0" in r.getMessage() and "contrast" not in r.getMessage()
    ]
    assert len(about) == 1, [r.getMessage() for r in caplog.records]
    assert "injected failure" in about[0].getMessage()
    sent = {m["key"].split("/", 3)[1:3] == ["1", "2"] for m, _ in rec.tiles()}
    assert sent == {False}  # every tile but the failed one
    assert len(rec.tiles()) == 5
    assert rec.of_type("status")[-1][0]["pending"] == 0
    # The default contrast could not read the (only) level either: it fell back, and said so.
    assert viewer.contrast_limits == [0.0, 65535.0]
    assert any(
        "could not read level 0 to choose contrast" in r.getMessage() for r in caplog.records
    )
    viewer.close()


@pytest.mark.timeout(60)  # a read on the loop thread would deadlock here: fail fast
def test_a_channel_switch_reads_its_contrast_off_the_loop_thread() -> None:
    from tests._stores import GatedStore

    data = np.random.default_rng(5).integers(0, 4000, (3, 64, 80), dtype=np.uint16)
    data[1] *= 7  # channel 1 has a different range
    base = zarr.storage.MemoryStore()
    make_image(data, base, axes="cyx", chunks=(1, 32, 32))  # no omero windows
    gated = GatedStore(base)
    gated.gate.set()

    async def main() -> tuple[list[float], list[float], list[float]]:
        viewer = Viewer(zarr.open_group(gated, mode="r+"))
        first = list(viewer.contrast_limits)
        changed = asyncio.Event()
        viewer.observe(lambda change: changed.set(), names="contrast_limits")
        gated.gate.clear()  # from now on every chunk read waits at the gate
        viewer.position = {"c": 1}  # on the loop thread, as a front-end message would
        during = list(viewer.contrast_limits)  # the read is still at the gate
        gated.gate.set()
        await asyncio.wait_for(changed.wait(), 30)
        after = list(viewer.contrast_limits)
        viewer.close()
        return first, during, after

    first, during, after = asyncio.run(main())
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(base, mode="r"))
    coarsest_c1 = np.asarray(info.scales[-1].array[1])
    assert during == first
    assert after == pytest.approx(list(np.percentile(coarsest_c1, [0.5, 99.5])))
    assert after != first
