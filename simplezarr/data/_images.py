"""Demo images written to disk: a large 2D section, a 3D cell stack with labels, a time series.

Design
------
Each image is a *procedural array* (`ProceduralArray`: ``shape``, ``dtype``
and numpy-style slicing that computes the requested block on the spot) handed
to `simplezarr.utils._pyramid.write_multiscale`, which reads it once, block
by block, in parallel threads, and builds the pyramid from what it wrote. No
image is ever whole in memory, and every block is a pure function of the seed
and its coordinates (`simplezarr.data._noise`), so the result does not depend
on the order or the threads.

Where the images go and how an interrupted write is kept out of the cache:
`simplezarr.data._cache`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from simplezarr.data._blas import one_blas_thread
from simplezarr.data._cache import ensure_image, stamp
from simplezarr.data._cells import CellSheet
from simplezarr.data._noise import hash_uniform
from simplezarr.data._tissue import render_tissue
from simplezarr.utils._pyramid import write_labels, write_multiscale

__all__ = ["ProceduralArray", "cells_3d", "large_2d", "timeseries"]

PathLike = str | os.PathLike[str]
Version = Literal["0.4", "0.5"]


# Version of the cells_3d content (2: nuclei moved to just below mid-cell).
_CELLS_GENERATOR = 2


class ProceduralArray:
    """A read-only array whose blocks are computed when sliced.

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy dtype
    compute : callable
        ``compute(region)`` with ``region`` a tuple of ``slice(start, stop)``
        (one per axis, in bounds, step 1) returns that block as an array.
    """

    def __init__(
        self, shape: tuple[int, ...], dtype: Any, compute: Callable[[tuple[slice, ...]], Any]
    ) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self._compute = compute

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if len(key) > self.ndim or any(not isinstance(k, slice) for k in key):
            raise IndexError(f"ProceduralArray: only slices are supported, got {key!r}")
        key = key + (slice(None),) * (self.ndim - len(key))
        region = []
        for k, n in zip(key, self.shape, strict=True):
            start, stop, step = k.indices(n)
            if step != 1:
                raise IndexError(f"ProceduralArray: step {step!r} is not supported")
            region.append(slice(start, max(start, stop)))
        return np.asarray(self._compute(tuple(region)), dtype=self.dtype)

    def __repr__(self) -> str:
        return f"ProceduralArray(shape={self.shape!r}, dtype={self.dtype!r})"


def tissue_array(size: int, seed: int, dtype: Any) -> ProceduralArray:
    """Level 0 of the tissue section (`simplezarr.data._tissue`) scaled to ``dtype``."""
    top = float(np.iinfo(np.dtype(dtype)).max)

    def compute(region: tuple[slice, ...]) -> np.ndarray:
        ys, xs = region
        tile = render_tissue(
            ys.start, xs.start, ys.stop - ys.start, xs.stop - xs.start, size=size, seed=seed
        )
        return np.rint(tile * top)

    return ProceduralArray((size, size), dtype, compute)


def blobs_array(shape: tuple[int, int, int], seed: int, n: int = 24) -> ProceduralArray:
    """Gaussian blobs drifting on smooth closed paths over a dim, uneven background."""
    nt, ny, nx = shape
    k = np.arange(n)[:, None]
    u = [(hash_uniform(9000 + seed, k, np.array([[j]])) + 1) / 2 for j in range(8)]
    sigma = 6 + 18 * u[0]
    amp = 1200 + 2200 * u[1]
    phase_y, phase_x = 2 * np.pi * u[2], 2 * np.pi * u[3]
    cy, cx = ny * (0.2 + 0.6 * u[4]), nx * (0.2 + 0.6 * u[5])
    ry, rx = ny * (0.05 + 0.2 * u[6]), nx * (0.05 + 0.2 * u[7])
    cycles = 1 + np.floor(3 * u[6])  # whole turns over the series: it loops

    def compute(region: tuple[slice, ...]) -> np.ndarray:
        ts, ys, xs = region
        y = np.arange(ys.start, ys.stop)[None, :]
        x = np.arange(xs.start, xs.stop)[None, :]
        background = 100 + 60 * np.cos(y.T / ny * 2.5) * np.cos(x / nx * 1.7)
        frames = []
        for t in range(ts.start, ts.stop):
            angle = 2 * np.pi * cycles * t / max(nt, 1)
            py = cy + ry * np.sin(angle + phase_y)
            px = cx + rx * np.cos(angle + phase_x)
            gy = np.exp(-((y - py) ** 2) / (2 * sigma**2)) * amp
            gx = np.exp(-((x - px) ** 2) / (2 * sigma**2))
            frames.append(background + gy.T @ gx)
        return np.rint(np.stack(frames))

    return ProceduralArray(shape, np.uint16, compute)


def large_2d(
    path: PathLike | None = None,
    *,
    seed: int = 0,
    size: int = 16384,
    dtype: Literal["uint8", "uint16"] = "uint8",
    version: Version = "0.5",
    overwrite: bool = False,
    progress: bool | None = None,
) -> Path:
    """A large 2D fluorescence tissue section (default 16384 x 16384), written once and cached.

    A ragged section outline, fibrous stroma and thousands of nuclei (see
    `simplezarr.data._tissue`): structure at every zoom, from the whole slide
    at 512 x 512 down to single nuclei at full resolution. Chunks of 512 x
    512, levels down to <= 512 pixels. Axes (y, x) in micrometres, 0.25 um
    per pixel.

    Parameters
    ----------
    path : path-like, optional
        Where to write. Default: in `data_dir`, named after the parameters
        (``large_2d-16384-seed0-uint8-v0.5.ome.zarr``).
        An existing demo image with the same parameters is reused.
    seed : int
        Picks the section.
    size : int
        Width and height of level 0 in pixels.
    dtype : {"uint8", "uint16"}
        Pixel type.
    version : {"0.5", "0.4"}
        OME-Zarr version (Zarr v3 or v2).
    overwrite : bool
        Write again even if the image exists.
    progress : bool, optional
        Progress bar (tqdm), default on.

    Returns
    -------
    pathlib.Path
        The image group's directory; open it with ``simplezarr.open(path)``.
    """
    params = {"kind": "large_2d", "seed": seed, "size": size, "dtype": dtype, "version": version}

    def write(tmp: Path) -> None:
        with one_blas_thread():
            write_multiscale(
                tissue_array(size, seed, dtype),
                str(tmp),
                scale=[0.25, 0.25],
                units="micrometer",
                chunks=512,
                version=version,
                name="tissue section",
                channels=[{"label": "nuclei+autofluorescence", "color": "FFFFFF"}],
                progress=True if progress is None else progress,
            )
        stamp(tmp, params)

    name = f"large_2d-{size}-seed{seed}-{dtype}-v{version}.ome.zarr"
    return ensure_image("large_2d()", name, params, path, write, overwrite=overwrite)


def cells_3d(
    path: PathLike | None = None,
    *,
    seed: int = 0,
    shape: tuple[int, int, int] = (64, 1024, 1024),
    version: Version = "0.5",
    overwrite: bool = False,
    progress: bool | None = None,
) -> Path:
    """A 3-channel 3D stack (c, z, y, x) of an epithelial cell sheet, with a ``cells`` label image.

    Channels "nuclei" (blue), "membrane" (green) and "actin" (magenta),
    uint16 camera counts, with ``omero`` windows. Labels (uint32, one id per
    cell) in ``labels/cells`` with colours, downsampled by the mode. Scale
    z 0.5, y/x 0.2 micrometre; y and x halve per level (z is kept), chunks
    (1, 4, 256, 256).

    Parameters
    ----------
    path : path-like, optional
        Where to write; default in `data_dir`.
    seed : int
        Picks the sheet.
    shape : (z, y, x)
        Size of one channel.
    version, overwrite, progress
        As in `large_2d`.

    Returns
    -------
    pathlib.Path
    """
    shape = (int(shape[0]), int(shape[1]), int(shape[2]))
    # "generator" changes when the content does, so caches of older content are not reused.
    params = {
        "kind": "cells_3d",
        "generator": _CELLS_GENERATOR,
        "seed": seed,
        "shape": list(shape),
        "version": version,
    }
    sheet = CellSheet(shape, seed)

    def channels(region: tuple[slice, ...]) -> np.ndarray:
        cs, zs, ys, xs = region
        return np.stack([sheet.channel(c, zs, ys, xs) for c in range(cs.start, cs.stop)])

    def labels(region: tuple[slice, ...]) -> np.ndarray:
        return sheet.labels(*region)

    def write(tmp: Path) -> None:
        with one_blas_thread():
            group = write_multiscale(
                ProceduralArray((3, *shape), np.uint16, channels),
                str(tmp),
                axes="czyx",
                scale=[1.0, 0.5, 0.2, 0.2],
                units="micrometer",
                chunks=[1, 4, 256, 256],
                downscale={"y": 2, "x": 2},
                version=version,
                name="cell sheet",
                channels=[
                    {"label": "nuclei", "color": "0000FF"},
                    {"label": "membrane", "color": "00FF00"},
                    {"label": "actin", "color": "FF00FF"},
                ],
                progress=progress,
            )
            write_labels(
                ProceduralArray(shape, np.uint32, labels),
                group,
                "cells",
                colors={int(i): _label_rgba(int(i)) for i in sheet.label_ids()},
                progress=progress,
            )
        stamp(tmp, params)

    dims = "x".join(map(str, shape))
    name = f"cells_3d-{dims}-seed{seed}-g{_CELLS_GENERATOR}-v{version}.ome.zarr"
    return ensure_image("cells_3d()", name, params, path, write, overwrite=overwrite)


def timeseries(
    path: PathLike | None = None,
    *,
    seed: int = 0,
    shape: tuple[int, int, int] = (64, 1024, 1024),
    version: Version = "0.5",
    overwrite: bool = False,
    progress: bool | None = None,
) -> Path:
    """A time series (t, y, x) of bright blobs drifting over a dim background, uint16.

    The blobs go round closed paths, so the series loops. Scale t 1 second,
    y/x 0.5 micrometre; chunks (1, 256, 256), y and x halve per level.

    Parameters
    ----------
    path : path-like, optional
        Where to write; default in `data_dir`.
    seed : int
        Picks the blobs.
    shape : (t, y, x)
        Size of the series.
    version, overwrite, progress
        As in `large_2d`.

    Returns
    -------
    pathlib.Path
    """
    shape = (int(shape[0]), int(shape[1]), int(shape[2]))
    params = {"kind": "timeseries", "seed": seed, "shape": list(shape), "version": version}

    def write(tmp: Path) -> None:
        with one_blas_thread():
            write_multiscale(
                blobs_array(shape, seed),
                str(tmp),
                axes=[
                    {"name": "t", "type": "time", "unit": "second"},
                    {"name": "y", "type": "space", "unit": "micrometer"},
                    {"name": "x", "type": "space", "unit": "micrometer"},
                ],
                scale=[1.0, 0.5, 0.5],
                chunks=[1, 256, 256],
                version=version,
                name="moving blobs",
                channels=["blobs"],
                progress=progress,
            )
        stamp(tmp, params)

    name = f"timeseries-{'x'.join(map(str, shape))}-seed{seed}-v{version}.ome.zarr"
    return ensure_image("timeseries()", name, params, path, write, overwrite=overwrite)


def _label_rgba(label: int) -> list[int]:
    """A bright, deterministic colour per label."""
    u = (hash_uniform(4242, np.array(label), np.arange(3)) + 1) / 2
    return [int(60 + 195 * v) for v in u] + [255]
