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

from simplezarr.utils import ChunkPool
from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._protocol import PROTOCOL_VERSION
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


def ready(view: str) -> dict[str, Any]:
    return {"type": "ready", "view": view, "version": PROTOCOL_VERSION}


def viewport(
    view: str,
    seq: int,
    center: list[float],
    scale: float,
    size: list[float],
    channels: list[int] | None = None,
) -> dict[str, Any]:
    return {
        "type": "viewport",
        "view": view,
        "seq": seq,
        "center": center,
        "scale": scale,
        "size": size,
        "dpr": 1.0,
        "channels": [0] if channels is None else channels,
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
    assert viewer.protocol_version == PROTOCOL_VERSION == 3
    assert viewer.channel_axis == "c" and viewer.channel_mode == "composite"
    assert [c.name for c in viewer.channels] == ["channel 0", "channel 1", "channel 2"]
    with pytest.raises(traitlets.TraitError):
        viewer.levels = []
    with pytest.raises(traitlets.TraitError):
        viewer.level = 1
    viewer.close()


def test_numpy_source_and_image_choice() -> None:
    data = np.arange(50 * 60, dtype=np.float32).reshape(50, 60)
    viewer, rec = viewer_with_recorder(data)
    assert viewer.sliders == [] and viewer.dtype == "float32"
    message(viewer, ready("a"))
    message(viewer, viewport("a", 0, [25.0, 30.0], 1.0, [50.0, 60.0]))
    viewer.flush_now()
    ((tile, png),) = rec.tiles()
    assert tile["plane"] == "" and tile["key"] == "0/0/0//0" and tile["channel"] == 0
    np.testing.assert_allclose(decode_values(tile, png), data, atol=tile["value_scale"] / 2)
    with pytest.raises(IndexError, match=r"Viewer\(\): image 3 is out of range"):
        Viewer(data, image=3)
    with pytest.raises(ValueError, match=r"Viewer\(\): no image named 'nope'"):
        Viewer(data, image="nope")
    viewer.close()


def test_messages_route_to_views_and_tiles_match_the_data(tczyx: Any) -> None:
    group, data = tczyx
    viewer, rec = viewer_with_recorder(group)  # default position: the middle of z
    message(viewer, ready("a"))
    message(viewer, viewport("a", 1, [150.0, 200.0], 2.0, [150.0, 200.0]))
    assert viewer.level == 1
    viewer.flush_now()
    tiles = rec.tiles()
    assert tiles and all(m["level"] == 1 and m["view"] == "a" for m, _ in tiles)
    z0 = (data.shape[2] - 1) // 2
    assert all(m["plane"] == f"t=0,z={z0}" and m["channel"] == 0 for m, _ in tiles)
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
    message(viewer, ready("a"))
    message(viewer, viewport("a", 0, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    before = {m["key"] for m, _ in rec.tiles()}
    rec.clear()
    viewer.position = {"t": 1, "c": 2, "z": 3}  # the channel comes from the viewport
    message(viewer, viewport("a", 1, [150.0, 200.0], 1.0, [300.0, 400.0], channels=[2]))
    viewer.flush_now()
    assert set(rec.dropped()) == before
    tiles = rec.tiles()
    assert tiles and all(m["plane"] == "t=1,z=3" and m["channel"] == 2 for m, _ in tiles)
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
    names = ["gray", "viridis", "magma", "inferno", "plasma", "cividis", "turbo"]
    for name in [*names, *(f"{n}_r" for n in names), "red", "green", "blue", "cyan"]:
        viewer.colormap = name
        assert viewer.colormap == name
    viewer.colormap = "#FF8000"
    assert viewer.colormap == "#ff8000"
    for bad in ("jet", "#ff80", "ff8000", "red_r", "Gray", ""):
        with pytest.raises(traitlets.TraitError, match=r"Viewer\.colormap"):
            viewer.colormap = bad
    assert viewer.colormap == "#ff8000"
    viewer.invert = True
    viewer.nan_color = "#00FF00"
    assert viewer.nan_color == "#00ff00" and viewer.get_state()["invert"] is True
    for bad_nan in ("none", "red", "#12345"):
        with pytest.raises(traitlets.TraitError, match=r"Viewer\.nan_color"):
            viewer.nan_color = bad_nan
    viewer.channel_mode = "single"
    with pytest.raises(traitlets.TraitError, match=r"Viewer\.channel_mode: 'rgb' is not one"):
        viewer.channel_mode = "rgb"
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
    message(viewer, ready("a"))
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
        (viewport("a", 0, [0.0, 0.0], 1.0, [1.0, 1.0], [3]), "indices in [0, 2], got [3]"),
        (viewport("a", 0, [0.0, 0.0], 1.0, [1.0, 1.0], [1, 1]), "'channels' must be a list"),
        ({"type": "probe", "view": "a", "id": -1, "world": [0, 0]}, "'id' must be an integer"),
        ({"type": "ready", "view": "a", "version": "2"}, "'version' must be an integer"),
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
        message(viewer, ready(view))
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
        message(viewer, ready("a"))
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
    z2 = [(m, p) for m, p in rec.tiles() if m["plane"] == "t=0,z=2"]
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
    message(viewer, ready("a"))
    message(viewer, viewport("a", 0, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    first = sorted(m["key"] for m, _ in rec.tiles())
    message(viewer, viewport("a", 1, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    assert sorted(m["key"] for m, _ in rec.tiles()) == first  # nothing new: already sent
    message(viewer, ready("a"))  # re-rendered: it has no tiles
    message(viewer, viewport("a", 0, [150.0, 200.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    assert sorted(m["key"] for m, _ in rec.tiles()) == sorted(first + first)
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
        message(viewer, ready("a"))
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
