"""The PNG tiles decode exactly in real Chromium, through the renderer's own path.

`simplezarr.viewer.encode.encode_tile` makes the PNG of a plane; a tiny
inline page (served with ``page.route``, nothing else reachable) decodes it
the way ``js/layer.ts`` and ``js/renderer.ts`` do: ``createImageBitmap`` with
``colorSpaceConversion: "none"`` and ``premultiplyAlpha: "none"``, uploaded
to a WebGL2 RGBA8 texture with the renderer's ``pixelStorei`` settings. The
texture is attached to a framebuffer and read back with ``readPixels``, so
the test sees the bytes the shader samples.

From those bytes the codes are rebuilt per the protocol (``u8``: R;
``u16``: 256 R + G) and must equal `to_codes` exactly; the values
``value_offset + value_scale * code`` must equal the data where the mapping
is exact, and be within ``value_scale / 2`` where it is linear. Pillow's
decode of the same PNG must agree with Chromium's byte for byte.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from PIL import Image

from simplezarr.viewer.encode import EncodedTile, encode_tile, to_codes
from tests.browser._servers import CHROMIUM_FLAGS, REPO, require_chromium

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

ORIGIN = "http://png-decode.test"

# The decode and upload settings of the renderer, mirrored here and checked against
# js/layer.ts and js/renderer.ts by test_page_uses_the_renderer_settings.
DECODE_OPTIONS = '{ colorSpaceConversion: "none", premultiplyAlpha: "none" }'
UNPACK_SETTINGS = [
    "gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);",
    "gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);",
    "gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);",
    "gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);",
]
UPLOAD = "gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);"

PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>png decode</title></head><body>
<canvas id="c" width="1" height="1"></canvas>
<script>
const gl = document.getElementById("c").getContext("webgl2");

function fromBase64(b64) {{
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}}

function toBase64(bytes) {{
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {{
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }}
  return btoa(s);
}}

// PNG bytes -> ImageBitmap -> RGBA8 texture -> framebuffer -> readPixels.
window.decodePng = async (b64) => {{
  const blob = new Blob([fromBase64(b64)], {{ type: "image/png" }});
  const bitmap = await createImageBitmap(blob, {DECODE_OPTIONS});
  const width = bitmap.width, height = bitmap.height;
  const tex = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, tex);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  {" ".join(UNPACK_SETTINGS)}
  {UPLOAD}
  bitmap.close();
  const fb = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
  gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
  const status = gl.checkFramebufferStatus(gl.FRAMEBUFFER);
  const pixels = new Uint8Array(width * height * 4);
  gl.pixelStorei(gl.PACK_ALIGNMENT, 1);
  gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
  const error = gl.getError();
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.deleteFramebuffer(fb);
  gl.deleteTexture(tex);
  return {{
    width, height, rgba: toBase64(pixels),
    complete: status === gl.FRAMEBUFFER_COMPLETE, error,
  }};
}};
window.pageReady = gl !== null;
</script></body></html>
"""


# -- the planes ------------------------------------------------------------------------


def _with_extremes(values: np.ndarray) -> np.ndarray:
    """``values`` with the dtype's min and max in two pixels (the ends of the range)."""
    info = np.iinfo(values.dtype)
    flat = values.reshape(-1)
    flat[0], flat[-1] = info.min, info.max
    return values


def _planes() -> dict[str, tuple[np.ndarray, bool]]:
    """name -> (plane, whether the value mapping is exact)."""
    rng = np.random.default_rng(20240917)
    f32 = rng.normal(100.0, 30.0, (200, 150)).astype(np.float32)
    f32[3, 4], f32[10, 0], f32[199, 149], f32[50, 50] = np.nan, np.inf, -np.inf, np.nan
    small_lo = -70_000
    i32_small = rng.integers(small_lo, small_lo + 65_536, (160, 130), dtype=np.int32)
    i32_small.reshape(-1)[:2] = [small_lo, small_lo + 65_535]  # the widest exact range
    return {
        "uint8-full": (_with_extremes(rng.integers(0, 256, (256, 256), dtype=np.uint8)), True),
        "uint16-full": (
            _with_extremes(rng.integers(0, 65_536, (256, 300), dtype=np.uint16)),
            True,
        ),
        "int16-full": (
            _with_extremes(rng.integers(-32_768, 32_768, (128, 200), dtype=np.int16)),
            True,
        ),
        "int8-full": (_with_extremes(rng.integers(-128, 128, (100, 90), dtype=np.int8)), True),
        "bool": (rng.random((64, 80)) < 0.5, True),
        "int32-small-range": (i32_small, True),
        "int32-huge-range": (
            _with_extremes(rng.integers(-(2**31), 2**31, (120, 140), dtype=np.int32)),
            False,
        ),
        "float32-nan-inf": (f32, False),
        "uint16-1x1": (np.array([[51_234]], np.uint16), True),
        "uint8-1x1": (np.array([[201]], np.uint8), True),
        "uint8-3x517": (rng.integers(0, 256, (3, 517), dtype=np.uint8), True),
        "uint16-3x517": (_with_extremes(rng.integers(0, 65_536, (3, 517), dtype=np.uint16)), True),
        "uint16-512x512": (
            _with_extremes(rng.integers(0, 65_536, (512, 512), dtype=np.uint16)),
            True,
        ),
        "float32-512x512": (rng.random((512, 512), dtype=np.float32) * 1e4, False),
    }


PLANES = _planes()


@dataclass(frozen=True)
class Decoded:
    tile: EncodedTile
    rgba: np.ndarray  # (h, w, 4) uint8 read back from the texture


@pytest.fixture(scope="module")
def decoded() -> Iterator[dict[str, Decoded]]:
    """Every plane encoded in Python and decoded in one Chromium page."""
    executable = require_chromium()
    tiles = {name: encode_tile(plane) for name, (plane, _) in PLANES.items()}
    outside: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            def refuse(route: Any) -> None:
                outside.append(route.request.url)
                route.abort()

            def serve(route: Any) -> None:
                route.fulfill(body=PAGE, content_type="text/html")

            page.route("**/*", refuse)
            page.route(f"{ORIGIN}/**", serve)
            page.goto(f"{ORIGIN}/index.html")
            assert page.evaluate("() => window.pageReady") is True, "no WebGL2 context"
            out: dict[str, Decoded] = {}
            for name, tile in tiles.items():
                r = page.evaluate(
                    "(b64) => window.decodePng(b64)", base64.b64encode(tile.png).decode()
                )
                assert r["complete"] and r["error"] == 0, (name, r["complete"], r["error"])
                h, w = tile.shape
                assert (r["height"], r["width"]) == (h, w), name
                rgba = np.frombuffer(base64.b64decode(r["rgba"]), np.uint8).reshape(h, w, 4)
                out[name] = Decoded(tile, rgba)
            assert errors == [] and outside == []
        finally:
            browser.close()
    yield out


def _codes_from_rgba(encoding: str, rgba: np.ndarray) -> np.ndarray:
    """The protocol's codes from RGBA bytes: ``u8``: R; ``u16``: 256 R + G."""
    if encoding == "u8":
        return rgba[..., 0].astype(np.int64)
    assert encoding == "u16"
    return rgba[..., 0].astype(np.int64) * 256 + rgba[..., 1]


@pytest.mark.parametrize("name", list(PLANES))
def test_chromium_decodes_the_codes_exactly(name: str, decoded: dict[str, Decoded]) -> None:
    plane, exact = PLANES[name]
    d = decoded[name]
    codes, encoding, offset, scale = to_codes(plane)
    assert (d.tile.encoding, d.tile.value_offset, d.tile.value_scale) == (encoding, offset, scale)
    rgba = d.rgba
    assert (rgba[..., 3] == 255).all()  # opaque: nothing premultiplied
    if encoding == "u8":
        assert codes.shape == plane.shape
        np.testing.assert_array_equal(rgba[..., 0], codes)
        np.testing.assert_array_equal(rgba[..., 1], codes)  # gray: R = G = B
        np.testing.assert_array_equal(rgba[..., 2], codes)
        want = codes.astype(np.int64)
    else:
        np.testing.assert_array_equal(rgba[..., :3], codes)  # R, G and B = 0
        want = codes[..., 0].astype(np.int64) * 256 + codes[..., 1]
    got = _codes_from_rgba(encoding, rgba)
    np.testing.assert_array_equal(got, want)

    values = offset + scale * got.astype(np.float64)
    if exact:
        assert scale == 1.0
        np.testing.assert_array_equal(values, plane.astype(np.float64))
        return
    data = plane.astype(np.float64)
    finite = np.isfinite(data)
    lo, hi = data[finite].min(), data[finite].max()
    assert scale == pytest.approx((hi - lo) / 65_535, rel=1e-12) and offset == lo
    assert got[finite].min() == 0 and got[finite].max() == 65_535  # the full code range is used
    err = np.abs(values[finite] - data[finite])
    assert err.max() <= scale / 2 * (1 + 1e-9) + 1e-12 * max(abs(lo), abs(hi))
    # NaN and -inf stand for the minimum, +inf for the maximum
    assert (got[np.isnan(data) | (data == -np.inf)] == 0).all()
    assert (got[data == np.inf] == 65_535).all()


@pytest.mark.parametrize("name", list(PLANES))
def test_pillow_agrees_with_chromium(name: str, decoded: dict[str, Decoded]) -> None:
    d = decoded[name]
    image = Image.open(io.BytesIO(d.tile.png))
    image.load()
    assert image.mode == ("L" if d.tile.encoding == "u8" else "RGB")
    rgba = np.asarray(image.convert("RGBA"))
    np.testing.assert_array_equal(rgba, d.rgba)


def test_the_planes_cover_what_they_claim() -> None:
    """The test data really holds the edge cases named above."""
    assert {p.dtype for p, _ in PLANES.values()} >= {
        np.dtype(t) for t in ("uint8", "uint16", "int16", "int8", "bool", "int32", "float32")
    }
    u16 = PLANES["uint16-full"][0]
    assert u16.min() == 0 and u16.max() == 65_535
    f32 = PLANES["float32-nan-inf"][0]
    assert np.isnan(f32).any() and np.isposinf(f32).any() and np.isneginf(f32).any()
    small = PLANES["int32-small-range"][0]
    assert int(small.max()) - int(small.min()) == 65_535
    assert to_codes(small)[3] == 1.0 and to_codes(PLANES["int32-huge-range"][0])[3] > 1.0
    assert {p.shape for p, _ in PLANES.values()} >= {(1, 1), (3, 517), (512, 512)}


def test_page_uses_the_renderer_settings() -> None:
    """The page decodes and uploads like the viewer: the same calls in js/layer.ts and renderer.ts."""
    layer = (REPO / "js" / "layer.ts").read_text()
    renderer = (REPO / "js" / "renderer.ts").read_text()
    decode = re.search(r"return createImageBitmap\(blob, (\{[^}]*\})\);", layer)
    assert decode is not None and decode.group(1) == DECODE_OPTIONS
    body = re.search(r"createTexture\(bitmap: ImageBitmap\)[^{]*\{(.*?)\n  \}", renderer, re.S)
    assert body is not None
    lines = [line.strip() for line in body.group(1).splitlines()]
    assert [line for line in lines if "pixelStorei" in line] == UNPACK_SETTINGS
    assert UPLOAD in lines
