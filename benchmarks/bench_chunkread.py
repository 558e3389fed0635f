"""Chunk load throughput: the pool against the ceiling and zarr-python's own paths.

Run: .venv/bin/python benchmarks/bench_chunkread.py

A local store of 512x512 uint16 chunks with zstd (level 3) holding
microscopy-like content. Every figure is chunks/s measured in this run, and
reported as a ratio to the *ceiling* measured in the same run: a raw file read
plus numcodecs' zstd decode, on 2 threads.
"""

from __future__ import annotations

import concurrent.futures as cf
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numcodecs
import numpy as np
import zarr
from zarr.codecs import ZstdCodec

from simplezarr.utils import ChunkPool, MultiscaleInfo

NY, NX, C = 24, 4, 512
REPEATS = 5


def make_store(path: Path) -> zarr.Array:
    arr = zarr.create_array(
        path, shape=(NY * C, NX * C), chunks=(C, C), dtype="uint16", compressors=ZstdCodec(level=3)
    )
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0 : NY * C, 0 : NX * C]
    blobs = 800 * np.sin(x / 37.0) ** 2 * np.cos(y / 23.0) ** 2
    arr[:] = (300 + blobs + rng.poisson(40, (NY * C, NX * C))).astype("uint16")
    return zarr.open_array(path, mode="r")


def rate(fn: Callable[[], object], n: int) -> float:
    fn()  # warm
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return n / statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.zarr"
        arr = make_store(path)
        idx = [(i, j) for i in range(NY) for j in range(NX)]
        zstd = numcodecs.Zstd()

        def raw(ij: tuple[int, int]) -> np.ndarray:
            with open(path / "c" / str(ij[0]) / str(ij[1]), "rb") as f:
                return np.frombuffer(zstd.decode(f.read()), "<u2").reshape(C, C)

        def getitem(ij: tuple[int, int]) -> np.ndarray:
            i, j = ij
            return arr[i * C : (i + 1) * C, j * C : (j + 1) * C]

        def block(ij: tuple[int, int]) -> np.ndarray:
            return arr.get_block_selection(ij)

        (info,) = MultiscaleInfo.from_zarr_node(arr)

        def pool_load() -> None:
            pool = ChunkPool(info)
            for ij in idx:
                pool.get_chunk(0, ij)
            pool.wait_for_chunks_to_load()
            pool.destroy()

        with cf.ThreadPoolExecutor(2) as ex:
            results = {
                "ceiling: file read + zstd decode, 2 threads": rate(
                    lambda: list(ex.map(raw, idx)), len(idx)
                ),
                "zarr array[...] per chunk, 2 threads": rate(
                    lambda: list(ex.map(getitem, idx)), len(idx)
                ),
                "zarr get_block_selection, 2 threads": rate(
                    lambda: list(ex.map(block, idx)), len(idx)
                ),
            }
        results["ChunkPool get_chunk + wait_for_chunks_to_load"] = rate(pool_load, len(idx))
        ceiling = results["ceiling: file read + zstd decode, 2 threads"]
        print(
            f"{len(idx)} chunks of {C}x{C} uint16 zstd, {REPEATS} runs, median; "
            f"python {sys.version.split()[0]}"
        )
        for name, r in results.items():
            print(f"  {name:48s} {r:8.0f} chunks/s  {r / ceiling:5.2f}x ceiling")


if __name__ == "__main__":
    main()
