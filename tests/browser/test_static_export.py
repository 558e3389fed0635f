"""Chromium: a notebook exported to HTML shows the viewer's picture and asks nothing off-site.

A small notebook with a viewer is executed by nbclient (which saves the
widget state in the notebook, as JupyterLab can too) and exported by
``jupyter nbconvert --to html`` with
:data:`~simplezarr.viewer._export.STATIC_EXPORT_OPTIONS`, once from the
executed notebook and once with ``--execute``. The HTML is served from
127.0.0.1 and opened in Chromium with every request that leaves 127.0.0.1
aborted and counted: none is made, and the cell shows an ``<img>`` with the
picture (the view's pixels: opaque where the image is). The plain export,
without the options, is the control: it shows no picture (the widget-view
output wins, blank without the widget's JavaScript) and asks CDNs for
scripts. Screenshots of both are kept.
"""

from __future__ import annotations

import asyncio
import base64
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from PIL import Image

from simplezarr.viewer._export import STATIC_EXPORT_OPTIONS
from tests._httpserver import serve_directory
from tests.browser._servers import CHROMIUM_FLAGS, REPO, require_chromium, screenshot_dir

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.async_api")

WAIT_MS = 30_000
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# The image: a 200 x 300 ramp, fitted into a 160 px high view (800 CSS px wide by default).
CELL = """\
import numpy as np
from simplezarr import Viewer

y, x = np.mgrid[0:200, 0:300]
v = Viewer(((x + y) % 256).astype(np.uint8), height=160, contrast_limits=(0, 255))
v
"""


def _notebook() -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _nbconvert(notebook: Path, out: Path, *options: str) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "nbconvert",
            "--to",
            "html",
            *options,
            str(notebook),
            "--output-dir",
            str(out),
        ],
        check=True,
        cwd=REPO,
        capture_output=True,
        timeout=300,
    )
    return out / (notebook.stem + ".html")


async def _open(url: str, shot: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Load ``url``; return the off-site requests (aborted) and the PNG ``<img>`` elements."""
    off_site: list[str] = []
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_FLAGS)
        page = await browser.new_page(viewport={"width": 1000, "height": 700})

        async def route(r: Any) -> None:
            if r.request.url.startswith("http://127.0.0.1:"):
                # tests/_httpserver.py answers octet-stream: say what an .html file is
                response = await r.fetch()
                headers = dict(response.headers)
                if r.request.url.endswith(".html"):
                    headers["content-type"] = "text/html; charset=utf-8"
                await r.fulfill(response=response, headers=headers)
            elif r.request.url.startswith("data:"):
                await r.continue_()
            else:
                off_site.append(r.request.url)
                await r.abort()

        await page.route("**/*", route)
        await page.goto(url, wait_until="load", timeout=WAIT_MS)
        images = await page.evaluate(
            """() => [...document.querySelectorAll('img')]
                .filter((i) => i.src.startsWith('data:image/png'))
                .map((i) => ({src: i.src, width: i.naturalWidth, height: i.naturalHeight,
                              visible: i.checkVisibility() && i.getBoundingClientRect().width > 0,
                              complete: i.complete}))"""
        )
        await page.screenshot(path=str(shot), full_page=True)
        await browser.close()
    return off_site, images


def _check_picture(image: dict[str, Any]) -> None:
    assert image["visible"] and image["complete"], image
    assert (image["width"], image["height"]) == (800, 160)
    png = base64.b64decode(image["src"].split(",", 1)[1])
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    # 300 x 200 pixels fitted into 800 x 160 CSS px: 240 x 160 in the middle, opaque.
    opaque = pixels[..., 3] == 255
    assert opaque[:, 280:520].all() and not opaque[:, :279].any() and not opaque[:, 521:].any()
    assert pixels[..., 0][opaque].std() > 30  # the ramp, not a flat fill


def test_exported_notebook_shows_the_picture_and_nothing_off_site(tmp_path: Path) -> None:
    require_chromium()
    nb = _notebook()
    NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(REPO)}}
    ).execute()
    (output,) = nb.cells[0].outputs
    assert WIDGET_VIEW in output.data and "image/png" in output.data
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert output.data[WIDGET_VIEW]["model_id"] in state  # nbclient saved the widget state
    executed = tmp_path / "executed.ipynb"
    nbformat.write(nb, executed)
    fresh = tmp_path / "fresh.ipynb"
    nbformat.write(_notebook(), fresh)

    site = tmp_path / "site"
    pages = {
        "documented": _nbconvert(executed, site, *STATIC_EXPORT_OPTIONS),
        "documented-execute": _nbconvert(fresh, site, "--execute", *STATIC_EXPORT_OPTIONS),
        "plain": _nbconvert(executed, site / "plain"),
    }
    with serve_directory(site) as served:
        for name, html in pages.items():
            url = f"{served.url}/{html.relative_to(site).as_posix()}"
            shot = screenshot_dir() / f"static-export-{name}.png"
            off_site, images = asyncio.run(_open(url, shot))
            if name == "plain":  # the control: why the options are needed
                assert images == [], "the plain export drew the picture: the options are moot"
                assert any("unpkg.com" in u for u in off_site), off_site
                assert any("cdnjs" in u for u in off_site), off_site
                continue
            assert off_site == [], off_site
            (image,) = images
            _check_picture(image)
