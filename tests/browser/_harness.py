"""Tier A harness: the real widget bundle in real Chromium, bridged to the real Viewer.

The test's asyncio loop plays the kernel's loop: the Viewer is created on it
(so its pool runs load handlers there, as in a notebook), Playwright's async
API runs on it too, and the widget's comm is bridged to the page exactly as
Jupyter carries it: ``{"method": "custom" | "update", ...}`` with binary
buffers kernel -> page (:class:`Bridge`), and ipywidgets' own ``_handle_msg``
page -> kernel. ``harness.html`` stands in for the anywidget model. Tests
wait on facts the page exposes (data attributes, :func:`settled`), never on
time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from simplezarr.utils.multiscale import MultiscaleInfo
from simplezarr.viewer.widget import Viewer
from tests.browser._servers import CHROMIUM_FLAGS, REPO, require_chromium

playwright_api = pytest.importorskip("playwright.async_api")

ROOT = ".simplezarr-viewer"
WAIT_MS = 30_000


class Bridge:
    """Carries the widget's comm traffic between the Python Viewer and the page."""

    def __init__(self, viewer: Viewer, page: Any) -> None:
        self.viewer, self.page = viewer, page
        self.outbox: asyncio.Queue[tuple[dict[str, Any], list[str]]] = asyncio.Queue()
        self.custom_sent = 0
        self.from_page: list[str] = []  # types of the custom messages the page sent
        viewer.comm.send = self._from_kernel  # type: ignore[union-attr]
        self.pump = asyncio.get_running_loop().create_task(self._deliver())

    def _from_kernel(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        if data.get("method") == "custom":
            self.custom_sent += 1
        b64 = [base64.b64encode(bytes(b)).decode() for b in (buffers or [])]
        self.outbox.put_nowait((json.loads(json.dumps(data)), b64))

    async def _deliver(self) -> None:
        while True:
            data, b64 = await self.outbox.get()
            await self.page.evaluate("([d, b]) => window.kernelMessage(d, b)", [data, b64])

    async def install(self) -> None:
        state = self.viewer.get_state()

        async def get_state() -> dict[str, Any]:
            return json.loads(json.dumps(state))

        def custom(content: str) -> None:
            self.from_page.append(str(json.loads(content).get("type")))
            self.viewer._handle_msg(
                {
                    "content": {"data": {"method": "custom", "content": json.loads(content)}},
                    "buffers": [],
                }
            )

        def update(changed: str) -> None:
            self.viewer._handle_msg(
                {
                    "content": {"data": {"method": "update", "state": json.loads(changed)}},
                    "buffers": [],
                }
            )

        await self.page.expose_function("pyGetState", get_state)
        await self.page.expose_function("pyCustom", custom)
        await self.page.expose_function("pyUpdate", update)


async def root_data(page: Any, i: int = 0) -> dict[str, str]:
    return await page.evaluate(
        f"(i) => ({{...document.querySelectorAll('{ROOT}')[i].dataset}})", i
    )


async def settled(page: Any, i: int = 0, **want: str) -> dict[str, str]:
    """Wait until view ``i`` has no tiles pending, the view is covered by tiles of the current
    plane at the level in use, and its attributes match ``want``."""
    cond = " && ".join(f"d.{k} === {json.dumps(v)}" for k, v in want.items()) or "true"
    await page.wait_for_function(
        f"""(i) => {{ const r = document.querySelectorAll('{ROOT}')[i]; if (!r) return false;
        const d = r.dataset; return d.tilesPending === '0' && d.complete === '1' && Number(d.tilesDrawn) > 0 && {cond}; }}""",
        arg=i,
        timeout=WAIT_MS,
    )
    return await root_data(page, i)


def expected_level(info: MultiscaleInfo, scale_css: float, dpr: float) -> int:
    """Coarsest level whose pixel is no larger than one device pixel, on both displayed axes."""
    per_device = scale_css / dpr
    best = 0
    for s in info.scales:
        if all(v <= per_device * (1 + 1e-6) for v in s.spatial_scale[-2:]):
            best = s.level
    return best


async def canvas_pixel(page: Any, i: int, css_yx: tuple[float, float]) -> tuple[int, int, int]:
    url = await page.evaluate(
        f"(i) => document.querySelectorAll('{ROOT} .sz-canvas')[i].toDataURL('image/png')", i
    )
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
    dpr = await page.evaluate("() => window.devicePixelRatio")
    y, x = int(css_yx[0] * dpr), int(css_yx[1] * dpr)
    return tuple(int(v) for v in img[y, x])  # type: ignore[return-value]


async def canvas(page: Any) -> np.ndarray:
    """The canvas's drawing buffer as (h, w, 3) uint8."""
    url = await page.evaluate(f"() => document.querySelector('{ROOT} .sz-canvas').toDataURL()")
    png = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@contextlib.asynccontextmanager
async def hosted(
    viewer: Viewer, width: int = 900, height: int = 520
) -> AsyncIterator[tuple[Any, Bridge, list[str]]]:
    """The harness page with one view of ``viewer``; yields (page, bridge, problems).

    ``problems`` collects page errors and every request that tried to leave
    the harness (the page must never reach the network); tests assert it is
    empty at the end.
    """
    bundle = (REPO / "simplezarr" / "static" / "widget.js").read_bytes()
    harness = (Path(__file__).parent / "harness.html").read_bytes()
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_FLAGS)
        page = await browser.new_page(viewport={"width": width, "height": height})
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        async def serve(route: Any) -> None:
            name = route.request.url.rsplit("/", 1)[-1]
            body, kind = (
                (bundle, "text/javascript") if name == "widget.js" else (harness, "text/html")
            )
            await route.fulfill(body=body, content_type=kind)

        async def refuse(route: Any) -> None:
            problems.append(f"the page tried to reach {route.request.url}")
            await route.abort()

        await page.route("**/*", refuse)
        await page.route("http://harness.test/**", serve)
        bridge = Bridge(viewer, page)
        await bridge.install()
        await page.goto("http://harness.test/harness.html")
        await page.wait_for_function("() => window.harnessReady === true")
        await page.evaluate("() => window.addView()")
        try:
            yield page, bridge, problems
        finally:
            bridge.pump.cancel()
            await browser.close()


async def until(predicate: Any) -> None:
    """Yield to the loop until ``predicate()`` holds (the loop delivers the messages it waits on)."""
    while not predicate():
        await asyncio.sleep(0)
