"""PNG encoders for one viewer tile, side by side: ms per tile and bytes.

Run:  .venv/bin/python benchmarks/bench_encode.py [--repeat 40]
      (with simplezarr installed, e.g. ``pip install -e .``, or ``PYTHONPATH=.``)

Compares, on 512 x 512 tiles (uint16 packed as 8-bit RGB, R = hi, G = lo, and
uint8 as 8-bit gray, as the viewer sends them):

- ``simplezarr``: ``simplezarr.viewer.encode.encode_png`` (Sub filter in numpy
  + ISA-L deflate level 1), and the full ``encode_tile`` (value mapping too);
- ``imagecodecs``: ``png_encode(codes, 1, strategy=3, filter=16)`` (zlib-ng,
  RLE strategy, Sub filter), the fastest setting found for it;
- ``Pillow``: ``save(format="PNG", compress_level=1)``.

Content: "microscopy" (a fluorescence tissue tile with Poisson shot noise,
what the viewer mostly sees) and "noise" (uniform random codes, the worst case).
Every encoder's output is decoded with Pillow and checked against the codes.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import imagecodecs
import numpy as np
from PIL import Image

from simplezarr.viewer.encode import _pack_u16, encode_png, encode_tile

SIDE = 512


def microscopy_u16(seed: int = 0) -> np.ndarray:
    """A fluorescence-like uint16 tile: tissue structure, ~3000 counts peak, shot noise."""
    rng = np.random.default_rng(seed)
    try:
        from simplezarr.data._tissue import render_tissue

        signal = render_tissue(7936, 7936, SIDE, SIDE, step=1, size=16384, seed=seed)
    except ImportError:  # a stand-in: smooth background and bright blobs
        y, x = np.mgrid[:SIDE, :SIDE]
        signal = 0.2 + 0.1 * np.sin(x / 37.0) * np.cos(y / 53.0)
        for cy, cx in rng.uniform(0, SIDE, (60, 2)):
            signal += 0.6 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 40.0)
    return (rng.poisson(100 + 3000 * np.asarray(signal, np.float64))).astype(np.uint16)


def time_ms(fn: Callable[[], bytes], repeat: int) -> tuple[float, bytes]:
    out = fn()  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times), out


def pillow_png(codes: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(codes).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def check(png: bytes, codes: np.ndarray) -> None:
    decoded = np.asarray(Image.open(io.BytesIO(png)))
    if not np.array_equal(decoded, codes):
        raise AssertionError("decoded PNG differs from its codes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    micro16 = microscopy_u16()
    micro8 = (micro16 >> 4).clip(0, 255).astype(np.uint8)
    contents = {
        "microscopy u16": micro16,
        "noise u16": rng.integers(0, 65536, (SIDE, SIDE), dtype=np.uint16),
        "microscopy u8": micro8,
        "noise u8": rng.integers(0, 256, (SIDE, SIDE), dtype=np.uint8),
    }
    print(f"one {SIDE}x{SIDE} tile, median of {args.repeat}; ratio = time / simplezarr encode_png")
    print(
        f"{'content':<16} {'encoder':<34} {'ms/tile':>8} {'bytes':>9} {'x time':>7} {'x size':>7}"
    )
    for name, plane in contents.items():
        codes = _pack_u16(plane) if plane.dtype == np.uint16 else plane
        ours_ms, ours = time_ms(lambda c=codes: encode_png(c), args.repeat)
        rows: list[tuple[str, Callable[[], bytes]]] = [
            ("simplezarr encode_png (isal 1)", lambda c=codes: encode_png(c)),
            ("simplezarr encode_png (isal 0)", lambda c=codes: encode_png(c, level=0)),
            ("simplezarr encode_png (isal 2)", lambda c=codes: encode_png(c, level=2)),
            ("simplezarr encode_tile (+mapping)", lambda p=plane: encode_tile(p).png),
            (
                "imagecodecs png l1 rle sub",
                lambda c=codes: bytes(imagecodecs.png_encode(c, 1, strategy=3, filter=16)),
            ),
            ("imagecodecs png default", lambda c=codes: bytes(imagecodecs.png_encode(c))),
            ("Pillow png compress_level=1", lambda c=codes: pillow_png(c)),
        ]
        for label, fn in rows:
            ms, png = time_ms(fn, args.repeat)
            check(png, codes)
            print(
                f"{name:<16} {label:<34} {ms:8.2f} {len(png):9d} "
                f"{ms / ours_ms:7.2f} {len(png) / len(ours):7.3f}"
            )
        print()


if __name__ == "__main__":
    main()
