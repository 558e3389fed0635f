"""The chunk pool after a storm of viewports: is the last view served as fast as on a fresh pool?

Run: .venv/bin/python benchmarks/bench_reliability.py [--storm 10000] [--repeat 3]
     (from the repository root)

Pool level, no viewer: the 1.1e12-pixel virtual image
(``simplezarr.data.virtual_fractal()``, each chunk computed on read, 10-40 ms)
behind a counting wrapper store (``tests/_stores.py``). A *view* is 5 x 4
chunks of level 0 (a 1920 x 1080 screen plus margin). The storm is
``--storm`` views in a row, each a fast pan from the last (get the new chunks,
drop the ones that left, never wait), with the viewer's cache (512 chunks) and
a memory budget of 256 MiB. Then the final view is got and timed until all its
chunks are loaded; the baseline is the same view on a fresh pool of the same
store, in the same run. Printed per round and as a median:

- ``final/fresh``: the final view's time after the storm / on a fresh pool
  (target <= 2);
- ``storm reads``: reads started during the storm, as the store saw them
  (each for a chunk wanted when it started; a read whose chunk is dropped is
  cancelled, queued or running, so most of these stop early);
- ``stale reads``: reads that started after the final view was requested and
  that it did not want (target 0: nothing stale is queued ahead of it);
- ``peak memory``: the pool's largest ``memory_usage`` against its budget;
- ``peak in flight``: the most reads the store saw at once.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import zarr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simplezarr.data import virtual_fractal
from simplezarr.utils import ChunkPool, MultiscaleInfo
from tests._stores import CountingStore

VIEW_H, VIEW_W = 4, 5
BUDGET = 256 << 20
CACHE = 512


def _view(y: int, x: int) -> set[tuple[int, int]]:
    return {(y + i, x + j) for i in range(VIEW_H) for j in range(VIEW_W)}


def _load(pool: ChunkPool, view: set[tuple[int, int]]) -> float:
    """Seconds from getting ``view`` to all of it loaded."""
    t = time.perf_counter()
    for ij in view:
        pool.get_chunk(0, ij, "view")
    pool.wait_for_chunks_to_load(timeout=600)
    return time.perf_counter() - t


def one_round(
    info: MultiscaleInfo, store: CountingStore, storm: int, seed: int
) -> dict[str, float]:
    grid_h, grid_w = info.scales[0].chunk_grid_shape[-2:]
    rng = random.Random(seed)
    pool = ChunkPool(info, cache_size=CACHE, memory_budget=BUDGET)
    y, x = grid_h // 2, grid_w // 2
    held: set[tuple[int, int]] = set()
    peak_memory = 0
    store.max_in_flight = store.in_flight
    before = Counter(store.gets)
    for _ in range(storm):
        y = min(max(0, y + rng.randint(-3, 3)), grid_h - VIEW_H)
        x = min(max(0, x + rng.randint(-3, 3)), grid_w - VIEW_W)
        view = _view(y, x)
        for ij in view - held:
            pool.get_chunk(0, ij, "view")
        for ij in held - view:
            pool.drop_chunk(0, ij, "view")
        held = view
        peak_memory = max(peak_memory, pool.memory_usage)
    # The final view: a jump elsewhere, as a last fast pan would end.
    y, x = rng.randrange(grid_h - VIEW_H), rng.randrange(grid_w - VIEW_W)
    final = _view(y, x)
    for ij in held - final:
        pool.drop_chunk(0, ij, "view")
    at_final = Counter(store.gets)
    after_storm = _load(pool, final)
    peak_memory = max(peak_memory, pool.memory_usage)
    wanted = {f"0/c/{iy}/{ix}" for iy, ix in final}
    storm_reads = sum(n for k, n in (at_final - before).items() if "/c/" in k)
    stale = sum(n for k, n in (store.gets - at_final).items() if "/c/" in k and k not in wanted)
    in_flight = store.max_in_flight
    pool.destroy()

    fresh = ChunkPool(info, cache_size=CACHE, memory_budget=BUDGET)
    fresh_time = _load(fresh, final)
    fresh.destroy()
    return {
        "after": after_storm,
        "fresh": fresh_time,
        "ratio": after_storm / fresh_time,
        "storm_reads": storm_reads,
        "stale": stale,
        "memory": peak_memory,
        "in_flight": in_flight,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storm", type=int, default=10_000, help="views in the storm")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    node = virtual_fractal()
    store = CountingStore(node.store)
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(store, mode="r"))
    rows = []
    for r in range(args.repeat):
        row = one_round(info, store, args.storm, seed=r)
        rows.append(row)
        print(
            f"round {r}: final view {row['after'] * 1e3:.0f} ms after a {args.storm}-view storm, "
            f"{row['fresh'] * 1e3:.0f} ms on a fresh pool: {row['ratio']:.2f}x; "
            f"storm reads started {row['storm_reads']:.0f}, stale reads {row['stale']:.0f}; "
            f"peak memory {row['memory'] / 2**20:.1f} MiB "
            f"(budget {BUDGET / 2**20:.0f} MiB); peak reads in flight {row['in_flight']:.0f}"
        )
    print(
        f"median final/fresh {statistics.median(r['ratio'] for r in rows):.2f}x (target <= 2); "
        f"max stale reads {max(r['stale'] for r in rows):.0f}; "
        f"max peak memory {max(r['memory'] for r in rows) / 2**20:.1f} MiB of "
        f"{BUDGET / 2**20:.0f}; max peak in flight {max(r['in_flight'] for r in rows):.0f}"
    )


if __name__ == "__main__":
    main()
