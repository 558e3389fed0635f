"""The viewer's display-default policy, all of it in one place.

Every default the viewer derives from an image's metadata or data is decided
here, and nowhere else:

- **Channels.** One per index of the channel axis (exactly one for an image
  without a channel axis, named by the image). Each has a name, a colour
  (``"#rrggbb"``), contrast limits, a gamma (1) and a visibility.
- **From OME ``omero``** (used only when it lists one channel per index):
  ``label`` -> name, ``color`` -> colour, ``window`` start/end -> contrast
  limits (when start < end), ``active`` -> visible.
- **Palette** without an ``omero`` colour (:data:`PALETTE`), by the number
  of channels: 1 white (gray); 2 green, magenta (distinguishable with the
  common colour-vision deficiencies); 3 red, green, blue (ImageJ/Fiji's
  composite default, the most common microscopy convention); more: the
  cycle red, green, blue, cyan, magenta, yellow, orange. Without ``omero``,
  the first 7 channels are visible (each in a different colour) and the
  others hidden; a user shows them (their tiles are asked for only then).
- **RGB(A)** (:func:`is_rgb`): a uint8 image whose channel axis is 3 or 4
  long and that has no ``omero``. Its channels are red ``#ff0000``, green
  ``#00ff00`` and blue ``#0000ff``, contrast ``[0, 255]``, gamma 1; an
  alpha channel is hidden. Added in the browser, these give the photo's
  exact colours. ``Viewer(rgb=False)`` turns the rule off, ``rgb=True``
  forces it on any image with a 3- or 4-long channel axis.
- **Contrast** without an ``omero`` window: the
  :data:`CONTRAST_PERCENTILES` (0.5 and 99.5) of the channel's values in a
  sample of the coarsest level (its middle, at most :data:`SAMPLE_PIXELS`
  pixels over all channels sampled at once); ``auto_contrast`` uses the same
  percentiles over the chunks the views hold. Until the sample is read (and
  when it cannot be), :func:`provisional_limits`: the dtype's range for
  integers (from 0 for unsigned ones), ``[0, 1]`` for floats.
- **Range** (what the contrast slider spans), per channel: the dtype's range
  for bool and 8-bit integers (:func:`dtype_range`); else the ``omero``
  ``window`` min/max (when min < max, and not the whole range of an integer
  dtype: writers, simplezarr's own among them, fill that in when they know
  nothing better; :func:`omero_range`); else the finite min and max observed
  in the coarse sample, widened to include the channel's contrast limits
  when they lie outside and are not the provisional ones (given to
  ``Viewer()`` or by ``omero``; limits set later count from the next
  histogram). A 16-bit image rarely uses more than a few thousand of its
  65536 values (12-bit cameras, a few thousand counts): over the dtype's
  range its slider and histogram would be squeezed into a few percent.
  Until the sample is read, the range is the channel's contrast limits.
- **Histogram**: :data:`HISTOGRAM_BINS` (64) equal bins over the range, of
  the same sample's finite values.
- **Colormap** (single-channel mode): ``"gray"`` by default; any of
  :data:`COLORMAPS`, their ``_r`` reversed forms, a colour name of
  :data:`COLOR_NAMES` (a black-to-colour ramp) or ``"#rrggbb"``.
- **NaN** pixels: ``nan_color`` ``"transparent"`` (default) or ``"#rrggbb"``.

Pure: no IO, no pool, no widget (:mod:`._stats` reads the samples).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from simplezarr.utils.multiscale import MultiscaleInfo

__all__ = [
    "COLORMAPS",
    "COLOR_NAMES",
    "CONTRAST_PERCENTILES",
    "DEFAULT_VISIBLE",
    "HEX",
    "HISTOGRAM_BINS",
    "NAN_TRANSPARENT",
    "PALETTE",
    "RGB_COLORS",
    "SAMPLE_PIXELS",
    "SAMPLE_SIDE",
    "ChannelDefaults",
    "ChannelStats",
    "channel_defaults",
    "channel_stats",
    "dtype_range",
    "is_rgb",
    "normalize_color",
    "normalize_colormap",
    "normalize_nan_color",
    "omero_range",
    "provisional_limits",
    "slider_labels",
]

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
"""A ``#rrggbb`` colour."""

CONTRAST_PERCENTILES: Final = (0.5, 99.5)
"""Default contrast limits: these percentiles of a channel's values."""

HISTOGRAM_BINS: Final = 64
"""Bins of a channel's histogram, equal over its ``range``."""

SAMPLE_SIDE: Final = 2048
"""Most pixels a side of one channel's sample of the coarsest level."""

SAMPLE_PIXELS: Final = 2048 * 2048
"""Most pixels of one coarse sample, over all its channels (the side shrinks with more)."""

COLORMAPS: Final = ("gray", "viridis", "magma", "inferno", "plasma", "cividis", "turbo")
"""Named colormaps of single-channel mode; each also as ``name + "_r"`` (reversed)."""

COLOR_NAMES: Final = {
    "red": "#ff0000",
    "green": "#00ff00",
    "blue": "#0000ff",
    "cyan": "#00ffff",
    "magenta": "#ff00ff",
    "yellow": "#ffff00",
}
"""Single colours by name: as a colormap, a black-to-colour ramp; as a channel colour, the hex."""

PALETTE: Final = ("#ff0000", "#00ff00", "#0000ff", "#00ffff", "#ff00ff", "#ffff00", "#ff8000")
"""Channel colours without ``omero``, cycled, for 4 channels or more."""

_PALETTE_SMALL: Final = {1: ("#ffffff",), 2: ("#00ff00", "#ff00ff"), 3: PALETTE[:3]}

DEFAULT_VISIBLE: Final = len(PALETTE)
"""Without ``omero``, the channels shown at first: the first 7 (one per palette colour)."""

RGB_COLORS: Final = ("#ff0000", "#00ff00", "#0000ff", "#ffffff")
"""Colours of an RGB(A) image's channels (the alpha channel's is unused: it is hidden)."""

NAN_TRANSPARENT: Final = "transparent"
"""``nan_color`` that leaves NaN pixels out (what lies under them shows)."""


def normalize_color(value: Any) -> str | None:
    """A channel colour as ``"#rrggbb"`` (lower case) from hex or a colour name, else ``None``."""
    if not isinstance(value, str):
        return None
    if HEX.match(value):
        return value.lower()
    return COLOR_NAMES.get(value.lower())


def normalize_colormap(value: Any) -> str | None:
    """A valid ``colormap`` value (hex in lower case), else ``None``."""
    if not isinstance(value, str):
        return None
    if value in COLORMAPS or value in COLOR_NAMES:
        return value
    if value.endswith("_r") and value[:-2] in COLORMAPS:
        return value
    return value.lower() if HEX.match(value) else None


def normalize_nan_color(value: Any) -> str | None:
    """A valid ``nan_color`` (``"transparent"`` or ``"#rrggbb"``), else ``None``."""
    if value == NAN_TRANSPARENT:
        return NAN_TRANSPARENT
    return value.lower() if isinstance(value, str) and HEX.match(value) else None


def slider_labels(info: MultiscaleInfo, kind: str | None, size: int) -> list[str]:
    """Names for the indices of a slider: the ``omero`` channel labels of a channel axis."""
    if kind != "channel" or not info.channels or len(info.channels) != size:
        return []
    return [c.label for c in info.channels]


def dtype_range(dtype: np.dtype[Any]) -> list[float] | None:
    """The range of bool and 8-bit integers; ``None`` for the others (their range is observed)."""
    if dtype.kind == "b":
        return [0.0, 1.0]
    if dtype.kind in "ui" and dtype.itemsize == 1:
        info = np.iinfo(dtype)
        return [float(info.min), float(info.max)]
    return None


def omero_range(lo: float | None, hi: float | None, dtype: np.dtype[Any]) -> list[float] | None:
    """A channel's range from its ``omero`` ``window`` min/max, else ``None``.

    ``None`` when either is missing, when ``lo >= hi``, and when they cover
    the whole range of an integer ``dtype`` (a placeholder that says nothing
    about the data: the range is then observed).

    Parameters
    ----------
    lo, hi : float or None
        ``window.min`` and ``window.max``.
    dtype : numpy.dtype
        The image's dtype.

    Returns
    -------
    list of float or None
        ``[lo, hi]``, or ``None``.
    """
    window = _omero_window(lo, hi)
    if window is None:
        return None
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        if window[0] <= info.min and window[1] >= info.max:
            return None
    return window


def provisional_limits(dtype: np.dtype[Any]) -> list[float]:
    """Contrast limits that need no read: the integer range (from 0 if unsigned), else [0, 1]."""
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return [float(max(info.min, 0) if dtype.kind == "u" else info.min), float(info.max)]
    return [0.0, 1.0]


def is_rgb(info: MultiscaleInfo) -> bool:
    """Whether the image is RGB(A): uint8, a 3- or 4-long channel axis, no ``omero``."""
    first = info.scales[0]
    c_axis = first.channel_axis
    return (
        np.dtype(first.dtype) == np.uint8
        and c_axis is not None
        and first.shape[c_axis] in (3, 4)
        and not info.channels
    )


@dataclass(frozen=True)
class ChannelDefaults:
    """What one channel starts with.

    ``contrast_limits`` is ``None`` when it must come from the data (the
    coarse sample); ``range`` is ``None`` when it is observed there too
    (:func:`channel_stats`).
    """

    name: str
    color: str
    contrast_limits: list[float] | None
    gamma: float
    visible: bool
    range: list[float] | None


def _omero_window(start: float | None, end: float | None) -> list[float] | None:
    """``[start, end]`` when both are given and start < end, else ``None``."""
    if start is None or end is None or not start < end:
        return None
    return [float(start), float(end)]


def channel_defaults(info: MultiscaleInfo, *, rgb: bool | None = None) -> list[ChannelDefaults]:
    """The defaults of every channel of ``info`` (see the module docstring).

    Parameters
    ----------
    info : MultiscaleInfo
        The image.
    rgb : bool, optional
        ``None``: RGB(A) when :func:`is_rgb` says so; ``False``: never;
        ``True``: always (the channel axis must be 3 or 4 long).

    Raises
    ------
    ValueError
        ``rgb=True`` for an image without a 3- or 4-long channel axis.
    """
    first = info.scales[0]
    dtype = np.dtype(first.dtype)
    c_axis = first.channel_axis
    n = first.shape[c_axis] if c_axis is not None else 1
    if rgb is True and (c_axis is None or n not in (3, 4)):
        raise ValueError(
            f"Viewer(): rgb=True needs a channel axis of length 3 or 4; image {info.name!r} "
            f"has shape {first.shape!r} with axes {info.axes_names!r}"
        )
    fixed = dtype_range(dtype)
    if rgb is True or (rgb is None and is_rgb(info)):
        top = float(np.iinfo(dtype).max) if dtype.kind in "ui" else 1.0
        names = ("red", "green", "blue", "alpha")
        return [
            ChannelDefaults(names[i], RGB_COLORS[i], [0.0, top], 1.0, i < 3, fixed)
            for i in range(n)
        ]
    omero = info.channels if info.channels and len(info.channels) == n else None
    colors = _PALETTE_SMALL.get(n) or tuple(PALETTE[i % len(PALETTE)] for i in range(n))
    out = []
    for i in range(n):
        if omero is not None:
            ch = omero[i]
            name = ch.label if c_axis is not None else (ch.label or info.name or "image")
            color = normalize_color(f"#{ch.color}") if ch.color else None
            window = _omero_window(ch.window_start, ch.window_end)
            span = fixed or omero_range(ch.window_min, ch.window_max, dtype)
            visible = ch.active
        else:
            name = f"channel {i}" if c_axis is not None else (info.name or "image")
            color, window, span, visible = None, None, fixed, i < DEFAULT_VISIBLE
        out.append(ChannelDefaults(name, color or colors[i], window, 1.0, visible, span))
    return out


@dataclass(frozen=True)
class ChannelStats:
    """What a sample of one channel's values says.

    ``limits`` are the :data:`CONTRAST_PERCENTILES`; ``range`` the range
    given, else the finite min and max seen (widened to include the limits
    given); ``histogram`` the counts of :data:`HISTOGRAM_BINS` equal bins
    over ``range``.
    """

    limits: list[float]
    range: list[float]
    histogram: list[int]


_MAX_VALUES = 4 * 1024 * 1024  # values of one channel used for its statistics (strided beyond)


def _values(pieces: list[npt.NDArray[Any]]) -> npt.NDArray[np.float64]:
    """The finite values of ``pieces`` as float64, strided down to at most ``_MAX_VALUES``."""
    total = sum(p.size for p in pieces)
    step = max(1, math.ceil(total / _MAX_VALUES))
    flat = [np.asarray(p).reshape(-1)[::step] for p in pieces if p.size]
    if not flat:
        return np.empty(0, np.float64)
    values = np.concatenate(flat).astype(np.float64, copy=False)
    return values[np.isfinite(values)]


def channel_stats(
    pieces: list[npt.NDArray[Any]],
    fixed_range: list[float] | None = None,
    include: Sequence[float] | None = None,
) -> ChannelStats:
    """:class:`ChannelStats` of the values in ``pieces`` (non-finite values are left out).

    Parameters
    ----------
    pieces : list of numpy.ndarray
        The channel's values.
    fixed_range : list of float, optional
        The channel's range when it does not depend on the data (the
        dtype's, :func:`dtype_range`, or the ``omero`` window min/max): the
        histogram's range. ``None``: the finite min and max seen (``[0, 1]``
        when there is none; ``hi`` is ``lo + 1`` when they are equal).
    include : sequence of float, optional
        Contrast limits the observed range is widened to include (ignored
        with ``fixed_range``, and when not finite).

    Returns
    -------
    ChannelStats
        The limits, the range and the histogram over that range.
    """
    values = _values(pieces)
    if values.size == 0:
        limits = [0.0, 1.0]
        observed = [0.0, 1.0]
    else:
        lo, hi = (float(v) for v in np.percentile(values, CONTRAST_PERCENTILES))
        limits = [lo, hi if hi > lo else lo + 1.0]
        vmin, vmax = float(values.min()), float(values.max())
        observed = [vmin, vmax if vmax > vmin else vmin + 1.0]
    if fixed_range is not None:
        span = [float(fixed_range[0]), float(fixed_range[1])]
    else:
        span = observed
        if include is not None and all(math.isfinite(v) for v in include):
            lo, hi = float(min(include)), float(max(include))
            if values.size == 0:
                span = [lo, hi if hi > lo else lo + 1.0]
            else:
                span = [min(span[0], lo), max(span[1], hi)]
    counts, _ = np.histogram(values, bins=HISTOGRAM_BINS, range=(span[0], span[1]))
    return ChannelStats(limits, span, [int(c) for c in counts])
