"""A synthetic fluorescence tissue section, evaluated on any tile at any level.

Design
------
``render_tissue(y0, x0, h, w, step=..., size=..., seed=...)`` returns the
tile of rows ``y0..y0+h`` and columns ``x0..x0+w`` of the level whose pixels
are ``step`` level-0 pixels wide (step 1 = full resolution, 2 = level 1 of a
2x pyramid, ...), as float32 in [0, 1]. Pixel ``i`` of that level is centred
on level-0 coordinate ``(i + 0.5) * step - 0.5`` (pixel-centre convention).

The picture, from coarse to fine (each part a pure function of coordinates,
see `simplezarr.data._noise`):

- the section's outline: fractal (fBm) noise over all scales from 1/2 the
  image down to 16 pixels, minus a radial bowl, thresholded: a ragged
  coastline with bays and islands that stays ragged at every zoom;
- the stroma inside: ridged fBm (``1 - |noise|``), fibre-like, 4 to 512 px;
- nuclei: one candidate per cell of a jittered 20-px grid, kept with a
  probability given by a smooth density field, drawn as soft ellipses of
  radius 3.5-7 px. At levels where the grid is under 4 pixels wide the nuclei
  fade into their mean (density x area x brightness), so every level is
  cheap and looks like the mean of the level below.

The tile is seamless: nuclei are splatted from every candidate whose
ellipse can reach the tile, and their keep/size decisions depend only on
their grid cell (float64 evaluation of the density field on the cell grid).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from simplezarr.data._noise import Octave, fbm, hash_uniform, octaves, smoothstep

__all__ = ["render_tissue"]

_CELL = 20.0  # level-0 pixels between nucleus candidates
_RMAX = 7.0  # largest nucleus semi-axis, level-0 pixels
_BACKGROUND = 0.04


@lru_cache(maxsize=16)
def _fields(size: int, seed: int) -> dict[str, list[Octave]]:
    k = 10 * (seed + 1)
    return {
        "shape": octaves(16, size / 4, 0.65, k + 1),
        "stroma": octaves(6, 384, 0.75, k + 2),
        "density": octaves(64, size / 8, 0.75, k + 3),
        "tone": octaves(512, size / 4, 0.85, k + 4),
    }


def _outline(
    ys: np.ndarray, xs: np.ndarray, size: int, f: list[Octave], step: float | None
) -> np.ndarray:
    """Signed tissue field (> 0 inside) on the grid ys x xs."""
    c = (size - 1) / 2.0
    ry = ((ys - c) / (0.5 * size))[:, None] ** 2
    rx = ((xs - c) / (0.5 * size))[None, :] ** 2
    noise = fbm(ys, xs, f, step=step, dtype=np.float64 if step is None else np.float32)
    return noise * (0.5 / 0.3) + 1.0 - 1.9 * (ry + rx)


def render_tissue(
    y0: int, x0: int, h: int, w: int, *, step: int = 1, size: int = 16384, seed: int = 0
) -> np.ndarray:
    """The (h, w) float32 tile at rows y0.., columns x0.. of the level with pixel ``step``."""
    f = _fields(size, seed)
    ys = (np.arange(y0, y0 + h) + 0.5) * step - 0.5
    xs = (np.arange(x0, x0 + w) + 0.5) * step - 0.5
    edge = 0.02 * step**0.25
    inside = smoothstep(-edge, edge, _outline(ys, xs, size, f["shape"], step)).astype(np.float32)
    stroma = 1.0 - np.abs(fbm(ys, xs, f["stroma"], step=step) * (1.0 / 0.27))
    stroma = np.clip(stroma, 0.0, 1.0) ** 4
    tone = 0.8 + 0.6 * fbm(ys, xs, f["tone"], step=step)
    cells_weight = float(np.clip((_CELL / step - 4.0) / 4.0, 0.0, 1.0))
    nuclei = np.zeros((h, w), dtype=np.float32)
    if cells_weight > 0:
        nuclei += cells_weight * _splat_nuclei(y0, x0, h, w, step, size, seed, f)
    if cells_weight < 1:
        density = _density(fbm(ys, xs, f["density"], step=step))
        mean_nucleus = 0.8 * np.pi * 5.0 * 4.0 / _CELL**2  # brightness x area / cell area
        nuclei += (1 - cells_weight) * (density * mean_nucleus).astype(np.float32)
    tissue = tone * (0.16 + 0.30 * stroma) + 0.7 * np.minimum(nuclei, 1.0)
    out = _BACKGROUND + inside * tissue
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _density(noise: np.ndarray) -> np.ndarray:
    return smoothstep(-0.25, 0.25, noise)


def _splat_nuclei(
    y0: int, x0: int, h: int, w: int, step: int, size: int, seed: int, f: dict[str, list[Octave]]
) -> np.ndarray:
    """Soft elliptical nuclei on the tile, from every grid cell whose nucleus can reach it."""
    margin = _RMAX + step
    lo_y, hi_y = y0 * step - margin, (y0 + h) * step + margin
    lo_x, hi_x = x0 * step - margin, (x0 + w) * step + margin
    cy = np.arange(int(np.floor(lo_y / _CELL)) - 1, int(np.ceil(hi_y / _CELL)) + 1)
    cx = np.arange(int(np.floor(lo_x / _CELL)) - 1, int(np.ceil(hi_x / _CELL)) + 1)
    gy, gx = cy[:, None], cx[None, :]
    key = 7919 * (seed + 1)
    # per-cell decisions from the cell's integer coordinates and the float64 fields
    centre_y = (cy + 0.5) * _CELL
    centre_x = (cx + 0.5) * _CELL
    keep_p = _density(fbm(centre_y, centre_x, f["density"], dtype=np.float64))
    keep_p = keep_p * (_outline(centre_y, centre_x, size, f["shape"], None) > 0)
    keep = (hash_uniform(key, gy, gx) + 1) / 2 < keep_p
    py = centre_y[:, None] + 0.35 * _CELL * hash_uniform(key + 1, gy, gx)
    px = centre_x[None, :] + 0.35 * _CELL * hash_uniform(key + 2, gy, gx)
    sel = keep & (py > lo_y) & (py < hi_y) & (px > lo_x) & (px < hi_x)
    py, px = py[sel], px[sel]
    a = 5.25 + 1.75 * hash_uniform(key + 3, gy, gx)[sel]
    b = a * (0.65 + 0.25 * hash_uniform(key + 4, gy, gx)[sel])
    theta = np.pi * hash_uniform(key + 5, gy, gx)[sel]
    bright = 0.8 + 0.2 * hash_uniform(key + 6, gy, gx)[sel]
    if py.size == 0:
        return np.zeros((h, w), dtype=np.float32)
    # patch of level pixels around each centre
    r = int(np.ceil(_RMAX / step)) + 1
    offs = np.arange(-r, r + 1)
    iy = np.rint((py + 0.5) / step - 0.5).astype(np.int64)[:, None, None] + offs[None, :, None]
    ix = np.rint((px + 0.5) / step - 0.5).astype(np.int64)[:, None, None] + offs[None, None, :]
    dy = (iy + 0.5) * step - 0.5 - py[:, None, None]
    dx = (ix + 0.5) * step - 0.5 - px[:, None, None]
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    u = (dy * cos + dx * sin) / a[:, None, None]
    v = (-dy * sin + dx * cos) / b[:, None, None]
    dist = np.sqrt(u * u + v * v)
    # about one level pixel of soft edge: anti-aliased at every level
    value = np.clip((1.0 - dist) * (b[:, None, None] / step) + 0.5, 0.0, 1.0)
    value *= bright[:, None, None] * (1.0 - 0.25 * dist**2)
    ty, tx = iy - y0, ix - x0
    ok = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w) & (value > 0)
    ty, tx = np.broadcast_arrays(ty, tx)
    flat = ty[ok] * w + tx[ok]
    out = np.bincount(flat, weights=value[ok], minlength=h * w)
    return out.reshape(h, w).astype(np.float32)
