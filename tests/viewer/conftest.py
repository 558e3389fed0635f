"""Helpers for the viewer tests: real pyramids in real zarr stores, tile decoding."""

from __future__ import annotations

import colorsys
import io
from typing import Any

import numpy as np
import pytest
import zarr
from PIL import Image

from simplezarr.utils import MultiscaleInfo
from simplezarr.utils._pyramid import write_multiscale


def make_image(
    data: np.ndarray, store: Any = None, **kwargs: Any
) -> tuple[MultiscaleInfo, zarr.Group, Any]:
    """Write ``data`` as an OME-Zarr pyramid into ``store`` (a new MemoryStore by default)."""
    store = zarr.storage.MemoryStore() if store is None else store
    write_multiscale(data, store, **kwargs)
    group = zarr.open_group(store, mode="r")
    (info,) = MultiscaleInfo.from_zarr_node(group)
    return info, group, store


def hashed_label_color(label: int) -> tuple[int, int, int]:
    """The palette colour of a label id, by the arithmetic documented in js/labelcolors.ts."""
    h = (label * 2654435761) & 0xFFFFFFFF
    hue, shade = (h >> 26) / 64, (h >> 24) & 3
    r, g, b = colorsys.hsv_to_rgb(hue, 0.55 + 0.15 * (shade & 1), 1.0 - 0.15 * (shade >> 1))
    return round(r * 255), round(g * 255), round(b * 255)


def decode_values(message: dict[str, Any], png: bytes) -> np.ndarray:
    """The data values a tile carries, decoded with Pillow and the documented mapping.

    NaN where the tile marks a NaN pixel (``u16``, B = 255).
    """
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.info.get("gamma") is None and "icc_profile" not in image.info
    pixels = np.asarray(image)
    if message["encoding"] == "u8":
        assert image.mode == "L"
        codes = pixels.astype(np.float64)
    else:
        assert message["encoding"] == "u16"
        assert image.mode == "RGB"
        codes = pixels[..., 0].astype(np.float64) * 256 + pixels[..., 1]
        # B marks NaN pixels (255), else 0; a NaN pixel's R, G are 0
        assert set(np.unique(pixels[..., 2])) <= {0, 255}
        nan = pixels[..., 2] == 255
        assert not codes[nan].any()
        codes[nan] = np.nan
    assert list(codes.shape) == list(message["shape"])
    return message["value_offset"] + message["value_scale"] * codes


class Recorder:
    """A ``send(message, buffers)`` that keeps what it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[dict[str, Any], list[bytes]]] = []

    def __call__(self, message: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        self.messages.append((message, list(buffers or [])))

    def of_type(self, kind: str) -> list[tuple[dict[str, Any], list[bytes]]]:
        return [(m, b) for m, b in self.messages if m["type"] == kind]

    def tiles(self) -> list[tuple[dict[str, Any], bytes]]:
        return [(m, b[0]) for m, b in self.of_type("tile")]

    def dropped(self) -> list[str]:
        return [k for m, _ in self.of_type("drop") for k in m["keys"]]

    def clear(self) -> None:
        self.messages.clear()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def zyx() -> tuple[MultiscaleInfo, np.ndarray, Any]:
    """A 3-level uint16 z-stack of 4 x 700 x 900, chunks 2 x 256 x 256 (edges truncated)."""
    rng = np.random.default_rng(7)
    data = rng.integers(0, 65535, (4, 700, 900), dtype=np.uint16)
    info, _, store = make_image(data, axes="zyx", chunks=(2, 256, 256))
    return info, data, store
