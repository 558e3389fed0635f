"""The chunk pool under real faults: hung, blocked and failing reads, storms, a memory budget.

Stores are real (in memory, on disk) wrapped in fault-injecting stores from
``tests/_stores.py``; a read that blocks in the operating system is a chunk
file replaced by a named pipe (FIFO) that nobody writes to. Every wait has a
timeout; nothing sleeps; nothing asserts a duration.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import LocalStore, MemoryStore

from simplezarr.utils._chunkread import ChunkReadError, ChunkReadTimeout
from simplezarr.utils._readthreads import read_threads
from simplezarr.utils.chunkpool import _MAX_QUEUED, ChunkLocation, ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo
from tests._stores import CountingStore, FailingStore, GatedStore, HangingStore

REMOTE_LANE = read_threads("remote").per_lane  # reads one pool runs at once on remote stores
LOCAL_LANE = read_threads("local").per_lane


def _info(store: Any, n: int, *, rows: int = 1, write: bool = True) -> MultiscaleInfo:
    """A (8 rows, 8 n) uint8 image in 8x8 chunks, written to ``store``'s inner store (so a
    wrapper sees only the pool's reads); pixel (0, x) is x % 256."""
    arr = zarr.create_array(
        getattr(store, "_store", store), shape=(8 * rows, 8 * n), chunks=(8, 8), dtype="u1"
    )
    if write:
        arr[:] = np.arange(8 * rows * 8 * n, dtype="u1").reshape(arr.shape)
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_array(store, mode="r"))
    return info


def _pool(store: Any, n: int, **kw: Any) -> ChunkPool:
    return ChunkPool(_info(store, n), **kw)


# -- hung reads ---------------------------------------------------------------------------------


def test_a_hung_read_times_out_naming_level_index_and_store_and_is_cancelled() -> None:
    store = HangingStore(MemoryStore())
    pool = _pool(store, 4, read_timeout=0.3)
    assert pool.read_timeout == 0.3
    chunk = pool.get_chunk(0, (0, 2))
    with pytest.raises(ChunkReadTimeout) as info:
        chunk.wait(timeout=30)
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, ChunkReadError)
    assert str(info.value) == (
        f"ChunkPool: reading level 0 chunk (0, 2) of {str(store)!r} took longer than 0.3 s"
    )
    assert store.cancelled.acquire(timeout=30), "the store's get was really cancelled"
    with pytest.raises(RuntimeError, match="failed to load: ChunkPool: reading level 0"):
        _ = chunk.data
    # Dropping the failed chunk forgets it; once the store answers, it reads.
    pool.drop_chunk(0, (0, 2))
    store.release()
    again = pool.get_chunk(0, (0, 2))
    again.wait(timeout=30)
    assert again.data[0, 0] == 16


def test_a_chunk_dropped_while_its_read_runs_is_not_cached_and_its_read_stops() -> None:
    store = HangingStore(MemoryStore())
    pool = _pool(store, 4, cache_size=4)
    chunk = pool.get_chunk(0, (0, 3))
    assert store.started.acquire(timeout=30)
    pool.drop_chunk(0, (0, 3))  # a cache holds data, not promises
    assert list(pool.iter_chunks()) == [] and chunk.future.cancelled()
    assert store.cancelled.acquire(timeout=30), "the running read was stopped"
    store.release()
    again = pool.get_chunk(0, (0, 3))
    assert again is not chunk
    again.wait(timeout=30)
    assert again.data[0, 0] == 24


def test_a_hung_store_does_not_starve_other_pools() -> None:
    hung = HangingStore(MemoryStore())
    stuck = _pool(hung, 64)
    other_store = CountingStore(MemoryStore())  # a wrapper: read on the remote threads too
    other = _pool(other_store, 20)
    try:
        for j in range(64):
            stuck.get_chunk(0, (0, j))
        for _ in range(REMOTE_LANE):
            assert hung.started.acquire(timeout=30)
        chunks = [other.get_chunk(0, (0, j)) for j in range(20)]
        _, late = concurrent.futures.wait([c.future for c in chunks], timeout=30)
        assert not late, f"{len(late)} reads of another store waited behind a hung one"
        assert all(c.loaded for c in chunks)
        # The hung pool never ran more reads than its share of the threads.
        assert not hung.started.acquire(blocking=False)
        assert REMOTE_LANE < read_threads("remote").threads
    finally:
        stuck.destroy()
        hung.release()


def test_wait_on_a_chunk_destroyed_while_its_read_hangs_raises_at_once() -> None:
    store = HangingStore(MemoryStore())
    pool = _pool(store, 4 + REMOTE_LANE, cache_size=8)
    try:
        reading = pool.get_chunk(0, (0, 0))
        assert store.started.acquire(timeout=30)
        others = [pool.get_chunk(0, (0, j)) for j in range(1, 4 + REMOTE_LANE)]
        for _ in range(REMOTE_LANE - 1):
            assert store.started.acquire(timeout=30)
        queued = others[-4:]  # behind REMOTE_LANE hung reads: never started
        pool.destroy()
        for chunk in [reading, *others]:
            assert chunk.future.cancelled()
            with pytest.raises(RuntimeError, match="destroyed before it was loaded"):
                chunk.wait(timeout=30)
        for _ in range(REMOTE_LANE):  # destroying the pool stopped its hung reads
            assert store.cancelled.acquire(timeout=30)
    finally:
        store.release()
    # The late reads are discarded: the next read of that chunk is the only data counted.
    again = pool.get_chunk(0, (0, 0))
    again.wait(timeout=30)
    assert pool.memory_usage == again.nbytes
    keys = {k for k in store.gets if k.startswith("c/")}
    assert not keys & {f"c/0/{c.index[1]}" for c in queued}, "queued reads were cancelled"


def test_wait_and_wait_for_chunks_to_load_honour_a_timeout() -> None:
    store = HangingStore(MemoryStore())
    pool = _pool(store, 4)
    chunk = pool.get_chunk(0, (0, 1))
    pool.get_chunk(0, (0, 0))
    with pytest.raises(
        TimeoutError,
        match=r"ChunkLocation.wait\(\): chunk \(0, 1\) of level 0 did not load within 0.2 s",
    ) as info:
        chunk.wait(timeout=0.2)
    assert not isinstance(info.value, ChunkReadError)  # the read goes on
    with pytest.raises(TimeoutError, match=r"2 of 2 chunks did not load within 0\.1 s"):
        pool.wait_for_chunks_to_load(timeout=0.1)
    store.release()
    pool.wait_for_chunks_to_load(timeout=30)
    assert chunk.data[0, 0] == 8


@contextmanager
def _fifo_chunks(root: Path, n: int, read_timeout: float = 0.3) -> Iterator[ChunkPool]:
    """A local image whose n chunk files are named pipes nobody writes: reads block in open().

    On exit each pipe is opened for writing (which lets a blocked reader in and
    gives it end-of-file) and replaced by a regular file, so no thread stays stuck.
    """
    info = _info(LocalStore(root), n)
    pipes = [root / "c" / "0" / str(j) for j in range(n)]
    for p in pipes:
        p.unlink()
        os.mkfifo(p)
    try:
        yield ChunkPool(info, read_timeout=read_timeout)
    finally:
        for p in pipes:
            fd = os.open(p, os.O_RDWR | os.O_NONBLOCK)
            (p.parent / f".{p.name}").write_bytes(b"")
            os.replace(p.parent / f".{p.name}", p)
            os.close(fd)


def test_blocked_reads_time_out_and_then_the_hung_store_fails_fast(tmp_path: Path) -> None:
    n = LOCAL_LANE + 3
    with _fifo_chunks(tmp_path / "a.zarr", n) as pool:
        chunks = [pool.get_chunk(0, (0, j)) for j in range(n)]
        errors: list[BaseException] = []
        for c in chunks:
            with pytest.raises(ChunkReadError) as info:
                c.wait(timeout=30)
            errors.append(info.value)
        # The first LOCAL_LANE reads started, blocked and timed out ...
        for j, exc in enumerate(errors[:LOCAL_LANE]):
            assert isinstance(exc, ChunkReadTimeout)
            assert f"reading level 0 chunk (0, {j}) of 'file://" in str(exc)
        # ... and with every read slot held by a stuck thread, the rest were refused.
        for j, exc in enumerate(errors[LOCAL_LANE:], LOCAL_LANE):
            assert not isinstance(exc, ChunkReadTimeout)
            assert (
                f"all {LOCAL_LANE} of its reads in flight have been stuck for over 0.3 s"
                in str(exc)
            )
            assert f"level 0 chunk (0, {j}) not read" in str(exc)
        # New reads are refused at once while the store hangs.
        pool.drop_chunk(0, (0, n - 1))
        with pytest.raises(ChunkReadError, match="the store hangs"):
            pool.get_chunk(0, (0, n - 1)).wait(timeout=30)


def test_stuck_threads_are_replaced_so_other_pools_still_read(tmp_path: Path) -> None:
    # A: every read slot stuck in a blocked read that timed out.
    with _fifo_chunks(tmp_path / "a.zarr", LOCAL_LANE) as a:
        for j in range(LOCAL_LANE):
            with pytest.raises(ChunkReadTimeout):
                a.get_chunk(0, (0, j)).wait(timeout=30)
        # B: blocked reads still within their (long) timeout, as many as a pool may run.
        with _fifo_chunks(tmp_path / "b.zarr", LOCAL_LANE, read_timeout=600) as b:
            for j in range(LOCAL_LANE):
                b.get_chunk(0, (0, j))
            # C: an ordinary local image. Without replacements only one thread
            # would be healthy, B would hold it, and C would wait for minutes.
            c = _pool(LocalStore(tmp_path / "c.zarr"), 2)
            chunk = c.get_chunk(0, (0, 1))
            chunk.wait(timeout=30)
            assert chunk.data[0, 0] == 8
            threads = read_threads("local")
            assert threads.stuck >= LOCAL_LANE
            assert threads.workers <= threads.threads + threads.max_stuck


def test_the_read_queue_is_bounded_and_refuses_its_oldest_read() -> None:
    store = HangingStore(MemoryStore())
    n = REMOTE_LANE + _MAX_QUEUED + 5
    pool = ChunkPool(_info(store, n, write=False))
    try:
        chunks = [pool.get_chunk(0, (0, j)) for j in range(n)]
        for _ in range(REMOTE_LANE):
            assert store.started.acquire(timeout=30)
        # The 5 oldest queued reads made room for the 5 newest.
        refused = chunks[REMOTE_LANE : REMOTE_LANE + 5]
        for c in refused:
            with pytest.raises(
                ChunkReadError, match=f"read queue of .* is full \\({_MAX_QUEUED} reads"
            ):
                c.wait(timeout=30)
        assert not any(c.future.done() for c in chunks[REMOTE_LANE + 5 :])
    finally:
        pool.destroy()
        store.release()


# -- failures are logged once, by the pool --------------------------------------------------------


def test_each_failed_or_late_read_is_logged_once_in_async_mode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failing = FailingStore(MemoryStore())
    pool = _pool(failing, 6)
    failing.fail.update({"c/0/1", "c/0/3"})
    hung = HangingStore(MemoryStore())
    late_pool = _pool(hung, 2, read_timeout=0.3)
    scheduled: list[Any] = []
    for p in (pool, late_pool):
        p.enable_async_load_handlers(lambda fn, *args: scheduled.append((fn, args)))
    with caplog.at_level(logging.DEBUG, logger="simplezarr"):
        chunks = [pool.get_chunk(0, (0, j), load_handler=lambda c: None) for j in range(6)]
        late = late_pool.get_chunk(0, (0, 0), load_handler=lambda c: None)
        concurrent.futures.wait([c.future for c in [*chunks, late]], timeout=30)
        assert hung.cancelled.acquire(timeout=30)  # the reader's own timeout fired too
    hung.release()
    stores = [str(p.multiscale_info.scales[0].array.store_path.store) for p in (pool, late_pool)]
    failed = [r for r in caplog.records if any(s in r.getMessage() for s in stores)]
    assert sorted((r.levelname, r.getMessage().split("chunk ")[1][:6]) for r in failed) == [
        ("WARNING", "(0, 0)"),
        ("WARNING", "(0, 1)"),
        ("WARNING", "(0, 3)"),
    ]
    assert all("its load handlers are not called" in r.getMessage() for r in failed)


# -- storms ---------------------------------------------------------------------------------------


def test_a_storm_of_viewports_leaves_no_stale_reads_ahead_of_the_last_one() -> None:
    store = GatedStore(MemoryStore())
    pool = ChunkPool(_info(store, 100, rows=100, write=False), cache_size=512)
    rng = random.Random(0)
    held: dict[tuple[int, int], ChunkLocation] = {}
    try:
        for _ in range(300):  # fast pans: each view replaces the last before anything loads
            y, x = rng.randrange(96), rng.randrange(96)
            view = {(y + i, x + j) for i in range(4) for j in range(4)}
            for ij in view - held.keys():
                held[ij] = pool.get_chunk(0, ij, "view")
            for ij in held.keys() - view:
                pool.drop_chunk(0, ij, "view")
                del held[ij]
        # The cache holds data, not promises: no dropped chunk waits there for a read.
        assert [c for c in pool.iter_chunks() if not c.refs] == []
    finally:
        store.gate.set()
    for chunk in held.values():
        chunk.wait(timeout=60)
    wanted = {f"c/{i}/{j}" for i, j in held}
    performed = {k for k in store.gets if k.startswith("c/")}  # counted past the gate
    assert wanted <= performed
    # Reads of dropped chunks were cancelled, queued or running (this store is async,
    # so a running read stops at once): none reached the store ahead of the last view.
    assert performed - wanted == set(), f"{len(performed - wanted)} stale reads performed"


# -- memory budget --------------------------------------------------------------------------------


def test_the_memory_budget_bounds_the_cache_and_held_chunks_still_load(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = CountingStore(MemoryStore())
    size = 64  # bytes per 8x8 uint8 chunk
    pool = _pool(store, 12, cache_size=100, memory_budget=3 * size)
    assert pool.memory_budget == 3 * size and pool.memory_excess == 0
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        for j in range(5):
            pool.get_chunk(0, (0, j)).wait(timeout=30)
        # Held chunks are never given up: all five loaded, the excess is visible.
        assert pool.memory_usage == 5 * size and pool.memory_excess == 2 * size
        over = [r for r in caplog.records if "memory_budget" in r.getMessage()]
        assert len(over) == 1 and f"over the memory_budget of {3 * size}" in over[0].getMessage()
        for j in range(5):
            pool.drop_chunk(0, (0, j))
        # The cache keeps the newest chunks that fit; the oldest went first.
        assert sorted(c.index for c in pool.iter_chunks()) == [(0, 2), (0, 3), (0, 4)]
        assert pool.memory_usage == 3 * size and pool.memory_excess == 0
        # A new chunk makes room by evicting the oldest cached one.
        pool.get_chunk(0, (0, 9)).wait(timeout=30)
        assert sorted(c.index for c in pool.iter_chunks()) == [(0, 3), (0, 4), (0, 9)]
        assert pool.memory_usage == 3 * size
        # Going over again warns again.
        for j in range(5, 9):
            pool.get_chunk(0, (0, j)).wait(timeout=30)
        assert [c.index for c in pool.iter_chunks() if not c.refs] == []
        assert pool.memory_usage == 5 * size
        assert len([r for r in caplog.records if "memory_budget" in r.getMessage()]) == 2
    reads = sum(v for k, v in store.gets.items() if k.startswith("c/"))
    assert reads == 10  # each chunk read once


def test_bad_options_raise_clear_errors() -> None:
    info = _info(MemoryStore(), 2)
    with pytest.raises(
        ValueError, match=r"ChunkPool\(\): read_timeout must be a positive .* not 0"
    ):
        ChunkPool(info, read_timeout=0)
    with pytest.raises(ValueError, match=r"read_timeout .* not inf"):
        ChunkPool(info, read_timeout=float("inf"))
    with pytest.raises(
        ValueError, match=r"memory_budget must be None or a non-negative int .* -1"
    ):
        ChunkPool(info, memory_budget=-1)
