"""PNG tiles: exact round trips through Pillow (and imagecodecs) for every dtype and shape."""

from __future__ import annotations

import io
import struct
import zlib

import imagecodecs
import numpy as np
import pytest
from PIL import Image

from simplezarr.viewer.encode import encode_png, encode_tile, to_codes

from .conftest import decode_values

SHAPES = [(1, 1), (1, 7), (7, 1), (3, 5), (2, 2), (31, 17), (256, 256), (513, 257)]
EXACT_DTYPES = ["bool", "uint8", "int8", "uint16", "int16", ">u2", ">i2"]


def chunks_of(png: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, payload) of every PNG chunk, checking lengths and CRCs."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    out = []
    pos = 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        payload = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + payload)
        out.append((kind, payload))
        pos += 12 + length
    assert pos == len(png)
    return out


def random_plane(dtype: str, shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dt.kind in "ui":
        info = np.iinfo(dt)
        return rng.integers(
            info.min, info.max, shape, endpoint=True, dtype=dt.newbyteorder("=")
        ).astype(dt)
    return (rng.standard_normal(shape) * 1000).astype(dt)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", EXACT_DTYPES)
def test_exact_dtypes_round_trip(dtype: str, shape: tuple[int, int]) -> None:
    plane = random_plane(dtype, shape)
    tile = encode_tile(plane)
    assert tile.shape == shape
    values = decode_values(
        {
            "encoding": tile.encoding,
            "value_offset": tile.value_offset,
            "value_scale": tile.value_scale,
            "shape": list(shape),
        },
        tile.png,
    )
    np.testing.assert_array_equal(values, plane.astype(np.float64))
    assert tile.value_scale == 1.0
    assert tile.encoding == ("u8" if np.dtype(dtype).itemsize == 1 else "u16")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "float16", "int32", "uint32", "int64", "uint64"]
)
def test_wide_dtypes_map_linearly_onto_16_bits(dtype: str, shape: tuple[int, int]) -> None:
    plane = random_plane(dtype, shape, seed=1)
    tile = encode_tile(plane)
    meta = {
        "encoding": tile.encoding,
        "value_offset": tile.value_offset,
        "value_scale": tile.value_scale,
        "shape": list(shape),
    }
    values = decode_values(meta, tile.png)
    ref = plane.astype(np.float64)
    assert tile.encoding == "u16"
    lo, hi = ref.min(), ref.max()
    assert tile.value_offset == lo
    if np.dtype(dtype).kind in "ui" and hi - lo <= 65535:
        np.testing.assert_array_equal(values, ref)  # exact when the range fits
    elif hi > lo:
        assert tile.value_scale == pytest.approx((hi - lo) / 65535)
        assert np.abs(values - ref).max() <= tile.value_scale / 2 * (1 + 1e-9) + 1e-9 * abs(hi)
        assert values.min() == pytest.approx(lo) and values.max() == pytest.approx(hi)


def test_integer_tile_with_a_small_range_is_exact() -> None:
    plane = np.arange(-3000, -3000 + 40 * 50, dtype=np.int32).reshape(40, 50) * 30
    plane[0, 0] = plane.max() - 65535  # range exactly 65535
    tile = encode_tile(plane)
    meta = {
        "encoding": "u16",
        "value_offset": tile.value_offset,
        "value_scale": tile.value_scale,
        "shape": [40, 50],
    }
    np.testing.assert_array_equal(decode_values(meta, tile.png), plane)
    assert tile.value_scale == 1.0


def test_nan_and_infinities() -> None:
    plane = np.array([[np.nan, 1.0, 2.0], [np.inf, -np.inf, 3.0]], dtype=np.float32)
    codes, encoding, offset, scale = to_codes(plane)
    assert encoding == "u16" and offset == 1.0 and scale == pytest.approx(2.0 / 65535)
    code = codes[..., 0].astype(int) * 256 + codes[..., 1]
    assert code[0, 0] == 0  # NaN -> minimum
    assert code[1, 1] == 0  # -inf -> minimum
    assert code[1, 0] == 65535  # +inf -> maximum
    assert code[1, 2] == 65535 and code[0, 1] == 0
    # B marks the NaN pixel, and only it (infinities are values at the ends)
    np.testing.assert_array_equal(codes[..., 2], [[255, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_nan_pixels_are_marked_and_decode_as_nan(dtype: str) -> None:
    rng = np.random.default_rng(3)
    plane = rng.normal(100, 20, (37, 41)).astype(dtype)
    nan = rng.random(plane.shape) < 0.2
    plane[nan] = np.nan
    tile = encode_tile(plane)
    assert tile.encoding == "u16"
    meta = {
        "encoding": "u16",
        "value_offset": tile.value_offset,
        "value_scale": tile.value_scale,
        "shape": list(plane.shape),
    }
    values = decode_values(meta, tile.png)  # NaN where B == 255
    np.testing.assert_array_equal(np.isnan(values), nan)
    np.testing.assert_allclose(
        values[~nan], plane[~nan].astype(np.float64), atol=tile.value_scale / 2 + 1e-9
    )


def test_integer_tiles_are_never_marked() -> None:
    for dtype in ("uint16", "int16", "int32", "uint32"):
        codes, encoding, _, _ = to_codes(random_plane(dtype, (20, 30), seed=1))
        assert encoding == "u16" and not codes[..., 2].any()


@pytest.mark.parametrize("fill", [5.5, np.nan])
def test_constant_or_empty_float_tiles(fill: float) -> None:
    plane = np.full((4, 6), fill, dtype=np.float64)
    tile = encode_tile(plane)
    meta = {
        "encoding": tile.encoding,
        "value_offset": tile.value_offset,
        "value_scale": tile.value_scale,
        "shape": [4, 6],
    }
    values = decode_values(meta, tile.png)
    if np.isnan(fill):
        assert np.isnan(values).all()  # every pixel marked NaN
    else:
        assert np.all(values == fill)


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (64, 65)])
@pytest.mark.parametrize("channels", [1, 3])
def test_encode_png_decodes_exactly_with_two_decoders(
    shape: tuple[int, int], channels: int
) -> None:
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 256, shape if channels == 1 else (*shape, 3), dtype=np.uint8)
    png = encode_png(codes)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), codes)
    np.testing.assert_array_equal(imagecodecs.png_decode(png), codes)
    kinds = [k for k, _ in chunks_of(png)]
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]  # no gAMA / iCCP / sRGB
    ihdr = chunks_of(png)[0][1]
    w, h, depth, color = struct.unpack(">IIBB", ihdr[:10])
    assert (h, w, depth, color) == (*shape, 8, 0 if channels == 1 else 2)


def test_compression_levels_all_decode() -> None:
    y, x = np.mgrid[:128, :96]
    codes = ((x * 3 + y) % 256).astype(np.uint8)
    sizes = []
    for level in range(4):
        png = encode_png(codes, level=level)
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), codes)
        sizes.append(len(png))
    assert sizes[3] <= sizes[0]


def test_bad_input_names_the_function() -> None:
    with pytest.raises(TypeError, match=r"encode_png\(\).*uint16"):
        encode_png(np.zeros((2, 2), np.uint16))
    with pytest.raises(ValueError, match=r"encode_png\(\).*\(2, 2, 5\)"):
        encode_png(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(ValueError, match=r"encode_png\(\).*empty"):
        encode_png(np.zeros((0, 3), np.uint8))
    with pytest.raises(ValueError, match=r"to_codes\(\).*2D"):
        to_codes(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(TypeError, match=r"to_codes\(\).*complex"):
        to_codes(np.zeros((2, 2), np.complex64))


def test_non_contiguous_planes() -> None:
    base = random_plane("uint16", (40, 60), seed=9)
    plane = base[::2, 1::3]
    tile = encode_tile(plane)
    meta = {"encoding": "u16", "value_offset": 0.0, "value_scale": 1.0, "shape": list(plane.shape)}
    np.testing.assert_array_equal(decode_values(meta, tile.png), plane)
    plane8 = base.astype(np.uint8).T
    tile8 = encode_tile(plane8)
    meta8 = {
        "encoding": "u8",
        "value_offset": 0.0,
        "value_scale": 1.0,
        "shape": list(plane8.shape),
    }
    np.testing.assert_array_equal(decode_values(meta8, tile8.png), plane8)
