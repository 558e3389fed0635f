"""ChunkPool.stats() and ChunkPool.chunk_states(): the numbers equal what happened.

Real stores: a pyramid on disk (whose chunk files' sizes are the bytes a read
fetches), in-memory arrays behind wrapper stores that gate or fail reads
(tests/_stores.py).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import LocalStore, MemoryStore

from simplezarr.utils._pyramid import write_multiscale
from simplezarr.utils._readthreads import read_threads
from simplezarr.utils.chunkpool import CHUNK_STATES, ChunkPool, PoolStats
from simplezarr.utils.multiscale import MultiscaleInfo
from tests._stores import CountingStore, FailingStore, GatedStore

WAIT = 30.0


def _pyramid(root: Path) -> MultiscaleInfo:
    """A 3-level 256 x 320 uint16 pyramid in 32 x 32 chunks on disk (zstd-compressed)."""
    rng = np.random.default_rng(7)
    data = (rng.integers(0, 2000, (256, 320)) + np.arange(320)).astype("uint16")
    write_multiscale(data, str(root), axes="yx", chunks=32, levels=3)
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(LocalStore(root), mode="r"))
    return info


def _chunk_file(info: MultiscaleInfo, root: Path, level: int, index: tuple[int, ...]) -> Path:
    array = info.scales[level].array
    key = array.metadata.encode_chunk_key(index)
    return root / array.store_path.path / key


def _memory_pool(store: Any, cache_size: int = 0) -> ChunkPool:
    """A pool on a 160 x 160 uint8 image in 32 x 32 chunks (5 x 5) behind ``store``
    (a wrapper store: its reads run on the remote read threads)."""
    data = np.arange(160 * 160, dtype="uint32").reshape(160, 160).astype("uint8")
    arr = zarr.create_array(store._store, shape=data.shape, chunks=(32, 32), dtype="uint8")
    arr[:] = data
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_array(store, mode="r"))
    return ChunkPool(info, cache_size=cache_size)


def test_reads_and_bytes_equal_the_chunks_read_and_their_stored_sizes(tmp_path: Path) -> None:
    info = _pyramid(tmp_path)
    pool = ChunkPool(info)
    before = pool.stats()
    assert before == PoolStats((0, 0, 0), (0, 0, 0), 0, None, 0, 0, 0, 0, 0.0, 0, 0, 0)
    assert before.hit_rate is None and before.mean_read_seconds is None
    wanted = [(0, (1, 2)), (0, (3, 4)), (1, (0, 0)), (1, (3, 4)), (2, (1, 1))]
    for level, index in wanted:
        pool.get_chunk(level, index)
    pool.wait_for_chunks_to_load(timeout=WAIT)
    s = pool.stats()
    stored = sum(_chunk_file(info, tmp_path, lv, ix).stat().st_size for lv, ix in wanted)
    decoded = sum(c.nbytes for c in pool.iter_chunks())
    assert stored < decoded  # compressed: the bytes fetched, not the decoded ones
    assert (s.reads, s.read_failures, s.bytes_read) == (5, 0, stored)
    assert (s.cache_misses, s.cache_hits, s.hit_rate) == (5, 0, 0.0)
    assert s.held_per_level == (2, 2, 1) and s.held == 5
    assert s.cached_per_level == (0, 0, 0)
    assert s.memory == decoded == pool.memory_usage
    assert s.reads_in_flight == 0 and s.reads_queued == 0
    assert s.read_seconds > 0 and s.mean_read_seconds == s.read_seconds / 5

    # Getting a held chunk again (another ref) reads nothing and is no cache event.
    pool.get_chunk(0, (1, 2), "other")
    assert pool.stats().cache_misses == 5 and pool.stats().reads == 5


def test_a_get_served_from_the_cache_is_a_hit_and_reads_nothing() -> None:
    store = CountingStore(MemoryStore())
    pool = _memory_pool(store, cache_size=4)
    pool.get_chunk(0, (1, 1)).wait(timeout=WAIT)
    pool.drop_chunk(0, (1, 1))
    s = pool.stats()
    assert (s.held_per_level, s.cached_per_level) == ((0,), (1,))
    assert pool.chunk_states(0) == {(1, 1): "cached"}
    reads, fetched = sum(store.gets.values()), s.bytes_read

    chunk = pool.get_chunk(0, (1, 1))
    assert chunk.loaded
    s = pool.stats()
    assert (s.cache_hits, s.cache_misses, s.hit_rate) == (1, 1, 0.5)
    assert (s.held_per_level, s.cached_per_level) == ((1,), (0,))
    assert (s.reads, s.bytes_read, sum(store.gets.values())) == (1, fetched, reads)
    assert pool.chunk_states(0) == {(1, 1): "held"}


def test_held_and_cached_per_level_follow_any_sequence_of_gets_and_drops(
    tmp_path: Path,
) -> None:
    info = _pyramid(tmp_path)
    pool = ChunkPool(info, cache_size=5)
    grids = [s.chunk_grid_shape for s in info.scales]
    rng = random.Random(3)
    held: dict[tuple[int, tuple[int, ...]], set[str]] = {}
    for step in range(400):
        if held and rng.random() < 0.45:
            key = rng.choice(sorted(held))
            ref = rng.choice(sorted(held[key]))
            pool.drop_chunk(*key, ref)
            held[key].discard(ref)
            if not held[key]:
                del held[key]
        else:
            level = rng.randrange(3)
            index = tuple(rng.randrange(n) for n in grids[level])
            ref = rng.choice("ab")
            chunk = pool.get_chunk(level, index, ref)
            held.setdefault((level, index), set()).add(ref)
            if rng.random() < 0.5:
                chunk.wait(timeout=WAIT)  # loaded chunks are cached when dropped
        if step % 20 == 0 or step == 399:
            s = pool.stats()
            in_pool = list(pool.iter_chunks())
            for level in range(3):
                # Against the pool's public listing, and against our own record of refs.
                assert s.held_per_level[level] == sum(
                    1 for c in in_pool if c.level == level and c.refs
                )
                assert s.held_per_level[level] == sum(1 for k in held if k[0] == level)
                assert s.cached_per_level[level] == sum(
                    1 for c in in_pool if c.level == level and not c.refs
                )
                states = pool.chunk_states(level)
                assert {i for i, st in states.items() if st != "cached"} == {
                    k[1] for k in held if k[0] == level
                }
            assert s.cached <= 5
    pool.wait_for_chunks_to_load(timeout=WAIT)
    s = pool.stats()
    # Some reads were stopped by a drop before they delivered: never more reads than misses.
    assert s.read_failures == 0 and 0 < s.reads <= s.cache_misses
    pool.destroy()
    after = pool.stats()
    assert after.held == after.cached == 0 and after.memory == 0


def test_failed_reads_are_counted_and_their_chunks_marked_failed() -> None:
    store = FailingStore(MemoryStore(), {"c/1/2"})
    pool = _memory_pool(store)
    for index in [(0, 0), (1, 2), (2, 4)]:
        pool.get_chunk(0, index)
    with pytest.raises(OSError, match="c/1/2"):
        pool.wait_for_chunks_to_load(timeout=WAIT)
    s = pool.stats()
    assert (s.reads, s.read_failures, s.cache_misses) == (2, 1, 3)
    assert pool.chunk_states(0) == {(0, 0): "held", (1, 2): "failed", (2, 4): "held"}
    assert s.held_per_level == (3,)  # a failed chunk is still held until dropped
    pool.drop_chunk(0, (1, 2))
    assert pool.chunk_states(0) == {(0, 0): "held", (2, 4): "held"}
    assert pool.stats().read_failures == 1


def test_reads_in_flight_and_queued_are_the_lanes_own() -> None:
    store = GatedStore(MemoryStore())
    pool = _memory_pool(store)
    per_lane = read_threads("remote").per_lane  # a wrapper store is not known to be local
    n = min(per_lane + 4, 25)
    indices = [(i // 5, i % 5) for i in range(n)]
    try:
        for index in indices:
            pool.get_chunk(0, index)
        for _ in range(per_lane):
            assert store.started.acquire(timeout=WAIT)
        s = pool.stats()
        assert (s.reads_in_flight, s.reads_queued) == (per_lane, n - per_lane)
        states = pool.chunk_states(0)
        assert set(states) == set(indices) and set(states.values()) == {"loading"}
    finally:
        store.gate.set()
    pool.wait_for_chunks_to_load(timeout=WAIT)
    s = pool.stats()
    # (A thread leaves the lane just after it settles its chunk: in flight drains right after.)
    assert (s.reads_queued, s.reads) == (0, n) and s.reads_in_flight <= per_lane


def test_chunk_states_names_a_bad_level_and_the_states_are_four() -> None:
    pool = _memory_pool(CountingStore(MemoryStore()))
    assert CHUNK_STATES == ("held", "cached", "loading", "failed")
    for bad in (1, -1, True, "0"):
        with pytest.raises(ValueError, match=r"ChunkPool.chunk_states\(\): level .* \(0..0\)"):
            pool.chunk_states(bad)  # type: ignore[arg-type]
