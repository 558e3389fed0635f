"""A view rendered in the kernel: RGBA pixels drawn as the browser draws them.

:func:`render_view` turns a camera (centre and zoom, as the viewer's traits
hold them), a size in CSS pixels, a device pixel ratio, the slider position
and the display state (:class:`DisplayState`) into an ``(h, w, 4)`` uint8
RGBA array, reading chunks through a :class:`~simplezarr.utils.ChunkPool`.
No browser is involved; ``Viewer.screenshot()`` and ``Viewer.save_png()``
(:mod:`._export`) and the picture a notebook keeps are made with it.

The same pixels as the browser (``js/renderer.ts``, ``js/layer.ts``):

- **Level**: :func:`~.geometry.choose_level`, the rule the front end's
  ``chooseLevel`` uses (the coarsest level whose pixel is at most one device
  pixel), then coarser while the view would need more than ``max_chunks``
  chunks of it.
- **Values**: each chunk's plane goes through :func:`~.encode.to_codes`,
  exactly what a tile carries, and is decoded as the shader decodes it
  (``value = value_offset + value_scale * code``; a ``u16`` NaN mark).
- **Sampling**: a tile covers the device pixels whose centres lie in its
  world rectangle. Magnified, a pixel takes its texel (nearest); minified (a
  device pixel spans more than 1.01 texels along an axis) it is the
  area-weighted mean of the texels under a box as wide as its footprint
  rounded up to whole texels (1 to 4), texel indices clamped to the tile, as
  the fragment shader does.
- **Colour**: ``t = clamp((value - lo) / (hi - lo), 0, 1) ** (1 / gamma)``
  (a step at ``hi`` when ``hi <= lo``), entry ``round(255 t)``. Single
  channel: that entry of the colormap's table (:mod:`._colormaps`, the same
  tables as the browser's), reversed by ``invert``. Composite: each visible
  channel adds ``round(colour * entry / 255)`` per byte, clipped at 255 (the
  browser's channel framebuffer added onto the canvas).
- **NaN** (float data): ``nan_color``, or nothing when it is
  ``"transparent"`` (a composite channel then adds nothing there).

What the browser paints that is not data is left transparent (alpha 0):
outside the image (the browser's dark grey), and inside it where a chunk is
not there: not loaded within ``timeout``, or failed. Those chunks are named in
:attr:`Rendering.missing`; :meth:`Rendering.report` warns about them or
raises. The browser may show a coarser level there meanwhile; a rendering
uses one level only.

Reads: the chunks are got from the pool under a ref of the rendering's own
(so a chunk a view holds or the pool caches costs nothing), waited for at
most ``timeout`` seconds in all, and dropped after. Called on the kernel's
loop thread (a notebook cell), the wait is bounded by ``timeout``.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

from simplezarr.utils.chunkpool import ChunkLocation, ChunkPool

from ._colormaps import colormap_lut, hex_rgb
from ._defaults import NAN_TRANSPARENT
from ._layout import ImageLayout, TileJob, image_layout, plan_tiles
from .encode import to_codes
from .geometry import Viewport, choose_level, chunks_in_view, fit

__all__ = ["DEFAULT_MAX_CHUNKS", "ChannelDisplay", "DisplayState", "Rendering", "render_view"]

DEFAULT_MAX_CHUNKS: Final = 1024
"""Most chunks (per channel) one rendering reads; past it a coarser level is used."""

_DEFAULT_TIMEOUT: Final = 30.0  # when the pool has no read timeout
_MINIFIED: Final = 1.01  # footprint (texels per device pixel) above which the box filter runs
_MAX_BOX: Final = 4  # widest box, in texels
_counter = itertools.count()
_T = TypeVar("_T")


@dataclass(frozen=True)
class ChannelDisplay:
    """How one channel is drawn: its window, gamma, colour and visibility."""

    contrast_limits: tuple[float, float]
    gamma: float = 1.0
    color: str = "#ffffff"
    visible: bool = True


@dataclass(frozen=True)
class DisplayState:
    """What the viewer's display traits say (``channels``, ``channel_mode``, ...).

    Attributes
    ----------
    channels : tuple of ChannelDisplay
        One per channel of the image.
    channel_mode : str
        ``"composite"`` (visible channels added, each a black-to-colour
        ramp) or ``"single"``; one channel is always drawn single.
    current : int
        The channel single mode shows.
    colormap, invert, nan_color
        As the viewer's traits.
    """

    channels: tuple[ChannelDisplay, ...]
    channel_mode: str = "single"
    current: int = 0
    colormap: str = "gray"
    invert: bool = False
    nan_color: str = NAN_TRANSPARENT

    @property
    def composite(self) -> bool:
        """Whether channels are added (``js/channels.ts isComposite``)."""
        return self.channel_mode == "composite" and len(self.channels) > 1

    def passes(self) -> list[int]:
        """The channels drawn, in order (``js/channels.ts framePasses``)."""
        if not self.composite:
            return [min(max(self.current, 0), len(self.channels) - 1)] if self.channels else []
        return [i for i, c in enumerate(self.channels) if c.visible]


@dataclass
class Rendering:
    """The result of :func:`render_view`.

    Attributes
    ----------
    rgba : numpy.ndarray
        ``(h, w, 4)`` uint8, device pixels.
    level : int
        The level drawn.
    scale : float
        World units per CSS pixel of the camera drawn.
    missing : list of str
        Tiles not drawn, as ``"<tile key>: <reason>"``.
    viewport : Viewport or None
        The camera drawn (what layers drawn over it use).
    """

    rgba: npt.NDArray[np.uint8]
    level: int
    scale: float
    missing: list[str] = field(default_factory=list)
    viewport: Viewport | None = None

    def report(self, where: str, *, strict: bool = False) -> None:
        """Warn about :attr:`missing` tiles (naming them), or raise ``RuntimeError``."""
        if not self.missing:
            return
        shown = "; ".join(self.missing[:8]) + ("; ..." if len(self.missing) > 8 else "")
        text = (
            f"{where}: {len(self.missing)} tile(s) of level {self.level} are transparent "
            f"in the picture: {shown}"
        )
        if strict:
            raise RuntimeError(text)
        warnings.warn(text, RuntimeWarning, stacklevel=3)


def _camera(
    layout: ImageLayout, center: Sequence[float] | None, zoom: float, size: tuple[float, float]
) -> tuple[tuple[float, float], float]:
    """Centre and scale (world units per CSS px) of a camera; zoom 0 or no centre fits."""
    level0 = layout.levels[0]
    fit_center, fit_scale = fit(level0, (size[1], size[0]))
    scale = level0.scale[1] / zoom if zoom > 0 and math.isfinite(zoom) else fit_scale
    c = fit_center if center is None else (float(center[0]), float(center[1]))
    return c, scale


def pick_level(layout: ImageLayout, viewport: Viewport, max_chunks: int) -> int:
    level = choose_level(layout.levels, viewport)
    while (
        level + 1 < len(layout.levels)
        and chunks_in_view(layout.levels[level], viewport, margin=0.0) > max_chunks
    ):
        level += 1
    return level


def axis_texels(
    n_out: int, origin: float, step: float, lo: float, hi: float, texels: int
) -> tuple[slice, npt.NDArray[np.float64], float]:
    """Along one axis: the device pixels a tile covers, their texel coordinates, the footprint.

    Device pixel ``i`` has its centre at world ``origin + (i + 0.5) * step``
    (``step``: world units per device pixel); the tile spans ``[lo, hi)`` in
    ``texels`` texels. Returns the slice of covered pixels, their coordinate
    ``u`` in texels (texel ``k`` spans ``[k, k + 1)``) and the texels per
    device pixel.
    """
    i0 = max(0, math.ceil((lo - origin) / step - 0.5))
    i1 = min(n_out, math.ceil((hi - origin) / step - 0.5))
    per_texel = (hi - lo) / texels
    if i1 <= i0:
        return slice(0, 0), np.zeros(0), step / per_texel
    centres = origin + (np.arange(i0, i1, dtype=np.float64) + 0.5) * step
    u: npt.NDArray[np.float64] = (centres - lo) / per_texel
    return slice(i0, i1), u, step / per_texel


def _box(
    u: npt.NDArray[np.float64], footprint: float, texels: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """``(n, 5)`` texel indices (clamped to the tile) and weights of the shader's box filter."""
    width = min(max(math.ceil(footprint - 0.01), 1), _MAX_BOX)
    a = u - 0.5 * width
    b = u + 0.5 * width
    first = np.floor(a).astype(np.intp)
    x = first[:, None] + np.arange(_MAX_BOX + 1)[None, :]
    weights = np.minimum(b[:, None], x + 1.0) - np.maximum(a[:, None], x.astype(np.float64))
    return np.clip(x, 0, texels - 1), np.where(weights > 0, weights, 0.0)


def _sample(
    values: npt.NDArray[np.float64],
    uy: npt.NDArray[np.float64],
    ux: npt.NDArray[np.float64],
    footprint: tuple[float, float],
) -> npt.NDArray[np.float64]:
    """The values the shader computes at texel coordinates ``uy`` x ``ux`` of one tile."""
    th, tw = values.shape
    if max(footprint) <= _MINIFIED:
        iy = np.clip(np.floor(uy).astype(np.intp), 0, th - 1)
        ix = np.clip(np.floor(ux).astype(np.intp), 0, tw - 1)
        return values[iy[:, None], ix[None, :]]
    iy, wy = _box(uy, footprint[0], th)
    ix, wx = _box(ux, footprint[1], tw)
    out = np.zeros((len(uy), len(ux)))
    for j in range(iy.shape[1]):
        rows = values[iy[:, j]]  # (ny, tw)
        inner = np.zeros((len(uy), len(ux)))
        for i in range(ix.shape[1]):
            inner += wx[None, :, i] * rows[:, ix[:, i]]
        out += wy[:, j, None] * inner
    return out / (wy.sum(axis=1)[:, None] * wx.sum(axis=1)[None, :])


def _ramp_index(values: npt.NDArray[np.float64], c: ChannelDisplay) -> npt.NDArray[np.intp]:
    """``round(255 t)`` of the shader's contrast and gamma."""
    lo, hi = float(c.contrast_limits[0]), float(c.contrast_limits[1])
    if hi > lo:
        t = np.clip((values - lo) / (hi - lo), 0.0, 1.0)
    else:
        t = (values >= hi).astype(np.float64)
    inv = 1.0 / (c.gamma if c.gamma > 0 else 1.0)
    t = np.where(t > 0, np.power(np.maximum(t, 0.0), inv), 0.0)
    return np.floor(t * 255.0 + 0.5).astype(np.intp)


@dataclass
class _Tile:
    """One tile's decoded values and NaN mask."""

    job: TileJob
    values: npt.NDArray[np.float64]
    nan: npt.NDArray[np.bool_] | None


def _decode(job: TileJob, data: npt.NDArray[Any]) -> _Tile:
    plane = np.asarray(data[job.selection])
    if plane.ndim != 2:
        raise ValueError(f"render_view(): tile {job.key} has a plane of shape {plane.shape}")
    codes, encoding, offset, scale = to_codes(plane)
    if encoding == "u16":
        code = codes[..., 0].astype(np.float64) * 256.0 + codes[..., 1]
        nan = codes[..., 2] > 127
        return _Tile(job, offset + scale * code, nan if nan.any() else None)
    return _Tile(job, offset + scale * codes.astype(np.float64), None)


def read_tiles(
    pool: ChunkPool,
    jobs: Sequence[TileJob],
    timeout: float,
    decode: Callable[[TileJob, npt.NDArray[Any]], _T],
) -> tuple[list[_T], list[str]]:
    """Get the jobs' chunks under a ref of our own, wait at most ``timeout`` in all, drop them.

    Each tile is ``decode(job, chunk data)``; a tile whose chunk did not
    arrive, or whose decode failed, is named in the second list.
    """
    ref = f"render-{next(_counter)}"
    held: dict[tuple[int, tuple[int, ...]], ChunkLocation] = {}
    tiles: list[_T] = []
    missing: list[str] = []
    try:
        for job in jobs:
            key = (job.level, job.index)
            if key not in held:
                held[key] = pool.get_chunk(job.level, job.index, ref)
        deadline = time.monotonic() + timeout
        failed: dict[tuple[int, tuple[int, ...]], str] = {}
        for key, loc in held.items():
            try:
                loc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except Exception as exc:  # a failure, a timeout, a destroyed chunk: named below
                if not loc.future.done():
                    failed[key] = f"not loaded within {timeout:g} s"
                else:
                    failed[key] = (str(exc) or type(exc).__name__).splitlines()[0][:200]
        for job in jobs:
            key = (job.level, job.index)
            reason = failed.get(key)
            if reason is None:
                try:
                    tiles.append(decode(job, held[key].data))
                    continue
                except Exception as exc:
                    reason = f"{type(exc).__name__}: {exc}"[:200]
            missing.append(f"{job.key}: {reason}")
    finally:
        for level, index in held:
            pool.drop_chunk(level, index, ref)
    return tiles, missing


def render_view(
    pool: ChunkPool,
    *,
    center: Sequence[float] | None,
    zoom: float,
    size: tuple[float, float],
    position: Mapping[str, int],
    display: DisplayState,
    dpr: float = 1.0,
    timeout: float | None = None,
    max_chunks: int = DEFAULT_MAX_CHUNKS,
    layout: ImageLayout | None = None,
) -> Rendering:
    """Render a view of ``pool``'s image into RGBA pixels (see the module docstring).

    Parameters
    ----------
    pool : ChunkPool
        Where the chunks are read (a viewer's pool: chunks its views hold
        are not read again).
    center : (float, float) or None
        Camera centre ``(y, x)`` in world units; ``None``: fit the image.
    zoom : float
        CSS pixels per level-0 pixel along x; 0: fit the image.
    size : (float, float)
        ``(width, height)`` of the view in CSS pixels.
    position : mapping
        Level-0 index per slider (``Viewer.position``).
    display : DisplayState
        The display traits.
    dpr : float
        Device pixels per CSS pixel; the picture has ``round(size * dpr)``
        pixels and its level is chosen for them.
    timeout : float, optional
        Seconds to wait for all the chunks at most; default the pool's
        ``read_timeout`` (30 s without one). What is not there by then is
        transparent and named in :attr:`Rendering.missing`.
    max_chunks : int
        Most chunks of one channel to read; a view that needs more of the
        level :func:`~.geometry.choose_level` picks uses a coarser level.
    layout : ImageLayout, optional
        The image's layout (default: made from the pool's metadata).

    Returns
    -------
    Rendering
        The pixels, the level and the tiles left out.
    """
    width, height = float(size[0]), float(size[1])
    if not (
        math.isfinite(width)
        and math.isfinite(height)
        and width >= 1
        and height >= 1
        and width * height * dpr * dpr <= 16384.0**2
    ):
        raise ValueError(
            f"render_view(): size {tuple(size)!r} at dpr {dpr!r} must be at least 1 x 1 CSS px "
            "and at most 16384 x 16384 device pixels"
        )
    if not (math.isfinite(dpr) and 0 < dpr <= 16):
        raise ValueError(f"render_view(): dpr {dpr!r} must be in (0, 16]")
    if max_chunks < 1:
        raise ValueError(f"render_view(): max_chunks {max_chunks!r} must be at least 1")
    layout = layout if layout is not None else image_layout(pool.multiscale_info)
    if len(display.channels) != layout.channel_count:
        raise ValueError(
            f"render_view(): display has {len(display.channels)} channels, the image "
            f"{layout.channel_count}"
        )
    wait = timeout if timeout is not None else getattr(pool, "read_timeout", None)
    wait = _DEFAULT_TIMEOUT if wait is None else float(wait)
    cam_center, scale = _camera(layout, center, zoom, (width, height))
    viewport = Viewport(center=cam_center, scale=scale, size=(height, width), dpr=dpr)
    level = pick_level(layout, viewport, max_chunks)
    channels = display.passes()
    jobs = plan_tiles(layout, viewport, level, position, channels, margin=0.0, limit=max_chunks)
    tiles, missing = read_tiles(pool, jobs, wait, _decode)

    out_w, out_h = max(1, round(width * dpr)), max(1, round(height * dpr))
    step_y, step_x = height * scale / out_h, width * scale / out_w  # world per device pixel
    origin_y = cam_center[0] - 0.5 * height * scale
    origin_x = cam_center[1] - 0.5 * width * scale
    nan_rgb = hex_rgb(display.nan_color) if display.nan_color != NAN_TRANSPARENT else None
    composite = display.composite
    lut = None if composite else colormap_lut(display.colormap, invert=display.invert)
    rgb_sum = np.zeros((out_h, out_w, 3), np.int64)
    alpha = np.zeros((out_h, out_w), bool)
    for channel in channels:
        style = display.channels[channel]
        color = np.array(hex_rgb(style.color) or (255, 255, 255), np.int64)
        for tile in (t for t in tiles if t.job.channel == channel):
            y0, x0, y1, x1 = tile.job.bounds
            th, tw = tile.values.shape
            rows, uy, fy = axis_texels(out_h, origin_y, step_y, y0, y1, th)
            cols, ux, fx = axis_texels(out_w, origin_x, step_x, x0, x1, tw)
            if len(uy) == 0 or len(ux) == 0:
                continue
            index = _ramp_index(_sample(tile.values, uy, ux, (fy, fx)), style)
            if composite:
                rgb = (2 * color[None, None, :] * index[..., None] + 255) // 510
            else:
                assert lut is not None
                rgb = lut[index][..., :3].astype(np.int64)
            drawn = np.ones(index.shape, bool)
            if tile.nan is not None:
                iy = np.clip(np.floor(uy).astype(np.intp), 0, th - 1)
                ix = np.clip(np.floor(ux).astype(np.intp), 0, tw - 1)
                nan = tile.nan[iy[:, None], ix[None, :]]
                rgb[nan] = nan_rgb if nan_rgb is not None else 0
                if nan_rgb is None and not composite:
                    drawn &= ~nan
            if composite:
                rgb_sum[rows, cols] += rgb
                alpha[rows, cols] |= True
            else:
                rgb_sum[rows, cols] = np.where(drawn[..., None], rgb, 0)
                alpha[rows, cols] = drawn
    out = np.zeros((out_h, out_w, 4), np.uint8)
    out[..., :3] = np.minimum(rgb_sum, 255) * alpha[..., None]
    out[..., 3] = alpha * 255
    return Rendering(out, level, scale, missing, viewport)
