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
    assert viewer.position == {"t": 0, "c": 0, "z": 0}
    assert viewer.center == [149.5, 199.5]  # the middle of level 0, pixel-centre convention
    assert viewer.zoom == 0.0 and viewer.colormap == "gray" and viewer.height == 500
    with pytest.raises(traitlets.TraitError):
        viewer.levels = []
    with pytest.raises(traitlets.TraitError):
        viewer.level = 1
    viewer.close()


def test_default_contrast_from_the_coarsest_level(tczyx: Any) -> None:
    group, _ = tczyx
    viewer = Viewer(group)
    coarsest = viewer.multiscale_info.scales[-1].array
    values = np.asarray(coarsest[0, 0, 0])
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
    group, _ = tczyx
    viewer, rec = viewer_with_recorder(group)
    message(viewer, {"type": "ready", "view": "a"})
    message(viewer, viewport("a", 1, [150.0, 200.0], 2.0, [150.0, 200.0]))
    assert viewer.level == 1
    viewer.flush_now()
    tiles = rec.tiles()
    assert tiles and all(m["level"] == 1 and m["view"] == "a" for m, _ in tiles)
    level1 = viewer.multiscale_info.scales[1].array
    for m, png in tiles:
        iy, ix = m["chunk"]
        ref = np.asarray(level1[0, 0, 0, iy * 128 : (iy + 1) * 128, ix * 128 : (ix + 1) * 128])
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
    with pytest.raises(traitlets.TraitError, match=match):
        viewer.position = position
    assert viewer.position == {"t": 0, "c": 0, "z": 0}
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


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("not a dict", "JSON object"),
        ({"type": "dance", "view": "a"}, "unknown type 'dance'"),
        ({"type": "ready"}, "lacks field 'view'"),
        ({"type": "ready", "view": 3}, "'view' must be a non-empty string"),
        (
            {**viewport("a", 0, [0.0, 0.0], 1.0, [10.0, 10.0]), "seq": "x"},
            "'seq' must be an integer",
        ),
        ({**viewport("a", 0, [0.0, 0.0], 1.0, [10.0, 10.0]), "center": [1.0]}, "'center' must be"),
        ({**viewport("a", 0, [0.0, 0.0], 0.0, [10.0, 10.0])}, "'scale' must be > 0"),
        (
            {**viewport("a", 0, [0.0, 0.0], 1.0, [10.0, 10.0]), "dpr": float("nan")},
            "'dpr' must be",
        ),
        ({**viewport("a", 0, [0.0, 0.0], 1.0, [-1.0, 10.0])}, "'size' must be >= 0"),
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
    assert all(c.refs == {viewer.views["b"].ref} for c in viewer.pool.iter_chunks())
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
