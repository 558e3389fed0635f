"""The scale bar in the kernel: the twin of ``js/scalebar.ts``, drawn into an RGBA picture.

:func:`choose_scale_bar` is the same rule as the front end's
``chooseScaleBar``: a round physical length (1, 2 or 5 times a power of
ten) about :data:`TARGET_CSS_PX` CSS pixels long, labelled in the unit
prefix that reads best (``"500 nm"``, not ``"0.5 µm"``); an image whose unit
is not a length gets a bar in world units, with the unit's symbol if it has
one. ``tests/viewer/test_render.py`` checks it against the cases of
``js/scalebar.test.ts``.

:func:`draw_scale_bar` draws it as the front end's CSS does
(``js/styles.ts``): bottom right, 12 CSS px from the right and 10 from the
bottom, a 4 px bar in ``#f4f4f6`` with a dark 1 px edge, the label right
aligned 2 px above it, light on a dark halo. The label is drawn with a tiny
built-in 5 x 7 bitmap font (no font files, no new dependency); characters
it lacks are drawn as a box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from simplezarr.utils._ngff import SPACE_UNITS, normalize_unit

__all__ = ["TARGET_CSS_PX", "ScaleBarSpec", "choose_scale_bar", "draw_scale_bar"]

TARGET_CSS_PX: Final = 110.0
"""The bar aims at about this many CSS pixels (as ``js/scalebar.ts``)."""

# Display units, smallest first: (symbol, metres), as js/scalebar.ts PREFIXES.
_PREFIXES: Final = (
    ("pm", 1e-12),
    ("nm", 1e-9),
    ("µm", 1e-6),
    ("mm", 1e-3),
    ("m", 1.0),
    ("km", 1e3),
)

# Unit symbols of OME-NGFF unit names, as js/format.ts UNIT_SYMBOLS.
_UNIT_SYMBOLS: Final = {
    "angstrom": "Å",
    "attometer": "am",
    "centimeter": "cm",
    "decimeter": "dm",
    "exameter": "Em",
    "femtometer": "fm",
    "foot": "ft",
    "gigameter": "Gm",
    "hectometer": "hm",
    "inch": "in",
    "kilometer": "km",
    "megameter": "Mm",
    "meter": "m",
    "micrometer": "µm",
    "micron": "µm",
    "mile": "mi",
    "millimeter": "mm",
    "nanometer": "nm",
    "parsec": "pc",
    "petameter": "Pm",
    "picometer": "pm",
    "terameter": "Tm",
    "yard": "yd",
    "zeptometer": "zm",
    "zettameter": "Zm",
    "attosecond": "as",
    "centisecond": "cs",
    "day": "d",
    "decisecond": "ds",
    "femtosecond": "fs",
    "hour": "h",
    "microsecond": "µs",
    "millisecond": "ms",
    "minute": "min",
    "nanosecond": "ns",
    "picosecond": "ps",
    "second": "s",
}


@dataclass(frozen=True)
class ScaleBarSpec:
    """A scale bar: its length ``px`` in CSS pixels and its ``label`` (``"20 µm"``)."""

    px: float
    label: str


def _round_down_125(x: float) -> float:
    """The largest 1/2/5 x 10^k not above ``x`` (x > 0)."""
    p = 10.0 ** math.floor(math.log10(x))
    m = x / p
    return (5.0 if m >= 5 else 2.0 if m >= 2 else 1.0) * p


def _trim(value: float) -> str:
    """``String(Number(value.toPrecision(6)))``: ``"50"``, ``"0.5"``, ``"200"``."""
    text = f"{float(f'{value:.6g}'):.15g}"
    return text


def _unit_symbol(unit: str) -> str:
    return _UNIT_SYMBOLS.get(unit.lower(), unit) if unit else ""


def choose_scale_bar(scale: float, unit: str) -> ScaleBarSpec | None:
    """The scale bar where one CSS pixel is ``scale`` world units of ``unit``.

    Parameters
    ----------
    scale : float
        World units per CSS pixel.
    unit : str
        The world unit (an OME-NGFF unit name, or ``""``).

    Returns
    -------
    ScaleBarSpec or None
        ``None`` when ``scale`` is not a positive finite number.
    """
    if not (scale > 0) or not math.isfinite(scale):
        return None
    name = normalize_unit(unit) or ""
    metres = SPACE_UNITS.get(name)
    if metres is None:
        length = _round_down_125(TARGET_CSS_PX * scale)
        symbol = _unit_symbol(unit)
        return ScaleBarSpec(
            length / scale, f"{_trim(length)} {symbol}" if symbol else _trim(length)
        )
    length_m = _round_down_125(TARGET_CSS_PX * scale * metres)
    symbol, unit_m = _PREFIXES[0]
    for s, m in _PREFIXES:
        if length_m >= m * (1 - 1e-9):
            symbol, unit_m = s, m
    return ScaleBarSpec(length_m / metres / scale, f"{_trim(length_m / unit_m)} {symbol}")


# -- the bitmap font ------------------------------------------------------------------

# 5 x 7 glyphs, one string of 7 rows of 5 columns ("#" ink) each.
_GLYPHS: Final = {
    " ": ".....|.....|.....|.....|.....|.....|.....",
    ".": ".....|.....|.....|.....|.....|.##..|.##..",
    "-": ".....|.....|.....|#####|.....|.....|.....",
    "+": ".....|..#..|..#..|#####|..#..|..#..|.....",
    "0": ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.",
    "1": "..#..|.##..|..#..|..#..|..#..|..#..|.###.",
    "2": ".###.|#...#|....#|...#.|..#..|.#...|#####",
    "3": "#####|...#.|..#..|...#.|....#|#...#|.###.",
    "4": "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.",
    "5": "#####|#....|####.|....#|....#|#...#|.###.",
    "6": "..##.|.#...|#....|####.|#...#|#...#|.###.",
    "7": "#####|....#|...#.|..#..|.#...|.#...|.#...",
    "8": ".###.|#...#|#...#|.###.|#...#|#...#|.###.",
    "9": ".###.|#...#|#...#|.####|....#|...#.|.##..",
    "a": ".....|.....|.###.|....#|.####|#...#|.####",
    "b": "#....|#....|#.##.|##..#|#...#|#...#|####.",
    "c": ".....|.....|.###.|#....|#....|#...#|.###.",
    "d": "....#|....#|.##.#|#..##|#...#|#...#|.####",
    "e": ".....|.....|.###.|#...#|#####|#....|.###.",
    "f": "..##.|.#..#|.#...|###..|.#...|.#...|.#...",
    "g": ".....|.####|#...#|#...#|.####|....#|.###.",
    "h": "#....|#....|#.##.|##..#|#...#|#...#|#...#",
    "i": "..#..|.....|.##..|..#..|..#..|..#..|.###.",
    "j": "...#.|.....|..##.|...#.|...#.|#..#.|.##..",
    "k": "#....|#....|#..#.|#.#..|##...|#.#..|#..#.",
    "l": ".##..|..#..|..#..|..#..|..#..|..#..|.###.",
    "m": ".....|.....|##.#.|#.#.#|#.#.#|#...#|#...#",
    "n": ".....|.....|#.##.|##..#|#...#|#...#|#...#",
    "o": ".....|.....|.###.|#...#|#...#|#...#|.###.",
    "p": ".....|.....|####.|#...#|####.|#....|#....",
    "q": ".....|.....|.##.#|#..##|.####|....#|....#",
    "r": ".....|.....|#.##.|##..#|#....|#....|#....",
    "s": ".....|.....|.###.|#....|.###.|....#|####.",
    "t": ".#...|.#...|###..|.#...|.#...|.#..#|..##.",
    "u": ".....|.....|#...#|#...#|#...#|#..##|.##.#",
    "v": ".....|.....|#...#|#...#|#...#|.#.#.|..#..",
    "w": ".....|.....|#...#|#...#|#.#.#|#.#.#|.#.#.",
    "x": ".....|.....|#...#|.#.#.|..#..|.#.#.|#...#",
    "y": ".....|.....|#...#|#...#|.####|....#|.###.",
    "z": ".....|.....|#####|...#.|..#..|.#...|#####",
    "µ": ".....|.....|#...#|#...#|#...#|##.##|#.#..",
    "Å": "..#..|.....|.###.|#...#|#####|#...#|#...#",
    "E": "#####|#....|#....|####.|#....|#....|#####",
    "G": ".###.|#...#|#....|#.###|#...#|#...#|.####",
    "M": "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#",
    "P": "####.|#...#|#...#|####.|#....|#....|#....",
    "T": "#####|..#..|..#..|..#..|..#..|..#..|..#..",
    "Z": "#####|....#|...#.|..#..|.#...|#....|#####",
    "?": "#####|#...#|#...#|#...#|#...#|#...#|#####",
}
_GLYPH_W: Final = 5
_GLYPH_H: Final = 7


def _glyph(ch: str) -> npt.NDArray[np.bool_]:
    rows = _GLYPHS.get(ch, _GLYPHS["?"]).split("|")
    return np.array([[c == "#" for c in row] for row in rows], dtype=bool)


def _text_mask(text: str, px: int) -> npt.NDArray[np.bool_]:
    """The ink of ``text``: glyphs 1 px apart, each pixel ``px`` x ``px``."""
    cols = max(1, len(text) * (_GLYPH_W + 1) - 1)
    mask = np.zeros((_GLYPH_H, cols), dtype=bool)
    for i, ch in enumerate(text):
        mask[:, i * (_GLYPH_W + 1) : i * (_GLYPH_W + 1) + _GLYPH_W] = _glyph(ch)
    return np.kron(mask, np.ones((px, px), dtype=bool)).astype(bool)


# -- drawing ----------------------------------------------------------------------------

_INK: Final = np.array([0xF4, 0xF4, 0xF6], np.float64)
_RIGHT_CSS: Final = 12.0
_BOTTOM_CSS: Final = 10.0
_BAR_CSS: Final = 4.0
_GAP_CSS: Final = 2.0
_HALO_ALPHA: Final = 0.7


def _paint(
    rgba: npt.NDArray[np.uint8],
    mask: npt.NDArray[np.bool_],
    top: int,
    left: int,
    rgb: npt.NDArray[np.float64],
    alpha: float,
) -> None:
    """Composite ``rgb`` at ``alpha`` over ``rgba`` where ``mask`` is set (clipped)."""
    h, w = rgba.shape[:2]
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + mask.shape[0], h), min(left + mask.shape[1], w)
    if y1 <= y0 or x1 <= x0:
        return
    m = mask[y0 - top : y1 - top, x0 - left : x1 - left]
    region = rgba[y0:y1, x0:x1].astype(np.float64)
    a_dst = region[..., 3:4] / 255.0
    a_out = alpha + a_dst * (1.0 - alpha)
    safe = np.where(a_out > 0, a_out, 1.0)
    color = (rgb * alpha + region[..., :3] * a_dst * (1.0 - alpha)) / safe
    out = np.concatenate([color, a_out * 255.0], axis=-1)
    region[m] = out[m]
    rgba[y0:y1, x0:x1] = np.clip(np.floor(region + 0.5), 0, 255).astype(np.uint8)


def _grow(mask: npt.NDArray[np.bool_], r: int) -> npt.NDArray[np.bool_]:
    """``mask`` grown by ``r`` pixels (a square), padded by ``r`` on every side."""
    h, w = mask.shape
    out = np.zeros((h + 2 * r, w + 2 * r), dtype=bool)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            out[dy : dy + h, dx : dx + w] |= mask
    return out


def draw_scale_bar(
    rgba: npt.NDArray[np.uint8], spec: ScaleBarSpec, dpr: float = 1.0
) -> npt.NDArray[np.uint8]:
    """Draw ``spec`` bottom right of an ``(h, w, 4)`` RGBA picture at ``dpr`` (in place).

    Returns
    -------
    numpy.ndarray
        ``rgba``, drawn into.
    """
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(
            f"draw_scale_bar(): rgba must be an (h, w, 4) uint8 array, got "
            f"{rgba.shape} {rgba.dtype}"
        )
    h, w = rgba.shape[:2]
    unit = max(1, round(dpr))
    right = w - round(_RIGHT_CSS * dpr)
    bottom = h - round(_BOTTOM_CSS * dpr)
    bar_w = max(1, round(spec.px * dpr))
    bar_h = max(1, round(_BAR_CSS * dpr))
    bar = np.ones((bar_h, bar_w), dtype=bool)
    black = np.zeros(3, np.float64)
    _paint(rgba, _grow(bar, unit), bottom - bar_h - unit, right - bar_w - unit, black, _HALO_ALPHA)
    _paint(rgba, bar, bottom - bar_h, right - bar_w, _INK, 1.0)
    text = _text_mask(spec.label, unit)
    top = bottom - bar_h - round(_GAP_CSS * dpr) - text.shape[0]
    left = right - text.shape[1]
    _paint(rgba, _grow(text, unit), top - unit, left - unit, black, _HALO_ALPHA)
    _paint(rgba, text, top, left, _INK, 1.0)
    return rgba
