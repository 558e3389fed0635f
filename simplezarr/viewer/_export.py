"""Pictures of a viewer made in the kernel: ``screenshot``, ``save_png`` and the notebook's PNG.

:class:`ExportMixin` is a mixin of ``Viewer``. Everything is rendered by
:func:`~.render.render_view` from the viewer's own pool (chunks its views
hold cost nothing), with its current camera (``center``, ``zoom``; the fit
for the size when the camera is still the provisional fit), slider
``position`` and display traits, so it works without a browser:

Visible label layers are drawn over the image (:mod:`._renderlabels`);
layers added with ``add_image`` or ``add_computed`` are not.

- :meth:`ExportMixin.screenshot`: the view as an RGBA array. Missing or
  failed chunks are transparent and named in a warning (or an error with
  ``strict=True``).
- :meth:`ExportMixin.save_png`: the same as a PNG file (:mod:`.encode`),
  with the scale bar drawn as the browser draws it (:mod:`._scalebar`).
- :meth:`ExportMixin._repr_mimebundle_`: what a notebook stores for the
  cell: anywidget's bundle plus an ``image/png`` of the view as it is now,
  read from a coarse level (at most :data:`PICTURE_CHUNKS` chunks per
  channel) within :data:`PICTURE_TIMEOUT` seconds; what is not there by then
  stays transparent, silently. A live front end draws the widget; where
  there is no widget manager (a notebook exported to HTML, GitHub, a docs
  site) the PNG is what shows, provided the widget's state is not saved in
  the notebook: nbconvert draws a widget-view output whose model is in the
  notebook's ``widgets`` metadata as a widget (blank without the widget's
  JavaScript), and otherwise the next MIME type, here the PNG. See
  :data:`STATIC_EXPORT_OPTIONS`.

The size: ``size`` given, else the size the browser reported last (the most
recently active view's last ``viewport``), else ``height`` x
:data:`~.widget.DEFAULT_VIEW_WIDTH` CSS pixels.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from ._layersource import slider_mapper
from ._renderlabels import draw_label_layer
from ._scalebar import choose_scale_bar, draw_scale_bar
from .encode import encode_png
from .render import DEFAULT_MAX_CHUNKS, ChannelDisplay, DisplayState, Rendering, render_view

if TYPE_CHECKING:
    from simplezarr.utils.chunkpool import ChunkPool

    from ._layersource import LabelMetadata, LayerSource
    from ._layout import ImageLayout
    from .channels import Channel
    from .layers import Layer
    from .tiles import TileStreamer

__all__ = [
    "PICTURE_CHUNKS",
    "PICTURE_TIMEOUT",
    "STATIC_EXPORT_COMMAND",
    "STATIC_EXPORT_OPTIONS",
    "ExportMixin",
    "with_picture",
]

logger = logging.getLogger("simplezarr")

PICTURE_TIMEOUT: Final = 1.0
"""Seconds the notebook's picture (:meth:`ExportMixin._repr_mimebundle_`) waits for chunks."""

PICTURE_CHUNKS: Final = 16
"""Most chunks per channel the notebook's picture reads (a coarser level past it)."""

STATIC_EXPORT_OPTIONS: Final = (
    "--ClearMetadataPreprocessor.enabled=True",
    "--HTMLExporter.require_js_url=",
    "--HTMLExporter.mathjax_url=",
)
"""nbconvert options whose HTML shows each viewer's picture and requests nothing off-site.

``ClearMetadataPreprocessor`` (it runs after ``--execute``) drops the saved
widget state (nbclient saves it when executing; JupyterLab can save it too),
so nbconvert shows the PNG instead of an empty widget plus the widget
manager's scripts from unpkg.com; the two empty URLs stop nbconvert's own
require.js and MathJax ``<script>`` tags, which load from cdnjs for any
notebook (an empty ``src`` requests nothing). Without the first option the
output is blank; without the other two the picture shows but the page asks
cdnjs for scripts.
"""

STATIC_EXPORT_COMMAND: Final = "jupyter nbconvert --to html --execute notebook.ipynb " + " ".join(
    STATIC_EXPORT_OPTIONS
)
"""The whole command, for ``notebook.ipynb``."""

_PNG_LEVEL: Final = 3  # smallest PNG: pictures are written once


class ExportMixin:
    """``screenshot``, ``save_png`` and the notebook's picture (see the module docstring)."""

    if TYPE_CHECKING:
        _pool: ChunkPool
        _layout: ImageLayout
        _streamers: dict[str, TileStreamer]
        _sources: dict[int, LayerSource]
        _base_labels: LabelMetadata | None
        layers: list[Layer]
        _fit_pending: bool
        center: list[float]
        zoom: float
        height: int
        position: dict[str, int]
        channels: list[Channel]
        channel_mode: str
        colormap: str
        invert: bool
        nan_color: str
        unit: str

        def _current_channel(self) -> int: ...

    # -- public ----------------------------------------------------------------------------

    def screenshot(
        self,
        size: Sequence[float] | None = None,
        *,
        timeout: float | None = None,
        dpr: float = 1.0,
        strict: bool = False,
    ) -> npt.NDArray[np.uint8]:
        """The current view as RGBA pixels, rendered in the kernel as the browser draws it.

        Parameters
        ----------
        size : (width, height), optional
            In CSS pixels. Default: the size the browser reported for the
            view last, else ``height`` x ``DEFAULT_VIEW_WIDTH``.
        timeout : float, optional
            Seconds to wait for the chunks at most (default: the pool's
            read timeout).
        dpr : float
            Device pixels per CSS pixel: the array has ``size * dpr`` pixels
            and the level is chosen for them.
        strict : bool
            Raise instead of warning when chunks are missing.

        Returns
        -------
        numpy.ndarray
            ``(h, w, 4)`` uint8. Outside the image, and where a chunk failed
            or did not arrive in time, alpha is 0.

        Warns
        -----
        RuntimeWarning
            Naming the tiles left transparent (unless ``strict``).
        """
        rendering = self._render(size, dpr=dpr, timeout=timeout)
        rendering.report("Viewer.screenshot()", strict=strict)
        return rendering.rgba

    def save_png(
        self,
        path: str | os.PathLike[str],
        *,
        scale_bar: bool = True,
        size: Sequence[float] | None = None,
        timeout: float | None = None,
        dpr: float = 1.0,
        strict: bool = False,
    ) -> None:
        """Write :meth:`screenshot` to a PNG file (RGBA), with the scale bar.

        Parameters
        ----------
        path : str or path
            The file to write.
        scale_bar : bool
            Draw the scale bar bottom right, as the browser does (its
            length and label for this view's zoom).
        size, timeout, dpr, strict
            As :meth:`screenshot`.
        """
        rendering = self._render(size, dpr=dpr, timeout=timeout)
        rendering.report("Viewer.save_png()", strict=strict)
        rgba = rendering.rgba
        if scale_bar:
            spec = choose_scale_bar(rendering.scale, self.unit)
            if spec is not None:
                draw_scale_bar(rgba, spec, dpr)
        png = encode_png(rgba, level=_PNG_LEVEL)
        with open(path, "wb") as f:
            f.write(png)

    def picture_png(self, size: Sequence[float] | None = None) -> bytes | None:
        """The notebook's picture: a PNG of the view from a coarse level, or ``None``.

        Reads at most :data:`PICTURE_CHUNKS` chunks per channel and waits at
        most :data:`PICTURE_TIMEOUT` seconds; what is missing is transparent
        and not warned about. ``None`` (logged) when rendering fails.
        """
        try:
            rendering = self._render(
                size, dpr=1.0, timeout=PICTURE_TIMEOUT, max_chunks=PICTURE_CHUNKS
            )
            return encode_png(rendering.rgba, level=_PNG_LEVEL)
        except Exception:
            logger.exception("simplezarr Viewer: rendering the notebook's picture failed")
            return None

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """anywidget's bundle plus ``image/png`` of the view (see the module docstring)."""
        bundle: Any = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        return with_picture(bundle, self.picture_png)

    # -- internals -------------------------------------------------------------------------

    def _view_size(self, size: Sequence[float] | None) -> tuple[float, float]:
        """``(width, height)`` in CSS px: given, the last reported, or the default."""
        if size is not None:
            if len(size) != 2:
                raise ValueError(
                    f"Viewer.screenshot(): size must be (width, height) in CSS px, got {size!r}"
                )
            return float(size[0]), float(size[1])
        for streamer in reversed(list(self._streamers.values())):
            # The streamer keeps its view's last viewport (size is [height, width]).
            viewport = getattr(streamer, "_viewport", None)
            if viewport is not None and not viewport.is_empty:
                return float(viewport.size[1]), float(viewport.size[0])
        from .widget import DEFAULT_VIEW_WIDTH  # widget imports this module

        return DEFAULT_VIEW_WIDTH, float(self.height)

    def _display_state(self) -> DisplayState:
        return DisplayState(
            channels=tuple(
                ChannelDisplay(
                    contrast_limits=(float(c.contrast_limits[0]), float(c.contrast_limits[1])),
                    gamma=float(c.gamma),
                    color=c.color,
                    visible=bool(c.visible),
                )
                for c in self.channels
            ),
            channel_mode=self.channel_mode,
            current=self._current_channel(),
            colormap=self.colormap,
            invert=bool(self.invert),
            nan_color=self.nan_color,
        )

    def _camera_now(self) -> tuple[list[float] | None, float]:
        """Centre and zoom to render: the provisional fit is re-fitted to the size."""
        if self._fit_pending or not self.zoom:
            return None, 0.0
        return list(self.center), float(self.zoom)

    def _render(
        self,
        size: Sequence[float] | None,
        *,
        dpr: float,
        timeout: float | None,
        max_chunks: int | None = None,
    ) -> Rendering:
        center, zoom = self._camera_now()
        extra = {} if max_chunks is None else {"max_chunks": max_chunks}
        rendering = render_view(
            self._pool,
            center=center,
            zoom=zoom,
            size=self._view_size(size),
            position=dict(self.position),
            display=self._display_state(),
            dpr=dpr,
            timeout=timeout,
            layout=self._layout,
            **extra,
        )
        self._draw_label_layers(rendering, timeout, max_chunks or DEFAULT_MAX_CHUNKS)
        return rendering

    def _draw_label_layers(
        self, rendering: Rendering, timeout: float | None, max_chunks: int
    ) -> None:
        """Draw the visible label layers over the base image, bottom to top."""
        viewport = rendering.viewport
        if viewport is None:
            return
        for layer in self.layers:
            if layer.kind != "labels" or not layer.visible:
                continue
            if layer.id == 0:  # a label image opened alone: its ids, not its grey values
                rendering.rgba[...] = 0
                pool, layout, meta = self._pool, self._layout, self._base_labels
                position = dict(self.position)
            else:
                source = self._sources.get(layer.id)
                if source is None:
                    continue
                pool, layout, meta = source.pool, source.layout, source.labels
                position = slider_mapper(self._layout, layout)(dict(self.position))
            wait = timeout if timeout is not None else pool.read_timeout
            rendering.missing += draw_label_layer(
                rendering.rgba,
                pool=pool,
                layout=layout,
                viewport=viewport,
                position=position,
                colors=meta.colors if meta is not None else {},
                opacity=float(layer.opacity),
                outline=bool(layer.outline),
                timeout=float(wait) if wait is not None else 30.0,
                max_chunks=max_chunks,
            )


def with_picture(bundle: Any, picture: Callable[[], bytes | None]) -> Any:
    """A widget's MIME bundle (``data`` or ``(data, metadata)``) plus ``picture()`` as PNG.

    Shared by ``Viewer`` and ``OrthoViewer``; no picture (``None``) leaves the bundle as it is.
    """
    if bundle is None:
        return None
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, None)
    png = picture()
    if png is not None:
        data = {**data, "image/png": base64.b64encode(png).decode("ascii")}
    return data if metadata is None else (data, metadata)
