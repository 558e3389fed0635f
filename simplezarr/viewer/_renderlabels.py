"""Label layers in a kernel rendering, coloured as the browser colours them.

``Viewer.screenshot()``, ``save_png()`` and the notebook's picture draw the
viewer's visible label layers over the base image (:func:`draw_label_layer`),
with the rules of ``js/labels.ts`` and ``js/labelcolors.ts``:

- **Ids**: one level of the label pyramid, chosen by the same rule as the
  image's (:func:`~.render.pick_level`, in the base image's world units), and
  at each device pixel the id of the texel under its centre: nearest, never
  a mean of ids.
- **Colour**: id 0 draws nothing; an ``image-label`` colour when the metadata
  gives one (its alpha times the layer's opacity); else the hashed palette:
  ``h = id * 2654435761 mod 2^32``, hue ``h >> 26`` of 64, saturation
  ``0.55 + 0.15 (h >> 24 & 1)``, value ``1 - 0.15 (h >> 25 & 1)``.
- **Outline**: a pixel is drawn only where one of its four neighbours
  ``round(dpr)`` device pixels away (at least 1; clamped at the edges)
  holds another id.
- **Blend**: over what lies under, ``src * a + dst * (1 - a)``.

Chunks that do not arrive within the timeout are named in the rendering's
``missing`` list, like the base image's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from simplezarr.utils.chunkpool import ChunkPool

from ._layout import ImageLayout, TileJob, plan_tiles
from .geometry import Viewport

__all__ = ["draw_label_layer", "hashed_colors"]

_HASH = 2654435761


def hashed_colors(ids: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    """``(..., 3)`` RGB bytes of the hashed palette for label ``ids``."""
    h = (ids.astype(np.uint64) * np.uint64(_HASH)) & np.uint64(0xFFFFFFFF)
    hue = (h >> np.uint64(26)).astype(np.float64) / 64.0
    shade = ((h >> np.uint64(24)) & np.uint64(3)).astype(np.int64)
    s = 0.55 + 0.15 * (shade & 1)
    v = 1.0 - 0.15 * (shade >> 1)
    k = np.mod(np.array([5.0, 3.0, 1.0]) + hue[..., None] * 6.0, 6.0)
    rgb = v[..., None] - (v * s)[..., None] * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    return np.floor(rgb * 255.0 + 0.5).astype(np.uint8)


def _rgba(hex_color: str) -> tuple[int, int, int, int]:
    n = int(hex_color[1:9], 16)
    return (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255


def _colour(
    ids: npt.NDArray[np.uint64], colors: Mapping[int, str], opacity: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """RGB (0..255) and alpha (0..1) of each id (id 0: alpha 0)."""
    rgb = hashed_colors(ids).astype(np.float64)
    alpha = np.full(ids.shape, float(opacity))
    for label, hex_color in colors.items():
        hit = ids == np.uint64(label)
        if hit.any():
            r, g, b, a = _rgba(hex_color)
            rgb[hit] = (r, g, b)
            alpha[hit] = a / 255.0 * opacity
    alpha[ids == 0] = 0.0
    return rgb, alpha


def _boundaries(ids: npt.NDArray[np.uint64], t: int) -> npt.NDArray[np.bool_]:
    """Pixels with a neighbour ``t`` pixels away (edges clamped) holding another id."""
    padded = np.pad(ids, t, mode="edge")
    h, w = ids.shape
    centre = padded[t : t + h, t : t + w]
    edge = np.zeros(ids.shape, bool)
    for dy, dx in ((t, 0), (-t, 0), (0, t), (0, -t)):
        edge |= padded[t + dy : t + dy + h, t + dx : t + dx + w] != centre
    return edge


def _decode_ids(job: TileJob, data: npt.NDArray[Any]) -> tuple[TileJob, npt.NDArray[np.uint64]]:
    plane = np.asarray(data[job.selection])
    if plane.ndim != 2:
        raise ValueError(f"render_view(): label tile {job.key} has a plane of shape {plane.shape}")
    return job, plane.astype(np.uint64)


def draw_label_layer(
    rgba: npt.NDArray[np.uint8],
    *,
    pool: ChunkPool,
    layout: ImageLayout,
    viewport: Viewport,
    position: Mapping[str, int],
    colors: Mapping[int, str],
    opacity: float,
    outline: bool,
    timeout: float,
    max_chunks: int,
) -> list[str]:
    """Draw one label layer over ``rgba`` (in place); the tiles left out, named.

    ``layout`` is the layer's, in the base image's world units; ``position``
    its own slider position; ``viewport`` the rendering's camera.
    """
    from .render import axis_texels, pick_level, read_tiles  # render imports this module

    level = pick_level(layout, viewport, max_chunks)
    jobs = plan_tiles(layout, viewport, level, position, [0], margin=0.0, limit=max_chunks)
    tiles, missing = read_tiles(pool, jobs, timeout, _decode_ids)
    out_h, out_w = rgba.shape[:2]
    height, width = viewport.size
    step_y, step_x = height * viewport.scale / out_h, width * viewport.scale / out_w
    origin_y = viewport.center[0] - 0.5 * height * viewport.scale
    origin_x = viewport.center[1] - 0.5 * width * viewport.scale
    ids = np.zeros((out_h, out_w), np.uint64)
    for job, values in tiles:
        y0, x0, y1, x1 = job.bounds
        th, tw = values.shape
        rows, uy, _ = axis_texels(out_h, origin_y, step_y, y0, y1, th)
        cols, ux, _ = axis_texels(out_w, origin_x, step_x, x0, x1, tw)
        if len(uy) == 0 or len(ux) == 0:
            continue
        iy = np.clip(np.floor(uy).astype(np.intp), 0, th - 1)
        ix = np.clip(np.floor(ux).astype(np.intp), 0, tw - 1)
        ids[rows, cols] = values[iy[:, None], ix[None, :]]
    rgb, alpha = _colour(ids, colors, opacity)
    if outline:
        alpha = np.where(_boundaries(ids, max(1, round(viewport.dpr))), alpha, 0.0)
    drawn = alpha > 0
    if drawn.any():
        a = alpha[..., None]
        base = rgba[..., :3].astype(np.float64)
        rgba[..., :3] = np.where(
            drawn[..., None], np.floor(rgb * a + base * (1.0 - a) + 0.5), base
        ).astype(np.uint8)
        rgba[..., 3] = np.maximum(rgba[..., 3], np.floor(alpha * 255.0 + 0.5).astype(np.uint8))
    return missing
