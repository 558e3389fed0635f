"""What one view needs, as pure data: the image's layout and the tiles of a viewport.

:func:`image_layout` reads an image's metadata once into an
:class:`ImageLayout` (which two axes are displayed, which are sliders, which
slider is the channel axis; :func:`levels_trait` and :func:`sliders_trait`
describe it to the front end); :func:`plan_tiles` turns a viewport, a level,
a slider position and the channels a view wants into the :class:`TileJob`
list of the tiles to show, centre-out, at most what the view's
:class:`ViewBudget` allows. No IO, no pool: :class:`~.tiles.TileStreamer`
does the reading and sending.

Channels: the channel axis stays a slider (``position["c"]`` is the channel
of single-channel mode) but it is not part of a tile's plane: the plane key
names the other sliders, and each tile is of one channel (its key ends in
the channel index). The chunk along the channel axis of channel ``c`` is
``c // chunk_c``, so a chunk holding several channels is one read for the
tiles of all of them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simplezarr.utils.multiscale import MultiscaleInfo

from ._defaults import slider_labels
from ._protocol import plane_key, tile_key
from .geometry import (
    Bounds,
    LevelGeometry,
    Viewport,
    chunk_bounds,
    chunk_shape,
    map_index,
    wanted_chunks,
)

__all__ = [
    "ImageLayout",
    "SliderAxis",
    "TileJob",
    "ViewBudget",
    "image_layout",
    "levels_trait",
    "plan_tiles",
    "sliders_trait",
]

logger = logging.getLogger("simplezarr")


@dataclass(frozen=True)
class SliderAxis:
    """One non-displayed axis (z, t, c, ...): level-0 ``size``, ``scale``, ``offset``."""

    name: str
    axis: int  # array axis
    type: str | None
    unit: str | None
    size: int
    scale: float
    offset: float


@dataclass(frozen=True)
class ImageLayout:
    """How an image's array axes map onto the view: displayed ``(y, x)`` and sliders.

    Built from metadata by :func:`image_layout`.
    """

    ndim: int
    y_axis: int
    x_axis: int
    levels: tuple[LevelGeometry, ...]
    sliders: tuple[SliderAxis, ...]
    # per level, per slider: (scale, offset, size, chunk)
    slider_levels: tuple[tuple[tuple[float, float, int, int], ...], ...]

    @property
    def slider_names(self) -> tuple[str, ...]:
        """The slider names, in array order."""
        return tuple(s.name for s in self.sliders)

    @property
    def channel_slider(self) -> str | None:
        """The name of the channel slider, if the image has one."""
        for s in self.sliders:
            if s.type == "channel":
                return s.name
        return None

    @property
    def channel_count(self) -> int:
        """Channels of the image: the channel slider's size, 1 without one."""
        for s in self.sliders:
            if s.type == "channel":
                return s.size
        return 1

    @property
    def plane_names(self) -> tuple[str, ...]:
        """The sliders of the plane key, in array order: every slider but the channel's."""
        return tuple(s.name for s in self.sliders if s.type != "channel")

    def default_position(self) -> dict[str, int]:
        """Where a new view starts (level-0 indices): the middle of spatial sliders (z),
        where a stack's content usually is, and the first time point and channel."""
        return {s.name: (s.size - 1) // 2 if s.type == "space" else 0 for s in self.sliders}

    def slider_indices(
        self, level: int, position: Mapping[str, int], channel: int | None = None
    ) -> tuple[int, ...]:
        """Index of ``level`` on each slider for a level-0 ``position``.

        ``channel`` (given) replaces the channel slider's position; channels
        are never resampled, so its index is the same on every level.
        """
        return tuple(
            min(max(channel, 0), size - 1)
            if channel is not None and slider.type == "channel"
            else map_index(
                position[slider.name], (slider.scale, slider.offset), (scale, offset), size
            )
            for slider, (scale, offset, size, _) in zip(
                self.sliders, self.slider_levels[level], strict=True
            )
        )

    def locate(
        self, level: int, position: Mapping[str, int], channel: int | None = None
    ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Chunk index and index inside the chunk, per slider, of a level-0 position.

        ``channel``: as in :meth:`slider_indices`.
        """
        indices = self.slider_indices(level, position, channel)
        chunks = tuple(
            i // sl[3] for i, sl in zip(indices, self.slider_levels[level], strict=True)
        )
        within = tuple(i % sl[3] for i, sl in zip(indices, self.slider_levels[level], strict=True))
        return chunks, within

    def chunk_index(
        self, chunk: tuple[int, int], slider_chunks: tuple[int, ...]
    ) -> tuple[int, ...]:
        """Full N-D chunk index from the displayed chunk ``(iy, ix)`` and the slider chunks."""
        index = [0] * self.ndim
        index[self.y_axis], index[self.x_axis] = chunk
        for slider, c in zip(self.sliders, slider_chunks, strict=True):
            index[slider.axis] = c
        return tuple(index)

    def plane_selection(self, within: tuple[int, ...]) -> tuple[int | slice, ...]:
        """Selection of the displayed plane inside a chunk's data."""
        sel: list[int | slice] = [slice(None)] * self.ndim
        for slider, i in zip(self.sliders, within, strict=True):
            sel[slider.axis] = i
        return tuple(sel)

    def channel_chunk(self, level: int) -> int:
        """Chunk length of ``level`` along the channel axis (1 without one)."""
        for slider, sl in zip(self.sliders, self.slider_levels[level], strict=True):
            if slider.type == "channel":
                return sl[3]
        return 1


def image_layout(info: MultiscaleInfo, plane: str | None = None) -> ImageLayout:
    """The :class:`ImageLayout` of an image: displayed axes and sliders.

    The displayed axes are the last two spatial axes (the last two axes when
    fewer than two are typed ``"space"``), unless ``plane`` names them: two
    axis names, the horizontal one first (``"xy"`` is the default view,
    ``"xz"`` shows x across and z down, ``"zy"`` z across and y down). Every
    other axis is a slider, in array order.
    """
    first = info.scales[0]
    ndim = len(first.shape)
    if ndim < 2:
        raise ValueError(
            f"image_layout(): image {info.name!r} has {ndim} axis; the viewer needs at least 2"
        )
    if plane is None:
        spatial = first.spatial_axes
        y_axis, x_axis = spatial[-2:] if len(spatial) >= 2 else (ndim - 2, ndim - 1)
    else:
        x_axis, y_axis = _plane_axes(info, plane)
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


def _plane_axes(info: MultiscaleInfo, plane: str) -> tuple[int, int]:
    """The array axes ``(horizontal, vertical)`` of ``plane`` (see :func:`image_layout`)."""
    names = [a.name for a in info.scales[0].axes]
    if not isinstance(plane, str):
        raise TypeError(f"Viewer(): plane must be a string like 'xz', not {plane!r}")
    parts = list(plane) if len(plane) == 2 else plane.split(",")
    if len(parts) != 2 or parts[0] == parts[1] or any(p not in names for p in parts):
        raise ValueError(
            f"Viewer(): plane {plane!r} must name two different axes of image "
            f"{info.name!r} (horizontal first), from {names!r}; e.g. 'xz'"
        )
    return names.index(parts[0]), names.index(parts[1])


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
    """One tile a view wants: key, chunk, channel, where its plane is, its place in the world."""

    key: str
    level: int
    chunk: tuple[int, int]  # along the displayed axes (iy, ix)
    channel: int
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
    channels: Sequence[int],
    *,
    margin: float,
    limit: int,
    plane: str | None = None,
    layer: int = 0,
) -> list[TileJob]:
    """The tiles of ``level`` showing ``viewport`` at ``position`` for each of ``channels``.

    Centre-out, at most ``limit`` displayed chunks (each with a tile per
    channel); see :func:`~.geometry.wanted_chunks` for which chunks and
    their order. ``channels`` are indices of the channel axis (``[0]``
    without one). ``plane`` (default: that of ``position``) and ``layer``
    go into the tile keys (a layer's tiles carry the base image's plane).
    """
    geometry = layout.levels[level]
    chunks = wanted_chunks(geometry, viewport, margin=margin, max_chunks=limit)
    if plane is None:
        plane = plane_key(layout.plane_names, position)
    located = [(c, *layout.locate(level, position, channel=c)) for c in channels]
    return [
        TileJob(
            key=tile_key(level, chunk, plane, channel, layer),
            level=level,
            chunk=chunk,
            channel=channel,
            index=layout.chunk_index(chunk, slider_chunks),
            selection=layout.plane_selection(within),
            bounds=chunk_bounds(geometry, chunk),
            shape=chunk_shape(geometry, chunk),
            plane=plane,
        )
        for chunk in chunks
        for channel, slider_chunks, within in located
    ]


class ViewBudget:
    """How many displayed chunks of each level one view may want at once.

    A displayed chunk costs one tile per wanted channel and one N-D chunk
    read per distinct channel chunk among them. At most ``max_chunks``
    tiles, and at most ``max_bytes`` of decoded data (whole N-D chunks of
    the level, so a deep z chunk counts in full); at least one displayed
    chunk. ``max_bytes`` None: no byte bound.
    """

    def __init__(self, info: MultiscaleInfo, max_chunks: int, max_bytes: int | None) -> None:
        self.max_chunks = max_chunks
        self.max_bytes = max_bytes
        self.chunk_nbytes = [
            max(1, math.prod(s.chunk_shape) * np.dtype(s.dtype).itemsize) for s in info.scales
        ]
        self._warned: set[int] = set()

    def limit(self, level: int, tiles: int = 1, reads: int = 1) -> int:
        """Most displayed chunks of ``level`` one view may want.

        ``tiles`` and ``reads``: tiles and N-D chunks per displayed chunk.
        """
        tiles, reads = max(1, tiles), max(1, reads)
        by_tiles = max(1, self.max_chunks // tiles) if self.max_chunks > 0 else 0
        if self.max_bytes is None:
            return by_tiles
        by_bytes = max(1, self.max_bytes // (self.chunk_nbytes[level] * reads))
        return max(0, min(by_tiles, by_bytes))

    def warn_cut(self, level: int, view: str, limit: int) -> None:
        """Say (once per level) that ``view`` wants more chunks of ``level`` than ``limit``."""
        if level in self._warned:
            return
        self._warned.add(level)
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
