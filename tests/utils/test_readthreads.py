"""The shared read threads keep no pool alive once its reads are over."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import zarr

from simplezarr.utils import ChunkPool, MultiscaleInfo, write_multiscale


def _pool() -> ChunkPool:
    store = zarr.storage.MemoryStore()
    write_multiscale(
        np.arange(256 * 256, dtype=np.uint16).reshape(256, 256), store, axes="yx", chunks=64
    )
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(store, mode="r"))
    return ChunkPool(info)


def test_a_destroyed_pool_is_collected_while_the_read_threads_idle() -> None:
    # The watchdog thread waits, possibly for hours, between deadlines; a read it had
    # named (a loop variable left in its frame) kept that read's pool alive meanwhile.
    refs = []
    for _ in range(3):
        pool = _pool()
        for index in [(0, 0), (0, 1), (1, 0)]:
            pool.get_chunk(0, index).wait(timeout=30)
        pool.destroy()
        refs.append(weakref.ref(pool))
        del pool
    gc.collect()
    assert [r() is None for r in refs] == [True, True, True]
