"""Display defaults read from an image's metadata and data, for the viewer.

Which image of a source to show (and the pool that reads it), the names of
a slider's indices (``omero`` channel labels), and the default colormap and
contrast limits of the channel shown: its ``omero`` colour (images with
several channels; white counts as gray) and window, else the 0.5 / 99.5
percentiles of one plane of the coarsest level (at most 2048 x 2048 pixels
of it). Kept apart from :mod:`.widget`, which only routes.

The percentiles need data, read by :mod:`._contrast` (never waiting on a
store without a bound); until they arrive, and when they cannot be read, the
contrast is :func:`provisional_contrast`: the ``omero`` window when there is
one (no read at all), else the dtype's range.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from simplezarr._open import open as open_source
from simplezarr.utils.chunkpool import ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo

__all__ = [
    "HEX",
    "default_colormap",
    "omero_window",
    "open_pool",
    "pick_image",
    "provisional_contrast",
    "slider_labels",
]

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
"""A ``#rrggbb`` colour."""


# Default pool cache, in bytes of level-0 chunks.
_CACHE_BYTES = 256 << 20


def open_pool(
    source: Any,
    *,
    image: int | str,
    storage_options: dict[str, Any] | None,
    level_cache: int | None,
    memory: int,
) -> tuple[ChunkPool, bool]:
    """The pool of ``Viewer(source, ...)``, and whether the viewer owns it.

    A ``ChunkPool`` source is shared as is (not owned). Otherwise the source
    is opened read-only, the image picked, and a pool made with
    ``cache_size=level_cache`` (default: as many level-0 chunks as fit in
    256 MB, at least 16) and ``memory_budget=memory``.
    """
    if isinstance(source, ChunkPool):
        return source, False
    if isinstance(source, MultiscaleInfo):
        info = source
    else:
        node = open_source(source, storage_options=storage_options)
        info = pick_image(MultiscaleInfo.from_zarr_node(node), image, source)
    if level_cache is None:
        first = info.scales[0]
        nbytes = math.prod(first.chunk_shape) * np.dtype(first.dtype).itemsize
        level_cache = max(16, _CACHE_BYTES // max(1, nbytes))
    options: dict[str, Any] = {}
    if "memory_budget" in inspect.signature(ChunkPool).parameters:
        options["memory_budget"] = memory  # (a pool without a budget: older chunk cores)
    return ChunkPool(info, cache_size=level_cache, **options), True


def pick_image(infos: list[MultiscaleInfo], image: int | str, source: Any) -> MultiscaleInfo:
    """The image to show: by index, or by path inside the source (``"A/1/0"``), else by name.

    Paths are unique (``MultiscaleInfo.path``); names often are not (every
    field of an iohub plate is called ``"0"``): the first image of a name.
    """
    if isinstance(image, str):
        for info in infos:
            if info.path == image.strip("/"):
                return info
        for info in infos:
            if info.name == image:
                return info
        names = [i.name for i in infos]
        paths = [i.path for i in infos]
        raise ValueError(
            f"Viewer(): no image named {image!r} (nor at that path) in {source!r}; "
            f"images: {names!r} at paths {paths!r}"
        )
    if not -len(infos) <= image < len(infos):
        raise IndexError(
            f"Viewer(): image {image!r} is out of range: {source!r} has {len(infos)} image(s)"
        )
    return infos[image]


def slider_labels(info: MultiscaleInfo, kind: str | None, size: int) -> list[str]:
    """Names for the indices of a slider: the ``omero`` channel labels of a channel axis."""
    if kind != "channel" or not info.channels or len(info.channels) != size:
        return []
    return [c.label for c in info.channels]


def default_colormap(info: MultiscaleInfo, position: Mapping[str, int]) -> str:
    """The ``omero`` colour of the channel shown, for images with several channels; else gray."""
    first = info.scales[0]
    c_axis = first.channel_axis
    if c_axis is None or first.shape[c_axis] < 2 or not info.channels:
        return "gray"
    c = position.get(first.axes[c_axis].name, 0)
    color = info.channels[c].color if 0 <= c < len(info.channels) else None
    if color is None or not HEX.match(f"#{color.lstrip('#')}"):
        return "gray"
    if color.lstrip("#").lower() == "ffffff":
        return "gray"
    return f"#{color.lstrip('#').lower()}"


def omero_window(info: MultiscaleInfo, position: Mapping[str, int]) -> list[float] | None:
    """The ``omero`` window ``[start, end]`` of the channel shown, if it has a valid one."""
    if not info.channels:
        return None
    first = info.scales[0]
    c_axis = first.channel_axis
    c = position.get(first.axes[c_axis].name, 0) if c_axis is not None else 0
    if not 0 <= c < len(info.channels):
        return None
    ch = info.channels[c]
    if ch.window_start is None or ch.window_end is None or not ch.window_start < ch.window_end:
        return None
    return [float(ch.window_start), float(ch.window_end)]


def provisional_contrast(info: MultiscaleInfo, position: Mapping[str, int]) -> list[float]:
    """Contrast limits that need no read: the ``omero`` window, else the dtype's range."""
    window = omero_window(info, position)
    return window if window is not None else _dtype_range(np.dtype(info.scales[-1].dtype))


def _dtype_range(dtype: np.dtype[Any]) -> list[float]:
    """Contrast limits when no data can be read: the integer range, else [0, 1]."""
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return [float(max(info.min, 0) if dtype.kind == "u" else info.min), float(info.max)]
    return [0.0, 1.0]
