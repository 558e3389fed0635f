"""Write ``tests/protocol/golden.json``: the protocol's examples, from the Python declaration.

Run ``python -m tests.protocol.make_golden`` after changing ``simplezarr/viewer/_protocol.py``;
``tests/protocol/test_golden.py`` fails while the file differs from what this makes, and
``js/protocol.golden.test.ts`` checks the front end against the same file.

The file holds::

    {"version": 3,              # PROTOCOL_VERSION
     "n_channels": 3,           # the examples are for an image of 3 channels
     "layer_channels": {"1": 1, "2": 2},   # and two more layers (ids 1, 2) of 1 and 2 channels
     "frontend": {name: message},          # parse_message accepts each
     "invalid_frontend": {name: message},  # parse_message rejects each (ProtocolError)
     "kernel": {name: message},            # made by the kernel's builders
     "buffers": {name: [base64, ...]}}     # the buffers of the kernel messages that have one

Every value is plain JSON (no NaN or infinity: ``allow_nan=False``).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np

from simplezarr.viewer._protocol import (
    PROTOCOL_VERSION,
    drop_message,
    probe_message,
    probe_value,
    status_message,
    tile_error_message,
    tile_key,
    tile_message,
)
from simplezarr.viewer.encode import encode_labels, encode_tile
from simplezarr.viewer.geometry import TileHeader

__all__ = ["GOLDEN", "LAYER_CHANNELS", "N_CHANNELS", "golden", "golden_text", "kernel_examples"]

GOLDEN = Path(__file__).with_name("golden.json")
N_CHANNELS = 3
LAYER_CHANNELS = {1: 1, 2: 2}

_VIEW = "0b7e4a5c-2f1d-4c8e-9a36-5d2e8f1b7c40"


def frontend_examples() -> dict[str, Any]:
    """Messages the front end sends, each valid for an image of :data:`N_CHANNELS`."""
    viewport = {
        "type": "viewport",
        "view": _VIEW,
        "seq": 7,
        "center": [1234.5, -20.25],
        "scale": 0.5,
        "size": [480, 640],
        "dpr": 2,
        "channels": [0, 2],
        "layers": [],
    }
    return {
        "ready": {"type": "ready", "view": _VIEW, "version": PROTOCOL_VERSION},
        "viewport": viewport,
        "viewport_single_channel": {**viewport, "seq": 8, "channels": [1]},
        "viewport_no_channel_visible": {**viewport, "seq": 9, "channels": []},
        "viewport_with_layers": {
            **viewport,
            "seq": 10,
            "layers": [{"layer": 2, "channels": [0, 1]}, {"layer": 1, "channels": [0]}],
        },
        "close": {"type": "close", "view": _VIEW},
        "histogram": {"type": "histogram", "view": _VIEW},
        "probe": {"type": "probe", "view": _VIEW, "id": 3, "world": [12.5, 40.0]},
    }


def invalid_frontend_examples() -> dict[str, Any]:
    """Messages the kernel must reject as malformed (for an image of :data:`N_CHANNELS`)."""
    vp = frontend_examples()["viewport"]
    return {
        "not_an_object": [1, 2],
        "unknown_type": {"type": "dance", "view": _VIEW},
        "ready_without_view": {"type": "ready", "version": PROTOCOL_VERSION},
        "ready_version_not_an_integer": {"type": "ready", "view": _VIEW, "version": "2"},
        "close_view_not_a_string": {"type": "close", "view": 3},
        "histogram_view_empty": {"type": "histogram", "view": ""},
        "viewport_without_channels": {k: v for k, v in vp.items() if k != "channels"},
        "viewport_channel_out_of_range": {**vp, "channels": [3]},
        "viewport_channel_negative": {**vp, "channels": [-1]},
        "viewport_channel_repeated": {**vp, "channels": [1, 1]},
        "viewport_channel_not_an_integer": {**vp, "channels": [0.5]},
        "viewport_channel_bool": {**vp, "channels": [True]},
        "viewport_channels_not_a_list": {**vp, "channels": "0,1"},
        "viewport_layer_unknown": {**vp, "layers": [{"layer": 5, "channels": [0]}]},
        "viewport_layer_zero": {**vp, "layers": [{"layer": 0, "channels": [0]}]},
        "viewport_layer_repeated": {
            **vp,
            "layers": [{"layer": 1, "channels": [0]}, {"layer": 1, "channels": []}],
        },
        "viewport_layer_channel_out_of_range": {**vp, "layers": [{"layer": 1, "channels": [1]}]},
        "viewport_layers_not_a_list": {**vp, "layers": {"layer": 1}},
        "viewport_too_many_channels": {**vp, "channels": [0, 1, 2, 3]},
        "viewport_scale_zero": {**vp, "scale": 0},
        "viewport_size_too_large": {**vp, "size": [100000, 10]},
        "viewport_seq_negative": {**vp, "seq": -1},
        "viewport_center_not_numbers": {**vp, "center": ["1", "2"]},
        "probe_without_id": {"type": "probe", "view": _VIEW, "world": [1.0, 2.0]},
        "probe_id_not_an_integer": {"type": "probe", "view": _VIEW, "id": 1.5, "world": [0, 0]},
        "probe_world_not_a_pair": {"type": "probe", "view": _VIEW, "id": 4, "world": [1.0]},
    }


def _nan_tile() -> tuple[TileHeader, bytes]:
    """A float tile with a NaN pixel (its PNG marks it with B = 255)."""
    plane = np.array([[np.nan, 0.0, 1.0], [2.0, 3.0, -1.0]], dtype=np.float32)
    tile = encode_tile(plane)
    key = tile_key(0, (0, 1), "t=2", 2)
    header = TileHeader(
        view=_VIEW, key=key, level=0, chunk=(0, 1), plane="t=2", channel=2,
        bounds=(-0.5, 2.5, 1.5, 5.5), shape=tile.shape, encoding=tile.encoding,
        value_offset=tile.value_offset, value_scale=tile.value_scale, seq=7,
    )  # fmt: skip
    return header, tile.png


def _label_tile() -> tuple[TileHeader, bytes]:
    """A label tile of layer 1: ids 0, 7, 65536 + 3, 2**24 + 5 and 2**32 - 1, exact."""
    plane = np.array([[0, 7, 65539], [16777221, 4294967295, 7]], dtype=np.uint32)
    tile = encode_labels(plane)
    header = TileHeader(
        view=_VIEW, key=tile_key(0, (0, 0), "t=0,z=3", 0, 1), level=0, chunk=(0, 0),
        plane="t=0,z=3", channel=0, bounds=(-0.5, -0.5, 1.5, 2.5), shape=tile.shape,
        encoding=tile.encoding, value_offset=tile.value_offset, value_scale=tile.value_scale,
        seq=7, layer=1,
    )  # fmt: skip
    return header, tile.png


def kernel_examples() -> tuple[dict[str, Any], dict[str, list[bytes]]]:
    """Messages the kernel sends, made by its builders, and the buffers of those that have one."""
    gray = np.arange(6, dtype=np.uint8).reshape(2, 3)
    u8 = encode_tile(gray)
    key = tile_key(1, (2, 3), "t=0,z=3", 1)
    u8_header = TileHeader(
        view=_VIEW, key=key, level=1, chunk=(2, 3), plane="t=0,z=3", channel=1,
        bounds=(1023.5, 1535.5, 1027.5, 1541.5), shape=u8.shape, encoding=u8.encoding,
        value_offset=u8.value_offset, value_scale=u8.value_scale, seq=7,
    )  # fmt: skip
    nan_header, nan_png = _nan_tile()
    label_header, label_png = _label_tile()
    messages: dict[str, Any] = {
        "tile_u8": tile_message(u8_header),
        "tile_labels": tile_message(label_header),
        "tile_float_with_nan": tile_message(nan_header),
        "tile_error": tile_error_message(
            view=_VIEW,
            key=tile_key(0, (4, 0), "", 0),
            level=0,
            chunk=(4, 0),
            plane="",
            channel=0,
            bounds=(1023.5, -0.5, 1279.5, 255.5),
            error="read timed out after 30 s",
            seq=8,
        ),
        "drop": drop_message(_VIEW, [key, tile_key(0, (4, 0), "", 0)]),
        "status": status_message(_VIEW, pending=12, failed=1, level=1, seq=8),
        "probe": probe_message(
            _VIEW,
            3,
            (12.5, 40.0),
            (12, 40),
            [
                probe_value(0, np.float32(0.53125)),
                probe_value(1, np.float32("nan")),
                probe_value(2, np.float32("-inf")),
            ],
        ),
        "probe_integer": probe_message(
            _VIEW, 5, (0.25, 99.75), (0, 100), [probe_value(1, np.uint16(1234))]
        ),
        "probe_outside_the_image": probe_message(_VIEW, 4, (-1e6, 3.0), None, []),
        "probe_label": probe_message(
            _VIEW,
            5,
            (0.25, 99.75),
            (0, 100),
            [probe_value(0, np.uint32(4294967295))],
            layer=1,
            properties={"area (px)": 1234, "class": "nucleus", "score": 0.5, "ok": True},
        ),
        "status_of_a_layer": status_message(_VIEW, pending=2, failed=0, level=0, seq=8, layer=1),
    }
    buffers = {
        "tile_u8": [u8.png],
        "tile_float_with_nan": [nan_png],
        "tile_labels": [label_png],
    }
    return json.loads(json.dumps(messages)), buffers


def golden() -> dict[str, Any]:
    """The whole golden document."""
    kernel, buffers = kernel_examples()
    return {
        "version": PROTOCOL_VERSION,
        "n_channels": N_CHANNELS,
        "layer_channels": {str(k): v for k, v in LAYER_CHANNELS.items()},
        "frontend": frontend_examples(),
        "invalid_frontend": invalid_frontend_examples(),
        "kernel": kernel,
        "buffers": {
            name: [base64.b64encode(b).decode("ascii") for b in bufs]
            for name, bufs in buffers.items()
        },
    }


def golden_text() -> str:
    """The golden document as the file holds it."""
    return json.dumps(golden(), indent=2, sort_keys=True, allow_nan=False) + "\n"


if __name__ == "__main__":
    GOLDEN.write_text(golden_text(), encoding="utf-8")
    print(f"wrote {GOLDEN}")
