"""Display defaults read from an image's metadata and data, for the viewer.

Which image of a source to show, the names of a slider's indices (``omero``
channel labels), and the default colormap and contrast limits of the channel
shown: its ``omero`` colour (images with several channels; white counts as
gray) and window, else the 0.5 / 99.5 percentiles of one plane of the
coarsest level (at most 2048 x 2048 pixels of it are read). Kept apart from
:mod:`.widget`, which only routes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from simplezarr.utils.multiscale import MultiscaleInfo

from .geometry import ImageLayout

__all__ = ["HEX", "default_colormap", "default_contrast", "pick_image", "slider_labels"]

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
"""A ``#rrggbb`` colour."""

logger = logging.getLogger("simplezarr")

# Plane of the coarsest level sampled for default contrast limits: at most this many pixels a side.
_CONTRAST_SAMPLE = 2048


def pick_image(infos: list[MultiscaleInfo], image: int | str, source: Any) -> MultiscaleInfo:
    if isinstance(image, str):
        for info in infos:
            if info.name == image:
                return info
        names = [i.name for i in infos]
        raise ValueError(f"Viewer(): no image named {image!r} in {source!r}; images: {names!r}")
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


def default_contrast(
    info: MultiscaleInfo, layout: ImageLayout, position: Mapping[str, int]
) -> list[float]:
    """Contrast limits from ``omero`` windows, else 0.5/99.5 percentiles of the coarsest level."""
    first = info.scales[0]
    c_axis = first.channel_axis
    if info.channels:
        c = position.get(first.axes[c_axis].name, 0) if c_axis is not None else 0
        if 0 <= c < len(info.channels):
            ch = info.channels[c]
            if (
                ch.window_start is not None
                and ch.window_end is not None
                and ch.window_start < ch.window_end
            ):
                return [float(ch.window_start), float(ch.window_end)]
    level = len(info.scales) - 1
    coarsest = info.scales[level]
    sel: list[int | slice] = [slice(None)] * layout.ndim
    for slider, i in zip(layout.sliders, layout.slider_indices(level, position), strict=True):
        sel[slider.axis] = i
    for axis in (layout.y_axis, layout.x_axis):
        n = coarsest.shape[axis]
        start = max(0, (n - _CONTRAST_SAMPLE) // 2)
        sel[axis] = slice(start, min(n, start + _CONTRAST_SAMPLE))
    try:
        values = np.asarray(coarsest.array[tuple(sel)])
    except Exception as exc:  # a failing store must not stop the viewer from opening
        fallback = _dtype_range(np.dtype(coarsest.dtype))
        logger.warning(
            "Viewer(): could not read level %d to choose contrast limits (%s: %s); using %s",
            level,
            type(exc).__name__,
            exc,
            fallback,
        )
        return fallback
    if values.dtype.kind == "b":
        return [0.0, 1.0]
    if values.dtype.kind not in "uif":
        return [0.0, 1.0]
    values = values[np.isfinite(values)] if values.dtype.kind == "f" else values.ravel()
    if values.size == 0:
        return [0.0, 1.0]
    lo, hi = (float(v) for v in np.percentile(values, [0.5, 99.5]))
    if not hi > lo:
        hi = lo + 1.0
    return [lo, hi]


def _dtype_range(dtype: np.dtype[Any]) -> list[float]:
    """Contrast limits when no data can be read: the integer range, else [0, 1]."""
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return [float(max(info.min, 0) if dtype.kind == "u" else info.min), float(info.max)]
    return [0.0, 1.0]
