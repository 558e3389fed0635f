"""Orthogonal views of a 3D image: xy, xz and zy side by side, one pool, one crosshair.

:class:`OrthoViewer` is an :class:`ipywidgets.GridBox` of three
:class:`~simplezarr.viewer.Viewer` widgets of the same image::

    xy | zy        (zy shares xy's y axis: z runs across)
    ---+---
    xz |           (xz shares xy's x axis: z runs down)

Each is an ordinary viewer with ``plane=`` set (pixels at their physical
aspect, so anisotropic voxels look right). The three are made from one
opened :class:`~simplezarr.utils.MultiscaleInfo`, so the pool registry
(:mod:`._registry`) gives them one pool: a chunk read for one view serves
every view that needs it.

The point: :attr:`OrthoViewer.point` is a world position ``{z, y, x}``. Each
view shows the plane through it (its ``position`` on the third axis) and a
crosshair at it (the ``crosshair`` trait, ``[vertical, horizontal]`` in world
units). A click or drag in one view moves the crosshair there; the kernel
then moves the others' planes and crosshairs. Moving a view's slider moves
the point along that axis too. A guard stops the echo of the views' own
updates.

Where no kernel runs (an HTML export, GitHub), the cell shows
:meth:`OrthoViewer.picture_png`: the three views' own notebook pictures in
the same grid.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import ipywidgets
import numpy as np
import traitlets

from simplezarr._open import open as open_source
from simplezarr.utils.multiscale import MultiscaleInfo

from ._export import PICTURE_CHUNKS, PICTURE_TIMEOUT, with_picture
from ._source import pick_image
from .encode import encode_png
from .widget import DEFAULT_VIEW_WIDTH, Viewer

__all__ = ["OrthoViewer"]

logger = logging.getLogger("simplezarr")

_GAP = 4  # pixels between the views in the notebook's picture (the grid's gap)


class OrthoViewer(ipywidgets.GridBox):
    """Three orthogonal views (xy, xz, zy) of a 3D image, linked by a crosshair.

    Parameters
    ----------
    source : str, path, store, zarr node, numpy array or MultiscaleInfo
        A multiscale image with at least three spatial axes.
    image : int or str
        Which image when the source holds several.
    storage_options : dict, optional
        For a URL source (fsspec options).
    point : mapping, optional
        The starting world position ``{"z": ..., "y": ..., "x": ...}``;
        default the centre of the image.
    height : int
        Height of each view in CSS pixels.
    **viewer_kwargs
        Passed to every :class:`Viewer` (``colormap``, ``channel_mode``,
        ``memory``, ...).

    Attributes
    ----------
    xy, xz, zy : Viewer
        The three views (horizontal axis first).
    """

    point = traitlets.Dict()

    def __init__(
        self,
        source: Any,
        *,
        image: int | str = 0,
        storage_options: dict[str, Any] | None = None,
        point: Mapping[str, float] | None = None,
        height: int = 360,
        **viewer_kwargs: Any,
    ) -> None:
        if isinstance(source, MultiscaleInfo):
            info = source
        else:
            node = open_source(source, storage_options=storage_options)
            info = pick_image(MultiscaleInfo.from_zarr_node(node), image, source)
        first = info.scales[0]
        spatial = first.spatial_axes
        if len(spatial) < 3:
            raise ValueError(
                f"OrthoViewer(): image {info.name!r} has {len(spatial)} spatial axes "
                f"({[first.axes[a].name for a in spatial]!r}); orthogonal views need three"
            )
        z, y, x = (first.axes[a].name for a in spatial[-3:])
        self._axes = (z, y, x)
        self._index = {name: spatial[-3:][i] for i, name in enumerate((z, y, x))}
        self._scale = {n: float(first.scale[a]) for n, a in self._index.items()}
        self._offset = {n: float(first.offset[a]) for n, a in self._index.items()}
        self._size = {n: int(first.shape[a]) for n, a in self._index.items()}
        kwargs = {"height": height, **viewer_kwargs}
        self.xy = Viewer(info, plane=f"{x}{y}", **kwargs)
        self.xz = Viewer(info, plane=f"{x}{z}", **kwargs)
        self.zy = Viewer(info, plane=f"{z}{y}", **kwargs)
        # Which world axes each view shows as [vertical, horizontal], and its slider axis.
        self._views: tuple[tuple[Viewer, tuple[str, str], str], ...] = (
            (self.xy, (y, x), z),
            (self.xz, (z, x), y),
            (self.zy, (y, z), x),
        )
        self._busy = False
        start = {n: self._world(n, (self._size[n] - 1) / 2) for n in (z, y, x)}
        start.update({k: float(v) for k, v in (point or {}).items() if k in start})
        super().__init__(
            children=[self.xy, self.zy, self.xz],
            layout=ipywidgets.Layout(
                grid_template_columns="1fr 1fr",
                grid_template_areas='"xy zy" "xz ."',
                grid_gap="4px",
                width="100%",
            ),
        )
        self.xy.layout.grid_area = "xy"
        self.zy.layout.grid_area = "zy"
        self.xz.layout.grid_area = "xz"
        self.point = start
        for viewer, _, _ in self._views:
            viewer.observe(self._on_crosshair, names=["crosshair"])
            viewer.observe(self._on_position, names=["position"])

    # -- coordinates --------------------------------------------------------------

    def _world(self, axis: str, index: float) -> float:
        return self._offset[axis] + index * self._scale[axis]

    def _plane(self, axis: str, world: float) -> int:
        scale = self._scale[axis] or 1.0
        index = round((world - self._offset[axis]) / scale)
        return min(max(index, 0), self._size[axis] - 1)

    # -- the point ------------------------------------------------------------------

    @traitlets.validate("point")
    def _validate_point(self, proposal: dict[str, Any]) -> dict[str, float]:
        value = dict(proposal["value"])
        missing = [a for a in self._axes if a not in value]
        if missing:
            raise traitlets.TraitError(
                f"OrthoViewer.point: {value!r} lacks {missing!r} (needs {list(self._axes)!r})"
            )
        # Snapped to plane centres, so every view shows the plane the cross is on.
        return {a: self._world(a, self._plane(a, float(value[a]))) for a in self._axes}

    @traitlets.observe("point")
    def _on_point(self, change: dict[str, Any]) -> None:
        point = change["new"]
        self._busy = True
        try:
            for viewer, (vertical, horizontal), across in self._views:
                viewer.position = {**viewer.position, across: self._plane(across, point[across])}
                viewer.crosshair = [point[vertical], point[horizontal]]
        finally:
            self._busy = False

    def _find(self, owner: Any) -> tuple[Viewer, tuple[str, str], str]:
        return next(v for v in self._views if v[0] is owner)

    def _on_crosshair(self, change: dict[str, Any]) -> None:
        if self._busy or len(change["new"]) != 2:
            return
        _, (vertical, horizontal), _ = self._find(change["owner"])
        wy, wx = change["new"]
        self.point = {**self.point, vertical: wy, horizontal: wx}

    def _on_position(self, change: dict[str, Any]) -> None:
        if self._busy:
            return
        _, _, across = self._find(change["owner"])
        index = change["new"].get(across)
        if index is not None:
            self.point = {**self.point, across: self._world(across, int(index))}

    # -- the notebook's picture ------------------------------------------------------

    def picture_png(self) -> bytes | None:
        """A PNG of the three views in their grid (xy | zy over xz), or ``None``.

        What a notebook shows where no kernel runs (an HTML export, GitHub):
        each view as :meth:`Viewer.picture_png` draws it (a coarse level,
        bounded chunks and time), half the default view width each.
        """
        try:
            width, height = DEFAULT_VIEW_WIDTH / 2, float(self.xy.height)
            parts = [
                v._render(
                    (width, height), dpr=1.0, timeout=PICTURE_TIMEOUT, max_chunks=PICTURE_CHUNKS
                )
                for v in (self.xy, self.zy, self.xz)
            ]
            h, w = parts[0].rgba.shape[:2]
            out = np.zeros((2 * h + _GAP, 2 * w + _GAP, 4), dtype=np.uint8)
            for part, (y, x) in zip(parts, ((0, 0), (0, w + _GAP), (h + _GAP, 0)), strict=True):
                ph, pw = part.rgba.shape[:2]
                out[y : y + ph, x : x + pw] = part.rgba
            return encode_png(out, level=3)
        except Exception:
            logger.exception("simplezarr OrthoViewer: rendering the notebook's picture failed")
            return None

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget's bundle plus ``image/png`` of the three views."""
        return with_picture(super()._repr_mimebundle_(**kwargs), self.picture_png)

    def close(self) -> None:
        """Close the three views (and their shared pool when no one else uses it)."""
        for viewer, _, _ in getattr(self, "_views", ()):
            viewer.close()
        super().close()
