"""The viewer under real conditions: memory over open/close cycles, and a pan storm.

Run:  .venv/bin/python benchmarks/bench_viewer_reliability.py [--cycles 50] [--storm 10000]
      (with simplezarr installed, e.g. ``pip install -e .``, or ``PYTHONPATH=.``)

1. **Open/close cycles.** ``Viewer(numpy_array)`` (3000 x 1000 uint8, a new
   array each time), one view served in plain Python (``flush_now``), then
   ``close()``; ``--cycles`` times after 10 warm-up cycles. Resident memory
   (RSS) before, at its peak and after, and the growth; the same with the
   bundle given to anywidget as a ``Path`` (how the viewer did it before: a
   callback kept per instance), measured in the same run as the baseline.

2. **Pan storm.** ``--storm`` viewport messages on
   ``simplezarr.data.virtual_fractal()`` (2**20 x 2**20, chunks computed on
   read, 10-40 ms each) sent straight into the message handler of a viewer
   made in a real asyncio loop (as in a notebook cell), one per loop turn:
   a random walk of pans and zooms. Then one final viewport; the time until
   its tiles are all sent, against a fresh viewer showing only that viewport
   (the ratio is the cost of the storm's leftovers: 1.0 means none). Sampled
   after every message: the pool's memory against its budget, and the reads
   in flight (chunks whose read has started and not finished).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from typing import Any

import numpy as np
import psutil

import simplezarr.data as demo
from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._protocol import PROTOCOL_VERSION
from simplezarr.viewer.widget import Viewer


class _PathBundleViewer(Viewer):
    """The viewer as it was: anywidget given the bundle as a ``Path`` (watched file)."""

    _esm = widget_module._ESM_PATH  # type: ignore[assignment]


def _rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def _cycle(cls: type[Viewer], seed: int) -> None:
    data = np.random.default_rng(seed).integers(0, 255, (3000, 1000), dtype=np.uint8)
    viewer = cls(data)
    viewer.send = lambda *args, **kwargs: None
    viewer._handle_message(viewer, {"type": "ready", "view": "a", "version": PROTOCOL_VERSION}, [])
    viewport = {
        "type": "viewport",
        "view": "a",
        "seq": 0,
        "center": [1500.0, 500.0],
        "scale": 4.0,
        "size": [400.0, 600.0],
        "dpr": 1.0,
        "channels": [0],
    }
    viewer._handle_message(viewer, viewport, [])
    viewer.flush_now()
    viewer.close()


def bench_cycles(cls: type[Viewer], cycles: int) -> dict[str, float]:
    for seed in range(10):
        _cycle(cls, seed)
    before = peak = _rss()
    for seed in range(cycles):
        _cycle(cls, 1000 + seed)
        peak = max(peak, _rss())
    after = _rss()
    mb = 1 / 2**20
    return {
        "before": before * mb,
        "peak": peak * mb,
        "after": after * mb,
        "growth": (after - before) * mb,
    }


def _reads_in_flight(pool: Any) -> int:
    """Reads running now: the pool's read lanes say so (private); else started futures."""
    lanes = getattr(pool, "_lanes", None)
    if lanes is not None:
        return sum(lane.in_flight for lane in {id(lane): lane for lane in lanes}.values())
    return sum(1 for c in pool.iter_chunks() if c.future.running())


def _viewport(seq: int, center: tuple[float, float], scale: float) -> dict[str, Any]:
    return {
        "type": "viewport",
        "view": "storm",
        "seq": seq,
        "center": list(center),
        "scale": scale,
        "size": [900.0, 1600.0],
        "dpr": 1.0,
        "channels": [0],
    }


async def _final_time(viewer: Viewer, seq: int, final: dict[str, Any]) -> float:
    start = time.perf_counter()
    viewer._handle_message(viewer, {**final, "seq": seq}, [])
    await asyncio.wait_for(viewer.wait_idle(), 600)
    return time.perf_counter() - start


async def bench_storm(messages: int) -> dict[str, float]:
    image = demo.virtual_fractal()
    viewer = Viewer(image)
    viewer.send = lambda *args, **kwargs: None
    viewer._handle_message(
        viewer, {"type": "ready", "view": "storm", "version": PROTOCOL_VERSION}, []
    )
    level0 = viewer.levels[0]
    pixel = level0["scale"][1]  # world units per level-0 pixel
    extent = level0["shape"][1] * pixel
    final = _viewport(0, (0.37 * extent, 0.61 * extent), 64.0 * pixel)  # level 6
    rng = np.random.default_rng(0)
    pool = viewer.pool
    budget = getattr(pool, "memory_budget", None)
    center = np.array([0.5 * extent, 0.5 * extent])
    log_scale = 8.0  # log2 of level-0 pixels per CSS pixel
    peak_memory = peak_reads = 0
    start = time.perf_counter()
    for seq in range(messages):
        scale = 2.0**log_scale * pixel
        center = np.clip(center + rng.normal(0, scale * 400, 2), 0, extent)
        log_scale = float(np.clip(log_scale + rng.normal(0, 0.3), -2, 11))
        viewer._handle_message(viewer, _viewport(seq, tuple(center), scale), [])
        await asyncio.sleep(0)  # one loop turn per message, as a kernel gives
        peak_memory = max(peak_memory, pool.memory_usage)
        peak_reads = max(peak_reads, _reads_in_flight(pool))
    storm_seconds = time.perf_counter() - start
    after_storm = await _final_time(viewer, messages, final)
    peak_memory = max(peak_memory, pool.memory_usage)
    viewer.close()

    fresh = Viewer(image)
    fresh.send = lambda *args, **kwargs: None
    fresh._handle_message(
        fresh, {"type": "ready", "view": "storm", "version": PROTOCOL_VERSION}, []
    )
    alone = await _final_time(fresh, 0, final)
    fresh.close()
    return {
        "messages/s": messages / storm_seconds,
        "final after storm (s)": after_storm,
        "final, fresh viewer (s)": alone,
        "ratio": after_storm / alone,
        "peak pool MB": peak_memory / 2**20,
        "budget MB": (budget or 0) / 2**20,
        "peak reads in flight": peak_reads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--storm", type=int, default=10_000)
    args = parser.parse_args()
    print(f"## {args.cycles} open/close cycles of Viewer(3000 x 1000 uint8), MB of RSS")
    print("| bundle | before | peak | after | growth |")
    print("|---|---|---|---|---|")
    for name, cls in [("text (now)", Viewer), ("Path (before)", _PathBundleViewer)]:
        r = bench_cycles(cls, args.cycles)
        print(
            f"| {name} | {r['before']:.0f} | {r['peak']:.0f} | {r['after']:.0f} "
            f"| {r['growth']:+.0f} |"
        )
    if args.storm > 0:
        print(f"\n## pan storm: {args.storm} viewports on virtual_fractal(), in an asyncio loop")
        for key, value in asyncio.run(bench_storm(args.storm)).items():
            print(f"- {key}: {value:.3g}")


if __name__ == "__main__":
    main()
