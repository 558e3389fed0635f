"""The golden protocol examples: current, accepted, rejected, and made by the builders.

``tests/protocol/golden.json`` is the one source of truth both sides check: this file checks
the kernel's declaration (``simplezarr/viewer/_protocol.py``), ``js/protocol.golden.test.ts``
the front end's. Regenerate it with ``python -m tests.protocol.make_golden``.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np
import pytest
from PIL import Image

from simplezarr.viewer._protocol import (
    PROTOCOL_VERSION,
    CloseMessage,
    HistogramRequest,
    ProbeRequest,
    ProtocolError,
    ReadyMessage,
    ViewportMessage,
    parse_message,
)

from .make_golden import GOLDEN, LAYER_CHANNELS, N_CHANNELS, golden_text, kernel_examples

DOC: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))
TYPES = {
    "ready": ReadyMessage,
    "viewport": ViewportMessage,
    "close": CloseMessage,
    "histogram": HistogramRequest,
    "probe": ProbeRequest,
}


def test_the_file_is_what_the_generator_makes_now() -> None:
    assert GOLDEN.read_text(encoding="utf-8") == golden_text(), (
        "tests/protocol/golden.json is stale: run python -m tests.protocol.make_golden"
    )
    assert DOC["version"] == PROTOCOL_VERSION == 3 and DOC["n_channels"] == N_CHANNELS


def test_every_message_type_has_examples() -> None:
    assert {m["type"] for m in DOC["frontend"].values()} == set(TYPES)
    kinds = {m["type"] for m in DOC["kernel"].values()}
    assert kinds == {"tile", "tile_error", "drop", "status", "probe"}
    assert len(DOC["invalid_frontend"]) >= 12


@pytest.mark.parametrize("name", sorted(DOC["frontend"]))
def test_every_frontend_example_parses(name: str) -> None:
    content = DOC["frontend"][name]
    parsed = parse_message(content, n_channels=N_CHANNELS, layer_channels=LAYER_CHANNELS)
    assert isinstance(parsed, TYPES[content["type"]])
    assert parsed.view == content["view"]
    if isinstance(parsed, ViewportMessage):
        assert list(parsed.channels) == content["channels"] and parsed.seq == content["seq"]
        assert list(parsed.viewport.center) == content["center"]
        assert [[e.layer, list(e.channels)] for e in parsed.layers] == [
            [e["layer"], e["channels"]] for e in content.get("layers", [])
        ]
    if isinstance(parsed, ProbeRequest):
        assert parsed.id == content["id"] and list(parsed.world) == content["world"]
    if isinstance(parsed, ReadyMessage):
        assert parsed.version == PROTOCOL_VERSION


@pytest.mark.parametrize("name", sorted(DOC["invalid_frontend"]))
def test_every_invalid_frontend_example_is_rejected(name: str) -> None:
    with pytest.raises(ProtocolError):
        parse_message(
            DOC["invalid_frontend"][name], n_channels=N_CHANNELS, layer_channels=LAYER_CHANNELS
        )


def test_every_kernel_example_is_what_the_builders_make() -> None:
    messages, buffers = kernel_examples()
    assert DOC["kernel"] == messages
    assert DOC["buffers"] == {
        name: [base64.b64encode(b).decode("ascii") for b in bufs] for name, bufs in buffers.items()
    }
    for name, message in DOC["kernel"].items():  # the keys hold what the fields say
        if message["type"] in ("tile", "tile_error"):
            iy, ix = message["chunk"]
            key = f"{message['level']}/{iy}/{ix}/{message['plane']}/{message['channel']}"
            prefix = "" if message["layer"] == 0 else f"{message['layer']}:"
            assert message["key"] == prefix + key, name


def test_the_label_tile_carries_32_bit_ids_exactly() -> None:
    (png,) = DOC["buffers"]["tile_labels"]
    image = Image.open(io.BytesIO(base64.b64decode(png)))
    assert image.mode == "RGBA"
    p = np.asarray(image).astype(np.int64)
    ids = p[..., 0] + 256 * p[..., 1] + 65536 * p[..., 2] + 2**24 * (255 - p[..., 3])
    np.testing.assert_array_equal(ids, [[0, 7, 65539], [16777221, 4294967295, 7]])
    assert DOC["kernel"]["tile_labels"]["encoding"] == "label"
    assert DOC["kernel"]["tile_labels"]["layer"] == 1


def test_the_nan_tile_marks_its_nan_pixel_in_blue() -> None:
    (png,) = DOC["buffers"]["tile_float_with_nan"]
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(png))))
    assert pixels.shape == (2, 3, 3)
    np.testing.assert_array_equal(pixels[..., 2], [[255, 0, 0], [0, 0, 0]])
    header = DOC["kernel"]["tile_float_with_nan"]
    codes = pixels[..., 0].astype(float) * 256 + pixels[..., 1]
    values = header["value_offset"] + header["value_scale"] * codes
    np.testing.assert_allclose(values[0, 1:], [0.0, 1.0], atol=header["value_scale"])
    np.testing.assert_allclose(values[1], [2.0, 3.0, -1.0], atol=header["value_scale"])
