"""Colormap lookup tables in the kernel: the twin of ``js/colormaps.ts``.

The browser maps a contrast-scaled value ``t`` in ``[0, 1]`` to entry
``round(255 t)`` of a 256-entry RGBA table; the kernel's renderer
(:mod:`.render`) does the same with the same tables.

One source of truth: the published tables (viridis, magma, inferno, plasma,
cividis, turbo) live in ``simplezarr/viewer/colormaps.json`` as base64 RGB
bytes. esbuild bundles that file into the front end (``js/colormaps.ts``
imports it) and this module reads it with :mod:`importlib.resources`, so
the two sides cannot drift apart. What is computed rather than tabulated
(``gray`` and black-to-colour ramps, ``_r`` and ``invert``) follows the same
rules as ``js/colormaps.ts``, rounding half up as ``Math.round`` does;
``tests/viewer/test_render.py`` checks them against the cases of
``js/colormaps.test.ts``.
"""

from __future__ import annotations

import base64
import functools
import json
import string
from importlib import resources
from typing import Final

import numpy as np
import numpy.typing as npt

from ._defaults import COLOR_NAMES, COLORMAPS

__all__ = ["colormap_lut", "hex_rgb"]

_TABLE_FILE: Final = "colormaps.json"


@functools.cache
def _tables() -> dict[str, bytes]:
    """The tabulated colormaps, by name: 768 RGB bytes each."""
    text = resources.files("simplezarr.viewer").joinpath(_TABLE_FILE).read_text("utf-8")
    tables = json.loads(text)["tables"]
    out = {name: base64.b64decode(data) for name, data in tables.items()}
    for name, rgb in out.items():
        if len(rgb) != 256 * 3:
            raise ValueError(
                f"colormap_lut(): table {name!r} in {_TABLE_FILE} has {len(rgb)} bytes, not 768"
            )
    return out


def hex_rgb(text: str) -> tuple[int, int, int] | None:
    """``"#rrggbb"`` (any case, surrounding blanks ignored) as ``(r, g, b)``, else ``None``."""
    s = text.strip()
    if len(s) != 7 or s[0] != "#" or not all(c in string.hexdigits for c in s[1:]):
        return None
    return (int(s[1:3], 16), int(s[3:5], 16), int(s[5:7], 16))


def _ramp(rgb: tuple[int, int, int]) -> npt.NDArray[np.uint8]:
    """Black to ``rgb`` in 256 steps, rounded half up (``Math.round``)."""
    i = np.arange(256, dtype=np.int64)
    lut = np.full((256, 4), 255, np.uint8)
    for k in range(3):
        lut[:, k] = (2 * rgb[k] * i + 255) // 510  # floor(rgb * i / 255 + 0.5), exact
    return lut


@functools.cache
def _lut(key: str, reversed_: bool) -> npt.NDArray[np.uint8]:
    if key in ("gray", "grey"):
        lut = _ramp((255, 255, 255))
    elif key in _tables():
        lut = np.full((256, 4), 255, np.uint8)
        lut[:, :3] = np.frombuffer(_tables()[key], np.uint8).reshape(256, 3)
    else:
        rgb = hex_rgb(key)
        if rgb is None:
            raise ValueError(
                f"colormap_lut(): unknown colormap {key!r}; use one of {list(COLORMAPS)}, "
                f"a colour name of {list(COLOR_NAMES)} or '#rrggbb' (each maybe with '_r')"
            )
        lut = _ramp(rgb)
    if reversed_:
        lut = lut[::-1].copy()
    lut.flags.writeable = False
    return lut


def colormap_lut(name: str, *, invert: bool = False) -> npt.NDArray[np.uint8]:
    """The ``(256, 4)`` uint8 RGBA table of a colormap, as the browser builds it.

    Parameters
    ----------
    name : str
        ``gray``, a tabulated map (``viridis``, ...), a colour name or
        ``#rrggbb`` (black-to-colour ramps); ``_r`` reverses it.
    invert : bool
        Reverse the table (again, for an ``_r`` name).

    Returns
    -------
    numpy.ndarray
        Read-only ``(256, 4)`` uint8, alpha 255.

    Raises
    ------
    ValueError
        For a name the viewer does not accept (the browser would warn and
        draw gray; the kernel validates ``Viewer.colormap`` before).
    """
    key = name.strip().lower()
    reversed_ = invert
    if key.endswith("_r"):
        key, reversed_ = key[:-2], not reversed_
    key = COLOR_NAMES.get(key, "#ffffff" if key == "white" else key)
    return _lut(key, reversed_)
