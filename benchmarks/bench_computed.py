"""A computed layer's tiles/s against the plain image's, locally and on a 2-worker LocalCluster.

Run:  .venv/bin/python benchmarks/bench_computed.py [--size 4096] [--rounds 5]
      (with simplezarr installed, e.g. ``pip install -e .``, or ``PYTHONPATH=.``)

An OME-Zarr image on disk (``--size`` x ``--size`` uint16, zstd, 512 x 512
chunks, a pyramid). A viewer made in a real asyncio loop (as in a notebook
cell) gets ``ready`` and one viewport of 2048 x 2048 CSS pixels at level 0;
the time from that message until every wanted tile is sent
(``await viewer.wait_idle()``) gives tiles/s for:

- **plain**: ``Viewer(path)``, the baseline, measured in the same run;
- **computed, local**: ``Viewer(ComputedImage(path, threshold))``, the
  threshold (``block > 1000``) computed on this machine's compute threads;
- **computed, cluster**: the same with ``client=`` a
  ``distributed.LocalCluster(n_workers=2, threads_per_worker=1)`` (worker
  processes; each reads its chunks' source data itself);
- **clip, local / cluster**: ``np.minimum(block, 1800)``, uint16 like the
  source: its tiles cost as much to encode as the plain ones (a threshold's
  bool tiles are 1-byte PNGs of two values, far cheaper than 16-bit ones),
  so the ratio to plain is the cost of the computed path itself.

Runs are interleaved (plain, local, cluster, plain, ...) so that a change of
machine load affects all three alike; each run uses a fresh viewer and a
fresh ComputedImage (nothing cached), the OS file cache is warm after a first
round that is not counted. Reported: median tiles/s and the ratio to plain.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simplezarr import ComputedImage, Viewer
from simplezarr.utils import write_multiscale
from simplezarr.viewer._protocol import PROTOCOL_VERSION


def threshold(block: np.ndarray) -> np.ndarray:
    """The computed layer: a threshold (module level, so dask pickles it by reference)."""
    return block > 1000


def clip(block: np.ndarray) -> np.ndarray:
    """A computed layer of the source's dtype: tiles as costly to encode as the plain ones."""
    return np.minimum(block, 1800)


def _write(base: Path, size: int) -> str:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size]
    data = (1000 + 800 * np.sin(y / 37.0) * np.cos(x / 53.0)).astype(np.uint16)
    data += rng.integers(0, 200, data.shape, dtype=np.uint16)
    path = str(base / "image.ome.zarr")
    write_multiscale(data, path, axes="yx", chunks=512, progress=False)
    return path


async def _tiles_per_s(source: Any) -> tuple[float, int]:
    viewer = Viewer(source, contrast_limits=(0, 1))  # no default-contrast read
    sent = 0

    def send(content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        nonlocal sent
        sent += content.get("type") == "tile"

    viewer.send = send  # type: ignore[method-assign]
    level0 = viewer.levels[0]
    center = [(level0["shape"][0] - 1) / 2, (level0["shape"][1] - 1) / 2]
    viewer._handle_message(viewer, {"type": "ready", "view": "b", "version": PROTOCOL_VERSION}, [])
    start = time.perf_counter()
    viewer._handle_message(
        viewer,
        {"type": "viewport", "view": "b", "seq": 0, "center": center, "scale": 1.0,
         "size": [2048.0, 2048.0], "dpr": 1.0, "channels": [0]},
        [],
    )  # fmt: skip
    await viewer.wait_idle()
    elapsed = time.perf_counter() - start
    wanted = len(viewer.views["b"].wanted_keys)
    viewer.close()
    assert sent == wanted, (sent, wanted)
    return sent / elapsed, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        path = _write(Path(tmp), args.size)
        cases = {
            "plain": lambda: path,
            "computed, local": lambda: ComputedImage(path, threshold),
            "computed, cluster": lambda: ComputedImage(path, threshold, client=client),
            "clip, local": lambda: ComputedImage(path, clip),
            "clip, cluster": lambda: ComputedImage(path, clip, client=client),
        }
        rates: dict[str, list[float]] = {name: [] for name in cases}
        tiles = 0
        for round_ in range(args.rounds + 1):
            for name, make in cases.items():
                source = make()
                rate, tiles = asyncio.run(_tiles_per_s(source))
                if isinstance(source, ComputedImage):
                    source.close()
                if round_ > 0:  # the first round warms the file cache and the workers
                    rates[name].append(rate)
        plain = statistics.median(rates["plain"])
        print(f"{args.size} x {args.size} uint16, 512 x 512 chunks, {tiles} tiles per view, "
              f"median of {args.rounds} interleaved rounds")  # fmt: skip
        for name, values in rates.items():
            median = statistics.median(values)
            print(f"   {name:20s} {median:7.1f} tiles/s   {median / plain:5.2f} x plain "
                  f"(min {min(values):.1f}, max {max(values):.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
