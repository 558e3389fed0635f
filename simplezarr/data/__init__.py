"""Built-in demo data: realistic images made locally from a seed, no network.

Written once as OME-Zarr into a cache folder (`data_dir`) and reused:

- `large_2d` — a 16k x 16k fluorescence tissue section, structure at every zoom;
- `cells_3d` — a 3-channel (c, z, y, x) cell-sheet stack with a ``cells`` label image;
- `timeseries` — blobs drifting over time (t, y, x).

Served virtually, each chunk computed when read:

- `virtual_fractal` — the same kind of tissue at 2**20 x 2**20 pixels (1e12),
  through `ProceduralStore`, a read-only Zarr v3 store.

Each opens with ``simplezarr.open(...)`` (or ``zarr.open_group``) like any other zarr.
"""

from __future__ import annotations

from simplezarr.data._cache import data_dir
from simplezarr.data._images import ProceduralArray, cells_3d, large_2d, timeseries
from simplezarr.data._virtual import ProceduralStore, virtual_fractal

__all__ = [
    "ProceduralArray",
    "ProceduralStore",
    "cells_3d",
    "data_dir",
    "large_2d",
    "timeseries",
    "virtual_fractal",
]
