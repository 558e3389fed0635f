"""Speed as the user feels it: the viewer in a real JupyterLab, in real Chromium (issue #13).

Run from the repository root (the front-end bundle built: ``npm run build``):

    .venv/bin/python benchmarks/bench_browser.py [--runs 5] [--json out.json]
    .venv/bin/python benchmarks/bench_browser.py --quick      # 1 run, small images, short drags

Each figure is measured against a baseline measured in the same run, the
physical limit on this machine; runs are interleaved (figure and baseline in
alternating order) and each figure is given as median (min) of ``--runs``,
with the ratio of the medians. Every time is read in the page with
``performance.now()`` (``_browser_page.py``); a JupyterLab page and a fresh
kernel for each notebook run (``tests/browser/_servers.py``):

1. **First picture**: "Run All" to the first frame after the viewer shows
   the full picture (``data-complete``) of an 8192 x 8192 uint16 pyramid
   (``simplezarr.data.large_2d``) with the quickstart notebook's viewer cell,
   against "Run All" to a static PNG of the view's size shown with
   ``IPython.display.Image`` (what any picture costs here). Goal <= 1.3x.
2. **Zoom to detail**: the first wheel notch (about the view's centre, one
   notch every 50 ms until zoom >= 1) to the frame after the view shows
   level 0 complete, against the same level-0 view reached in one jump
   (``center`` and ``zoom`` set from the kernel in another fresh page) from
   the frame with the new camera to the frame after level 0 is complete.
3. **Pan** at fit and at level 0: a drag in circles (``page.mouse`` moves at
   ``--move-hz``): page frame rate (mean fps and p95 frame time from a
   ``requestAnimationFrame`` loop) and moves shown per second (changes of the
   view's drawn camera), against a plain WebGL ``<canvas>`` of the same size
   laid over the view in the same page, dragged the same way. Goals: at fit
   >= 0.9x of the empty canvas; p95 <= 20 ms at level 0.
4. **z-scrubbing**: the z slider of ``simplezarr.data.cells_3d`` in a
   1920 x 1080 view, a step key held for ``--scrub-seconds`` (key repeat at
   ``--key-hz``; ArrowRight, and ArrowLeft back from the end of the stack):
   new planes drawn complete per second while the keys are held (a
   ``data-complete-plane`` change), one channel (``channel_mode="single"``)
   and three composited, against the kernel's encode bound measured in this
   process (the tiles of a plane encoded on 2 threads, the viewer's
   ``encode_threads``). Goals: >= 30 and >= 15 planes/s.

Every wait has a timeout (``--timeout``); a step that fails or times out is
reported by name and the run goes on; JupyterLab and Chromium are always
stopped. Input is paced to a fixed rate with ``time.sleep`` (the stimulus, not
a wait for a result).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_browser_steps import (
    Context,
    Samples,
    cells_page,
    encode_bound,
    jump_page,
    png_page,
    step,
    viewer_page,
)

from tests.browser._servers import CHROMIUM, jupyterlab

__all__ = ["FIGURES", "main", "run"]


@dataclass(frozen=True)
class Figure:
    """One line of the report: a figure, its baseline and its goal."""

    key: str
    title: str
    unit: str
    baseline: str
    goal: str
    met: Callable[[float, float], bool] | None  # (value, ratio) -> goal met


FIGURES = [
    Figure("first_picture", "First picture: Run All to the full view", "s",
           "Run All to a static PNG (IPython.display.Image)", "<= 1.3x",
           lambda v, r: r <= 1.3),
    Figure("zoom_detail", "Zoom: first wheel notch to crisp level 0", "s",
           "the same level-0 view in one jump", "-", None),
    Figure("pan_fit_fps", "Pan at fit: mean fps", "fps", "empty canvas", ">= 0.9x",
           lambda v, r: r >= 0.9),
    Figure("pan_fit_moves", "Pan at fit: moves shown/s", "1/s", "empty canvas", ">= 0.9x",
           lambda v, r: r >= 0.9),
    Figure("pan_fit_p95", "Pan at fit: p95 frame time", "ms", "empty canvas", "-", None),
    Figure("pan_l0_fps", "Pan at level 0: mean fps", "fps", "empty canvas", "-", None),
    Figure("pan_l0_moves", "Pan at level 0: moves shown/s", "1/s", "empty canvas", "-", None),
    Figure("pan_l0_p95", "Pan at level 0: p95 frame time", "ms", "empty canvas", "<= 20 ms",
           lambda v, r: v <= 20),
    Figure("scrub_1ch", "z-scrub, 1 channel: planes complete/s", "1/s",
           "kernel encode bound", ">= 30/s", lambda v, r: v >= 30),
    Figure("scrub_3ch", "z-scrub, 3 channels composited: planes complete/s", "1/s",
           "kernel encode bound", ">= 15/s", lambda v, r: v >= 15),
]  # fmt: skip


def _summary(samples: Samples) -> list[dict[str, Any]]:
    rows = []
    for f in FIGURES:
        vs, bs = samples.value.get(f.key, []), samples.baseline.get(f.key, [])
        v = statistics.median(vs) if vs else math.nan
        b = statistics.median(bs) if bs else math.nan
        ratio = v / b if b and not math.isnan(b) and not math.isnan(v) else math.nan
        met = None if f.met is None or math.isnan(v) else bool(f.met(v, ratio))
        rows.append({
            "key": f.key, "figure": f.title, "unit": f.unit, "value": v,
            "value_min": min(vs) if vs else math.nan, "values": vs,
            "baseline_name": f.baseline, "baseline": b,
            "baseline_min": min(bs) if bs else math.nan, "baselines": bs,
            "ratio": ratio, "goal": f.goal, "met": met,
        })  # fmt: skip
    return rows


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown table: figure, value, baseline, ratio, goal, met?"""
    lines = [
        "| figure | value: median (min) | baseline: median (min) | ratio | goal | met? |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = {None: "-", True: "yes", False: "**no**"}[r["met"]]
        lines.append(
            f"| {r['figure']} | {_fmt(r['value'])} {r['unit']} ({_fmt(r['value_min'])}) "
            f"| {r['baseline_name']}: {_fmt(r['baseline'])} {r['unit']} "
            f"({_fmt(r['baseline_min'])}) | {_fmt(r['ratio'])}x | {r['goal']} | {met} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the benchmark; the summary rows and facts about the run."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"bench_browser: {CHROMIUM} is missing (./dev setup installs chromium)")
    samples = Samples()
    meta: dict[str, Any] = {"runs": args.runs, "quick": args.quick, "cpus": os.cpu_count(),
                            "load_before": os.getloadavg()}  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="bench_browser-") as tmp,
        jupyterlab(Path(tmp)) as lab,
        sync_playwright() as p,
    ):
        ctx = Context.make(args, lab, p, Path(tmp))
        try:
            meta.update(ctx.describe())
            view, scrub = args.only in (None, "view"), args.only in (None, "scrub")
            if view and not args.quick:
                warm = Samples()
                viewer_page(ctx, "warm-up (not counted)", warm, full=False)
                png_page(ctx, "warm-up (not counted)", warm)
                samples.failures += warm.failures
            for i in range(args.runs):
                tag = f"run {i + 1}/{args.runs}"
                first, second = (viewer_page, png_page) if i % 2 == 0 else (png_page, viewer_page)
                if view:
                    first(ctx, tag, samples)
                    second(ctx, tag, samples)
                    jump_page(ctx, tag, samples)
                if not scrub:
                    continue
                for channels in (1, 3):
                    cells_page(ctx, tag, samples, channels)
                with step(samples, f"{tag}: kernel encode bound"):
                    for channels in (1, 3):
                        key = f"scrub_{channels}ch"
                        samples.add(key, baseline=encode_bound(ctx, channels))
        finally:
            ctx.close()
    meta["load_after"] = os.getloadavg()
    meta["failures"] = samples.failures
    return _summary(samples), meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs (default 5)")
    parser.add_argument("--quick", action="store_true", help="1 run, small images, short drags")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per wait")
    parser.add_argument("--drag-seconds", type=float, default=3.0, help="length of each drag")
    parser.add_argument("--move-hz", type=float, default=120.0, help="pointer moves per second")
    parser.add_argument("--key-hz", type=float, default=60.0, help="key repeats per second")
    parser.add_argument(
        "--scrub-seconds", type=float, default=5.0, help="how long the step keys are held"
    )
    parser.add_argument(
        "--only", choices=["view", "scrub"], help="only the 2D viewer's figures, or z-scrubbing"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.drag_seconds = 1, min(args.drag_seconds, 0.6)
        args.scrub_seconds = min(args.scrub_seconds, 0.5)
    rows, meta = run(args)
    print()
    print(table(rows))
    print(
        f"\n{meta['cpus']} cores; load average before {meta['load_before'][0]:.2f}, "
        f"after {meta['load_after'][0]:.2f}; {len(meta['failures'])} failed step(s)"
    )
    for text in meta["failures"]:
        print(f"   {text}")
    if args.json is not None:
        args.json.write_text(json.dumps({"meta": meta, "figures": rows}, indent=1))
        print(f"numbers in {args.json}")
    return 1 if meta["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
