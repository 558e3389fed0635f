"""The steps of ``bench_browser.py``: one JupyterLab page per notebook run, and what it measures.

Each ``*_page`` function writes a small notebook into the server's root, opens
it in a new Chromium page (the left sidebar collapsed), waits for an idle
kernel, injects ``_browser_page.PAGE_JS``, starts "Run All" and measures;
then closes the page and shuts every kernel down through the server's REST
API, so each run starts from a fresh kernel. A page is one ``step``: when a
wait times out or anything fails, the step is reported with the stage it was
in and the benchmark goes on with the next page.

Results go into a `Samples` (per figure, values and baselines of every run).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _browser_page import PAGE_JS, arm, pace, pan, wait_done
from PIL import Image

import simplezarr
from simplezarr import data
from simplezarr.utils.multiscale import MultiscaleInfo
from simplezarr.viewer.encode import encode_tile
from tests.browser._servers import CHROMIUM, CHROMIUM_FLAGS, REPO, JupyterLab, screenshot_dir
from tests.browser.test_jupyterlab import VIEWER, _settled

__all__ = [
    "Context",
    "Samples",
    "cells_page",
    "encode_bound",
    "jump_page",
    "png_page",
    "step",
    "viewer_page",
]

CANVAS = f"{VIEWER} .sz-canvas"
MAIN_VIEWPORT = (1280, 1000)
IDLE = """() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel
  ?.status === 'idle'"""
RUN_ALL = """() => { const t = performance.now();
  window.jupyterapp.commands.execute('notebook:run-all-cells'); return t; }"""
EXECUTE = """(code) => { window.jupyterapp.shell.currentWidget.sessionContext.session.kernel
  .requestExecute({ code }); }"""
VIEW_PICTURE = f"""() => {{ const r = document.querySelector('{VIEWER}');
  return r !== null && r.dataset.complete === '1' && Number(r.dataset.tilesDrawn) > 0; }}"""
PNG_PICTURE = """() => {
  const i = document.querySelector('.jp-NotebookPanel .jp-OutputArea-output img');
  return i !== null && i.src ? i : null; }"""
WHEEL_DELTA = 240  # CSS px per notch: exp(0.48) = 1.62x (js/interaction.ts WHEEL_ZOOM 0.002)
WHEEL_HZ = 20.0


@dataclass
class Samples:
    """Per figure: the values and baselines of every run, and the steps that failed."""

    value: dict[str, list[float]] = field(default_factory=dict)
    baseline: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, key: str, value: float | None = None, baseline: float | None = None) -> None:
        """Record one run's value and/or baseline of figure ``key``."""
        for store, x in ((self.value, value), (self.baseline, baseline)):
            if x is not None:
                if not (math.isfinite(x) and x > 0):
                    raise RuntimeError(f"Samples.add(): {key} measured {x!r}")
                store.setdefault(key, []).append(x)


class _Stage:
    """Where a step is: printed as it goes, named when the step fails."""

    def __init__(self, name: str) -> None:
        self.name, self.stage = name, "start"

    def at(self, stage: str) -> None:
        self.stage = stage
        print(f"   . {stage}", flush=True)


@contextlib.contextmanager
def step(samples: Samples, name: str) -> Iterator[_Stage]:
    """Print the step; a failure or timeout is reported with its stage, and the run goes on."""
    print(f"-- {name}", flush=True)
    t0 = time.monotonic()
    stage = _Stage(name)
    try:
        yield stage
    except Exception as err:  # a failed step is reported; the benchmark goes on
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        text = f"{name} / {stage.stage}: {type(err).__name__}: {first}"
        samples.failures.append(text)
        print(f"   FAILED {text}", flush=True)
    else:
        print(f"   ok ({time.monotonic() - t0:.1f} s)", flush=True)


@dataclass
class Context:
    """What every step needs: options, the server, the browser, the data, and what was learnt."""

    args: Any
    lab: JupyterLab
    browser: Any
    large: Path
    cells: Path
    cells_view: tuple[int, int]  # (width, height) CSS px of the z-scrubbing view
    count: int = 0
    pans: int = 0
    png: Path | None = None
    final_camera: dict[str, Any] | None = None
    scrub_level: dict[int, int] = field(default_factory=dict)

    @classmethod
    def make(cls, args: Any, lab: JupyterLab, playwright: Any, tmp: Path) -> Context:
        """Write (or reuse) the demo images and launch Chromium."""
        print("-- demo images (written once into the data cache)", flush=True)
        large = data.large_2d(size=2048 if args.quick else 8192, dtype="uint16", progress=False)
        shape = (8, 256, 256) if args.quick else (64, 1024, 1024)
        cells = data.cells_3d(shape=shape, progress=False)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        view = (960, 540) if args.quick else (1920, 1080)
        return cls(args, lab, browser, large, cells, view)

    @property
    def timeout_ms(self) -> float:
        return float(self.args.timeout) * 1000

    def describe(self) -> dict[str, Any]:
        """Facts about the run, for the report."""
        return {"chromium": self.browser.version, "large_2d": str(self.large),
                "cells_3d": str(self.cells), "scrub_view": list(self.cells_view)}  # fmt: skip

    def close(self) -> None:
        self.browser.close()

    def notebook(self, stem: str, cells: list[str]) -> str:
        """Write a notebook of code ``cells`` into the server's root; its name."""
        self.count += 1
        name = f"{stem}-{self.count}.ipynb"
        nb = {
            "cells": [
                {"cell_type": "code", "execution_count": None, "id": f"c{i}",
                 "metadata": {}, "outputs": [], "source": src}
                for i, src in enumerate(cells)
            ],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5,
        }  # fmt: skip
        (self.lab.root / name).write_text(json.dumps(nb))
        return name


def _quickstart_viewer_cell() -> str:
    """The quickstart notebook's viewer cell (``viewer = simplezarr.Viewer(path, ...)``)."""
    nb = json.loads((REPO / "notebooks" / "01-quickstart.ipynb").read_text())
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and "simplezarr.Viewer(path" in src:
            return src
    raise RuntimeError(
        "_quickstart_viewer_cell(): no `simplezarr.Viewer(path` cell in 01-quickstart"
    )


def _shutdown_kernels(lab: JupyterLab) -> None:
    """Delete every session (and its kernel) through the server's REST API."""
    auth = {"Authorization": f"token {lab.token}"}
    with urllib.request.urlopen(
        urllib.request.Request(f"{lab.url}/api/sessions", headers=auth), timeout=30
    ) as r:
        sessions = json.load(r)
    for s in sessions:
        req = urllib.request.Request(
            f"{lab.url}/api/sessions/{s['id']}", headers=auth, method="DELETE"
        )
        urllib.request.urlopen(req, timeout=60).close()


@contextlib.contextmanager
def _page(
    ctx: Context, samples: Samples, name: str, viewport: tuple[int, int], css: str = ""
) -> Iterator[Any]:
    """Notebook ``name`` open in a new page with an idle kernel and the instruments."""
    page = ctx.browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(ctx.timeout_ms)
    try:
        # A workspace of its own: JupyterLab would reopen (and start kernels for) older notebooks.
        url = f"{ctx.lab.url}/lab/workspaces/{Path(name).stem}/tree/{name}?token={ctx.lab.token}"
        page.goto(url, timeout=ctx.timeout_ms)
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=ctx.timeout_ms)
        page.wait_for_function(IDLE, timeout=ctx.timeout_ms)
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        if css:
            page.add_style_tag(content=css)
        page.evaluate(PAGE_JS)
        yield page
    except Exception:
        shot = screenshot_dir() / f"bench-{Path(name).stem}.png"
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shot), timeout=10_000)
            print(f"   screenshot of the failed page: {shot}", flush=True)
        raise
    finally:
        page.close()
        _shutdown_kernels(ctx.lab)
        if errors:
            samples.failures.append(f"page errors in {name}: {errors[:3]}")
            print(f"   page errors: {errors[:3]}", flush=True)


def _first_picture(ctx: Context, page: Any, predicate: str) -> float:
    """Seconds from "Run All" to the frame after ``predicate`` first holds."""
    arm(page, "picture", predicate, next_frame=True)
    t0 = float(page.evaluate(RUN_ALL))
    return (wait_done(page, "picture", ctx.timeout_ms) - t0) / 1000


def _settle(ctx: Context, page: Any) -> dict[str, Any]:
    """Wait until the view is complete with nothing pending; its camera and level."""
    d = _settled(page, int(ctx.timeout_ms))
    return {"camera": json.loads(d["camera"]), "level": int(d["level"])}


def _canvas_box(page: Any) -> dict[str, float]:
    canvas = page.locator(CANVAS).first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    if box is None:
        raise RuntimeError("_canvas_box(): the viewer's canvas is not displayed")
    return dict(box)


def _pan_pair(ctx: Context, page: Any, samples: Samples, prefix: str, viewer_first: bool) -> None:
    """The viewer and the empty canvas dragged the same way, in the given order."""
    box = _canvas_box(page)

    def viewer() -> dict[str, float]:
        out = pan(page, CANVAS, VIEWER, box, seconds=ctx.args.drag_seconds, hz=ctx.args.move_hz)
        _settle(ctx, page)
        return out

    def empty() -> dict[str, float]:
        page.evaluate("(b) => window.__szb.emptyCanvas(b.x, b.y, b.width, b.height)", box)
        try:
            return pan(
                page, "#szb-empty", None, box, seconds=ctx.args.drag_seconds, hz=ctx.args.move_hz
            )
        finally:
            page.evaluate("() => window.__szb.removeEmptyCanvas()")

    if viewer_first:
        v, e = viewer(), empty()
    else:
        e, v = empty(), viewer()
    for name in ("fps", "moves", "p95"):
        samples.add(f"{prefix}_{name}", value=v[name], baseline=e[name])


def _viewer_notebook(ctx: Context) -> str:
    return ctx.notebook(
        "viewer", [f"import simplezarr\n\npath = {str(ctx.large)!r}", _quickstart_viewer_cell()]
    )


def _write_png(ctx: Context, size: tuple[int, int], tmp: Path) -> Path:
    """A picture of the fitted image the size of the view (CSS px, [h, w]), as an 8-bit PNG."""
    info = MultiscaleInfo.from_zarr_node(simplezarr.open(str(ctx.large)))[0]
    h, w = size
    side = min(h, w)
    level = next(s for s in reversed(info.scales) if min(s.shape[-2:]) >= side)
    values = np.asarray(level.array[:], dtype=np.float64)
    lo, hi = np.percentile(values, [0.5, 99.5])
    gray = (np.clip((values - lo) / max(hi - lo, 1e-9), 0, 1) * 255).astype(np.uint8)
    canvas = Image.new("L", (w, h))
    canvas.paste(Image.fromarray(gray).resize((side, side)), ((w - side) // 2, (h - side) // 2))
    path = tmp / "view.png"
    canvas.save(path)
    return path


def png_page(ctx: Context, tag: str, samples: Samples) -> None:
    """First-picture baseline: Run All to a static PNG of the view's size."""
    with step(samples, f"{tag}: PNG notebook (first-picture baseline)") as s:
        if ctx.png is None:
            raise RuntimeError("png_page(): the view's size is unknown (no viewer page ran)")
        name = ctx.notebook(
            "png", ["from IPython.display import Image", f"Image(filename={str(ctx.png)!r})"]
        )
        with _page(ctx, samples, name, MAIN_VIEWPORT) as page:
            s.at("Run All to the PNG")
            samples.add("first_picture", baseline=_first_picture(ctx, page, PNG_PICTURE))


def viewer_page(ctx: Context, tag: str, samples: Samples, *, full: bool = True) -> None:
    """First picture; pan at fit; wheel zoom to level 0; pan at level 0 (quickstart's cell)."""
    with step(samples, f"{tag}: viewer notebook") as s:
        with _page(ctx, samples, _viewer_notebook(ctx), MAIN_VIEWPORT) as page:
            s.at("Run All to the full picture")
            first = _first_picture(ctx, page, VIEW_PICTURE)
            fit = _settle(ctx, page)
            if ctx.png is None:
                ctx.png = _write_png(ctx, tuple(fit["camera"]["size"]), ctx.lab.root)
            if not full:
                return
            samples.add("first_picture", value=first)
            ctx.pans += 1
            viewer_first = ctx.pans % 2 == 1  # interleaved: the other order in the next run
            s.at("pan at fit, viewer and empty canvas")
            _pan_pair(ctx, page, samples, "pan_fit", viewer_first)
            s.at("wheel zoom to level 0")
            samples.add("zoom_detail", value=_wheel_zoom(ctx, page))
            zoomed = _settle(ctx, page)
            ctx.final_camera = zoomed["camera"]
            if zoomed["level"] != 0:
                raise RuntimeError("viewer_page(): the wheel zoom did not reach level 0")
            s.at("pan at level 0, viewer and empty canvas")
            _pan_pair(ctx, page, samples, "pan_l0", not viewer_first)


def _level0_pixel(ctx: Context) -> float:
    info = MultiscaleInfo.from_zarr_node(simplezarr.open(str(ctx.large)))[0]
    return float(info.scales[0].spatial_scale[-1])


def _wheel_zoom(ctx: Context, page: Any) -> float:
    """Seconds from the first wheel notch to the frame after level 0 is complete."""
    cam = _settle(ctx, page)["camera"]
    notches = math.ceil(math.log(cam["scale"] / _level0_pixel(ctx)) / (WHEEL_DELTA * 0.002))
    box = _canvas_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.evaluate("(s) => window.__szb.reset(s)", CANVAS)
    arm(
        page,
        "crisp",
        f"""() => {{ const d = document.querySelector('{VIEWER}').dataset;
        return window.__szb.counts.wheel >= {notches}
          && d.level === '0' && d.complete === '1'; }}""",
        next_frame=True,
    )
    t0 = time.perf_counter()
    for k in range(notches):
        page.mouse.wheel(0, -WHEEL_DELTA)
        pace(t0 + (k + 1) / WHEEL_HZ)
    t1 = wait_done(page, "crisp", ctx.timeout_ms)
    return (t1 - float(page.evaluate("() => window.__szb.first.wheel"))) / 1000


def jump_page(ctx: Context, tag: str, samples: Samples) -> None:
    """Zoom baseline: the zoomed view's level-0 tiles fetched and drawn, nothing else going on."""
    with step(
        samples, f"{tag}: viewer notebook, one jump to the zoomed view (zoom baseline)"
    ) as s:
        cam = ctx.final_camera
        if cam is None:
            raise RuntimeError("jump_page(): no zoomed camera (the wheel zoom step failed)")
        with _page(ctx, samples, _viewer_notebook(ctx), MAIN_VIEWPORT) as page:
            s.at("Run All to the full picture (not counted)")
            _first_picture(ctx, page, VIEW_PICTURE)
            _settle(ctx, page)
            s.at("jump to the zoomed camera")
            scale = float(cam["scale"])
            same = f"""const d = document.querySelector('{VIEWER}').dataset;
                const c = JSON.parse(d.camera || 'null');
                const same = c !== null && Math.abs(c.scale - {scale!r}) <= 1e-6 * {scale!r};"""
            arm(page, "jumped", f"() => {{ {same} return same; }}", next_frame=False)
            crisp = "same && d.level === '0' && d.complete === '1'"
            arm(page, "crisp", f"() => {{ {same} return {crisp}; }}", next_frame=True)
            zoom = _level0_pixel(ctx) / scale
            code = (
                "with viewer.hold_sync():\n"
                f"    viewer.center = {list(cam['center'])!r}\n"
                f"    viewer.zoom = {zoom!r}\n"
            )
            page.evaluate(EXECUTE, code)
            t0 = wait_done(page, "jumped", ctx.timeout_ms)
            t1 = wait_done(page, "crisp", ctx.timeout_ms)
            samples.add("zoom_detail", baseline=(t1 - t0) / 1000)


def cells_page(ctx: Context, tag: str, samples: Samples, channels: int) -> None:
    """z-scrubbing: ArrowRight held on the z slider, planes drawn complete per second."""
    mode = "single" if channels == 1 else "composite"
    width, height = ctx.cells_view
    with step(samples, f"{tag}: cells notebook, z-scrub, {channels} channel(s)") as s:
        name = ctx.notebook("cells", [
            f"import simplezarr\n\npath = {str(ctx.cells)!r}",
            f"viewer = simplezarr.Viewer(path, height={height}, channel_mode={mode!r})\nviewer",
        ])  # fmt: skip
        css = f".jp-NotebookPanel .simplezarr-viewer {{ width: {width}px; }}"
        viewport = (width + 280, height + 320)
        with _page(ctx, samples, name, viewport, css) as page:
            s.at("Run All to the full picture (not counted)")
            _first_picture(ctx, page, VIEW_PICTURE)
            _settle(ctx, page)
            slider = f"{VIEWER} input[aria-label='z index']"
            s.at("z to 0")
            page.focus(slider)
            page.keyboard.press("Home")
            start = page.evaluate(f"() => document.querySelector('{VIEWER}').dataset.plane")
            arm(page, "start", _plane_complete(start), next_frame=False)
            wait_done(page, "start", ctx.timeout_ms)
            ctx.scrub_level[channels] = _settle(ctx, page)["level"]
            s.at("hold the step keys on the z slider")
            steps = int(page.evaluate(f'() => document.querySelector("{slider}").max'))
            page.evaluate(f"() => window.__szb.logPlanes('{VIEWER}')")
            page.evaluate("(s) => window.__szb.reset(s)", slider)
            index, key = 0, "ArrowRight"
            repeats = max(2, round(ctx.args.scrub_seconds * ctx.args.key_hz))
            t0 = time.perf_counter()
            for k in range(repeats):  # each repeat waits for the page to take the previous one
                page.keyboard.down(key)
                index += 1 if key == "ArrowRight" else -1
                if index in (0, steps):  # at an end of the stack: the other key, back through it
                    page.keyboard.up(key)
                    key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
                pace(t0 + (k + 1) / float(ctx.args.key_hz))
                if time.perf_counter() - t0 > ctx.args.timeout:
                    raise TimeoutError(f"cells_page(): {k + 1} of {repeats} key repeats taken")
            page.keyboard.up(key)
            # The plane the slider ended on (the view may still be on an earlier one: moves
            # wait for the plane on screen to complete, js/planepacer.ts).
            value = page.evaluate(f'() => document.querySelector("{slider}").value')
            end = re.sub(r"(^|,)z=\d+", rf"\g<1>z={int(value)}", start)
            arm(page, "end", _plane_complete(end), next_frame=False)
            wait_done(page, "end", ctx.timeout_ms)
            planes = page.evaluate("() => window.__szb.stopPlanes()")
            first_key = float(page.evaluate("() => window.__szb.first.keydown"))
            last_key = float(page.evaluate("() => window.__szb.last.keydown"))
            held = [float(t) for _, t in planes if first_key <= float(t) <= last_key]
            if not held:
                raise RuntimeError("cells_page(): no plane drawn complete while keys were held")
            seconds = (last_key - first_key) / 1000
            samples.add(f"scrub_{channels}ch", value=len(held) / seconds)
            print(
                f"   {len(held)} planes drawn complete while {repeats} key repeats were held "
                f"({seconds:.2f} s); the last plane complete "
                f"{(float(planes[-1][1]) - last_key) / 1000:.2f} s after the last key",
                flush=True,
            )


def _plane_complete(plane: str) -> str:
    return f"""() => {{ const d = document.querySelector('{VIEWER}').dataset;
        return (d.completePlane ?? (d.complete === '1' ? d.plane : null)) === {json.dumps(plane)};
    }}"""


def encode_bound(ctx: Context, channels: int) -> float:
    """Planes/s the kernel can encode: every tile of a plane at the scrub's level, on 2 threads.

    The view is fitted and holds the whole image, so it wants every chunk of
    the level; the data is read first (this is the encoding alone), best of 3.
    """
    level = ctx.scrub_level.get(channels, 0)
    info = MultiscaleInfo.from_zarr_node(simplezarr.open(str(ctx.cells)))[0]
    arr = info.scales[level].array
    ch, cw = arr.chunks[-2:]
    depth = arr.shape[-3]
    zs = sorted({round(i * (depth - 1) / 7) for i in range(8)})
    values = np.asarray(arr[:channels, zs])
    h, w = values.shape[-2:]
    tiles = [
        np.ascontiguousarray(values[c, i, y : y + ch, x : x + cw])
        for i in range(len(zs))
        for c in range(channels)
        for y in range(0, h, ch)
        for x in range(0, w, cw)
    ]
    best = math.inf
    with ThreadPoolExecutor(2) as pool:
        for _ in range(3):
            t0 = time.perf_counter()
            list(pool.map(encode_tile, tiles))
            best = min(best, time.perf_counter() - t0)
    return len(zs) / best
