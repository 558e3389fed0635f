"""Channels in the kernel: time to the first full set of tiles, and messages on a restyle.

Run:  .venv/bin/python benchmarks/bench_channels.py [--size 4096] [--repeat 5]
      (with simplezarr installed, e.g. ``pip install -e .``, or ``PYTHONPATH=.``)

1. **First full set of tiles.** OME-Zarr images on disk (zstd, one level of
   ``--size`` x ``--size`` uint16 plus a pyramid), the same y/x size and
   chunks (512 x 512): 1 channel, 3 channels in chunks of one channel, and 3
   channels in one chunk (``c`` chunk 3). A viewer made in a real asyncio
   loop (as in a notebook cell) gets ``ready`` and one viewport of 1024 x
   1024 CSS pixels at level 0 asking for every channel; the time from that
   message until every wanted tile is sent (``await viewer.wait_idle()``),
   median of ``--repeat`` fresh viewers (the OS file cache is warm after the
   first). The same over HTTP from a real server on 127.0.0.1 answering each
   request after ``--latency`` seconds (a distant object store). The goal:
   3 channels at most 1.5 x the time of 1.

2. **Messages on a restyle.** With the 3-channel view served: every
   channel's colour, contrast limits, gamma and visibility changed from
   Python, then the whole list written by the front end (an ``update``
   message as Jupyter delivers it). Counted: custom messages sent (tiles,
   drops, status: must be 0) and state updates of ``channels``.
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

from simplezarr.utils import write_multiscale
from simplezarr.viewer._protocol import PROTOCOL_VERSION
from simplezarr.viewer.widget import Viewer
from tests._httpserver import serve_directory


def _image(path: Path, channels: int, size: int, c_chunk: int) -> Path:
    y, x = np.mgrid[:size, :size].astype(np.float32) / size
    rng = np.random.default_rng(channels * 10 + c_chunk)
    planes = []
    for c in range(channels):  # smooth structure plus noise: compresses like a micrograph
        base = np.sin(2 * np.pi * (3 + c) * x) * np.cos(2 * np.pi * (2 + c) * y)
        noise = rng.normal(0, 0.05, (size, size)).astype(np.float32)
        planes.append(((base + 1.2 + noise) * 12000).clip(0, 65535).astype(np.uint16))
    data = np.stack(planes)
    write_multiscale(
        data, path, axes="cyx", chunks={"c": c_chunk, "y": 512, "x": 512}, progress=False
    )
    return path


async def _first_full_set(source: str, channels: int) -> float:
    viewer = Viewer(source, contrast_limits=(0, 65535))  # no default-contrast read
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
         "size": [1024.0, 1024.0], "dpr": 1.0, "channels": list(range(channels))},
        [],
    )  # fmt: skip
    await viewer.wait_idle()
    elapsed = time.perf_counter() - start
    wanted = len(viewer.views["b"].wanted_keys)
    viewer.close()
    assert sent == wanted, (sent, wanted)
    return elapsed


CASES = {"1 channel": ("c1", 1, 1), "3 channels, c chunk 1": ("c3", 3, 1),
         "3 channels, c chunk 3": ("c3x", 3, 3)}  # fmt: skip


def bench_first_tiles(base: str, repeat: int) -> dict[str, float]:
    out = {}
    for name, (stem, channels, _) in CASES.items():
        source = f"{base}/{stem}.ome.zarr"
        asyncio.run(_first_full_set(source, channels))  # warm the file cache
        times = [asyncio.run(_first_full_set(source, channels)) for _ in range(repeat)]
        out[name] = statistics.median(times)
    return out


def _report(title: str, times: dict[str, float]) -> None:
    print(title)
    one = times["1 channel"]
    for name, t in times.items():
        print(f"   {name:24s} {t * 1000:7.1f} ms   {t / one:4.2f} x")


def bench_restyle(path: Path) -> tuple[int, int]:
    """Custom messages and ``channels`` state updates sent for a restyle of 3 channels."""
    viewer = Viewer(str(path), contrast_limits=(0, 65535))
    custom: list[Any] = []
    updates: list[Any] = []

    def record(data: Any = None, buffers: Any = None, **_: Any) -> None:
        (custom if data.get("method") == "custom" else updates).append(data)

    viewer.comm.send = record  # type: ignore[union-attr]
    viewer._handle_message(viewer, {"type": "ready", "view": "a", "version": PROTOCOL_VERSION}, [])
    viewer._handle_message(
        viewer,
        {"type": "viewport", "view": "a", "seq": 0, "center": [512.0, 512.0], "scale": 1.0,
         "size": [512.0, 512.0], "dpr": 1.0, "channels": [0, 1, 2]},
        [],
    )  # fmt: skip
    viewer.flush_now()
    custom.clear()
    updates.clear()
    for i, channel in enumerate(viewer.channels):
        channel.color = ["#ff8000", "#00ffff", "#ffffff"][i]
        channel.contrast_limits = [100.0 * i, 20000.0 + i]
        channel.gamma = 0.7
        channel.visible = i != 1
    state = viewer.get_state()["channels"]
    for entry in state:
        entry["contrast_limits"] = [5.0, 5000.0]
        entry["visible"] = True
    viewer._handle_msg(
        {"content": {"data": {"method": "update", "state": {"channels": state},
                              "buffer_paths": []}}, "buffers": []}
    )  # fmt: skip
    n_custom = len(custom)
    n_updates = sum("channels" in m.get("state", {}) for m in updates if m["method"] == "update")
    viewer.close()
    return n_custom, n_updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for stem, channels, c_chunk in CASES.values():
            _image(folder / f"{stem}.ome.zarr", channels, args.size, c_chunk)
        what = f"{args.size}^2 uint16, chunks 512, 1024 x 1024 CSS px at level 0"
        local = bench_first_tiles(tmp, args.repeat)
        _report(f"first full set of tiles, local disk ({what}):", local)
        with serve_directory(folder, latency=args.latency) as served:
            remote = bench_first_tiles(served.url.rstrip("/"), args.repeat)
        _report(
            f"first full set of tiles, HTTP with {args.latency * 1000:.0f} ms latency:", remote
        )
        n_custom, n_updates = bench_restyle(folder / "c3.ome.zarr")
        print("restyle (12 changes from Python, one list from the front end):")
        print(f"   custom messages (tiles, drops, status): {n_custom}")
        print(f"   'channels' state updates sent: {n_updates}")


if __name__ == "__main__":
    main()
