"""Tier B, the truth: the quickstart notebook in a real JupyterLab, driven by real Chromium.

Runs every cell of ``notebooks/01-quickstart.ipynb`` (a copy), then checks the
first viewer the way a person would use it: it shows tiles of the level the
screen needs, a pixel read back from the canvas is the data under the chosen
contrast, and after a drag and a wheel zoom the right tiles arrive again. No
page error may occur. Screenshots are kept (see the printed folder).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import simplezarr
from simplezarr import data
from simplezarr.utils.multiscale import MultiscaleInfo
from tests.browser._harness import expected_level
from tests.browser._servers import (
    CHROMIUM_FLAGS,
    copy_notebook,
    jupyterlab,
    require_chromium,
    screenshot_dir,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")

NOTEBOOK = "01-quickstart.ipynb"
VIEWER = ".jp-NotebookPanel .simplezarr-viewer"
FIRST_RUN_MS = 300_000  # the first run writes the demo image
WAIT_MS = 60_000


def _settled(page: Any, timeout: int = WAIT_MS) -> dict[str, str]:
    page.wait_for_function(
        f"""() => {{ const r = document.querySelector('{VIEWER}'); if (!r) return false;
        const d = r.dataset; return d.tilesPending === '0' && d.complete === '1' && Number(d.tilesDrawn) > 0; }}""",
        timeout=timeout,
    )
    return dict(page.evaluate(f"() => ({{...document.querySelector('{VIEWER}').dataset}})"))


def _world(cam: dict[str, Any], css: tuple[float, float]) -> list[float]:
    """World coordinates of the centre of CSS pixel ``css`` (y, x)."""
    return [cam["center"][k] + (css[k] + 0.5 - cam["size"][k] / 2) * cam["scale"] for k in (0, 1)]


def _bright_spot(info: MultiscaleInfo, cam: dict[str, Any]) -> tuple[float, float]:
    """A CSS position over bright tissue, near the middle of the view.

    Found from the coarsest level, so the pixel checks compare real structure,
    not the black background around the section.
    """
    s = info.scales[-1]
    values = np.asarray(s.array[:])
    h, w = cam["size"]
    best, best_d = None, np.inf
    threshold = np.percentile(values[values > 0], 75)
    for iy, ix in np.argwhere(values >= threshold):
        wy, wx = (
            s.spatial_offset[0] + iy * s.spatial_scale[0],
            s.spatial_offset[1] + ix * s.spatial_scale[1],
        )
        cy = (wy - cam["center"][0]) / cam["scale"] + h / 2
        cx = (wx - cam["center"][1]) / cam["scale"] + w / 2
        if not (80 < cy < h - 80 and 80 < cx < w - 230):
            continue  # keep clear of the edges and of where a drag will move it
        d = (cy - h / 2) ** 2 + (cx - w / 2) ** 2
        if d < best_d:
            best, best_d = (float(cy), float(cx)), d
    assert best is not None, "no tissue in view"
    return best


def _check_pixel(
    page: Any, info: MultiscaleInfo, d: dict[str, str], css: tuple[float, float]
) -> None:
    """The canvas pixel at ``css`` shows the data under it through the gray contrast."""
    cam, display = json.loads(d["camera"]), json.loads(d["display"])
    assert display["colormap"] == "gray" and display["gamma"] == 1
    url = page.evaluate(
        f"() => document.querySelector('{VIEWER} .sz-canvas').toDataURL('image/png')"
    )
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
    dpr = page.evaluate("() => window.devicePixelRatio")
    r, g, b = (int(v) for v in img[int(css[0] * dpr), int(css[1] * dpr)])
    level = info.scales[int(d["level"])]
    world = _world(cam, css)
    iy, ix = (round((world[k] - level.spatial_offset[k]) / level.spatial_scale[k]) for k in (0, 1))
    values = np.asarray(level.array[max(0, iy - 1) : iy + 2, max(0, ix - 1) : ix + 2], dtype=float)
    t = np.clip((values - display["lo"]) / (display["hi"] - display["lo"]), 0, 1)
    assert r == g == b
    assert np.floor(t.min() * 255) - 1 <= r <= np.ceil(t.max() * 255) + 1, (r, values)
    assert r > 10, f"the probe at {css} is on background ({values}): the check would prove little"


@contextlib.contextmanager
def _run_all(tmp_path: Path, name: str) -> Iterator[tuple[Any, list[str]]]:
    """A real JupyterLab with ``notebooks/NAME`` open in Chromium and "Run all" started.

    Yields the page and the list of page errors; stops browser and server after.
    """
    with jupyterlab(tmp_path) as lab, sync_api.sync_playwright() as p:
        copy_notebook(name, lab)
        browser = p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(lab.notebook_url(name))
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=WAIT_MS)
        page.wait_for_function(
            "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
            timeout=WAIT_MS,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        try:
            yield page, errors
        finally:
            browser.close()


def test_quickstart_notebook_in_jupyterlab(tmp_path: Path) -> None:
    require_chromium()
    shots = screenshot_dir()
    with _run_all(tmp_path, NOTEBOOK) as (page, errors):
        d = _settled(page, FIRST_RUN_MS)
        info = MultiscaleInfo.from_zarr_node(simplezarr.open(data.large_2d()))[0]
        dpr = page.evaluate("() => window.devicePixelRatio")
        cam = json.loads(d["camera"])
        assert int(d["level"]) == expected_level(info, cam["scale"], dpr)
        assert int(d["level"]) > 0  # fitted: a coarse level, not the 16k one
        spot = _bright_spot(info, cam)
        _check_pixel(page, info, d, spot)
        # What the notebook printed about the camera, maybe before the view was drawn, is true.
        printed = (
            page.locator(".jp-NotebookPanel .jp-Cell").nth(6).locator(".jp-OutputArea-output")
        )
        printed.first.wait_for(timeout=FIRST_RUN_MS)
        printed.first.scroll_into_view_if_needed()
        text = printed.first.text_content() or ""
        assert f"level in use: {d['level']} of {len(info.scales) - 1}" in text, text
        zoom = float(text.split("zoom:")[1].split()[0])
        assert zoom == pytest.approx(info.scales[0].spatial_scale[-1] / cam["scale"], abs=1e-4), (
            text
        )
        canvas = page.locator(f"{VIEWER} .sz-canvas").first
        canvas.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "lab-1-fit.png"))

        # Drag: the camera follows the pointer, tiles of the new area arrive.
        box = canvas.bounding_box()
        sx, sy = box["x"] + spot[1], box["y"] + spot[0]
        page.mouse.move(sx, sy)
        page.mouse.down()
        page.mouse.move(sx + 150, sy + 40, steps=8)
        page.mouse.up()
        d = _settled(page)
        moved = json.loads(d["camera"])
        assert moved["center"][1] == pytest.approx(cam["center"][1] - 150 * cam["scale"], rel=1e-3)
        assert moved["center"][0] == pytest.approx(cam["center"][0] - 40 * cam["scale"], rel=1e-3)
        spot = (spot[0] + 40, spot[1] + 150)  # the tissue moved with the pointer
        _check_pixel(page, info, d, spot)

        # Zoom in with the wheel about the tissue: a finer level, its tiles, the right pixels.
        sx, sy = box["x"] + spot[1], box["y"] + spot[0]
        page.mouse.move(sx, sy)
        before = int(d["level"])
        for _ in range(5):
            page.mouse.wheel(0, -240)
        page.wait_for_function(
            f"(l) => Number(document.querySelector('{VIEWER}').dataset.level) < l",
            arg=before,
            timeout=WAIT_MS,
        )
        d = _settled(page)
        zoomed = json.loads(d["camera"])
        assert zoomed["scale"] < moved["scale"]
        assert int(d["level"]) == expected_level(info, zoomed["scale"], dpr) < before
        _check_pixel(page, info, d, spot)
        page.screenshot(path=str(shots / "lab-2-zoomed.png"))

        # The slice-browsing viewer further down shows tiles too.
        second = page.locator(".jp-NotebookPanel .simplezarr-viewer").nth(1)
        second.scroll_into_view_if_needed()
        page.wait_for_function(
            """() => { const r = document.querySelectorAll('.jp-NotebookPanel .simplezarr-viewer')[1];
            return r && r.dataset.complete === '1' && r.dataset.tilesPending === '0'; }""",
            timeout=FIRST_RUN_MS,
        )
        # The cells stack is composited in colour, its channel panel open.
        assert second.get_attribute("data-passes") == "[0,1,2]"
        assert second.get_attribute("data-layers") == "[0,1]"  # its cell labels drawn over them
        assert json.loads(second.get_attribute("data-display"))["colormap"] == "composite"
        assert second.locator(".sz-channels-body").is_visible()
        assert second.locator(".sz-channel").count() == 3
        page.screenshot(path=str(shots / "lab-3-cells.png"))
        # And the 1e12-pixel virtual image, with tile outlines on.
        third = page.locator(".jp-NotebookPanel .simplezarr-viewer").nth(2)
        third.scroll_into_view_if_needed()
        page.wait_for_function(
            """() => { const r = document.querySelectorAll('.jp-NotebookPanel .simplezarr-viewer')[2];
            return r && r.dataset.complete === '1' && r.dataset.tilesPending === '0' && r.dataset.showTiles === '1'; }""",
            timeout=FIRST_RUN_MS,
        )
        page.screenshot(path=str(shots / "lab-4-trillion.png"))
        # Every cell ran without an error output.
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
            timeout=FIRST_RUN_MS,
        )
        error_outputs = page.locator(
            ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']"
        )
        assert error_outputs.count() == 0, error_outputs.first.inner_text()
    assert errors == [], errors
    print(f"screenshots in {shots}")


def test_pyramids_notebook_in_jupyterlab(tmp_path: Path) -> None:
    """The teaching notebook: both pyramids show, and the level label follows the viewer."""
    require_chromium()
    shots = screenshot_dir()
    with _run_all(tmp_path, "02-image-pyramids.ipynb") as (page, errors):
        for i in (0, 1):
            view = page.locator(".jp-NotebookPanel .simplezarr-viewer").nth(i)
            view.wait_for(timeout=FIRST_RUN_MS)
            view.scroll_into_view_if_needed()
            page.wait_for_function(
                """(i) => { const r = document.querySelectorAll('.jp-NotebookPanel .simplezarr-viewer')[i];
                return r && r.dataset.complete === '1' && r.dataset.tilesPending === '0'; }""",
                arg=i,
                timeout=WAIT_MS,
            )
        first = page.locator(".jp-NotebookPanel .simplezarr-viewer").first
        first.scroll_into_view_if_needed()
        assert first.get_attribute("data-show-tiles") == "1"
        level = first.get_attribute("data-level")
        # The ipywidgets Label observing viewer.level says the same level.
        page.wait_for_function(
            "(l) => [...document.querySelectorAll('.jp-NotebookPanel .widget-label')].some((e) => e.textContent.startsWith(`level ${l} of 4`))",
            arg=level,
            timeout=WAIT_MS,
        )
        page.screenshot(path=str(shots / "lab-5-pyramids.png"))
        # Zoom in: the level changes, and so does the label.
        box = first.locator(".sz-canvas").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(4):
            page.mouse.wheel(0, -240)
        page.wait_for_function(
            "(l) => document.querySelector('.jp-NotebookPanel .simplezarr-viewer').dataset.level !== l",
            arg=level,
            timeout=WAIT_MS,
        )
        new_level = first.get_attribute("data-level")
        page.wait_for_function(
            "(l) => [...document.querySelectorAll('.jp-NotebookPanel .widget-label')].some((e) => e.textContent.startsWith(`level ${l} of 4`))",
            arg=new_level,
            timeout=WAIT_MS,
        )
        page.wait_for_function(
            "() => { const d = document.querySelector('.jp-NotebookPanel .simplezarr-viewer').dataset; return d.complete === '1' && d.tilesPending === '0'; }",
            timeout=WAIT_MS,
        )
        page.screenshot(path=str(shots / "lab-6-pyramids-zoomed.png"))
        error_outputs = page.locator(
            ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']"
        )
        assert error_outputs.count() == 0, error_outputs.first.inner_text()
    assert errors == [], errors
