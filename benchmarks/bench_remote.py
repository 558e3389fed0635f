"""Viewport fill time over HTTP with added latency, against the same fill from local disk.

Run: .venv/bin/python benchmarks/bench_remote.py [--latency 0.05] [--repeat 5]
     (from the repository root, with simplezarr importable: ``pip install -e .``
     or ``PYTHONPATH=.``)

A 1920 x 1080 view over 512 x 512 chunks needs about 4 x 3 = 12 chunks. This
script fills such a view: ``ChunkPool.from_zarr_node(...)``, ``get_chunk``
for each of the 12 chunks, then ``wait_for_chunks_to_load()``, and times it
(median of ``--repeat`` runs; the pool is made before the timing, and the
chunks are dropped after each run, so every run reads every chunk):

- ``local``: the image on local disk (LocalStore);
- ``http``: the same directory through a real HTTP server on 127.0.0.1
  (``tests/_httpserver.py``), no added latency;
- ``http+lat``: the server waits ``--latency`` seconds before each answer;
- ``sequential``: the same 12 chunks read one after another through zarr
  (``array[region]``) at that latency: what a naive reader pays.
- ``virtual``: the 12 chunks of the 1e8-pixel virtual image
  (``simplezarr.data.virtual_fractal(10_000)``), computed on read.

Ratios are printed against ``local`` and against one round trip
(``--latency``): a parallel pool should fill the view in a few round trips,
the sequential reader in 12.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import zarr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simplezarr._open import open as sz_open
from simplezarr.data import large_2d, virtual_fractal
from simplezarr.utils import ChunkPool
from tests._httpserver import serve_directory

VIEW = [(iy, ix) for iy in range(2, 5) for ix in range(2, 6)]  # 3 rows x 4 columns


def pool_filler(node: zarr.Group) -> Callable[[], None]:
    """Fill the view through one pool (made here, outside the timing); drop it after."""
    (pool,) = ChunkPool.from_zarr_node(node)  # cache_size 0: dropped chunks are destroyed

    def fill() -> None:
        for index in VIEW:
            pool.get_chunk(0, index)
        pool.wait_for_chunks_to_load()
        for index in VIEW:
            pool.drop_chunk(0, index)

    return fill


def fill_sequentially(node: zarr.Group) -> None:
    arr = node["0"]
    assert isinstance(arr, zarr.Array)
    for iy, ix in VIEW:
        arr[iy * 512 : (iy + 1) * 512, ix * 512 : (ix + 1) * 512]


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm: connections, imports, metadata
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("writing a 4096 x 4096 uint16 demo image (512 x 512 chunks) ...", flush=True)
        path = large_2d(root / "image.ome.zarr", size=4096, dtype="uint16", progress=False)
        results: dict[str, float] = {}
        local = sz_open(path)
        assert isinstance(local, zarr.Group)
        results["local"] = median_time(pool_filler(local), args.repeat)
        with serve_directory(root) as srv:
            remote = sz_open(f"{srv.url}/image.ome.zarr")
            assert isinstance(remote, zarr.Group)
            fill_remote = pool_filler(remote)
            results["http"] = median_time(fill_remote, args.repeat)
            srv.latency = args.latency
            results["http+lat"] = median_time(fill_remote, args.repeat)
            results["sequential"] = median_time(lambda: fill_sequentially(remote), args.repeat)
            requests = len(srv.requests)
        virtual = virtual_fractal(10_000)
        results["virtual"] = median_time(pool_filler(virtual), args.repeat)

    lat = args.latency
    print(f"\nviewport fill of {len(VIEW)} chunks (512 x 512 uint16), median of {args.repeat}")
    print(f"added latency per request: {lat * 1000:.0f} ms; requests served: {requests}\n")
    print(f"{'case':<12}{'ms':>9}{'x local':>10}{'x latency':>11}")
    for name, t in results.items():
        print(f"{name:<12}{t * 1000:>9.1f}{t / results['local']:>10.1f}{t / lat:>11.1f}")
    print(
        f"\nhttp+lat / sequential = {results['http+lat'] / results['sequential']:.2f} "
        f"(pool vs one-by-one at {lat * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
