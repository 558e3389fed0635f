"""A ComputedImage's metadata: which source image, the output dtype, the OME-Zarr documents.

Private helpers of :mod:`simplezarr.computed` (see its docstring for the
rules they implement): :func:`pick_image` selects an image of a source,
:func:`infer_dtype` calls ``fn`` on a tiny block of zeros, :func:`documents`
writes the group's and levels' ``zarr.json`` from the source's metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from simplezarr._computed_block import fn_name
from simplezarr._computed_store import array_doc
from simplezarr.utils.multiscale import MultiscaleInfo

__all__ = ["documents", "infer_dtype", "pick_image"]

_FN = "ComputedImage()"


def pick_image(infos: list[MultiscaleInfo], image: int | str, source: Any) -> MultiscaleInfo:
    """The image of a source: by index, else by path inside the source, else by name."""
    if isinstance(image, str):
        for info in infos:
            if image.strip("/") == info.path:
                return info
        for info in infos:
            if info.name == image:
                return info
        raise ValueError(
            f"{_FN}: no image named {image!r} (nor at that path) in {source!r}; "
            f"images: {[i.name for i in infos]!r} at paths {[i.path for i in infos]!r}"
        )
    if not -len(infos) <= image < len(infos):
        raise IndexError(f"{_FN}: image {image!r} is out of range: {len(infos)} image(s)")
    return infos[image]


def infer_dtype(
    fn: Callable[[np.ndarray], Any], info: MultiscaleInfo, halo: int, where: str = _FN
) -> np.dtype[Any]:
    """The dtype of ``fn`` on a tiny block of zeros (see the module docstring)."""
    scale = info.scales[0]
    spatial = set(scale.spatial_axes)
    shape = tuple(
        min(c, 4) + (2 * halo if axis in spatial else 0)
        for axis, c in enumerate(scale.chunk_shape)
    )
    try:
        return np.asarray(fn(np.zeros(shape, dtype=scale.dtype))).dtype
    except Exception as exc:
        raise ValueError(
            f"{where}: could not find the output dtype: {fn_name(fn)} raised "
            f"{type(exc).__name__}: {exc} on a block of zeros of shape {shape} and dtype "
            f"{scale.dtype}; pass dtype="
        ) from exc


def documents(info: MultiscaleInfo, dtype: np.dtype[Any], name: str) -> dict[str, Any]:
    """The group's and the levels' ``zarr.json`` (see the module docstring)."""
    axes = []
    for a in info.axes:
        entry: dict[str, Any] = {"name": a.name}
        if a.type is not None:
            entry["type"] = a.type
        if a.unit is not None:
            entry["unit"] = a.unit
        axes.append(entry)
    datasets = [
        {
            "path": str(s.level),
            "coordinateTransformations": [
                {"type": "scale", "scale": [float(v) for v in s.scale]},
                {"type": "translation", "translation": [float(v) for v in s.offset]},
            ],
        }
        for s in info.scales
    ]
    multiscale = {
        "axes": axes,
        "datasets": datasets,
        "name": name,
        "metadata": {"method": "simplezarr.ComputedImage"},
    }
    ome: dict[str, Any] = {"version": "0.5", "multiscales": [multiscale]}
    if info.channels:
        ome["omero"] = {
            "channels": [
                {"label": c.label, "color": (c.color or "ffffff").upper(), "active": c.active}
                for c in info.channels
            ]
        }
    docs: dict[str, Any] = {
        "zarr.json": {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}
    }
    names = [a.name for a in info.axes]
    for s in info.scales:
        docs[f"{s.level}/zarr.json"] = array_doc(s.shape, s.chunk_shape, dtype, names)
    return docs
