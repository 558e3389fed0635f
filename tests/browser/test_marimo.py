"""The viewer in a real marimo notebook (``mo.ui.anywidget``): it draws, and keys stay in it.

marimo renders an anywidget inside a shadow root and has its own shortcuts:
command mode (``Esc`` in a cell: ``a``/``b`` add cells, ``c``/``v`` copy and
paste, ``s`` saves, arrows move between cells) and global ones. Keys typed
in the viewer must do what they mean to the viewer (arrows pan the canvas,
move a slider) and nothing to the notebook.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser._servers import CHROMIUM_FLAGS, marimo_edit, require_chromium, screenshot_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")

WAIT_MS = 120_000
VIEWER = ".simplezarr-viewer"  # Playwright's CSS locators pierce marimo's shadow roots

NOTEBOOK = """
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import numpy as np
    import zarr
    import simplezarr
    from simplezarr.utils import write_multiscale

    c, z, y, x = np.mgrid[0:2, 0:8, 0:256, 0:320]
    vol = ((x * 7 + y * 3 + z * 500 + c * 900) % 4000).astype(np.uint16)
    store = zarr.storage.MemoryStore()
    write_multiscale(vol, store, axes="czyx", chunks=(1, 1, 128, 128))
    view = mo.ui.anywidget(simplezarr.Viewer(zarr.open_group(store, mode="r"), height=300))
    view
    return


@app.cell
def _():
    after = 1
    return


if __name__ == "__main__":
    app.run()
"""

KEYS = ["a", "b", "c", "v", "s", "d", "d", "x", "Escape", "Enter"]


def _cells(page: Any) -> int:
    return int(page.evaluate("() => document.querySelectorAll('.marimo-cell').length"))


def _data(page: Any) -> dict[str, str]:
    return dict(page.locator(VIEWER).first.evaluate("(e) => ({...e.dataset})"))


def test_viewer_in_marimo_draws_and_keeps_keys(tmp_path: Path) -> None:
    require_chromium()
    with marimo_edit(tmp_path, NOTEBOOK) as server, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url)
        page.get_by_test_id("run-button").last.wait_for(timeout=WAIT_MS)
        page.locator(".marimo-cell").nth(1).wait_for(timeout=WAIT_MS)
        cells = _cells(page)
        assert cells >= 2
        page.get_by_test_id("run-button").last.click()  # run all (the notebook opens stale)
        viewer = page.locator(VIEWER).first
        viewer.wait_for(timeout=WAIT_MS)
        viewer.locator(".sz-canvas").wait_for(timeout=WAIT_MS)
        page.wait_for_function(
            """() => { const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot?.querySelector('.simplezarr-viewer'));
            const d = host?.shadowRoot.querySelector('.simplezarr-viewer').dataset;
            return d && d.complete === '1' && d.tilesPending === '0' && Number(d.tilesDrawn) > 0; }""",
            timeout=WAIT_MS,
        )
        source = server.path.read_text()
        # Two channels, composited in colour, with their panel below the view.
        assert _data(page)["passes"] == "[0,1]"
        assert json.loads(_data(page)["display"])["colormap"] == "composite"

        # The canvas: arrows pan; notebook keys do nothing.
        viewer.locator(".sz-canvas").click()
        cam0 = json.loads(_data(page)["camera"])
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        for key in KEYS:
            page.keyboard.press(key)
        viewer.locator(".sz-canvas").focus()
        page.keyboard.press("ArrowRight")
        cam1 = json.loads(_data(page)["camera"])
        assert cam1["center"][1] > cam0["center"][1] and cam1["center"][0] > cam0["center"][0]

        # A slider: arrows move it.
        slider = viewer.locator("input[type=range]").first
        slider.focus()
        value = int(slider.input_value())
        page.keyboard.press("ArrowRight")
        assert int(slider.input_value()) == value + 1
        for key in KEYS:
            page.keyboard.press(key)
        page.screenshot(path=str(screenshot_dir() / "marimo-keys.png"))
        assert _cells(page) == cells
        assert server.path.read_text() == source  # `s` saved nothing, `dd`/`x` cut nothing
        browser.close()
    assert errors == [], errors
