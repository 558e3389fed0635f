"""``Viewer.stats`` and the chunk grid (``_chunk_states``): real counts, published throttled.

Real pyramids in in-memory stores behind wrapper stores that count or fail
reads (tests/_stores.py); tiles recorded as sent. In async tests the viewer
lives on a real asyncio loop, and the tests wait on the publisher's own ticks
(events, with timeouts), never on time.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest
import zarr
from zarr.storage import MemoryStore

from simplezarr.utils.chunkpool import CHUNK_STATES
from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._iostats import chunk_grid
from simplezarr.viewer.widget import Viewer

from ._pyramids import pyramid_store
from .test_widget import message, ready, viewer_with_recorder, viewport

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)

WAIT = 30.0
CODE = {s: i for i, s in enumerate(CHUNK_STATES)}


def _chunk_key_sizes(store: Any, level: int) -> dict[str, int]:
    """Stored size of every chunk of ``level`` (keys ``"{level}/c/..."``)."""
    inner: MemoryStore = store._store
    return {
        k: len(v.to_bytes()) for k, v in inner._store_dict.items() if k.startswith(f"{level}/c/")
    }


def test_stats_count_what_the_pool_and_the_views_did() -> None:
    store = pyramid_store()
    viewer, rec = viewer_with_recorder(zarr.open_group(store, mode="r"))
    before = viewer.pool.stats()
    assert viewer.stats["reads"] == before.reads  # the default contrast's reads, published
    gets_before = sum(n for k, n in store.gets.items() if k.startswith("0/c/"))
    assert gets_before == 0

    message(viewer, ready("a"))
    message(viewer, viewport("a", 0, [256.0, 384.0], 1.0, [300.0, 400.0]))
    assert viewer.stats["views"] == 0  # sync mode: nothing is published by itself
    viewer.flush_now()
    s, pool = viewer.stats, viewer.pool.stats()
    read_keys = {k for k in store.gets if k.startswith("0/c/")}
    sizes = _chunk_key_sizes(store, 0)
    streamer = viewer.views["a"]
    assert read_keys and len(read_keys) == len(streamer.held)
    assert s["reads"] - before.reads == len(read_keys) == s["cache_misses"] - before.cache_misses
    assert s["bytes_read"] - before.bytes_read == sum(sizes[k] for k in read_keys)
    assert (s["reads"], s["bytes_read"], s["memory"]) == (pool.reads, pool.bytes_read, pool.memory)
    tiles = rec.tiles()
    assert s["tiles_sent"] == len(tiles) == s["encodes"] == len(read_keys)
    assert s["bytes_sent"] == sum(len(png) for _, png in tiles)
    assert s["encode_ms"] > 0 and s["read_ms"] > 0
    assert s["levels"][0] == {"level": 0, "held": len(streamer.held), "cached": 0}
    assert s["held"] == pool.held and s["views"] == 1
    assert s["memory_budget"] == widget_module.DEFAULT_MEMORY
    assert s["read_failures"] == 0 and s["reads_in_flight"] == 0 and s["reads_queued"] == 0

    # A closed view's tiles stay counted; its chunks go to the cache.
    message(viewer, {"type": "close", "view": "a"})
    viewer.refresh_stats()
    after = viewer.stats
    assert after["views"] == 0 and after["tiles_sent"] == len(tiles)
    assert after["levels"][0]["held"] == 0 and after["levels"][0]["cached"] == len(read_keys)

    # Seen again: the cache serves it, no read, and the hit rate says so.
    message(viewer, ready("b"))
    message(viewer, viewport("b", 0, [256.0, 384.0], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    again = viewer.stats
    assert again["reads"] == s["reads"] and again["cache_hits"] == len(read_keys)
    assert again["hit_rate"] == round(
        again["cache_hits"] / (again["cache_hits"] + again["cache_misses"]), 4
    )
    assert again["tiles_sent"] == 2 * len(tiles)
    viewer.close()


def test_the_chunk_grid_shows_held_cached_and_failed_chunks_of_the_view() -> None:
    store = pyramid_store(fail={"0/c/1/2"})
    viewer, _ = viewer_with_recorder(zarr.open_group(store, mode="r"), max_tiles=1)
    assert viewer._chunk_states == {}  # show_chunks is off
    message(viewer, ready("a"))
    # One chunk wanted at a time (max_tiles=1): the one under the centre.
    message(viewer, viewport("a", 0, [191.5, 191.5], 1.0, [300.0, 400.0]))
    viewer.flush_now()
    message(viewer, viewport("a", 1, [191.5, 319.5], 1.0, [300.0, 400.0]))
    viewer.flush_now()  # (1, 2) fails to read; (1, 1) was dropped into the cache
    viewer.pool.get_chunk(0, (2, 2), "test").wait(timeout=WAIT)  # someone else holds one
    viewer.pool.get_chunk(0, (3, 3), "test").wait(timeout=WAIT)  # outside the view
    viewer.show_chunks = True  # published at once
    assert viewer._chunk_states == {
        "states": ["held", "cached", "loading", "failed"],
        "levels": {"0": [[1, 1, CODE["cached"]], [1, 2, CODE["failed"]], [2, 2, CODE["held"]]]},
    }
    assert viewer.stats["read_failures"] == 1 == viewer.pool.stats().read_failures
    viewer.show_chunks = False
    assert viewer._chunk_states == {}
    viewer.pool.drop_chunk(0, (2, 2), "test")
    viewer.pool.drop_chunk(0, (3, 3), "test")
    viewer.close()


def test_the_chunk_grid_is_bounded() -> None:
    store = pyramid_store()
    viewer, _ = viewer_with_recorder(zarr.open_group(store, mode="r"))
    message(viewer, ready("a"))
    message(viewer, viewport("a", 0, [256.0, 384.0], 1.0, [512.0, 768.0]))
    viewer.flush_now()
    held = len(viewer.views["a"].held)
    full = chunk_grid(viewer.pool, viewer._layout, viewer.views.values())
    cut = chunk_grid(viewer.pool, viewer._layout, viewer.views.values(), max_entries=5)
    assert len(full["levels"]["0"]) == held == 24
    assert len(cut["levels"]["0"]) == 5
    viewer.close()


def test_in_a_loop_stats_follow_the_work_and_the_timer_ends_with_the_views() -> None:
    store = pyramid_store()

    async def main() -> weakref.ref[Viewer]:
        viewer = Viewer(zarr.open_group(store, mode="r"))
        sent: list[int] = []
        viewer.send = lambda content, buffers=None: sent.append(  # type: ignore[method-assign]
            len(buffers[0]) if content.get("type") == "tile" and buffers else 0
        )
        io = viewer._io
        ticks: asyncio.Queue[None] = asyncio.Queue()
        publish = io.publish_now

        def counted() -> None:  # the real publish, and a note that it ran
            publish()
            ticks.put_nowait(None)

        io.publish_now = counted  # type: ignore[method-assign]
        changes: list[dict[str, Any]] = []
        viewer.observe(lambda c: changes.append(c["new"]), "stats")

        def comm(content: dict[str, Any]) -> None:  # as ipywidgets delivers a custom message
            viewer._handle_msg(
                {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
            )

        assert not io.running
        comm(ready("a"))
        comm(viewport("a", 0, [256.0, 384.0], 1.0, [300.0, 400.0]))
        assert io.running
        await asyncio.wait_for(viewer.wait_idle(), WAIT)

        def settled() -> bool:
            # The tiles are sent, the minimap's picture (it reads too, off the loop) and
            # the contrast sample have landed, no read runs: a tick then publishes it all.
            pool = viewer.pool.stats()
            return (
                viewer.stats.get("tiles_sent") == sum(1 for n in sent if n)
                and bool(viewer._overview)
                and not viewer._overview_pub.busy
                and pool.reads_in_flight == pool.reads_queued == 0
                and viewer.stats.get("reads") == pool.reads
            )

        while not settled():
            await asyncio.wait_for(ticks.get(), WAIT)
        assert viewer.stats["bytes_sent"] == sum(sent)
        assert viewer.stats["reads"] == viewer.pool.stats().reads
        # Nothing changed: ticks go on while the view lives, the trait is not written.
        while not ticks.empty():
            ticks.get_nowait()
        written = len(changes)
        for _ in range(2):
            await asyncio.wait_for(ticks.get(), WAIT)
        assert len(changes) == written and io.running
        # The last view closes: one more tick publishes it, then the timer stops.
        comm({"type": "close", "view": "a"})
        await asyncio.wait_for(ticks.get(), WAIT)
        assert viewer.stats["views"] == 0 and not io.running
        # A new view starts it again; closing the viewer cancels it.
        comm(ready("b"))
        comm(viewport("b", 0, [256.0, 384.0], 1.0, [300.0, 400.0]))
        assert io.running
        viewer.close()
        assert not io.running
        return weakref.ref(viewer)

    ref = asyncio.run(main())
    gc.collect()
    assert ref() is None  # no timer, nor anything else, keeps the closed viewer alive
