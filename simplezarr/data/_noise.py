"""Deterministic, tile-independent procedural noise (hash + separable B-spline fBm).

Design
------
Every demo image is a pure function of (seed, world coordinates): a tile
computed alone equals the same region of the whole image, so images can be
written tile by tile, in any order, in parallel, or served chunk by chunk on
request (`simplezarr.data._virtual`), with no seams.

- ``hash_uniform(key, iy, ix)``: a splitmix64-style integer hash of lattice
  coordinates to uniform values in [-1, 1). No random state, no tables.
- ``fbm(ys, xs, octaves)``: value noise on a square lattice per octave,
  smoothed by the cubic B-spline kernel. The kernel is separable, so one
  octave over a grid of samples is ``Wy @ L @ Wx.T`` (weights x lattice x
  weights): two small matrix products per octave instead of per-pixel
  gathers. All octaves share one product: ``[a1 Wy1 | a2 Wy2 | ...] @
  [L1 Wx1.T ; L2 Wx2.T ; ...]``.
- Band limiting: an octave whose lattice spacing is below ~2 samples of the
  grid being evaluated is faded out (it would only alias), so a coarse level
  computed directly looks like a downsampled fine level. This is what makes a
  1e12-pixel image cheap at every level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["Octave", "band_weight", "fbm", "hash_uniform", "octaves", "smoothstep"]

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
_M3 = np.uint64(0xBF58476D1CE4E5B9)
_M4 = np.uint64(0x94D049BB133111EB)


def hash_uniform(key: int, iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
    """Uniform float64 values in [-1, 1) from integer lattice coordinates (broadcast)."""
    with np.errstate(over="ignore"):
        h = (np.asarray(iy).astype(np.uint64) * _M1) ^ (np.asarray(ix).astype(np.uint64) * _M2)
        h ^= np.uint64((key * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF)
        h ^= h >> np.uint64(30)
        h *= _M3
        h ^= h >> np.uint64(27)
        h *= _M4
        h ^= h >> np.uint64(31)
    return (h >> np.uint64(11)).astype(np.float64) * (2.0 / 2.0**53) - 1.0


@dataclass(frozen=True)
class Octave:
    """One octave of value noise: lattice ``spacing`` (world units), amplitude and hash key.

    ``phase`` (derived from ``key``) shifts the lattice so octaves never line up.
    """

    spacing: float
    amplitude: float
    key: int
    phase: tuple[float, float] = field(init=False)

    def __post_init__(self) -> None:
        u = hash_uniform(self.key, np.array([1, 3]), np.array([2, 4]))
        object.__setattr__(self, "phase", (7.5 + 0.5 * float(u[0]), 7.5 + 0.5 * float(u[1])))


def octaves(
    finest: float, coarsest: float, persistence: float, key: int, *, normalize: bool = True
) -> list[Octave]:
    """Octaves with spacings ``finest * 2**k`` up to ``coarsest``.

    Amplitude grows by ``1 / persistence`` per octave towards the coarse end;
    with ``normalize`` the amplitudes' squares sum to 1 (unit variance-ish).
    """
    spacings = []
    s = float(finest)
    while s <= coarsest * 1.0001:
        spacings.append(s)
        s *= 2.0
    amps = [persistence ** (len(spacings) - 1 - k) for k in range(len(spacings))]
    if normalize:
        norm = float(np.sqrt(np.sum(np.square(amps)))) or 1.0
        amps = [a / norm for a in amps]
    return [
        Octave(sp, a, key * 1000 + k) for k, (sp, a) in enumerate(zip(spacings, amps, strict=True))
    ]


def band_weight(spacing: float, step: float) -> float:
    """1 for octaves >= 4 samples per lattice cell, fading to 0 at 2 (avoids aliasing)."""
    return float(np.clip(np.log2(spacing / step) - 1.0, 0.0, 1.0))


def smoothstep(lo: float, hi: float, x: Any) -> Any:
    """Hermite step from 0 (x <= lo) to 1 (x >= hi)."""
    t = np.clip((np.asarray(x) - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _bspline_matrix(u: np.ndarray) -> tuple[np.ndarray, int]:
    """Weights (len(u), n) of the cubic B-spline on integer lattice points j0..j0+n-1."""
    base = np.floor(u)
    t = u - base
    j0 = int(base.min()) - 1
    n = int(base.max()) + 3 - j0
    t2 = t * t
    t3 = t2 * t
    w = (
        (1 - t) ** 3 / 6,
        (3 * t3 - 6 * t2 + 4) / 6,
        (-3 * t3 + 3 * t2 + 3 * t + 1) / 6,
        t3 / 6,
    )
    mat = np.zeros((u.size, n))
    rows = np.arange(u.size)
    first = (base - 1 - j0).astype(np.intp)
    for k in range(4):
        mat[rows, first + k] = w[k]
    return mat, j0


@lru_cache(maxsize=2048)
def _bspline_cached(count: int, du: float, frac: float) -> tuple[np.ndarray, int]:
    """`_bspline_matrix` of ``frac + du * arange(count)``, shared by tiles with the same phase."""
    mat, j0 = _bspline_matrix(frac + du * np.arange(count))
    mat.flags.writeable = False
    return mat, j0


def _weights(
    coords: np.ndarray, spacing: float, phase: float, exact: bool
) -> tuple[np.ndarray, int]:
    """B-spline weights of equally spaced ``coords`` on the lattice of one octave.

    Tiles of one level repeat the same fractional lattice positions, so the
    weights are cached by (count, step, fractional start) unless ``exact``
    is asked (thresholded fields, where weights are made from the exact
    coordinates).
    """
    u = coords / spacing + phase
    if exact or coords.size < 2:
        return _bspline_matrix(u)
    whole = float(np.floor(u[0]))
    frac = round(float(u[0]) - whole, 9)
    du = round(float(u[1] - u[0]), 12)
    mat, j0 = _bspline_cached(coords.size, du, frac)
    return mat, j0 + int(whole)


def fbm(
    ys: np.ndarray,
    xs: np.ndarray,
    octaves: Sequence[Octave],
    *,
    step: float | None = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """Sum of band-limited value-noise octaves on the grid ``ys`` x ``xs`` (world units).

    Parameters
    ----------
    ys, xs : 1-d arrays
        Equally spaced sample coordinates along y and x.
    octaves : sequence of Octave
        From `octaves`.
    step : float, optional
        Sample spacing for band limiting (default: no band limit).
    dtype : numpy dtype
        float32 for images; float64 where values are thresholded and must
        agree across tiles (weights then come from the exact coordinates).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(ys), len(xs))``.
    """
    ys = np.asarray(ys, dtype=np.float64)
    xs = np.asarray(xs, dtype=np.float64)
    exact = np.dtype(dtype) == np.float64
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    for o in octaves:
        amp = o.amplitude * (1.0 if step is None else band_weight(o.spacing, step))
        if amp == 0.0:
            continue
        wy, jy = _weights(ys, o.spacing, o.phase[0], exact)
        wx, jx = _weights(xs, o.spacing, o.phase[1], exact)
        iy = np.arange(jy, jy + wy.shape[1])[:, None]
        ix = np.arange(jx, jx + wx.shape[1])[None, :]
        lattice = hash_uniform(o.key, iy, ix)
        left.append((wy * amp).astype(dtype))
        right.append((lattice @ wx.T).astype(dtype))
    if not left:
        return np.zeros((ys.size, xs.size), dtype=dtype)
    return np.concatenate(left, axis=1) @ np.concatenate(right, axis=0)
