"""Texts for people that the protocol carries: why a tile failed, a data value.

:func:`error_text` is the ``error`` of a ``tile_error`` message,
:func:`value_text` the ``text`` of a value in a ``probe`` answer (see
:mod:`._protocol`).
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

import numpy as np

__all__ = ["MAX_ERROR_TEXT", "error_text", "value_text"]

MAX_ERROR_TEXT: Final = 200
"""Longest ``error`` text of a ``tile_error`` message, in characters."""


def value_text(value: Any) -> str:
    """A data value for people: ``"1234"``, ``"0.5312"``, ``"1.235e+05"``, ``"NaN"``, ``"-inf"``.

    Integers (and bools, as 0/1) in full; floats with 4 significant digits,
    without an exponent from 1e-3 to 1e5 (the integer part in full).
    """
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e5:
        return f"{v:.{max(0, 3 - math.floor(math.log10(abs(v))))}f}"
    return f"{v:.4g}"


def error_text(exc: BaseException | None) -> str:
    """A short text for people saying why a tile failed (``error`` of ``tile_error``).

    The root cause when the exception wraps one (a chunk read error names
    level, index and store, which the message carries already), as
    ``"Type: message"``, on one line, at most :data:`MAX_ERROR_TEXT`
    characters.
    """
    if exc is None:
        return "failed"
    root = exc.__cause__ if exc.__cause__ is not None else exc
    text = str(root).strip()
    if isinstance(root, TimeoutError):  # e.g. the pool's "... took longer than 30 s"
        after = re.search(r"longer than (\S+ s)\b", text)
        return f"read timed out after {after.group(1)}" if after else "read timed out"
    text = f"{type(root).__name__}: {text}" if text else type(root).__name__
    text = " ".join(text.split())  # one line
    if len(text) > MAX_ERROR_TEXT:
        text = text[: MAX_ERROR_TEXT - 1] + "\u2026"
    return text
