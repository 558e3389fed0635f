"""TileStreamer driven by direct viewport messages, against real stores and a real ChunkPool."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import zarr

from simplezarr.utils import ChunkLocation, ChunkManager, ChunkPool, MultiscaleInfo
from simplezarr.viewer._failures import FailureLog
from simplezarr.viewer.geometry import Viewport
from simplezarr.viewer.tiles import TileStreamer, image_layout
from tests._stores import CountingStore, FailingStore, GatedStore

from .conftest import Recorder, decode_values, make_image


def streamer(pool: ChunkPool, send: Any, view: str = "v1", **kwargs: Any) -> TileStreamer:
    return TileStreamer(pool, image_layout(pool.multiscale_info), view, send, **kwargs)


def open_wrapped(store: Any) -> MultiscaleInfo:
    """The image in a wrapping test store (mode "r+": "r" would copy the wrapper)."""
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(store, mode="r+"))
    return info


def expected_plane(info: MultiscaleInfo, message: dict[str, Any], z0: int) -> np.ndarray:
    """The data a tile must carry, read with zarr from its level's array."""
    s = info.scales[message["level"]]
    iy, ix = message["chunk"]
    ch, cw = s.chunk_shape[-2:]
    z = min(z0 // 2 ** message["level"], s.shape[0] - 1)  # the pyramids here halve z too
    return np.asarray(s.array[z, iy * ch : (iy + 1) * ch, ix * cw : (ix + 1) * cw])


def expected_bounds(info: MultiscaleInfo, message: dict[str, Any]) -> list[float]:
    s = info.scales[message["level"]]
    iy, ix = message["chunk"]
    ch, cw = s.chunk_shape[-2:]
    (sy, sx), (oy, ox) = s.scale[-2:], s.offset[-2:]
    h = min(ch, s.shape[-2] - iy * ch)
    w = min(cw, s.shape[-1] - ix * cw)
    return [
        oy + (iy * ch - 0.5) * sy,
        ox + (ix * cw - 0.5) * sx,
        oy + (iy * ch + h - 0.5) * sy,
        ox + (ix * cw + w - 0.5) * sx,
    ]


def check_tiles(info: MultiscaleInfo, rec: Recorder, z0: int) -> None:
    for message, png in rec.tiles():
        np.testing.assert_array_equal(
            decode_values(message, png), expected_plane(info, message, z0)
        )
        assert message["bounds"] == pytest.approx(expected_bounds(info, message))
        assert message["plane"] == f"z={z0}" and message["channel"] == 0
        assert (
            message["key"]
            == f"{message['level']}/{message['chunk'][0]}/{message['chunk'][1]}/z={z0}/0"
        )


def default_z(info: MultiscaleInfo) -> int:
    """The level-0 z a streamer starts at when given no position."""
    return image_layout(info).default_position()["z"]


def test_default_position_is_the_middle_of_z(zyx: Any, recorder: Recorder) -> None:
    info, data, _ = zyx
    assert default_z(info) == (data.shape[0] - 1) // 2 != 0  # a z-stack starts in its middle
    pool = ChunkPool(info)
    s = streamer(pool, recorder)  # no position given
    s.update_viewport(Viewport(center=(350.0, 450.0), scale=1.0, size=(700.0, 900.0)), seq=1)
    s.flush_now()
    z0 = (data.shape[0] - 1) // 2
    assert recorder.tiles() and all(m["plane"] == f"z={z0}" for m, _ in recorder.tiles())
    for message, png in recorder.tiles():  # the data of that plane, not of z=0
        iy, ix = message["chunk"]
        np.testing.assert_array_equal(
            decode_values(message, png),
            data[z0, iy * 256 : (iy + 1) * 256, ix * 256 : (ix + 1) * 256],
        )
    pool.destroy()


def test_first_viewport_sends_every_wanted_tile_exactly(zyx: Any, recorder: Recorder) -> None:
    info, _, _ = zyx
    pool = ChunkPool(info)
    s = streamer(pool, recorder)
    s.update_viewport(Viewport(center=(350.0, 450.0), scale=1.0, size=(700.0, 900.0)), seq=1)
    grid = info.scales[0].chunk_grid_shape
    assert s.level == 0
    assert len(s.wanted_keys) == grid[1] * grid[2]  # the whole level 0, one z chunk
    assert recorder.of_type("status")[-1][0]["pending"] == len(s.wanted_keys)
    s.flush_now()
    tiles = recorder.tiles()
    assert sorted(m["key"] for m, _ in tiles) == sorted(s.wanted_keys)
    assert all(m["seq"] == 1 and m["view"] == "v1" for m, _ in tiles)
    check_tiles(info, recorder, z0=default_z(info))
    status = recorder.of_type("status")[-1][0]
    assert status == {
        "type": "status",
        "view": "v1",
        "layer": 0,
        "pending": 0,
        "failed": 0,
        "level": 0,
        "seq": 1,
    }
    # the first tile sent is the one under the view's centre
    first = tiles[0][0]["bounds"]
    assert first[0] <= 350 < first[2] and first[1] <= 450 < first[3]
    pool.destroy()


@pytest.mark.parametrize(
    ("scale", "dpr"), [(1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (3.0, 1.0), (50.0, 1.0), (0.1, 1.0)]
)
def test_level_is_the_coarsest_within_one_device_pixel(
    zyx: Any, recorder: Recorder, scale: float, dpr: float
) -> None:
    info, _, _ = zyx
    pool = ChunkPool(info)
    s = streamer(pool, recorder)
    s.update_viewport(Viewport((350.0, 450.0), scale, (300.0, 400.0), dpr), seq=0)
    ok = [i for i, lv in enumerate(info.scales) if max(lv.scale[-2:]) <= scale / dpr]
    assert s.level == (max(ok) if ok else 0)
    s.flush_now()
    assert {m["level"] for m, _ in recorder.tiles()} == {s.level}
    check_tiles(info, recorder, z0=default_z(info))
    pool.destroy()


def test_pan_drops_chunks_and_announces_their_tiles(zyx: Any, recorder: Recorder) -> None:
    info, _, _ = zyx
    pool = ChunkPool(info)
    s = streamer(pool, recorder, margin=0.0)
    s.update_viewport(Viewport((128.0, 128.0), 1.0, (200.0, 200.0)), seq=0)
    s.flush_now()
    first = {m["key"] for m, _ in recorder.tiles()}
    first_held = s.held
    s.update_viewport(Viewport((600.0, 800.0), 1.0, (200.0, 200.0)), seq=1)
    now = set(s.wanted_keys)
    assert set(recorder.dropped()) == first - now and first - now
    s.flush_now()
    # the pool holds exactly the wanted chunks; the others are gone (cache_size 0)
    pooled = {(c.level, c.index) for c in pool.iter_chunks()}
    assert pooled == s.held
    assert not (first_held - s.held) & pooled
    assert s.stats.drops == len(first_held - s.held)
    assert {m["key"] for m, _ in recorder.tiles()} == first | now
    pool.destroy()


def test_z_within_one_chunk_reads_nothing_new(zyx: Any, recorder: Recorder) -> None:
    _, _, store = zyx
    counting = CountingStore(store)
    info = open_wrapped(counting)
    pool = ChunkPool(info)
    s = streamer(pool, recorder, position={"z": 0})
    s.update_viewport(Viewport((350.0, 450.0), 1.0, (400.0, 500.0)), seq=0)
    s.flush_now()
    reads = sum(counting.gets.values())
    first = {m["key"] for m, _ in recorder.tiles()}
    recorder.clear()

    s.set_position({"z": 1})  # same z chunk (depth 2): a new plane from pooled data
    s.flush_now()
    assert sum(counting.gets.values()) == reads
    assert set(recorder.dropped()) == first
    assert len(recorder.tiles()) == len(first)
    check_tiles(info, recorder, z0=1)  # (reads through the store too)
    recorder.clear()

    reads = sum(counting.gets.values())
    s.set_position({"z": 2})  # the next z chunk: new reads
    s.flush_now()
    assert sum(counting.gets.values()) == reads + len(first)
    check_tiles(info, recorder, z0=2)
    pool.destroy()


def test_float_image_tiles_carry_values(recorder: Recorder) -> None:
    rng = np.random.default_rng(2)
    data = (rng.standard_normal((1, 300, 200)) * 50).astype(np.float32)
    info, _, _ = make_image(data, axes="zyx", chunks=(1, 128, 128), levels=1)
    pool = ChunkPool(info)
    s = streamer(pool, recorder)
    s.update_viewport(Viewport((150.0, 100.0), 1.0, (300.0, 200.0)), seq=0)
    s.flush_now()
    assert len(recorder.tiles()) == 6
    for message, png in recorder.tiles():
        ref = expected_plane(info, message, 0).astype(np.float64)
        assert message["value_offset"] == ref.min()
        np.testing.assert_allclose(
            decode_values(message, png), ref, atol=message["value_scale"] / 2 + 1e-9
        )
    pool.destroy()


def test_failing_chunk_is_logged_once_and_the_rest_is_served(
    zyx: Any, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    _, _, store = zyx
    failing = FailingStore(store, {"0/c/0/1/1"})
    info = open_wrapped(failing)
    pool = ChunkPool(info)
    s = streamer(pool, recorder, failures=FailureLog(retry_after=0), position={"z": 0})
    vp = Viewport((350.0, 450.0), 1.0, (700.0, 900.0))
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        s.update_viewport(vp, seq=0)
        s.flush_now()
        s.update_viewport(Viewport((5.0, 5.0), 1.0, (10.0, 10.0)), seq=1)  # drop all but (0, 0)
        s.update_viewport(vp, seq=2)  # and want it again: read again, fails again
        s.flush_now()
    warnings = [r for r in caplog.records if "chunk (0, 1, 1) of level 0" in r.getMessage()]
    assert len(warnings) == 1
    assert s.stats.failures == 2
    tiles = {m["key"] for m, _ in recorder.tiles() if m["seq"] == 2}
    assert tiles == set(s.wanted_keys) - {"0/1/1/z=0/0", "0/0/0/z=0/0"}  # (0, 0) was kept
    assert s.sent_keys == set(s.wanted_keys) - {"0/1/1/z=0/0"}
    status = recorder.of_type("status")[-1][0]
    assert status["pending"] == 0 and status["failed"] == 1
    pool.destroy()


def test_a_raising_handler_of_another_user_does_not_break_the_streamer(
    zyx: Any, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    info, _, _ = zyx
    pool = ChunkPool(info)

    class Broken(ChunkManager):
        def on_load(self, chunk_location: ChunkLocation) -> None:
            raise ZeroDivisionError("user bug")

    broken = Broken(pool)
    s = streamer(pool, recorder)
    s.update_viewport(Viewport((350.0, 450.0), 1.0, (700.0, 900.0)), seq=0)
    for level, index in s.held:
        broken.get_chunk(level, index)
    with caplog.at_level(logging.ERROR, logger="simplezarr"):
        s.flush_now()
    assert any("user bug" in r.getMessage() or r.exc_info for r in caplog.records)
    assert sorted(m["key"] for m, _ in recorder.tiles()) == sorted(s.wanted_keys)
    pool.destroy()


def test_two_views_share_the_pool_and_closing_one_keeps_the_other(zyx: Any) -> None:
    info, _, _ = zyx
    pool = ChunkPool(info)
    rec_a, rec_b = Recorder(), Recorder()
    a = streamer(pool, rec_a, view="a")
    b = streamer(pool, rec_b, view="b")
    vp = Viewport((350.0, 450.0), 1.0, (300.0, 300.0))
    a.update_viewport(vp, seq=0)
    b.update_viewport(vp, seq=0)
    a.flush_now()
    b.flush_now()
    assert {m["key"] for m, _ in rec_a.tiles()} == {m["key"] for m, _ in rec_b.tiles()}
    assert all(m["view"] == "b" for m, _ in rec_b.tiles())
    for chunk in pool.iter_chunks():
        assert chunk.refs == {a.ref, b.ref}
    a.close()
    assert a.closed and not a.held
    assert all(chunk.refs == {b.ref} for chunk in pool.iter_chunks())
    a.update_viewport(vp, seq=1)  # ignored once closed
    assert not a.held
    rec_b.clear()
    b.update_viewport(Viewport((100.0, 100.0), 2.0, (300.0, 300.0)), seq=1)
    b.flush_now()
    assert rec_b.tiles() and b.pending == 0
    check_tiles(info, rec_b, z0=default_z(info))
    pool.destroy()


def test_out_of_order_viewport_is_ignored(zyx: Any, recorder: Recorder) -> None:
    info, _, _ = zyx
    pool = ChunkPool(info)
    s = streamer(pool, recorder)
    s.update_viewport(Viewport((100.0, 100.0), 1.0, (100.0, 100.0)), seq=5)
    keys = s.wanted_keys
    s.update_viewport(Viewport((600.0, 800.0), 1.0, (100.0, 100.0)), seq=4)
    assert s.wanted_keys == keys and s.seq == 5
    pool.destroy()


def test_async_mode_sends_only_from_the_loop_thread(zyx: Any) -> None:
    info, _, _ = zyx

    async def main() -> tuple[Recorder, set[int], int, TileStreamer]:
        loop = asyncio.get_running_loop()
        pool = ChunkPool(info)
        pool.enable_async_load_handlers("asyncio")
        threads: set[int] = set()
        rec = Recorder()

        def send(message: dict[str, Any], buffers: list[bytes]) -> None:
            threads.add(threading.get_ident())
            rec(message, buffers)

        with ThreadPoolExecutor(2) as executor:
            s = streamer(
                pool, send, call_soon_threadsafe=loop.call_soon_threadsafe, executor=executor
            )
            s.update_viewport(Viewport((350.0, 450.0), 1.0, (700.0, 900.0)), seq=0)
            await asyncio.wait_for(s.wait_idle(), 30)
            s.set_position({"z": 3})
            await asyncio.wait_for(s.wait_idle(), 30)
        pool.destroy()
        return rec, threads, threading.get_ident(), s

    rec, threads, loop_thread, s = asyncio.run(main())
    assert threads == {loop_thread}
    z3 = [(m, b) for m, b in rec.messages if m["type"] == "tile" and m["plane"] == "z=3"]
    assert sorted(m["key"] for m, _ in z3) == sorted(s.wanted_keys)
    check = Recorder()
    check.messages = [(m, b) for m, b in z3]
    check_tiles(info, check, z0=3)
    assert rec.of_type("status")[-1][0]["pending"] == 0


def test_burst_of_viewports_is_bounded(recorder: Recorder) -> None:
    """50 viewports in a burst, then a final one: stale reads are cancelled, no stale encodes."""
    data = np.random.default_rng(5).integers(0, 65535, (1, 4096, 4096), dtype=np.uint16)
    _, _, store = make_image(data, axes="zyx", chunks=(1, 256, 256), levels=1)
    gated = GatedStore(store)
    info = open_wrapped(gated)
    centres = [(300.0 + 70.0 * i, 300.0 + 70.0 * i) for i in range(50)]
    final = Viewport((3700.0, 500.0), 1.0, (512.0, 512.0))

    async def main() -> TileStreamer:
        loop = asyncio.get_running_loop()
        pool = ChunkPool(info)
        pool.enable_async_load_handlers("asyncio")
        with ThreadPoolExecutor(2) as executor:
            s = streamer(
                pool, recorder, call_soon_threadsafe=loop.call_soon_threadsafe, executor=executor
            )
            for seq, centre in enumerate(centres):
                s.update_viewport(Viewport(centre, 1.0, (512.0, 512.0)), seq=seq)
                await asyncio.sleep(0)  # let the loop run between messages, as a kernel would
            s.update_viewport(final, seq=len(centres))
            gated.gate.set()
            await asyncio.wait_for(s.wait_idle(), 60)
        pool.destroy()
        return s

    s = asyncio.run(main())
    wanted = set(s.wanted_keys)
    asked = s.stats.gets
    reads = sum(n for k, n in gated.gets.items() if "/c/" in k)
    # without cancellation every chunk asked for would be read; with it, only
    # those already running when the gate was shut: at most one per read thread
    # (32 for stores that are not local, docs/architecture.md "Threads")
    assert asked > 5 * len(wanted)
    assert reads <= len(wanted) + 32 < asked
    assert s.stats.encodes == len(wanted)
    tiles = recorder.tiles()
    assert {m["key"] for m, _ in tiles} == wanted
    assert all(m["seq"] == len(centres) for m, _ in tiles)
    assert not recorder.dropped()  # nothing was sent before the final view


def test_chunk_dropped_and_got_again_while_its_encode_waits(zyx: Any, recorder: Recorder) -> None:
    """An encode queued for a chunk dropped (data released) and got again still ends in a tile."""
    info, _, _ = zyx
    here = Viewport((350.0, 450.0), 1.0, (300.0, 300.0))
    away = Viewport((5.0, 5.0), 1.0, (10.0, 10.0))

    async def main() -> TileStreamer:
        loop = asyncio.get_running_loop()
        pool = ChunkPool(info)  # no cache: a dropped chunk is destroyed
        pool.enable_async_load_handlers("asyncio")
        gate = threading.Event()
        with ThreadPoolExecutor(1) as executor:
            s = streamer(
                pool,
                recorder,
                call_soon_threadsafe=loop.call_soon_threadsafe,
                executor=executor,
                position={"z": 0},  # so that z=1 below is a new plane
            )
            s.update_viewport(here, seq=0)
            await asyncio.wait_for(s.wait_idle(), 30)
            executor.submit(gate.wait)  # hold the encode thread
            s.set_position({"z": 1})  # encodes of z=1 queue behind the gate
            s.update_viewport(away, seq=1)  # chunks dropped and destroyed
            s.update_viewport(here, seq=2)  # and got again: new reads
            for chunk in list(pool.iter_chunks()):
                await asyncio.wrap_future(chunk.future)  # (their load handlers ran too)
            gate.set()
            await asyncio.wait_for(s.wait_idle(), 30)
        pool.destroy()
        return s

    s = asyncio.run(main())
    z1 = {m["key"] for m, _ in recorder.tiles() if m["plane"] == "z=1"}
    assert z1 == set(s.wanted_keys)
    assert s.stats.failures == 0
