"""ChunkPool, ChunkManager and ChunkLocation against real zarr stores."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import random
import threading
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import LocalStore, MemoryStore

from simplezarr.utils._chunkread import ChunkReadError
from simplezarr.utils._readthreads import read_threads
from simplezarr.utils.chunkpool import ChunkLocation, ChunkManager, ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo
from tests._stores import CountingStore, FailingStore, GatedStore

SHAPE = (100, 130)
CHUNKS = (32, 32)


def _data() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 60000, SHAPE, dtype="uint16")


def _pool(store: Any, cache_size: int = 0, **kw: Any) -> tuple[ChunkPool, np.ndarray]:
    """A pool on a 100x130 uint16 image in 32x32 chunks, written to ``store``'s inner store
    (so wrappers that observe or disturb reads see only the pool's reads)."""
    data = _data()
    arr = zarr.create_array(
        getattr(store, "_store", store), shape=SHAPE, chunks=CHUNKS, dtype="uint16", **kw
    )
    arr[:] = data
    arr = zarr.open_array(store, mode="r")
    (info,) = MultiscaleInfo.from_zarr_node(arr)
    return ChunkPool(info, cache_size=cache_size), data


def _region(data: np.ndarray, index: tuple[int, int]) -> np.ndarray:
    (i, j), (ch, cw) = index, CHUNKS
    return data[i * ch : (i + 1) * ch, j * cw : (j + 1) * cw]


ALL = [(i, j) for i in range(4) for j in range(5)]


# -- the specified surface ---------------------------------------------------------------------


def _spec_part(fn: Any) -> str:
    """The signature without the keyword-only parameters added beyond the spec,
    each of which must have a default (so every call the spec allows still works)."""
    sig = inspect.signature(fn)
    extra = [p for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert all(p.default is not inspect.Parameter.empty for p in extra)
    return str(sig.replace(parameters=[p for p in sig.parameters.values() if p not in extra]))


def test_signatures_match_the_spec() -> None:
    sig = inspect.signature
    assert (
        _spec_part(ChunkPool)
        == "(multiscale_info: 'MultiscaleInfo', cache_size: 'int' = 0) -> 'None'"
    )
    assert [
        p for p in sig(ChunkPool).parameters if p not in ("multiscale_info", "cache_size")
    ] == [
        "read_timeout",
        "memory_budget",
    ]
    assert list(sig(ChunkPool.from_zarr_node).parameters) == ["zarr_node", "cache_size"]
    assert sig(ChunkPool.from_zarr_node).parameters["cache_size"].default == 0
    get = sig(ChunkPool.get_chunk).parameters
    assert list(get) == [
        "self",
        "level",
        "index",
        "ref",
        "load_handler",
        "drop_handler",
        "destroy_handler",
    ]
    assert get["ref"].default == "pool"
    for name in ("load_handler", "drop_handler", "destroy_handler"):
        assert get[name].kind is inspect.Parameter.KEYWORD_ONLY and get[name].default is None
    assert list(sig(ChunkPool.drop_chunk).parameters) == ["self", "level", "index", "ref"]
    assert sig(ChunkPool.drop_chunk).parameters["ref"].default == "pool"
    assert list(sig(ChunkLocation).parameters) == ["scale_info", "index"]
    assert _spec_part(ChunkLocation.wait) == "(self) -> 'None'"
    assert _spec_part(ChunkPool.wait_for_chunks_to_load) == "(self) -> 'None'"
    assert list(sig(ChunkManager).parameters) == ["pool"]
    for name in ("get_chunk", "drop_chunk"):
        assert list(sig(getattr(ChunkManager, name)).parameters) == ["self", "level", "index"]
    for prop in ("multiscale_info", "memory_usage"):
        assert isinstance(getattr(ChunkPool, prop), property)
    for prop in ("scale_info", "level", "index", "nbytes", "future", "data", "refs"):
        assert isinstance(getattr(ChunkLocation, prop), property)


def test_get_wait_data_matches_the_array_including_edge_chunks() -> None:
    pool, data = _pool(MemoryStore())
    for index in ALL:
        chunk = pool.get_chunk(0, index)
        chunk.wait()
        expected = _region(data, index)
        assert chunk.data.shape == expected.shape
        np.testing.assert_array_equal(chunk.data, expected)
        assert chunk.nbytes == expected.nbytes
        assert chunk.level == 0 and chunk.index == index
        assert chunk.scale_info is pool.multiscale_info.scales[0]
        assert isinstance(chunk.future, concurrent.futures.Future)
        assert not chunk.data.flags.writeable
    assert pool.memory_usage == data.nbytes


def test_data_before_load_raises_and_wait_delivers() -> None:
    store = GatedStore(MemoryStore())
    pool, data = _pool(store)
    try:
        chunk = pool.get_chunk(0, (1, 1))
        with pytest.raises(RuntimeError, match="not loaded yet"):
            _ = chunk.data
        assert pool.memory_usage == 0
    finally:
        store.gate.set()
    chunk.wait()
    np.testing.assert_array_equal(chunk.data, _region(data, (1, 1)))


def test_refs_are_counted_per_user() -> None:
    pool, _ = _pool(MemoryStore())
    destroyed: list[ChunkLocation] = []
    dropped: list[str] = []
    a = pool.get_chunk(0, (0, 0), "a", destroy_handler=destroyed.append)
    b = pool.get_chunk(0, (0, 0), "b", drop_handler=lambda c: dropped.append("b"))
    assert a is b and a.refs == {"a", "b"}
    a.refs.add("mutating the copy changes nothing")
    assert a.refs == {"a", "b"}
    pool.drop_chunk(0, (0, 0), "a")
    assert a.refs == {"b"} and not destroyed and dropped == []
    pool.drop_chunk(0, (0, 0), "a")  # dropping what one does not hold does nothing
    pool.drop_chunk(0, (0, 0), "b")
    assert dropped == ["b"] and destroyed == [a]
    assert list(pool.iter_chunks()) == [] and pool.memory_usage == 0
    with pytest.raises(RuntimeError, match="destroyed"):
        _ = a.data


def test_cache_keeps_the_newest_and_destroys_the_oldest() -> None:
    store = CountingStore(MemoryStore())
    pool, data = _pool(store, cache_size=2)
    destroyed: list[tuple[int, ...]] = []
    for index in [(0, 0), (0, 1), (0, 2)]:
        pool.get_chunk(0, index, destroy_handler=lambda c: destroyed.append(c.index)).wait()
    for index in [(0, 0), (0, 1), (0, 2)]:
        pool.drop_chunk(0, index)
    # Dropped in order (0,0), (0,1), (0,2): the oldest, (0,0), goes.
    assert destroyed == [(0, 0)]
    assert sorted(c.index for c in pool.iter_chunks()) == [(0, 1), (0, 2)]
    assert pool.memory_usage == 2 * 32 * 32 * 2
    reads_before = sum(store.gets.values())
    again = pool.get_chunk(0, (0, 1))
    assert again.loaded and sum(store.gets.values()) == reads_before  # reused, not re-read
    np.testing.assert_array_equal(again.data, _region(data, (0, 1)))
    # Taking it out of the cache and dropping it again makes it the newest.
    pool.drop_chunk(0, (0, 1))
    pool.get_chunk(0, (1, 0)).wait()
    pool.drop_chunk(0, (1, 0))
    assert destroyed == [(0, 0), (0, 2)]


def test_memory_usage_is_the_exact_sum_of_loaded_chunks() -> None:
    pool, _ = _pool(MemoryStore(), cache_size=3)
    rng = random.Random(0)
    held: set[tuple[int, int]] = set()
    for _ in range(200):
        index = rng.choice(ALL)
        if index in held and rng.random() < 0.5:
            pool.drop_chunk(0, index)
            held.discard(index)
        else:
            pool.get_chunk(0, index)
            held.add(index)
        pool.wait_for_chunks_to_load()
        expected = sum(c.data.nbytes for c in pool.iter_chunks())
        assert pool.memory_usage == expected
    pool.destroy()
    assert pool.memory_usage == 0 and list(pool.iter_chunks()) == []


def test_load_handlers_fire_on_wait_in_sync_mode() -> None:
    pool, _ = _pool(MemoryStore())
    calls: list[tuple[str, tuple[int, ...], str]] = []

    def handler(name: str) -> Any:
        return lambda c: calls.append((name, c.index, threading.current_thread().name))

    pool.get_chunk(0, (0, 0), "a", load_handler=handler("a"))
    pool.get_chunk(0, (0, 1), "a", load_handler=handler("a"))
    pool.get_chunk(0, (0, 1), "b", load_handler=handler("b"))
    assert calls == []  # not before a wait, even if the data is there already
    pool.wait_for_chunks_to_load()
    me = threading.current_thread().name
    assert sorted(calls) == [("a", (0, 0), me), ("a", (0, 1), me), ("b", (0, 1), me)]
    pool.wait_for_chunks_to_load()
    assert len(calls) == 3  # once per get
    pool.get_chunk(0, (0, 0), "c", load_handler=handler("c")).wait()
    assert calls[-1] == ("c", (0, 0), me)


def test_async_load_handlers_run_on_the_asyncio_loop() -> None:
    async def main() -> tuple[list[Any], str]:
        pool, data = _pool(MemoryStore(), cache_size=1)
        pool.enable_async_load_handlers("asyncio")
        loop_thread = threading.current_thread().name
        done = asyncio.Event()
        seen: list[Any] = []

        def on_load(c: ChunkLocation) -> None:
            seen.append((c.index, threading.current_thread().name, c.data.sum()))
            if len(seen) == len(ALL):
                done.set()

        for index in ALL:
            pool.get_chunk(0, index, load_handler=on_load)
        await asyncio.wait_for(done.wait(), 30)
        for index, _thread, total in seen:
            assert total == _region(data, index).sum()
        return seen, loop_thread

    seen, loop_thread = asyncio.run(main())
    assert {thread for _, thread, _ in seen} == {loop_thread}
    assert sorted(i for i, _, _ in seen) == ALL


def test_async_handler_for_an_already_loaded_chunk_is_scheduled_not_called_inline() -> None:
    pool, _ = _pool(MemoryStore())
    pool.get_chunk(0, (0, 0), "a").wait()
    scheduled: list[Any] = []
    pool.enable_async_load_handlers(lambda fn, *args: scheduled.append((fn, args)))
    calls: list[str] = []
    pool.get_chunk(0, (0, 0), "b", load_handler=lambda c: calls.append("b"))
    assert calls == [] and len(scheduled) == 1
    fn, args = scheduled[0]
    fn(*args)
    assert calls == ["b"]
    pool.enable_async_load_handlers("none")
    pool.get_chunk(0, (0, 1), "c", load_handler=lambda c: calls.append("c")).wait()
    assert calls == ["b", "c"]


def test_enable_async_load_handlers_rejects_bad_values() -> None:
    pool, _ = _pool(MemoryStore())
    with pytest.raises(RuntimeError, match=r"enable_async_load_handlers\('asyncio'\): no asyncio"):
        pool.enable_async_load_handlers("asyncio")
    with pytest.raises(ValueError, match="'sometimes'"):
        pool.enable_async_load_handlers("sometimes")  # type: ignore[arg-type]


def test_a_chunk_dropped_before_its_read_started_is_never_read() -> None:
    store = GatedStore(MemoryStore())
    workers = read_threads("remote").per_lane  # reads one pool may run at once
    big = zarr.create_array(
        store, name="big", shape=(8, 8 * (workers + 8)), chunks=(8, 8), dtype="u1"
    )
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_array(store, path="big", mode="r"))
    pool = ChunkPool(info)
    try:
        first = [pool.get_chunk(0, (0, j)) for j in range(workers)]
        for _ in range(workers):  # every read this pool may run is now inside a read
            assert store.started.acquire(timeout=30)
        queued = [pool.get_chunk(0, (0, j)) for j in range(workers, workers + 8)]
        for c in queued:
            pool.drop_chunk(0, c.index)
            assert c.future.cancelled()
    finally:
        store.gate.set()
    for c in first:
        c.wait()
    keys = {k for k in store.gets if k.startswith("big/c/")}
    assert keys == {f"big/c/0/{j}" for j in range(workers)}
    with pytest.raises(RuntimeError, match="destroyed before it was loaded"):
        queued[0].wait()
    del big


def test_a_failed_read_names_level_index_and_store_and_the_pool_stays_usable() -> None:
    store = FailingStore(MemoryStore(), fail=set())
    pool, data = _pool(store)
    store.fail.add("c/1/2")
    bad = pool.get_chunk(0, (1, 2))
    good = pool.get_chunk(0, (1, 3))
    with pytest.raises(ChunkReadError, match=r"chunk \(1, 2\) of level 0 from .*injected failure"):
        bad.wait()
    with pytest.raises(ChunkReadError):
        pool.wait_for_chunks_to_load()
    with pytest.raises(RuntimeError, match="failed to load"):
        _ = bad.data
    np.testing.assert_array_equal(good.data, _region(data, (1, 3)))
    # Dropping the failed chunk forgets it; once the store recovers, it reads.
    pool.drop_chunk(0, (1, 2))
    store.fail.clear()
    again = pool.get_chunk(0, (1, 2))
    again.wait()
    np.testing.assert_array_equal(again.data, _region(data, (1, 2)))


def test_a_handler_that_raises_is_logged_and_breaks_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pool, _ = _pool(MemoryStore())
    calls: list[str] = []

    def boom(c: ChunkLocation) -> None:
        raise ValueError("handler bug")

    pool.get_chunk(0, (0, 0), "a", load_handler=boom, drop_handler=boom, destroy_handler=boom)
    pool.get_chunk(0, (0, 0), "b", load_handler=lambda c: calls.append("load b"))
    with caplog.at_level(logging.ERROR, logger="simplezarr"):
        pool.wait_for_chunks_to_load()
        pool.drop_chunk(0, (0, 0), "a")
        pool.drop_chunk(0, (0, 0), "b")
    assert calls == ["load b"]
    messages = [r for r in caplog.records if "handler bug" in (r.exc_text or "")]
    assert {r.getMessage().split()[1] for r in messages} == {"load", "drop", "destroy"}
    assert list(pool.iter_chunks()) == []
    pool.get_chunk(0, (0, 0)).wait()  # still usable


def test_out_of_range_requests_raise_clear_errors() -> None:
    pool, _ = _pool(MemoryStore())
    with pytest.raises(
        IndexError, match=r"ChunkPool.get_chunk\(\): level 7 is out of range \(0..0\)"
    ):
        pool.get_chunk(7, (0, 0))
    with pytest.raises(
        IndexError, match=r"index \(4, 0\) is out of range for level 0 \(chunk grid \(4, 5\)\)"
    ):
        pool.get_chunk(0, (4, 0))
    with pytest.raises(IndexError, match=r"index \(0,\) is out of range"):
        pool.get_chunk(0, (0,))
    with pytest.raises(IndexError, match="out of range"):
        pool.get_chunk(0, (-1, 0))
    with pytest.raises(TypeError, match="index must be a tuple of ints"):
        pool.get_chunk(0, ("a", 0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cache_size must be a non-negative int, not -1"):
        ChunkPool(pool.multiscale_info, cache_size=-1)
    assert list(pool.iter_chunks()) == []
    # numpy integers are fine and name the same chunk as plain ints.
    c = pool.get_chunk(np.int64(0), (np.int64(1), np.int32(1)))  # type: ignore[arg-type]
    assert c is pool.get_chunk(0, (1, 1)) and c.index == (1, 1)


def test_missing_chunks_read_as_the_fill_value(tmp_path: Any) -> None:
    arr = zarr.create_array(
        LocalStore(tmp_path / "a.zarr"), shape=SHAPE, chunks=CHUNKS, dtype="int16", fill_value=-7
    )
    arr[:32, :32] = 5
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_array(tmp_path / "a.zarr", mode="r"))
    pool = ChunkPool(info)
    written, missing = pool.get_chunk(0, (0, 0)), pool.get_chunk(0, (3, 4))
    pool.wait_for_chunks_to_load()
    assert (written.data == 5).all()
    assert missing.data.shape == (4, 2) and (missing.data == -7).all()


def test_sharded_arrays_are_pooled_by_their_inner_chunks() -> None:
    store = CountingStore(MemoryStore())
    pool, data = _pool(store, shards=(64, 64))
    scale = pool.multiscale_info.scales[0]
    assert scale.chunk_shape == CHUNKS and scale.chunk_grid_shape == (4, 5)
    for index in ALL:
        pool.get_chunk(0, index)
    pool.wait_for_chunks_to_load()
    for chunk in pool.iter_chunks():
        np.testing.assert_array_equal(chunk.data, _region(data, chunk.index))


def test_many_threads_getting_and_dropping_at_once() -> None:
    pool, data = _pool(MemoryStore(), cache_size=4)
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def user(n: int) -> None:
        rng = random.Random(n)
        held: set[tuple[int, int]] = set()
        try:
            start.wait()
            for _ in range(300):
                index = rng.choice(ALL)
                if index in held:
                    pool.drop_chunk(0, index, f"user{n}")
                    held.discard(index)
                else:
                    chunk = pool.get_chunk(0, index, f"user{n}")
                    held.add(index)
                    if rng.random() < 0.3:
                        chunk.wait()
                        assert chunk.data[0, 0] == _region(data, index)[0, 0]
            for index in held:
                pool.drop_chunk(0, index, f"user{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    remaining = list(pool.iter_chunks())
    assert len(remaining) <= 4 and all(not c.refs for c in remaining)
    for c in remaining:
        c.future.result(timeout=30)
    assert pool.memory_usage == sum(c.data.nbytes for c in remaining)


class _Recorder(ChunkManager):
    def __init__(self, pool: ChunkPool) -> None:
        super().__init__(pool)
        self.events: list[tuple[str, tuple[int, ...]]] = []

    def on_load(self, chunk_location: ChunkLocation) -> None:
        self.events.append(("load", chunk_location.index))

    def on_drop(self, chunk_location: ChunkLocation) -> None:
        self.events.append(("drop", chunk_location.index))

    def on_destroy(self, chunk_location: ChunkLocation) -> None:
        self.events.append(("destroy", chunk_location.index))


def test_chunk_managers_share_a_pool() -> None:
    pool, _ = _pool(MemoryStore())
    one, two = _Recorder(pool), _Recorder(pool)
    assert one.ref != two.ref and one.pool is pool
    c = one.get_chunk(0, (2, 2))
    two.get_chunk(0, (2, 2))
    assert c.refs == {one.ref, two.ref}
    pool.wait_for_chunks_to_load()
    assert one.events == [("load", (2, 2))] and two.events == [("load", (2, 2))]
    one.drop_chunk(0, (2, 2))
    assert one.events[-1] == ("drop", (2, 2)) and c.refs == {two.ref}
    two.get_chunk(0, (0, 0))
    assert two.held == {(0, (2, 2)), (0, (0, 0))}
    two.drop_all()
    assert ("destroy", (2, 2)) in two.events and ("destroy", (2, 2)) in one.events
    assert list(pool.iter_chunks()) == [] and two.held == set()


def test_destroy_drops_and_destroys_everything() -> None:
    pool, _ = _pool(MemoryStore(), cache_size=5)
    rec = _Recorder(pool)
    for index in ALL[:6]:
        rec.get_chunk(0, index)
    pool.wait_for_chunks_to_load()
    rec.drop_chunk(0, ALL[0])  # now cached
    with pool:
        pass  # leaving the context destroys
    assert pool.memory_usage == 0 and list(pool.iter_chunks()) == []
    assert sorted(i for e, i in rec.events if e == "destroy") == sorted(ALL[:6])
    assert sorted(i for e, i in rec.events if e == "drop") == sorted(ALL[:6])


def test_from_zarr_node_makes_one_pool_per_image() -> None:
    store = MemoryStore()
    zarr.create_array(store, shape=(10, 10), chunks=(5, 5), dtype="u1")
    pools = ChunkPool.from_zarr_node(zarr.open_array(store, mode="r"), cache_size=3)
    assert len(pools) == 1 and pools[0].cache_size == 3
    assert pools[0].multiscale_info.scales[0].shape == (10, 10)
