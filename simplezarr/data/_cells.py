"""A synthetic 3-channel fluorescence stack of an epithelial cell sheet, with its labels.

Design
------
Cells are columns standing on a gently curved basal surface (like a
confocal stack of an MDCK monolayer). In (y, x) they tile the plane as the
Voronoi cells of jittered points on a 48-pixel grid (Worley noise: for
every pixel, the nearest and second-nearest point among the 3 x 3
neighbouring grid cells). In z each cell spans its own basal..apical range.

- channel 0, "nuclei": an ellipsoid in each cell, a little below the middle of the cell;
- channel 1, "membrane": bright where the two nearest points are about
  equally near (cell borders), plus the apical surface;
- channel 2, "actin": cytoplasm, brightest in a belt under the apical surface.
- labels: the cell's id where the voxel is inside a cell, else 0.

All of it is a pure function of (seed, z, y, x) through integer hashes and
float64 noise on the cell grid, so any block can be computed alone. The
(y, x) fields of a block are shared by its z planes, channels and the labels,
through a small cache keyed by the block's (y, x) extent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from simplezarr.data._noise import fbm, hash_uniform, octaves, smoothstep

__all__ = ["CellSheet"]

_GRID = 48.0  # pixels between cell seeds in y and x
_OFFSET = 100.0  # camera offset, counts
_GAIN = 3000.0  # counts for a unit signal


@dataclass(frozen=True)
class _Fields:
    """The (y, x) fields of one block; ``f1``/``f2``: distances to the nearest two seeds."""

    label: np.ndarray
    f1: np.ndarray
    border: np.ndarray
    z_base: np.ndarray
    z_top: np.ndarray
    z_nucleus: np.ndarray
    r_nucleus: np.ndarray
    rz_nucleus: np.ndarray
    level: np.ndarray


class CellSheet:
    """Channels (c, z, y, x) and labels (z, y, x) of the cell sheet, computed by block.

    Parameters
    ----------
    shape : (z, y, x)
        Size of the stack.
    seed : int
        Picks the sheet.
    """

    channels = ("nuclei", "membrane", "actin")

    def __init__(self, shape: tuple[int, int, int], seed: int = 0) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.seed = int(seed)
        self._grid_x = int(np.ceil(self.shape[2] / _GRID)) + 3
        self._base = octaves(_GRID * 2, max(self.shape[1:]) * 1.0, 0.8, 50 + seed)
        self._cache: OrderedDict[tuple[int, int, int, int], _Fields] = OrderedDict()
        self._lock = threading.Lock()

    def channel(self, c: int, zs: slice, ys: slice, xs: slice) -> np.ndarray:
        """uint16 counts of channel ``c`` on the block (z, y, x)."""
        fld = self._fields(ys, xs)
        z = np.arange(zs.start, zs.stop, dtype=np.float32)[:, None, None]
        inside = smoothstep(-0.5, 0.5, z - fld.z_base) * smoothstep(-0.5, 0.5, fld.z_top - z)
        dz = (z - fld.z_nucleus) / fld.rz_nucleus
        dn = np.sqrt(fld.f1 / fld.r_nucleus**2 + dz * dz)
        nucleus = np.clip((1.0 - dn) * 6.0 + 0.5, 0.0, 1.0)
        if c == 0:
            value = nucleus * (0.75 + 0.25 * fld.level) * (1.0 - 0.3 * dn**2)
        elif c == 1:
            apical = np.exp(-(((z - fld.z_top) / 1.2) ** 2))
            value = inside * np.exp(-((fld.border / 1.6) ** 2)) + 0.6 * apical
            value = value * (0.85 + 0.15 * fld.level)
        elif c == 2:
            belt = np.exp(-(((fld.z_top - z) / 3.0) ** 2))
            value = inside * (1.0 - nucleus) * (0.15 + 0.25 * fld.level + 0.6 * belt)
        else:
            raise IndexError(f"CellSheet.channel(): channel {c!r} is not in 0..2")
        return np.rint(_OFFSET + _GAIN * value).astype(np.uint16)

    def labels(self, zs: slice, ys: slice, xs: slice) -> np.ndarray:
        """uint32 cell ids on the block (z, y, x); 0 outside the cells."""
        fld = self._fields(ys, xs)
        z = np.arange(zs.start, zs.stop, dtype=np.float32)[:, None, None]
        inside = (z >= fld.z_base - 0.5) & (z < fld.z_top + 0.5)
        return np.where(inside, fld.label[None], 0).astype(np.uint32)

    def label_ids(self) -> np.ndarray:
        """Every cell id of the sheet, sorted (from the (y, x) fields, block by block)."""
        ny, nx = self.shape[1:]
        ids = [
            np.unique(self._fields(slice(y, min(y + 256, ny)), slice(x, min(x + 256, nx))).label)
            for y in range(0, ny, 256)
            for x in range(0, nx, 256)
        ]
        return np.unique(np.concatenate(ids))

    def _fields(self, ys: slice, xs: slice) -> _Fields:
        key = (ys.start, ys.stop, xs.start, xs.stop)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        fld = self._compute(ys, xs)
        with self._lock:
            self._cache[key] = fld
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return fld

    def _compute(self, ys: slice, xs: slice) -> _Fields:
        nz = self.shape[0]
        y = np.arange(ys.start, ys.stop, dtype=np.float64)
        x = np.arange(xs.start, xs.stop, dtype=np.float64)
        gy, gx = np.floor(y / _GRID).astype(np.int64), np.floor(x / _GRID).astype(np.int64)
        cy = np.arange(gy.min() - 1, gy.max() + 2)
        cx = np.arange(gx.min() - 1, gx.max() + 2)
        key = 1000 * (self.seed + 1)
        sy, sx = cy[:, None], cx[None, :]
        seed_y = (cy[:, None] + 0.5 + 0.38 * hash_uniform(key, sy, sx)) * _GRID
        seed_x = (cx[None, :] + 0.5 + 0.38 * hash_uniform(key + 1, sy, sx)) * _GRID
        base = fbm((cy + 0.5) * _GRID, (cx + 0.5) * _GRID, self._base, dtype=np.float64)
        z_base = nz * (0.12 + 0.15 * base)
        height = nz * (0.55 + 0.1 * hash_uniform(key + 2, sy, sx))
        per_cell = {
            "label": (sy + 1) * self._grid_x + (sx + 1) + 1,
            "z_base": z_base,
            "z_top": z_base + height,
            "z_nucleus": z_base + 0.45 * height,
            "r_nucleus": _GRID * (0.22 + 0.04 * hash_uniform(key + 3, sy, sx)),
            "rz_nucleus": 0.16 * height,
            "level": 0.5 + 0.5 * hash_uniform(key + 4, sy, sx),
        }
        f1 = np.full((y.size, x.size), np.inf)
        f2 = np.full((y.size, x.size), np.inf)
        rows = np.zeros((y.size, x.size), dtype=np.intp)
        cols = np.zeros((y.size, x.size), dtype=np.intp)
        for dy in (-1, 0, 1):
            r = (gy + dy - cy[0])[:, None]
            for dx in (-1, 0, 1):
                c = (gx + dx - cx[0])[None, :]
                d = (y[:, None] - seed_y[r, c]) ** 2 + (x[None, :] - seed_x[r, c]) ** 2
                nearer = d < f1
                f2 = np.where(nearer, f1, np.minimum(f2, d))
                f1 = np.where(nearer, d, f1)
                rows = np.where(nearer, r, rows)
                cols = np.where(nearer, c, cols)
        pick = {k: np.broadcast_to(v, seed_y.shape)[rows, cols] for k, v in per_cell.items()}
        f32 = {k: v.astype(np.float32) for k, v in pick.items() if k != "label"}
        return _Fields(
            label=pick["label"].astype(np.uint32),
            f1=f1.astype(np.float32),
            border=(np.sqrt(f2) - np.sqrt(f1)).astype(np.float32),
            **f32,
        )
