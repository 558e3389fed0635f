"""Failures are visible and bounded: ``tile_error`` messages, ``failed`` counts, retries.

Real stores wrapped to fail or hang (``tests/_stores.py``), a real pool, the
streamer and the viewer driven by direct messages. Time for the retry policy
comes from a clock the test moves, never from waiting.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from simplezarr.utils import ChunkPool, MultiscaleInfo, write_multiscale
from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._failures import FailureLog
from simplezarr.viewer._texts import MAX_ERROR_TEXT, error_text
from simplezarr.viewer.geometry import Viewport
from simplezarr.viewer.tiles import TileStreamer, image_layout
from simplezarr.viewer.widget import Viewer
from tests._stores import CountingStore, FailingStore, GatedStore

from .conftest import Recorder, decode_values
from .test_widget import message, ready, viewport

FIELDS = {
    "type", "view", "layer", "key", "level", "chunk", "plane", "channel", "bounds", "error", "seq"
}  # fmt: skip


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def image() -> tuple[MemoryStore, np.ndarray]:
    """One level of 256 x 384 uint16 in chunks of 128: a 2 x 3 grid."""
    store = MemoryStore()
    data = np.arange(256 * 384, dtype="uint16").reshape(256, 384)
    write_multiscale(data, store, axes="yx", chunks=128, levels=1)
    return store, data


def open_info(store: Any) -> MultiscaleInfo:
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(store, mode="r+"))
    return info


WHOLE = Viewport((128.0, 192.0), 1.0, (256.0, 384.0))


class Failing(CountingStore):
    """Counts every read attempt (failed ones too) of a store failing the keys in ``fail``."""

    def __init__(self, store: Any, fail: set[str]) -> None:
        self.failing = FailingStore(store, fail)
        super().__init__(self.failing)

    @property
    def fail(self) -> set[str]:
        return self.failing.fail


def reads(store: Failing, key: str) -> int:
    return store.gets[key]


def test_a_failed_tile_is_announced_once_and_not_pending(
    image: Any, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    store, data = image
    failing = Failing(store, {"0/c/1/2"})
    pool = ChunkPool(open_info(failing))
    s = TileStreamer(pool, image_layout(pool.multiscale_info), "v", recorder)
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        s.update_viewport(WHOLE, seq=3)
        s.flush_now()
        s.flush_now()  # again: nothing new
    (err,) = [m for m, b in recorder.of_type("tile_error") if not b]
    assert set(err) == FIELDS
    assert err["view"] == "v" and err["key"] == "0/1/2//0" and err["seq"] == 3
    assert err["level"] == 0 and err["chunk"] == [1, 2] and err["plane"] == ""
    assert err["bounds"] == [127.5, 255.5, 255.5, 383.5]
    assert err["error"] == "OSError: injected failure reading 0/c/1/2"
    assert len(recorder.tiles()) == 5 and "0/1/2//0" not in {m["key"] for m, _ in recorder.tiles()}
    for m, png in recorder.tiles():
        iy, ix = m["chunk"]
        np.testing.assert_array_equal(
            decode_values(m, png), data[iy * 128 : iy * 128 + 128, ix * 128 : ix * 128 + 128]
        )
    status = recorder.of_type("status")[-1][0]
    assert status["pending"] == 0 and status["failed"] == 1
    assert s.pending == 0 and s.failed == 1
    assert len([r for r in caplog.records if "chunk (1, 2) of level 0" in r.getMessage()]) == 1
    # The view no longer wants it: its key is dropped, so the front end forgets the mark.
    s.update_viewport(Viewport((64.0, 64.0), 1.0, (100.0, 100.0)), seq=4)
    assert "0/1/2//0" in recorder.dropped()
    assert s.failed == 0
    pool.destroy()


def test_retry_only_on_a_later_viewport_and_at_most_once_per_retry_after(
    image: Any, recorder: Recorder
) -> None:
    store, data = image
    failing = Failing(store, {"0/c/1/2"})
    pool = ChunkPool(open_info(failing))
    clock = Clock()
    log = FailureLog(retry_after=10.0, clock=clock)
    s = TileStreamer(pool, image_layout(pool.multiscale_info), "v", recorder, failures=log)
    s.update_viewport(WHOLE, seq=0)
    s.flush_now()
    assert reads(failing, "0/c/1/2") == 1 and s.failed == 1
    failing.fail.clear()  # the store recovers

    s.flush_now()  # no new viewport message: no retry
    clock.now += 9.0
    s.update_viewport(WHOLE, seq=1)  # a later message, but too soon
    s.flush_now()
    assert reads(failing, "0/c/1/2") == 1 and s.failed == 1
    assert len(recorder.of_type("tile_error")) == 1  # not announced again

    clock.now += 1.0  # 10 s after the failure
    s.update_viewport(WHOLE, seq=2)
    s.flush_now()
    assert reads(failing, "0/c/1/2") == 2 and s.stats.retries == 1
    assert s.failed == 0 and s.pending == 0
    (tile,) = [(m, p) for m, p in recorder.tiles() if m["key"] == "0/1/2//0"]
    np.testing.assert_array_equal(decode_values(*tile), data[128:256, 256:384])
    assert recorder.of_type("status")[-1][0]["failed"] == 0
    s.update_viewport(WHOLE, seq=3)  # served: nothing more to read
    s.flush_now()
    assert reads(failing, "0/c/1/2") == 2
    pool.destroy()


def test_a_retry_that_fails_again_is_announced_again(image: Any, recorder: Recorder) -> None:
    store, _ = image
    failing = Failing(store, {"0/c/0/0"})
    pool = ChunkPool(open_info(failing))
    clock = Clock()
    log = FailureLog(retry_after=5.0, clock=clock)
    s = TileStreamer(pool, image_layout(pool.multiscale_info), "v", recorder, failures=log)
    for seq in range(4):  # a retry due on every other message
        s.update_viewport(WHOLE, seq=seq)
        s.flush_now()
        clock.now += 2.5
    assert reads(failing, "0/c/0/0") == 2  # seq 0, and seq 2 (5 s later)
    errors = [m for m, _ in recorder.of_type("tile_error")]
    assert [m["seq"] for m in errors] == [0, 2] and {m["key"] for m in errors} == {"0/0/0//0"}
    pool.destroy()


def test_a_retry_rereads_the_chunk_for_every_view(image: Any) -> None:
    """Two views hold the failed chunk: a retry by one releases it in both, one new read."""
    store, data = image
    failing = Failing(store, {"0/c/0/1"})
    pool = ChunkPool(open_info(failing))
    layout = image_layout(pool.multiscale_info)
    log = FailureLog(retry_after=0.0)
    rec_a, rec_b = Recorder(), Recorder()
    a = TileStreamer(pool, layout, "a", rec_a, failures=log)
    b = TileStreamer(pool, layout, "b", rec_b, failures=log)
    for s in (a, b):
        s.update_viewport(WHOLE, seq=0)
        s.flush_now()
    assert a.failed == b.failed == 1 and reads(failing, "0/c/0/1") == 1
    failing.fail.clear()
    a.update_viewport(WHOLE, seq=1)  # a's later message retries, for both views
    a.flush_now()
    b.flush_now()
    assert reads(failing, "0/c/0/1") == 2
    for rec in (rec_a, rec_b):
        (tile,) = [(m, p) for m, p in rec.tiles() if m["key"] == "0/0/1//0"]
        np.testing.assert_array_equal(decode_values(*tile), data[0:128, 128:256])
    assert a.failed == b.failed == 0
    pool.destroy()


def test_a_plane_change_announces_the_new_key_without_a_retry(recorder: Recorder) -> None:
    store = MemoryStore()
    data = np.arange(4 * 64 * 64, dtype="uint16").reshape(4, 64, 64)
    write_multiscale(data, store, axes="zyx", chunks=(2, 64, 64), levels=1)
    failing = Failing(store, {"0/c/0/0/0"})  # z 0 and 1
    pool = ChunkPool(open_info(failing))
    s = TileStreamer(
        pool,
        image_layout(pool.multiscale_info),
        "v",
        recorder,
        position={"z": 0},
        failures=FailureLog(retry_after=0.0),
    )
    s.update_viewport(Viewport((32.0, 32.0), 1.0, (64.0, 64.0)), seq=0)
    s.flush_now()
    s.set_position({"z": 1})  # same chunk, new tile key
    s.flush_now()
    assert [m["key"] for m, _ in recorder.of_type("tile_error")] == ["0/0/0/z=0/0", "0/0/0/z=1/0"]
    assert recorder.dropped() == ["0/0/0/z=0/0"]
    assert reads(failing, "0/c/0/0/0") == 1  # a slider move is not a retry
    pool.destroy()


def test_error_text_is_short_and_says_why() -> None:
    try:
        try:
            raise ConnectionError("HTTP 500 " + "x" * 500)
        except ConnectionError as cause:
            raise OSError("ChunkReader.read(): reading chunk (1, 2) of level 0 failed") from cause
    except OSError as exc:
        text = error_text(exc)
    assert text.startswith("ConnectionError: HTTP 500") and len(text) == MAX_ERROR_TEXT
    assert error_text(TimeoutError("reading took longer than 30 s")) == (
        "read timed out after 30 s"
    )
    assert error_text(ValueError("two\nlines")) == "ValueError: two lines"
    assert error_text(None) == "failed"


# -- the viewer, in a running loop (as in a notebook cell) ------------------------------


@pytest.fixture
def gate_opened_at_teardown() -> Iterator[list[GatedStore]]:
    """Gated stores to open (set) only when the test is over."""
    stores: list[GatedStore] = []
    yield stores
    for store in stores:
        store.gate.set()


pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)


@pytest.mark.timeout(60)
def test_in_a_loop_a_failed_tile_is_a_message_sent_from_the_loop(image: Any) -> None:
    store, _ = image
    failing = Failing(store, {"0/c/0/2"})
    threads: set[int] = set()

    async def main() -> tuple[Recorder, int]:
        rec = Recorder()
        viewer = Viewer(zarr.open_group(failing, mode="r+"), contrast_limits=(0, 1))

        def send(content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
            threads.add(threading.get_ident())
            rec(content, buffers)

        viewer.send = send
        message(viewer, ready("a"))
        message(viewer, viewport("a", 0, [128.0, 192.0], 1.0, [256.0, 384.0]))
        await asyncio.wait_for(viewer.wait_idle(), 30)
        viewer.close()
        return rec, threading.get_ident()

    rec, loop_thread = asyncio.run(main())
    assert threads == {loop_thread}
    (err,) = [m for m, _ in rec.of_type("tile_error")]
    assert err["key"] == "0/0/2//0" and "injected failure" in err["error"]
    assert len(rec.tiles()) == 5
    last = rec.of_type("status")[-1][0]
    assert last["pending"] == 0 and last["failed"] == 1


@pytest.mark.timeout(60)  # a wait on the gate would hang here: fail fast
def test_viewer_opens_at_once_when_the_coarsest_level_hangs(
    gate_opened_at_teardown: list[GatedStore],
) -> None:
    data = np.random.default_rng(2).integers(0, 4000, (256, 256), dtype=np.uint16)
    base = MemoryStore()
    write_multiscale(data, base, axes="yx", chunks=64)  # no omero window: a read is needed
    gated = GatedStore(base)
    gate_opened_at_teardown.append(gated)

    async def main() -> tuple[list[float], list[float], bool]:
        viewer = Viewer(zarr.open_group(gated, mode="r+"))  # returns: nothing waits
        limits = list(viewer.contrast_limits)
        # the contrast read did start, off the loop, and waits at the gate
        started = await asyncio.to_thread(gated.started.acquire, True, 30)
        later = list(viewer.contrast_limits)
        viewer.close()  # drops the read's chunks
        return limits, later, started

    limits, later, started = asyncio.run(main())
    assert started and not gated.gate.is_set()
    assert limits == later == [0.0, 65535.0]  # provisional: the dtype's range


@pytest.mark.skipif(
    "read_timeout" not in inspect.signature(ChunkPool).parameters,
    reason="this chunk core has no read timeout",
)
@pytest.mark.timeout(60)  # an unbounded wait on the gate would hang here
def test_without_a_loop_viewer_waits_at_most_the_read_timeout(
    gate_opened_at_teardown: list[GatedStore], caplog: pytest.LogCaptureFixture
) -> None:
    data = np.random.default_rng(4).integers(0, 4000, (256, 256), dtype=np.uint16)
    base = MemoryStore()
    write_multiscale(data, base, axes="yx", chunks=64)
    gated = GatedStore(base)
    gate_opened_at_teardown.append(gated)
    pool = ChunkPool(open_info(gated), read_timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        viewer = Viewer(pool)  # plain Python: waits, bounded by the pool's read timeout
    assert viewer.contrast_limits == [0.0, 65535.0]  # the dtype's range
    (warning,) = [r.getMessage() for r in caplog.records if "contrast limits" in r.getMessage()]
    assert f"level {len(viewer.levels) - 1}" in warning and "[0.0, 65535.0]" in warning
    assert not gated.gate.is_set()
    viewer.close()
    pool.destroy()
