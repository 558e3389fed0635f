"""TIFF files (OME-TIFF pyramids and plain TIFFs) as read-only zarr groups, through tifffile.

``simplezarr.open("x.ome.tif")`` (and ``python -m simplezarr info``, the
viewer) opens a TIFF file with tifffile's zarr store (``tifffile.zarr.
ZarrTiffStore``, a zarr-python 3 store since tifffile 2025.5.21). tifffile is
an optional dependency: ``pip install simplezarr[tiff]``; without it the
error names the extra.

What is read
------------
The file's first series (``TiffFile.series[0]``), every pyramid level of it,
as a zarr v2 group of arrays ``0, 1, 2, ...`` with an OME-NGFF 0.1
``multiscales`` document (what tifffile writes: no axes, no transforms, so
the levels' scales come from their shape ratios, see
:mod:`simplezarr.utils.multiscale`) and tifffile's axis codes as
``_ARRAY_DIMENSIONS`` (``"CYX"``).

For an OME-TIFF, the OME-XML says more, and it replaces tifffile's document
with an OME-NGFF 0.4 one: the axes with their units, the physical pixel size
(``PhysicalSizeX/Y/Z``) times each level's shape ratio as its scale, and the
channels' names and colours as ``omero``. Chunks are the TIFF's tiles or
strips; tifffile decodes them (``imagecodecs`` is needed for LZW, JPEG and
other codecs beyond zlib). Other series of a multi-series file are not
opened.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from simplezarr.utils._ngff import axes_from_names, normalize_unit, shape_factor

__all__ = ["TIFF_MAGIC", "is_tiff", "tiff_store"]

#: The first four bytes of a TIFF (little/big endian) or BigTIFF file.
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def is_tiff(path: Path) -> bool:
    """Whether the file starts like a TIFF or BigTIFF."""
    try:
        with open(path, "rb") as f:
            return f.read(4) in TIFF_MAGIC
    except OSError:
        return False


def tiff_store(path: Path, fn: str, label: str) -> Any:
    """A read-only zarr store of the file's first series (see the module docstring).

    Raises ``ImportError`` naming the ``tiff`` extra without tifffile, and
    ``ValueError`` naming the file when tifffile cannot read it.
    """
    try:
        import tifffile
        from tifffile.zarr import ZarrTiffStore  # noqa: F401  (tifffile >= 2025.5.21)
    except ImportError as exc:
        raise ImportError(
            f"{fn}: {label!r} is a TIFF file; reading it needs tifffile with zarr 3 support "
            f"({exc}): pip install 'simplezarr[tiff]'"
        ) from exc
    try:
        tif = tifffile.TiffFile(os.fspath(path))
    except Exception as exc:
        raise ValueError(
            f"{fn}: {label!r} is not a readable TIFF file: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        if not tif.series:
            raise ValueError(f"{fn}: {label!r} is a TIFF file without an image series")
        series = tif.series[0]
        zattrs = _ome_multiscales(tif, series)
        if zattrs is None:
            return series.aszarr(read_only=True)
        return series.aszarr(multiscales=True, zattrs=zattrs, read_only=True)
    finally:
        tif.close()  # the store opens the file again by itself (tifffile's file cache)


def _ome_multiscales(tif: Any, series: Any) -> dict[str, Any] | None:
    """An OME-NGFF 0.4 document from an OME-TIFF's OME-XML, or None to keep tifffile's."""
    if not tif.is_ome or not tif.ome_metadata:
        return None
    try:
        import tifffile

        image = tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]
        pixels = (image[0] if isinstance(image, list) else image)["Pixels"]
    except Exception:  # OME-XML that does not parse: tifffile's own document
        return None
    if not isinstance(pixels, dict):
        return None
    shapes = [tuple(level.shape) for level in series.levels]
    named = axes_from_names(list(series.axes), len(shapes[0]))
    if named is None:
        return None
    axes: list[dict[str, Any]] = []
    size: list[float] = []
    for name, kind in named:
        axis: dict[str, Any] = {"name": name}
        if kind is not None:
            axis["type"] = kind
        physical = _positive(pixels.get(f"PhysicalSize{name.upper()}"))
        if kind == "space" and physical is not None:
            unit = normalize_unit(pixels.get(f"PhysicalSize{name.upper()}Unit", "µm"))
            if unit is not None:
                axis["unit"] = unit
        axes.append(axis)
        size.append(physical if kind == "space" and physical is not None else 1.0)
    datasets = []
    for k, shape in enumerate(shapes):
        scale = [
            s * (shape_factor(n0, n) if axis.get("type") == "space" else 1.0)
            for s, n0, n, axis in zip(size, shapes[0], shape, axes, strict=True)
        ]
        datasets.append(
            {"path": str(k), "coordinateTransformations": [{"type": "scale", "scale": scale}]}
        )
    ms = {"version": "0.4", "name": series.name or "image", "axes": axes, "datasets": datasets}
    attrs: dict[str, Any] = {"multiscales": [ms]}
    channels = pixels.get("Channel")
    channels = channels if isinstance(channels, list) else [channels] if channels else []
    c_size = shapes[0][series.axes.index("C")] if "C" in series.axes else None
    if len(channels) == c_size and all(isinstance(c, dict) for c in channels):
        attrs["omero"] = {"channels": [_omero_channel(c) for c in channels]}
    return attrs


def _omero_channel(channel: dict[str, Any]) -> dict[str, Any]:
    """An ``omero`` channel from an OME-XML ``Channel``: its name and colour."""
    out: dict[str, Any] = {}
    if channel.get("Name") is not None:
        out["label"] = str(channel["Name"])
    color = channel.get("Color")
    if isinstance(color, int) and not isinstance(color, bool):  # OME: signed 32-bit RGBA
        out["color"] = f"{(color & 0xFFFFFFFF) >> 8:06x}"
    return out


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and number > 0 else None
