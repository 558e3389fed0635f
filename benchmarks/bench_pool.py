"""Pool overhead: get+drop pairs per second on resident chunks.

Run: .venv/bin/python benchmarks/bench_pool.py

Chunks are held by one ref ("pool") and loaded; another ref gets and drops
them in a loop, which is what a viewer does for chunks it already has. The
baseline in the same run is a dict lookup + set add/discard under a lock (the
least any thread-safe ref-counting table can do).
"""

from __future__ import annotations

import threading
import time

import zarr
from zarr.storage import MemoryStore

from simplezarr.utils import ChunkPool, MultiscaleInfo

N = 200_000


def main() -> None:
    store = MemoryStore()
    zarr.create_array(store, shape=(64, 64), chunks=(8, 8), dtype="u1")
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_array(store, mode="r"))
    pool = ChunkPool(info, cache_size=0)
    idx = [(i, j) for i in range(8) for j in range(8)]
    for ij in idx:
        pool.get_chunk(0, ij)
    pool.wait_for_chunks_to_load()
    keys = [idx[k % len(idx)] for k in range(N)]

    t = time.perf_counter()
    for ij in keys:
        pool.get_chunk(0, ij, "viewer")
        pool.drop_chunk(0, ij, "viewer")
    pool_rate = N / (time.perf_counter() - t)

    table = {(0, ij): set() for ij in idx}
    lock = threading.Lock()
    t = time.perf_counter()
    for ij in keys:
        with lock:
            table[(0, ij)].add("viewer")
        with lock:
            table[(0, ij)].discard("viewer")
    base_rate = N / (time.perf_counter() - t)

    print(f"get+drop pairs on resident chunks: {pool_rate:,.0f}/s (target >= 200,000/s)")
    print(
        f"baseline (locked dict + set add/discard): {base_rate:,.0f}/s; "
        f"ratio {pool_rate / base_rate:.2f}"
    )


if __name__ == "__main__":
    main()
