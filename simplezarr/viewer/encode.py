"""Data values -> PNG bytes for the viewer's tiles.

Tiles carry *values*, not colours: contrast, colormap and gamma are applied in
the browser. Browsers decode 8-bit PNGs exactly (with
``createImageBitmap(blob, {colorSpaceConversion: "none",
premultiplyAlpha: "none"})``) but reduce 16-bit PNGs to 8 bits, so 16-bit codes
travel as two 8-bit channels. Two encodings (see ``docs/architecture.md``):

- ``u8``:  8-bit grayscale PNG, ``code = gray``.
- ``u16``: 8-bit RGB PNG, ``R = code >> 8``, ``G = code & 255``; ``B = 255``
  marks a NaN pixel (only float data has them), ``B = 0`` every other one.
- ``label``: 8-bit RGBA PNG of a label image's ids (:func:`encode_labels`),
  exact up to ``2**32 - 1``: ``R`` bits 0-7, ``G`` 8-15, ``B`` 16-23 and
  ``A = 255 - (bits 24-31)``, so that every id below ``2**24`` (all but
  huge label images) is opaque and no premultiplying decoder can touch it.
  Ids are never interpolated nor rescaled; negative ids or ids of
  ``2**32`` and above are an error naming the value.

Value mapping (:func:`to_codes`), ``value = value_offset + value_scale * code``:

========================  ==========  ==========================================
dtype                     encoding    mapping
========================  ==========  ==========================================
bool                      u8          0/1
uint8                     u8          identity
int8                      u8          ``code = v + 128`` (exact)
uint16                    u16         identity
int16                     u16         ``code = v + 32768`` (exact)
other integers            u16         exact ``code = v - min`` when the tile's
                                      range fits in 16 bits, else linear
float, wide integers      u16         linear from the tile's finite min..max
                                      onto 0..65535 (rounded); NaN and -inf map
                                      to 0, +inf to 65535; NaN is marked (B)
========================  ==========  ==========================================

PNG writer: chosen by measurement (``benchmarks/bench_encode.py``). For a
512x512 uint16 tile, Pillow takes ~13 ms and imagecodecs ~5 ms, while this
module's minimal writer (``Sub`` filter computed with numpy + ISA-L deflate
level 1 from ``python-isal``, which releases the GIL) takes ~1.5 ms with output
within about 1% of imagecodecs' size. It writes only ``IHDR``, one ``IDAT`` and
``IEND``: no gamma or colour-profile chunks, so nothing alters the codes.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from isal import isal_zlib

__all__ = [
    "LABEL_ENCODING",
    "MAX_LABEL_ID",
    "EncodedTile",
    "encode_labels",
    "encode_png",
    "encode_tile",
    "label_codes",
    "to_codes",
]

_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_COLOR_GRAY: Final = 0
_COLOR_RGB: Final = 2
_COLOR_RGBA: Final = 6
_FILTER_SUB: Final = 1
_U16_MAX: Final = 65535

LABEL_ENCODING: Final = "label"
"""The ``encoding`` of a label tile (see the module docstring)."""
MAX_LABEL_ID: Final = 2**32 - 1
"""The largest label id a tile carries."""


@dataclass(frozen=True)
class EncodedTile:
    """A PNG and the mapping from its codes to data values."""

    png: bytes
    shape: tuple[int, int]
    encoding: str  # "u8", "u16" or "label"
    value_offset: float
    value_scale: float


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(payload, zlib.crc32(kind)))
    )


def encode_png(codes: npt.NDArray[Any], *, level: int = 1) -> bytes:
    """Write an 8-bit PNG of a ``(h, w)`` gray, ``(h, w, 3)`` RGB or ``(h, w, 4)`` RGBA array.

    Parameters
    ----------
    codes : numpy.ndarray
        uint8 array, 2D (grayscale) or 3D with 3 (RGB) or 4 channels (RGBA,
        straight alpha: the pictures of :mod:`._export`).
    level : int
        ISA-L deflate level, 0 (fastest) .. 3 (smallest).

    Returns
    -------
    bytes
        A PNG that any decoder returns exactly as ``codes``.
    """
    if codes.dtype != np.uint8:
        raise TypeError(f"encode_png(): codes must be uint8, got {codes.dtype}")
    if codes.ndim == 2:
        color, channels = _COLOR_GRAY, 1
    elif codes.ndim == 3 and codes.shape[2] == 3:
        color, channels = _COLOR_RGB, 3
    elif codes.ndim == 3 and codes.shape[2] == 4:
        color, channels = _COLOR_RGBA, 4
    else:
        raise ValueError(
            f"encode_png(): codes must be (h, w), (h, w, 3) or (h, w, 4), got {codes.shape}"
        )
    h, w = codes.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"encode_png(): cannot encode an empty image of shape {codes.shape}")
    rows = np.ascontiguousarray(codes).reshape(h, w * channels)
    # Sub filter: each byte minus the byte one pixel to its left (mod 256).
    filtered = np.empty((h, w * channels + 1), np.uint8)
    filtered[:, 0] = _FILTER_SUB
    filtered[:, 1 : 1 + channels] = rows[:, :channels]
    np.subtract(rows[:, channels:], rows[:, :-channels], out=filtered[:, 1 + channels :])
    idat = isal_zlib.compress(filtered.data, level)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


_NAN_MARK: Final = 255  # B of a NaN pixel in a u16 tile


def _pack_u16(
    codes: npt.NDArray[np.uint16], nan: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.uint8]:
    """``(h, w)`` uint16 codes -> ``(h, w, 3)`` uint8: R high byte, G low byte, B NaN mark."""
    h, w = codes.shape
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[..., 0] = codes >> 8
    rgb[..., 1] = codes  # casts modulo 256: the low byte
    if nan is not None:
        rgb[..., 2][nan] = _NAN_MARK
    return rgb


def _linear_codes(
    plane: npt.NDArray[Any],
) -> tuple[npt.NDArray[np.uint16], float, float, npt.NDArray[np.bool_] | None]:
    """Map a plane linearly onto 0..65535 from its finite min..max; its NaN mask (or None)."""
    values = plane.astype(np.float64, copy=False)
    finite = np.isfinite(values)
    nan: npt.NDArray[np.bool_] | None = None
    if finite.all():
        lo, hi = float(values.min()), float(values.max())
    else:
        nan = np.isnan(values)
        if not nan.any():
            nan = None
        if finite.any():
            lo, hi = float(values[finite].min()), float(values[finite].max())
        else:
            lo, hi = 0.0, 0.0
    if hi > lo:
        scale = (hi - lo) / _U16_MAX
        scaled = (values - lo) * (_U16_MAX / (hi - lo))
        np.nan_to_num(scaled, copy=False, nan=0.0, posinf=_U16_MAX, neginf=0.0)
        np.clip(scaled, 0, _U16_MAX, out=scaled)
        codes = np.rint(scaled).astype(np.uint16)
    else:
        # constant (or no finite value): every code is 0, which stands for lo
        scale = 1.0
        codes = np.zeros(plane.shape, np.uint16)
    return codes, lo, scale, nan


def to_codes(plane: npt.NDArray[Any]) -> tuple[npt.NDArray[np.uint8], str, float, float]:
    """Map a 2D plane of data values to PNG codes.

    Returns
    -------
    codes : numpy.ndarray
        ``(h, w)`` uint8 for ``u8``, ``(h, w, 3)`` uint8 (R, G, NaN mark) for ``u16``.
    encoding : str
        ``"u8"`` or ``"u16"``.
    value_offset, value_scale : float
        ``value = value_offset + value_scale * code``.
    """
    if plane.ndim != 2:
        raise ValueError(f"to_codes(): plane must be 2D, got shape {plane.shape}")
    dt = plane.dtype
    if dt.kind == "b":
        return plane.view(np.uint8) if dt.itemsize == 1 else plane.astype(np.uint8), "u8", 0.0, 1.0
    if dt.kind in "ui" and dt.itemsize == 1:
        if dt.kind == "u":
            return plane.view(np.uint8), "u8", 0.0, 1.0
        return (plane.view(np.uint8) ^ np.uint8(0x80)), "u8", -128.0, 1.0
    if dt.kind in "ui" and dt.itemsize == 2:
        native = plane.astype(dt.newbyteorder("="), copy=False)
        if dt.kind == "u":
            return _pack_u16(native.view(np.uint16)), "u16", 0.0, 1.0
        return _pack_u16(native.view(np.uint16) ^ np.uint16(0x8000)), "u16", -32768.0, 1.0
    if dt.kind in "ui":
        lo, hi = int(plane.min()), int(plane.max())
        if hi - lo <= _U16_MAX:
            shifted = (plane - np.array(lo, dtype=plane.dtype)).astype(np.uint16)
            return _pack_u16(shifted), "u16", float(lo), 1.0
        codes, offset, scale, _ = _linear_codes(plane)
        return _pack_u16(codes), "u16", offset, scale
    if dt.kind == "f":
        codes, offset, scale, nan = _linear_codes(plane)
        return _pack_u16(codes, nan), "u16", offset, scale
    raise TypeError(f"to_codes(): cannot map dtype {dt} to PNG codes")


def encode_tile(plane: npt.NDArray[Any], *, level: int = 1) -> EncodedTile:
    """Encode a 2D plane of data values as a PNG tile (see :func:`to_codes`)."""
    codes, encoding, offset, scale = to_codes(plane)
    h, w = plane.shape
    return EncodedTile(encode_png(codes, level=level), (h, w), encoding, offset, scale)


def label_codes(plane: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """``(h, w)`` integer ids -> ``(h, w, 4)`` uint8 RGBA codes (see the module docstring).

    Raises
    ------
    TypeError
        ``plane`` is not of an integer (or bool) dtype.
    ValueError
        An id is negative or above :data:`MAX_LABEL_ID` (the first such id is named).
    """
    if plane.ndim != 2:
        raise ValueError(f"label_codes(): plane must be 2D, got shape {plane.shape}")
    dt = plane.dtype
    if dt.kind not in "uib":
        raise TypeError(f"label_codes(): labels must be integers, got dtype {dt}")
    if dt.kind == "i" or (dt.kind == "u" and dt.itemsize > 4):
        bad = (plane < 0) | (plane > MAX_LABEL_ID) if plane.size else np.zeros((0,), bool)
        if bad.any():
            value = plane[bad].flat[0]
            raise ValueError(
                f"label_codes(): label id {int(value)} is outside 0..{MAX_LABEL_ID} "
                "(tiles carry ids of 32 bits)"
            )
    ids = plane.astype(np.uint32)
    rgba = ids.astype("<u4").view(np.uint8).reshape(*plane.shape, 4).copy()
    rgba[..., 3] = 255 - rgba[..., 3]
    return rgba


def encode_labels(plane: npt.NDArray[Any], *, level: int = 1) -> EncodedTile:
    """Encode a 2D plane of label ids as an RGBA ``label`` tile (see :func:`label_codes`)."""
    h, w = plane.shape
    return EncodedTile(
        encode_png(label_codes(plane), level=level), (h, w), LABEL_ENCODING, 0.0, 1.0
    )
