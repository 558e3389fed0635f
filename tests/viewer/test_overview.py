"""The minimap's picture: rendered off the loop once a view is ready, again on display changes."""

from __future__ import annotations

import asyncio
import base64
import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from simplezarr.viewer import widget as widget_module
from simplezarr.viewer.widget import Viewer

from .test_widget import message, ready

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)


def _picture(value: dict[str, Any]) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(value["png"]))).convert("RGBA"))


async def _next_overview(viewer: Viewer) -> dict[str, Any]:
    changed = asyncio.Event()

    def seen(_: Any) -> None:
        changed.set()

    viewer.observe(seen, names=["_overview"])
    try:
        await asyncio.wait_for(changed.wait(), 30)
    finally:
        viewer.unobserve(seen, names=["_overview"])
    return dict(viewer._overview)


def test_overview_shows_the_whole_image_and_follows_the_display() -> None:
    data = np.zeros((300, 600), dtype=np.uint8)
    data[:, 300:] = 255  # left half black, right half white

    async def main() -> None:
        viewer = Viewer(data, contrast_limits=[0, 255])
        viewer.send = lambda *a, **k: None
        try:
            assert viewer._overview == {}  # nothing before a view exists
            waiting = asyncio.ensure_future(_next_overview(viewer))
            message(viewer, ready("a"))
            first = await waiting
            assert first["bounds"] == [-0.5, -0.5, 299.5, 599.5]
            rgba = _picture(first)
            assert rgba.shape[1] == 256 and rgba.shape[0] == 128  # the image's aspect
            assert rgba[64, 20, :3].max() < 10 and rgba[64, 236, :3].min() > 245
            waiting = asyncio.ensure_future(_next_overview(viewer))
            viewer.invert = True
            again = _picture(await waiting)
            assert again[64, 20, :3].min() > 245 and again[64, 236, :3].max() < 10
        finally:
            viewer.close()

    asyncio.run(main())


def test_no_overview_without_a_loop() -> None:
    viewer = Viewer(np.zeros((50, 50), dtype=np.uint8))
    message(viewer, ready("a"))
    viewer.flush_now()
    assert viewer._overview == {}
    viewer.close()
