"""Pure geometry of the tiled viewer: no zarr, no IO, no widget.

Everything here works on small frozen value objects and plain numbers, so it
can be tested exhaustively and reused by other front ends.

World coordinates follow the pixel-centre convention (see
``simplezarr/utils/multiscale.py``): along one axis, pixel ``i`` of a level
with ``scale`` s and ``offset`` o has its centre at ``o + i * s`` and covers
the world interval ``[o + (i - 0.5) * s, o + (i + 0.5) * s)``::

    level 0 (s=1, o=0)    |  0  |  1  |  2  |  3  |
                       -0.5    0.5   1.5   2.5   3.5
    level 1 (s=2, o=0.5)  |     0     |     1     |
                       -0.5          1.5         3.5

The two displayed axes are always ordered ``(y, x)``. A :class:`Viewport` is
what the front end sees: a centre in world units, a scale in world units per
CSS pixel, a size in CSS pixels and the device pixel ratio.

Level of detail: :func:`choose_level` takes the coarsest level whose pixel is
no larger than one *device* pixel along both displayed axes (so a finer level
is never read for nothing); when even level 0 is coarser than a device pixel
(zoomed in past native resolution) level 0 is used.

Wanted chunks: :func:`wanted_chunks` returns the chunks of one level that
intersect the viewport grown by a margin, ordered by the distance of their
centre to the viewport centre (centre-out), at most ``max_chunks`` of them.

Bounds: :func:`clamp_viewport` keeps a viewport's centre on the image (level
0's outer pixel edges, :func:`clamp_center`) and its scale in
:func:`scale_limits` (from 256 CSS pixels per finest level-0 pixel to 16
times the image's extent per CSS pixel, wider than the front end's own zoom
limits), so that with a bounded size every derived number stays finite and
the work stays proportional to the view, whatever a message asked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Bounds",
    "Camera",
    "LevelGeometry",
    "TileHeader",
    "Viewport",
    "choose_level",
    "chunk_bounds",
    "chunk_range",
    "chunk_shape",
    "chunks_in_view",
    "clamp_center",
    "clamp_viewport",
    "fit",
    "map_index",
    "pixel_at",
    "provisional_camera",
    "scale_limits",
    "wanted_chunks",
]

Bounds = tuple[float, float, float, float]
"""World rectangle ``(y0, x0, y1, x1)`` of outer pixel edges."""

# Relative tolerance when comparing a level's pixel size to a device pixel, so
# that zoom 1.0 at dpr 1.0 selects level 0 despite rounding in the front end.
_LEVEL_RTOL = 1e-6


@dataclass(frozen=True)
class Viewport:
    """What one view shows.

    Attributes
    ----------
    center : tuple[float, float]
        World position ``(y, x)`` at the centre of the view.
    scale : float
        World units per CSS pixel (> 0), the same along both axes.
    size : tuple[float, float]
        ``(height, width)`` of the view in CSS pixels.
    dpr : float
        Device pixels per CSS pixel (``window.devicePixelRatio``).
    """

    center: tuple[float, float]
    scale: float
    size: tuple[float, float]
    dpr: float = 1.0

    @property
    def world_per_device_pixel(self) -> float:
        """World units covered by one device pixel."""
        return self.scale / self.dpr

    @property
    def bounds(self) -> Bounds:
        """World rectangle ``(y0, x0, y1, x1)`` that the view shows."""
        hy = 0.5 * self.size[0] * self.scale
        hx = 0.5 * self.size[1] * self.scale
        cy, cx = self.center
        return (cy - hy, cx - hx, cy + hy, cx + hx)

    @property
    def is_empty(self) -> bool:
        """True when the view has no area (hidden or collapsed)."""
        return self.size[0] <= 0 or self.size[1] <= 0


@dataclass(frozen=True)
class LevelGeometry:
    """The two displayed axes ``(y, x)`` of one level.

    Attributes
    ----------
    shape : tuple[int, int]
        Pixels along y and x.
    chunk : tuple[int, int]
        Read-chunk shape along y and x.
    scale : tuple[float, float]
        World units per pixel along y and x.
    offset : tuple[float, float]
        World position of the centre of pixel ``(0, 0)``.
    """

    shape: tuple[int, int]
    chunk: tuple[int, int]
    scale: tuple[float, float]
    offset: tuple[float, float]

    @property
    def grid_shape(self) -> tuple[int, int]:
        """Number of chunks along y and x."""
        return (-(-self.shape[0] // self.chunk[0]), -(-self.shape[1] // self.chunk[1]))

    @property
    def bounds(self) -> Bounds:
        """World rectangle of the whole level (outer pixel edges)."""
        return (
            self.offset[0] - 0.5 * self.scale[0],
            self.offset[1] - 0.5 * self.scale[1],
            self.offset[0] + (self.shape[0] - 0.5) * self.scale[0],
            self.offset[1] + (self.shape[1] - 0.5) * self.scale[1],
        )


@dataclass(frozen=True)
class TileHeader:
    """Everything the front end needs to place one tile (the PNG travels beside it).

    See ``docs/architecture.md`` for the meaning of each field; ``bounds`` are
    the world coordinates of the tile's outer pixel edges, and a code ``k`` of
    the PNG stands for the data value ``value_offset + value_scale * k``.
    """

    view: str
    key: str
    level: int
    chunk: tuple[int, int]
    plane: str
    channel: int
    bounds: Bounds
    shape: tuple[int, int]
    encoding: str
    value_offset: float
    value_scale: float
    seq: int
    layer: int = 0


def choose_level(levels: Sequence[LevelGeometry], viewport: Viewport) -> int:
    """Coarsest level whose pixel is no larger than one device pixel along y and x.

    Levels are ordered finest first. When no level qualifies (zoomed in past
    level 0), returns 0.
    """
    if not levels:
        raise ValueError("choose_level(): no levels given")
    limit = viewport.world_per_device_pixel * (1.0 + _LEVEL_RTOL)
    best = 0
    for i, level in enumerate(levels):
        if level.scale[0] <= limit and level.scale[1] <= limit:
            best = i
    return best


def _axis_range(lo: float, hi: float, offset: float, scale: float, chunk: int, n: int) -> range:
    """Chunks along one axis whose pixels intersect the world interval ``[lo, hi)``."""
    # pixel i covers [offset + (i - 0.5) * scale, offset + (i + 0.5) * scale)
    p0 = max(0, math.floor((lo - offset) / scale + 0.5))
    p1 = min(n, math.ceil((hi - offset) / scale + 0.5))  # exclusive
    if p1 <= p0:
        return range(0)
    return range(p0 // chunk, -(-p1 // chunk))


def chunk_range(level: LevelGeometry, bounds: Bounds) -> tuple[range, range]:
    """Chunk indices along y and x that intersect the world rectangle ``bounds``."""
    y0, x0, y1, x1 = bounds
    ry = _axis_range(y0, y1, level.offset[0], level.scale[0], level.chunk[0], level.shape[0])
    rx = _axis_range(x0, x1, level.offset[1], level.scale[1], level.chunk[1], level.shape[1])
    return ry, rx


def _window(r: range, center: int, n: int) -> range:
    """A sub-range of ``r`` of length ``n`` around ``center``, kept inside ``r``."""
    if n >= len(r):
        return r
    start = min(max(r.start, center - n // 2), r.stop - n)
    return range(start, start + n)


def _view_ranges(level: LevelGeometry, viewport: Viewport, margin: float) -> tuple[range, range]:
    """Chunk ranges along y and x of the viewport grown by ``margin`` (empty when hidden)."""
    if viewport.is_empty:
        return range(0), range(0)
    y0, x0, y1, x1 = viewport.bounds
    my = margin * (y1 - y0)
    mx = margin * (x1 - x0)
    return chunk_range(level, (y0 - my, x0 - mx, y1 + my, x1 + mx))


def chunks_in_view(level: LevelGeometry, viewport: Viewport, *, margin: float = 0.1) -> int:
    """How many chunks of ``level`` :func:`wanted_chunks` would return without a cap."""
    ry, rx = _view_ranges(level, viewport, margin)
    return len(ry) * len(rx)


def wanted_chunks(
    level: LevelGeometry,
    viewport: Viewport,
    *,
    margin: float = 0.1,
    max_chunks: int = 1024,
) -> list[tuple[int, int]]:
    """Chunks ``(iy, ix)`` of ``level`` to show ``viewport``, centre-out.

    Parameters
    ----------
    level : LevelGeometry
        The level in use.
    viewport : Viewport
        The view.
    margin : float
        Extra band around the view on each side, as a fraction of the view's
        extent along that axis (0.1 = 10%), so that small pans find tiles ready.
    max_chunks : int
        Upper bound of the result: when more chunks intersect (a huge view of
        a level that is still large), only the window of chunks around the
        centre is kept. The cost of this function never depends on the size
        of the image.
    """
    if max_chunks <= 0:
        return []
    ry, rx = _view_ranges(level, viewport, margin)
    if not ry or not rx:
        return []
    cy, cx = viewport.center
    if len(ry) * len(rx) > max_chunks:
        ccy = math.floor((cy - level.offset[0]) / level.scale[0] + 0.5) // level.chunk[0]
        ccx = math.floor((cx - level.offset[1]) / level.scale[1] + 0.5) // level.chunk[1]
        ny = min(len(ry), max(1, math.isqrt(max_chunks)))
        nx = min(len(rx), max_chunks // ny)
        ny = min(len(ry), max_chunks // nx)
        ry, rx = _window(ry, ccy, ny), _window(rx, ccx, nx)
    sy, sx = level.scale
    oy, ox = level.offset
    hy, hx = level.chunk

    def distance(c: tuple[int, int]) -> float:
        # distance from the view centre to the chunk's centre, in world units
        my_ = oy + (c[0] * hy + 0.5 * (min(hy, level.shape[0] - c[0] * hy) - 1)) * sy
        mx_ = ox + (c[1] * hx + 0.5 * (min(hx, level.shape[1] - c[1] * hx) - 1)) * sx
        return math.hypot(my_ - cy, mx_ - cx)

    chunks = [(iy, ix) for iy in ry for ix in rx]
    chunks.sort(key=lambda c: (distance(c), c))
    return chunks


def chunk_shape(level: LevelGeometry, chunk: tuple[int, int]) -> tuple[int, int]:
    """Pixel shape ``(h, w)`` of a chunk, truncated at the edge of the level."""
    iy, ix = chunk
    h = min(level.chunk[0], level.shape[0] - iy * level.chunk[0])
    w = min(level.chunk[1], level.shape[1] - ix * level.chunk[1])
    if h <= 0 or w <= 0 or iy < 0 or ix < 0:
        raise ValueError(
            f"chunk_shape(): chunk {chunk!r} is outside the grid {level.grid_shape!r}"
        )
    return (h, w)


def chunk_bounds(level: LevelGeometry, chunk: tuple[int, int]) -> Bounds:
    """World rectangle ``(y0, x0, y1, x1)`` of the outer pixel edges of a chunk."""
    h, w = chunk_shape(level, chunk)
    py = chunk[0] * level.chunk[0]
    px = chunk[1] * level.chunk[1]
    sy, sx = level.scale
    oy, ox = level.offset
    return (
        oy + (py - 0.5) * sy,
        ox + (px - 0.5) * sx,
        oy + (py + h - 0.5) * sy,
        ox + (px + w - 0.5) * sx,
    )


def map_index(
    index: int,
    src: tuple[float, float],
    dst: tuple[float, float],
    size: int,
) -> int:
    """Map a pixel index from one level to another along one axis.

    Parameters
    ----------
    index : int
        Pixel index in the source level.
    src, dst : tuple[float, float]
        ``(scale, offset)`` of the source and destination levels along the axis.
    size : int
        Number of pixels of the destination level along the axis; the result
        is clamped to ``0 .. size - 1``.

    Returns
    -------
    int
        The destination pixel whose extent contains the centre of the source
        pixel.
    """
    world = src[1] + index * src[0]
    i = math.floor((world - dst[1]) / dst[0] + 0.5)
    return min(max(i, 0), size - 1)


def pixel_at(level: LevelGeometry, world: Sequence[float]) -> tuple[int, int] | None:
    """The pixel ``(iy, ix)`` of ``level`` whose extent holds the world point ``(y, x)``.

    ``None`` when the point is outside the level (or not finite).
    """
    out = []
    for w, o, s, n in zip(world, level.offset, level.scale, level.shape, strict=True):
        p = (float(w) - o) / s + 0.5
        if not math.isfinite(p) or not 0 <= p < n:
            return None
        out.append(min(math.floor(p), n - 1))
    return (out[0], out[1])


def fit(level: LevelGeometry, size: tuple[float, float]) -> tuple[tuple[float, float], float]:
    """Camera ``(center, scale)`` that shows the whole level in a view of ``size`` CSS px."""
    y0, x0, y1, x1 = level.bounds
    center = (0.5 * (y0 + y1), 0.5 * (x0 + x1))
    h = max(size[0], 1.0)
    w = max(size[1], 1.0)
    return center, max((y1 - y0) / h, (x1 - x0) / w)


def clamp_center(level: LevelGeometry, center: Sequence[float]) -> tuple[float, float]:
    """``center`` ``(y, x)`` moved onto the world rectangle of ``level`` (its outer edges).

    A centre on the image keeps some of it in view at any zoom (as map viewers
    do); the front end clamps its camera the same way (``js/camera.ts``).
    """
    y0, x0, y1, x1 = level.bounds
    return (min(max(float(center[0]), y0), y1), min(max(float(center[1]), x0), x1))


# Scale limits of clamp_viewport, as factors of the finest level-0 pixel and
# of the image's extent: wider than the front end's (64 and 8, js/camera.ts).
_MAX_MAGNIFICATION = 256.0
_MAX_EXTENTS_PER_PIXEL = 16.0


def scale_limits(levels: Sequence[LevelGeometry]) -> tuple[float, float]:
    """The ``(smallest, largest)`` scale a viewport may have, in world units per CSS pixel.

    From 256 CSS pixels per finest level-0 pixel (zoomed far in) to 16 times
    the image's larger world extent per CSS pixel (the image far smaller than
    a pixel).
    """
    if not levels:
        raise ValueError("scale_limits(): no levels given")
    level0 = levels[0]
    y0, x0, y1, x1 = level0.bounds
    lo = min(level0.scale) / _MAX_MAGNIFICATION
    return lo, max(lo, _MAX_EXTENTS_PER_PIXEL * max(y1 - y0, x1 - x0))


def clamp_viewport(levels: Sequence[LevelGeometry], viewport: Viewport) -> Viewport:
    """``viewport`` with its centre on the image and its scale within :func:`scale_limits`.

    Size and dpr are left alone (the protocol bounds them). A viewport that
    needs no clamping is returned as is.
    """
    lo, hi = scale_limits(levels)
    center = clamp_center(levels[0], viewport.center)
    scale = min(max(viewport.scale, lo), hi)
    if center == tuple(viewport.center) and scale == viewport.scale:
        return viewport
    return Viewport(center=center, scale=scale, size=viewport.size, dpr=viewport.dpr)


@dataclass(frozen=True)
class Camera:
    """A camera as the viewer's traits say it: ``center`` [y, x], ``zoom``, and its ``level``.

    ``zoom`` is CSS pixels per level-0 pixel along x; ``level`` the level a
    view of the size the camera was made for uses.
    """

    center: tuple[float, float]
    zoom: float
    level: int


def provisional_camera(
    levels: Sequence[LevelGeometry],
    size: tuple[float, float],
    *,
    center: Sequence[float] | None = None,
    zoom: float | None = None,
    dpr: float = 1.0,
) -> Camera:
    """The camera of a view of ``size`` CSS px before it renders.

    ``center`` default: the image centre (:func:`fit`); given, it is kept on
    the image (:func:`clamp_center`). ``zoom`` default: the zoom that fits the
    image in ``size``. ``level`` is what :func:`choose_level` picks for that
    view at ``dpr``.
    """
    level0 = levels[0]
    fit_center, fit_scale = fit(level0, size)
    scale = fit_scale if not zoom else level0.scale[1] / zoom
    lo, hi = scale_limits(levels)
    scale = min(max(scale, lo), hi)
    where = clamp_center(level0, center if center is not None else fit_center)
    level = choose_level(levels, Viewport(center=where, scale=scale, size=size, dpr=dpr))
    return Camera(center=where, zoom=level0.scale[1] / scale, level=level)
