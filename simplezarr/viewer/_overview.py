"""The minimap's picture: the whole image, rendered in the kernel, as the ``_overview`` trait.

The front end's minimap (``js/minimap.ts``) shows a small picture of the
whole image with the view outlined. The picture is drawn here by
:func:`~.render.render_view` (the browser's compositing, contrast and
colours) from the coarsest level that fits :data:`OVERVIEW_PX` pixels, at
most :data:`OVERVIEW_CHUNKS` chunks per channel, and published as
``{"png": base64, "bounds": [y0, x0, y1, x1]}`` (world units, level 0's outer
pixel edges).

When: after the first view says ``ready``, and after any change of what it
shows (a channel's colour, contrast, gamma or visibility, the channel mode,
colormap, invert, NaN colour, the slider position). Only in a notebook (a
running loop): one render at a time on the viewer's encode threads, never
on the loop; changes while one runs ask for one more afterwards (so at most
two per burst of changes). Its reads wait at most the pool's read timeout;
a failure is logged and leaves the last picture. Without a loop there is no
browser to show it, and nothing is rendered.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, Final

from .encode import encode_png
from .render import DisplayState, render_view

__all__ = ["OVERVIEW_CHUNKS", "OVERVIEW_PX", "OverviewPublisher"]

logger = logging.getLogger("simplezarr")

OVERVIEW_PX: Final = 256
"""Longest side of the overview picture, in pixels."""

OVERVIEW_CHUNKS: Final = 16
"""Most chunks per channel the overview reads (a coarser level past it)."""


class OverviewPublisher:
    """Renders the overview off the loop and hands it to ``publish`` on the loop."""

    def __init__(
        self,
        viewer: Any,
        *,
        call_soon: Callable[..., Any] | None,
        executor: Executor | None,
        publish: Callable[[dict[str, Any]], None],
    ) -> None:
        self._viewer = viewer
        self._call_soon = call_soon
        self._executor = executor
        self._publish = publish
        self._running = False
        self._again = False
        self._wanted = False  # a view exists: pictures are worth making
        self._closed = False

    @property
    def busy(self) -> bool:
        """A render runs, or one more is due after it."""
        return self._running or self._again

    def start(self) -> None:
        """A view is there: render now (and on every later change)."""
        self._wanted = True
        self.request()

    def request(self) -> None:
        """Render again (on the loop thread); coalesced while one render runs."""
        if self._closed or not self._wanted or self._executor is None:
            return
        if self._running:
            self._again = True
            return
        viewer = self._viewer
        try:
            display: DisplayState = viewer._display_state()
            position = dict(viewer.position)
            layout = viewer._layout
            pool = viewer._pool
        except Exception:
            logger.exception("simplezarr Viewer: reading the display for the overview failed")
            return
        self._running = True
        try:
            future = self._executor.submit(_render, pool, layout, position, display)
        except RuntimeError:  # the executor is shut down: the viewer is closing
            self._running = False
            return
        future.add_done_callback(self._finished)

    def _finished(self, future: Future[dict[str, Any] | None]) -> None:
        call_soon = self._call_soon
        if call_soon is None:
            return
        try:
            call_soon(self._land, future)
        except RuntimeError:
            pass  # the loop is closed

    def _land(self, future: Future[dict[str, Any] | None]) -> None:
        self._running = False
        if self._closed:
            return
        try:
            value = future.result()
        except Exception:
            logger.exception("simplezarr Viewer: rendering the overview failed")
            value = None
        if value is not None:
            self._publish(value)
        if self._again:
            self._again = False
            self.request()

    def close(self) -> None:
        """Render nothing more, and let go of the viewer.

        A render still running holds this publisher (its Future's callback);
        dropping the viewer here keeps that from keeping a closed viewer alive.
        """
        self._closed = True
        self._viewer = None
        self._publish = _ignore
        self._call_soon = None


def _ignore(value: dict[str, Any]) -> None:
    """What a closed publisher does with a picture that lands late."""


def _render(
    pool: Any, layout: Any, position: dict[str, int], display: DisplayState
) -> dict[str, Any] | None:
    """The overview trait's value: the whole image at most OVERVIEW_PX wide (on a worker)."""
    level0 = layout.levels[0]
    (sy, sx), (oy, ox), (h, w) = level0.scale, level0.offset, level0.shape
    bounds = [oy - sy / 2, ox - sx / 2, oy + (h - 0.5) * sy, ox + (w - 0.5) * sx]
    extent_y, extent_x = bounds[2] - bounds[0], bounds[3] - bounds[1]
    k = OVERVIEW_PX / max(extent_y, extent_x)
    size = (max(1.0, round(extent_x * k)), max(1.0, round(extent_y * k)))
    rendering = render_view(
        pool,
        center=None,
        zoom=0.0,
        size=size,
        position=position,
        display=display,
        max_chunks=OVERVIEW_CHUNKS,
        layout=layout,
    )
    png = encode_png(rendering.rgba, level=3)
    return {"png": base64.b64encode(png).decode("ascii"), "bounds": bounds}
