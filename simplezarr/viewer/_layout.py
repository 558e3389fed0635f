"""What one view needs, as pure data: the image's layout and the tiles of a viewport.

:func:`image_layout` reads an image's metadata once into an
:class:`~.geometry.ImageLayout` (which two axes are displayed, which are
sliders; :func:`levels_trait` and :func:`sliders_trait` describe it to the
front end); :func:`plan_tiles` turns a viewport, a level and a slider position
into the :class:`TileJob` list of the tiles to show, centre-out, at most what
the view's :class:`ViewBudget` allows. No IO, no pool:
:class:`~.tiles.TileStreamer` does the reading and sending.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simplezarr.utils.multiscale import MultiscaleInfo

from ._defaults import slider_labels
from ._protocol import plane_key, tile_key
from .geometry import (
    Bounds,
    ImageLayout,
    LevelGeometry,
    SliderAxis,
    Viewport,
    chunk_bounds,
    chunk_shape,
    wanted_chunks,
)

__all__ = [
    "TileJob",
    "ViewBudget",
    "image_layout",
    "levels_trait",
    "plan_tiles",
    "sliders_trait",
]

logger = logging.getLogger("simplezarr")


def image_layout(info: MultiscaleInfo) -> ImageLayout:
    """The :class:`~.geometry.ImageLayout` of an image: displayed axes and sliders.

    The displayed axes are the last two spatial axes (the last two axes when
    fewer than two are typed ``"space"``); every other axis is a slider, in
    array order.
    """
    first = info.scales[0]
    ndim = len(first.shape)
    if ndim < 2:
        raise ValueError(
            f"image_layout(): image {info.name!r} has {ndim} axis; the viewer needs at least 2"
        )
    spatial = first.spatial_axes
    y_axis, x_axis = spatial[-2:] if len(spatial) >= 2 else (ndim - 2, ndim - 1)
    levels = tuple(
        LevelGeometry(
            shape=(s.shape[y_axis], s.shape[x_axis]),
            chunk=(s.chunk_shape[y_axis], s.chunk_shape[x_axis]),
            scale=(float(s.scale[y_axis]), float(s.scale[x_axis])),
            offset=(float(s.offset[y_axis]), float(s.offset[x_axis])),
        )
        for s in info.scales
    )
    others = [a for a in range(ndim) if a not in (y_axis, x_axis)]
    sliders = tuple(
        SliderAxis(
            name=first.axes[a].name,
            axis=a,
            type=first.axes[a].type,
            unit=first.axes[a].unit,
            size=first.shape[a],
            scale=float(first.scale[a]),
            offset=float(first.offset[a]),
        )
        for a in others
    )
    slider_levels = tuple(
        tuple(
            (float(s.scale[a]), float(s.offset[a]), s.shape[a], s.chunk_shape[a]) for a in others
        )
        for s in info.scales
    )
    return ImageLayout(ndim, y_axis, x_axis, levels, sliders, slider_levels)


def levels_trait(layout: ImageLayout) -> list[dict[str, Any]]:
    """The viewer's ``levels`` trait: per level ``shape``, ``scale``, ``offset``, ``chunk``."""
    return [
        {
            "shape": list(g.shape),
            "scale": list(g.scale),
            "offset": list(g.offset),
            "chunk": list(g.chunk),
        }
        for g in layout.levels
    ]


def sliders_trait(layout: ImageLayout, info: MultiscaleInfo) -> list[dict[str, Any]]:
    """The viewer's ``sliders`` trait: one dict per non-displayed axis, in array order."""
    return [
        {
            "name": s.name,
            "type": s.type or "",
            "unit": s.unit or "",
            "size": s.size,
            "scale": s.scale,
            "offset": s.offset,
            "labels": slider_labels(info, s.type, s.size),
        }
        for s in layout.sliders
    ]


@dataclass(frozen=True, eq=False)
class TileJob:
    """One tile a view wants: its key, chunk, where its plane is, and its place in the world."""

    key: str
    level: int
    chunk: tuple[int, int]  # along the displayed axes (iy, ix)
    index: tuple[int, ...]  # the full N-D chunk index
    selection: tuple[int | slice, ...]  # the displayed plane inside the chunk's data
    bounds: Bounds
    shape: tuple[int, int]
    plane: str


def plan_tiles(
    layout: ImageLayout,
    viewport: Viewport,
    level: int,
    position: Mapping[str, int],
    *,
    margin: float,
    limit: int,
) -> list[TileJob]:
    """The tiles of ``level`` showing ``viewport`` at ``position``: centre-out, at most ``limit``.

    See :func:`~.geometry.wanted_chunks` for which chunks and their order.
    """
    geometry = layout.levels[level]
    chunks = wanted_chunks(geometry, viewport, margin=margin, max_chunks=limit)
    plane = plane_key(layout.slider_names, position)
    slider_chunks, within = layout.locate(level, position)
    selection = layout.plane_selection(within)
    return [
        TileJob(
            key=tile_key(level, chunk, plane),
            level=level,
            chunk=chunk,
            index=layout.chunk_index(chunk, slider_chunks),
            selection=selection,
            bounds=chunk_bounds(geometry, chunk),
            shape=chunk_shape(geometry, chunk),
            plane=plane,
        )
        for chunk in chunks
    ]


class ViewBudget:
    """How many chunks of each level one view may want at once.

    At most ``max_chunks``, and at most ``max_bytes`` of decoded data (whole
    N-D chunks of the level, so a deep z chunk counts in full); at least one
    chunk. ``max_bytes`` None: no byte bound.
    """

    def __init__(self, info: MultiscaleInfo, max_chunks: int, max_bytes: int | None) -> None:
        self.max_chunks = max_chunks
        self.max_bytes = max_bytes
        self.chunk_nbytes = [
            max(1, math.prod(s.chunk_shape) * np.dtype(s.dtype).itemsize) for s in info.scales
        ]
        self._warned: set[int] = set()

    def limit(self, level: int) -> int:
        """Most chunks of ``level`` one view may want."""
        if self.max_bytes is None:
            return max(0, self.max_chunks)
        by_bytes = max(1, self.max_bytes // self.chunk_nbytes[level])
        return max(0, min(self.max_chunks, by_bytes))

    def warn_cut(self, level: int, view: str) -> None:
        """Say (once per level) that ``view`` wants more chunks of ``level`` than allowed."""
        if level in self._warned:
            return
        self._warned.add(level)
        limit = self.limit(level)
        logger.warning(
            "simplezarr viewer: view %s wants more than %d chunks of level %d (%.1f MB each): "
            "serving the %d nearest its centre (max_tiles %d, memory budget per view %s)",
            view,
            limit,
            level,
            self.chunk_nbytes[level] / 1e6,
            limit,
            self.max_chunks,
            "none" if self.max_bytes is None else f"{self.max_bytes / 1e6:.0f} MB",
        )
