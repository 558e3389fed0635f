"""Private helpers of :mod:`simplezarr.utils.multiscale`: transforms, units and axes.

Everything here works on plain JSON values (dicts, lists, numbers); nothing
touches zarr, so it is tested without any store.

Coordinate transformations
--------------------------

OME-NGFF 0.4/0.5 only have ``scale`` and ``translation`` (and ``identity``);
0.6 (RFC-5) adds ``sequence``, ``mapAxis``, ``byDimension``, ``affine``,
``rotation``, ``bijection``, ``displacements``, ``coordinates`` and
``projectAxis``. A viewer of axis-aligned pixel grids can only use the subset
that keeps every output axis a scaled and shifted copy of one input axis::

    out[i] = scale[i] * in[source[i]] + translation[i]

That subset is an :class:`AxisMap`. Every transform (or chain of transforms)
that reduces to it is read: scale, translation, identity, sequence, mapAxis
(an axis permutation), byDimension, bijection (its ``forward``), and affine or
rotation matrices whose linear part is a positive scaled permutation. Anything
else (shear, real rotation, flips, displacement fields, coordinate arrays,
transforms stored in arrays) raises a ``ValueError`` that names the transform.

Untrusted documents
-------------------

Metadata comes from files and servers that nobody checked, so every value is
checked for its type and size before it is used: numbers must be finite
floats (an integer of 400 digits is an error, not an ``OverflowError``),
nested ``sequence``/``byDimension``/``bijection`` transforms may be at most
:data:`MAX_NESTING` deep (not a ``RecursionError``). A bad value raises a
``ValueError`` that names the place in the document.

Axes from dimension names
-------------------------

Arrays without OME axes may still name their dimensions: zarr v3
``dimension_names`` or the xarray attribute ``_ARRAY_DIMENSIONS`` (zarr v2;
tifffile writes its axis codes there, ``"CYX"``). :func:`axes_from_names`
reads them when they are unique and give at least two spatial axes (one for
a 1D array); tifffile's codes are mapped (``S``, the samples of an RGB
image, is a channel axis).
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FN",
    "KNOWN_VERSIONS",
    "MAX_NESTING",
    "SPACE_UNITS",
    "AxisMap",
    "axes_from_names",
    "guess_axes",
    "normalize_unit",
    "parse_transform",
    "parse_transforms",
    "shape_factor",
    "short",
    "type_from_name",
    "warn",
]

#: Prefix of every error message and warning raised while reading metadata.
FN = "MultiscaleInfo.from_zarr_node()"

#: OME-NGFF versions read without a warning.
KNOWN_VERSIONS = ("0.1", "0.2", "0.3", "0.4", "0.5")

_UTILS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str) -> None:
    """``warnings.warn(message)`` attributed to the first caller outside ``simplezarr.utils``.

    The reader recurses (plates, wells, fields), so a fixed ``stacklevel``
    would point at a different line for each layout.
    """
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _UTILS_DIR
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, UserWarning, stacklevel=level)


#: How deep transforms may nest (sequence in sequence ...): a bound on the reader's recursion.
MAX_NESTING = 16

#: The spatial units of OME-NGFF (UDUNITS-2 names) and their factor to metres.
SPACE_UNITS: dict[str, float] = {
    "angstrom": 1e-10,
    "attometer": 1e-18,
    "centimeter": 1e-2,
    "decimeter": 1e-1,
    "exameter": 1e18,
    "femtometer": 1e-15,
    "foot": 0.3048,
    "gigameter": 1e9,
    "hectometer": 1e2,
    "inch": 0.0254,
    "kilometer": 1e3,
    "megameter": 1e6,
    "meter": 1.0,
    "micrometer": 1e-6,
    "mile": 1609.344,
    "millimeter": 1e-3,
    "nanometer": 1e-9,
    "parsec": 3.0856775814913673e16,
    "petameter": 1e15,
    "picometer": 1e-12,
    "terameter": 1e12,
    "yard": 0.9144,
    "yoctometer": 1e-24,
    "yottameter": 1e24,
    "zeptometer": 1e-21,
    "zettameter": 1e21,
}

# Spellings found in the wild, mapped to the OME-NGFF name.
_UNIT_ALIASES = {
    "um": "micrometer",
    "µm": "micrometer",  # micro sign
    "μm": "micrometer",  # Greek mu
    "micron": "micrometer",
    "microns": "micrometer",
    "micrometre": "micrometer",
    "nm": "nanometer",
    "nanometre": "nanometer",
    "mm": "millimeter",
    "millimetre": "millimeter",
    "cm": "centimeter",
    "m": "meter",
    "metre": "meter",
    "meters": "meter",
    "km": "kilometer",
    "pm": "picometer",
    "a": "angstrom",
    "å": "angstrom",
    "ångström": "angstrom",
}


def normalize_unit(unit: Any) -> str | None:
    """Return the OME-NGFF name of ``unit`` ("um" -> "micrometer"), or it unchanged.

    ``None`` and ``""`` give ``None``; unknown units are returned as given.
    """
    if unit is None:
        return None
    text = str(unit).strip()
    if not text:
        return None
    lower = text.lower()
    if lower in SPACE_UNITS:
        return lower
    return _UNIT_ALIASES.get(lower, _UNIT_ALIASES.get(text, text))


def type_from_name(name: str) -> str | None:
    """Guess an axis type from its name, for metadata that gives no type."""
    lower = name.lower()
    if lower in ("x", "y", "z"):
        return "space"
    if lower in ("t", "time"):
        return "time"
    if lower in ("c", "channel", "channels"):
        return "channel"
    return None


def guess_axes(shape: Sequence[int]) -> tuple[tuple[str, str | None], ...]:
    """Guess ``(name, type)`` per axis of an array without metadata.

    The rule (documented in :mod:`simplezarr.utils.multiscale`):

    ====  ===========================================================
    ndim  axes
    ====  ===========================================================
    1     (x)
    2     (y, x)
    3     (c, y, x) if the first size is <= 4; else (y, x, c) if the
          last size is 3 or 4 (interleaved RGB(A)); else (z, y, x)
    4     (c, z, y, x)
    5     (t, c, z, y, x)
    >5    dim_0, dim_1, ... (no type), then (t, c, z, y, x)
    ====  ===========================================================
    """
    ndim = len(shape)
    space, chan, time = "space", "channel", "time"
    if ndim == 0:
        return ()
    if ndim == 1:
        return (("x", space),)
    if ndim == 2:
        return (("y", space), ("x", space))
    if ndim == 3:
        if shape[0] <= 4:
            return (("c", chan), ("y", space), ("x", space))
        if shape[2] in (3, 4):
            return (("y", space), ("x", space), ("c", chan))
        return (("z", space), ("y", space), ("x", space))
    last5 = (("t", time), ("c", chan), ("z", space), ("y", space), ("x", space))
    if ndim == 4:
        return last5[1:]
    extra = tuple((f"dim_{i}", None) for i in range(ndim - 5))
    return extra + last5


# tifffile's axis codes (TiffPageSeries.axes) that name a known axis kind.
_TIFF_CODES = {
    "T": "time",
    "C": "channel",
    "S": "channel",
    "Z": "space",
    "Y": "space",
    "X": "space",
}


def axes_from_names(names: Any, ndim: int) -> tuple[tuple[str, str | None], ...] | None:
    """``(name, type)`` per axis from an array's dimension names, or ``None`` to guess.

    ``names`` is zarr v3 ``dimension_names`` or the ``_ARRAY_DIMENSIONS``
    attribute. Used only when there is one unique, non-empty string per axis
    and at least ``min(2, ndim)`` of them are spatial (``x``, ``y``, ``z``).
    tifffile's one-letter codes (``"C", "Y", "X"``) become lower-case names;
    its ``S`` (samples, e.g. RGB) is a channel axis named ``c`` (``s`` when
    there is also a ``C``).
    """
    if not isinstance(names, list | tuple) or len(names) != ndim or ndim == 0:
        return None
    if not all(isinstance(n, str) and n.strip() for n in names):
        return None
    out: list[tuple[str, str | None]] = []
    if all(len(n) == 1 and n.isupper() for n in names):  # tifffile axis codes
        for n in names:
            name = "c" if n == "S" and "C" not in names else n.lower()
            out.append((name, _TIFF_CODES.get(n)))
    else:
        out = [(n, type_from_name(n)) for n in names]
    if len({n for n, _ in out}) != ndim:
        return None
    if sum(kind == "space" for _, kind in out) < min(2, ndim):
        return None
    return tuple(out)


def shape_factor(n0: int, n: int) -> float:
    """The pixel-size factor of a level of ``n`` pixels against a level of ``n0``.

    An integer ``r`` when ``n`` is ``n0 / r`` rounded up or down (a pyramid
    that halves 1001 pixels into 501 or 500 has factor 2), else the ratio.
    """
    if n0 <= 0 or n <= 0:
        return 1.0
    r = round(n0 / n)
    if r >= 1 and n in (-(-n0 // r), n0 // r):
        return float(r)
    return n0 / n


@dataclass(frozen=True)
class AxisMap:
    """An axis-aligned transform: ``out[i] = scale[i] * in[source[i]] + translation[i]``.

    ``has_translation`` records whether any translation was given (as opposed
    to the implicit zero), which decides whether the default pixel-centre
    translation applies.
    """

    source: tuple[int, ...]
    scale: tuple[float, ...]
    translation: tuple[float, ...]
    has_translation: bool = False

    @classmethod
    def identity(cls, ndim: int) -> AxisMap:
        """The identity on ``ndim`` axes."""
        return cls(tuple(range(ndim)), (1.0,) * ndim, (0.0,) * ndim)

    @property
    def ndim_out(self) -> int:
        """Number of output axes."""
        return len(self.source)

    def then(self, other: AxisMap) -> AxisMap:
        """The transform that applies ``self`` first and ``other`` after it."""
        n = self.ndim_out
        for s in other.source:
            if not 0 <= s < n:
                raise ValueError(f"AxisMap.then(): input axis {s} is out of range (0..{n - 1})")
        return AxisMap(
            source=tuple(self.source[s] for s in other.source),
            scale=tuple(k * self.scale[s] for k, s in zip(other.scale, other.source, strict=True)),
            translation=tuple(
                k * self.translation[s] + t
                for k, s, t in zip(other.scale, other.source, other.translation, strict=True)
            ),
            has_translation=self.has_translation or other.has_translation,
        )

    def apply(self, point: Sequence[float]) -> tuple[float, ...]:
        """Map one point (input coordinates) to output coordinates."""
        return tuple(
            k * float(point[s]) + t
            for s, k, t in zip(self.source, self.scale, self.translation, strict=True)
        )

    def array_order(self, ndim: int, where: str) -> tuple[int, ...]:
        """For each input (array) axis, the output axis it becomes.

        Raises ``ValueError`` unless the map is a permutation of ``ndim`` axes.
        """
        if sorted(self.source) != list(range(ndim)):
            raise ValueError(
                f"{FN}: {where}: the coordinate transformations map the {ndim} array axes "
                f"onto output axes {list(self.source)!r}; only a one-to-one mapping of "
                "axes can be displayed"
            )
        return tuple(self.source.index(j) for j in range(ndim))


def _floats(value: Any, kind: str, where: str) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{FN}: {where}: {kind} must be a list of numbers, got {value!r}")
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in value):
        raise ValueError(f"{FN}: {where}: {kind} must be a list of numbers, got {short(value)}")
    try:
        out = tuple(float(v) for v in value)
    except OverflowError:  # an integer beyond the float range
        out = (math.inf,)
    if not all(math.isfinite(v) for v in out):
        raise ValueError(
            f"{FN}: {where}: {kind} {short(value)} has a non-finite value (not a finite float)"
        )
    return out


def short(value: Any, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 400-digit number stays readable)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_scale(values: tuple[float, ...], kind: str, raw: Any, where: str) -> None:
    if any(v <= 0 for v in values):
        raise ValueError(
            f"{FN}: {where}: {kind} {raw!r} has a value <= 0; zero or negative (flipped) "
            "scales are not supported"
        )


def _matrix(t: dict[str, Any], kind: str, n_in: int, where: str) -> AxisMap:
    """An affine/rotation matrix reduced to an AxisMap, if it is a scaled permutation."""
    raw = t.get(kind)
    if raw is None:
        return _unsupported(t, kind, where)
    ncols = n_in + 1 if kind == "affine" else n_in
    if not isinstance(raw, list) or not all(isinstance(r, list) for r in raw):
        raise ValueError(f"{FN}: {where}: {kind} must be a list of matrix rows, got {raw!r}")
    rows = [_floats(r, kind, where) for r in raw]
    if any(len(r) != ncols for r in rows):
        raise ValueError(
            f"{FN}: {where}: {kind} {raw!r} must have {ncols} columns for {n_in} input axes"
        )
    source, scale, translation = [], [], []
    for row in rows:
        nonzero = [j for j in range(n_in) if row[j] != 0.0]
        if len(nonzero) != 1 or row[nonzero[0]] < 0:
            return _unsupported(t, kind, where, f" {raw!r} (not an axis-aligned scaling)")
        source.append(nonzero[0])
        scale.append(row[nonzero[0]])
        translation.append(row[n_in] if kind == "affine" else 0.0)
    return AxisMap(tuple(source), tuple(scale), tuple(translation), kind == "affine")


def _by_dimension(t: dict[str, Any], n_in: int, where: str, depth: int) -> AxisMap:
    parts = t.get("transformations")
    if not isinstance(parts, list) or not parts:
        raise ValueError(f"{FN}: {where}: byDimension needs a list of transformations")
    found: dict[int, tuple[int, float, float, bool]] = {}
    for part in parts:
        ins = part.get("inputAxes") if isinstance(part, dict) else None
        outs = part.get("outputAxes") if isinstance(part, dict) else None
        if not isinstance(ins, list) or not isinstance(outs, list):
            raise ValueError(
                f"{FN}: {where}: byDimension entry {part!r} needs inputAxes/outputAxes"
            )
        if any(not isinstance(i, int) or not 0 <= i < n_in for i in ins):
            raise ValueError(
                f"{FN}: {where}: byDimension inputAxes {ins!r} out of range (0..{n_in - 1})"
            )
        inner = part.get("transformation", part)  # some drafts inline the transform
        sub = parse_transform(inner, len(ins), where, depth=depth + 1)
        if sub.ndim_out != len(outs):
            raise ValueError(
                f"{FN}: {where}: byDimension outputAxes {outs!r} do not match its transformation"
            )
        for k, o in enumerate(outs):
            if not isinstance(o, int) or o in found:
                raise ValueError(
                    f"{FN}: {where}: byDimension output axis {o!r} is given more than once"
                )
            found[o] = (ins[sub.source[k]], sub.scale[k], sub.translation[k], sub.has_translation)
    if sorted(found) != list(range(len(found))):
        raise ValueError(
            f"{FN}: {where}: byDimension output axes {sorted(found)!r} are not 0..{len(found) - 1}"
        )
    rows = [found[o] for o in range(len(found))]
    return AxisMap(
        tuple(r[0] for r in rows),
        tuple(r[1] for r in rows),
        tuple(r[2] for r in rows),
        any(r[3] for r in rows),
    )


def _unsupported(t: Any, kind: Any, where: str, detail: str = "") -> AxisMap:
    raise ValueError(
        f"{FN}: {where}: cannot interpret the {kind!r} coordinate transformation{detail}; "
        "supported: scale, translation, identity, sequence, mapAxis, byDimension, bijection "
        "and axis-aligned affine/rotation"
    )


def parse_transform(t: Any, n_in: int, where: str, *, depth: int = 0) -> AxisMap:
    """Reduce one coordinate transformation (a JSON dict) on ``n_in`` input axes to an AxisMap.

    ``where`` names the place in the metadata for error messages; ``depth``
    counts the transforms this one is nested in (at most :data:`MAX_NESTING`).
    """
    if depth > MAX_NESTING:
        raise ValueError(
            f"{FN}: {where}: coordinate transformations are nested more than {MAX_NESTING} deep"
        )
    if not isinstance(t, dict):
        raise ValueError(f"{FN}: {where}: a coordinate transformation must be a dict, got {t!r}")
    kind = t.get("type")
    if kind == "identity":
        return AxisMap.identity(n_in)
    if kind in ("scale", "translation"):
        if kind not in t:
            if "path" in t:
                return _unsupported(t, kind, where, f" stored in the array {t['path']!r}")
            raise ValueError(f"{FN}: {where}: the {kind!r} transformation has no {kind!r} values")
        values = _floats(t[kind], kind, where)
        if len(values) != n_in:
            raise ValueError(
                f"{FN}: {where}: {kind} {t[kind]!r} has {len(values)} values, expected {n_in} "
                "(one per axis)"
            )
        if kind == "scale":
            _check_scale(values, kind, t[kind], where)
            return AxisMap(tuple(range(n_in)), values, (0.0,) * n_in)
        return AxisMap(tuple(range(n_in)), (1.0,) * n_in, values, True)
    if kind == "mapAxis":
        perm = t.get("mapAxis")
        if not isinstance(perm, list) or any(
            not isinstance(i, int) or not 0 <= i < n_in for i in perm
        ):
            return _unsupported(t, kind, where, f" {perm!r} (expected a list of axis indices)")
        return AxisMap(tuple(perm), (1.0,) * len(perm), (0.0,) * len(perm))
    if kind == "sequence":
        parts = t.get("transformations")
        if not isinstance(parts, list):
            raise ValueError(f"{FN}: {where}: sequence needs a list of transformations")
        return parse_transforms(parts, n_in, where, depth=depth + 1)
    if kind == "bijection":
        return parse_transform(t.get("forward"), n_in, where, depth=depth + 1)
    if kind == "byDimension":
        return _by_dimension(t, n_in, where, depth)
    if kind in ("affine", "rotation"):
        return _matrix(t, kind, n_in, where)
    return _unsupported(t, kind, where)


def parse_transforms(ts: Any, n_in: int, where: str, *, depth: int = 0) -> AxisMap:
    """Compose a list of transformations, applied in order (first one first).

    The result's scales and translations are finite: a composition that
    overflows (a scale of 1e300 twice) raises a ``ValueError``.
    """
    if ts is None:
        return AxisMap.identity(n_in)
    if not isinstance(ts, list):
        raise ValueError(f"{FN}: {where}: coordinateTransformations must be a list, got {ts!r}")
    result = AxisMap.identity(n_in)
    for t in ts:
        result = result.then(parse_transform(t, result.ndim_out, where, depth=depth))
    if not all(math.isfinite(v) for v in result.scale + result.translation):
        raise ValueError(
            f"{FN}: {where}: the coordinate transformations {short(ts)} overflow: the "
            f"composed scale {result.scale} or translation {result.translation} is not finite"
        )
    return result
