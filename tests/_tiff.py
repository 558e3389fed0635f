"""Test helper: OME-TIFF pyramids written by tifffile, as microscopes' software writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest


def write_ome_tiff_pyramid(
    path: Path,
    shape: tuple[int, int, int] = (3, 1001, 777),
    *,
    physical: tuple[float, float] | None = None,
    channels: list[dict[str, Any]] | None = None,
) -> np.ndarray:
    """A (c, y, x) OME-TIFF with two sub-resolutions (sub-IFDs, sizes halved rounding down).

    ``physical`` is the (y, x) pixel size in micrometres written to the
    OME-XML; ``channels`` the OME ``Channel`` entries (``Name``, ``Color``).
    Returns level 0. Skips the test without tifffile.
    """
    tifffile = pytest.importorskip("tifffile")
    data = np.random.default_rng(1).integers(0, 4000, shape, dtype="uint16")
    meta: dict[str, Any] = {"axes": "CYX"}
    if physical is not None:
        meta["PhysicalSizeY"], meta["PhysicalSizeX"] = physical
    if channels is not None:
        meta["Channel"] = {key: [c[key] for c in channels] for key in channels[0]}
    with tifffile.TiffWriter(path, ome=True) as tw:
        kw: dict[str, Any] = {"tile": (128, 128), "photometric": "minisblack"}
        tw.write(data, subifds=2, metadata=meta, **kw)
        for f in (2, 4):
            level = data[:, ::f, ::f][:, : shape[1] // f, : shape[2] // f]
            tw.write(level, subfiletype=1, **kw)
    return data
