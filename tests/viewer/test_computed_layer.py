"""Computed layers: ``fn`` applied per chunk as viewed, replaced live, failing per tile."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
import pytest

from simplezarr import ComputedImage
from simplezarr.viewer import Viewer
from simplezarr.viewer._protocol import PROTOCOL_VERSION

from .conftest import Recorder, decode_values


def message(viewer: Viewer, content: Any) -> None:
    viewer._handle_message(viewer, content, [])


def viewport(seq: int, layers: list[dict[str, Any]], scale: float = 1.0) -> dict[str, Any]:
    return {
        "type": "viewport", "view": "v", "seq": seq, "center": [100.0, 150.0], "scale": scale,
        "size": [200.0 / scale, 300.0 / scale], "dpr": 1.0, "channels": [0], "layers": layers,
    }  # fmt: skip


def _mosaic(rec: Recorder, layer: int, shape: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, np.nan)
    for m, png in rec.tiles():
        if m["layer"] != layer:
            continue
        (y0, x0, _, _), (h, w) = m["bounds"], m["shape"]
        iy, ix = int(y0 + 0.5), int(x0 + 0.5)
        out[iy : iy + h, ix : ix + w] = decode_values(m, png)
    return out


@pytest.fixture
def data() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 1000, (200, 300), dtype=np.uint16)


def test_a_threshold_layer_equals_fn_of_the_data_and_follows_a_new_fn(data: np.ndarray) -> None:
    viewer = Viewer(data)
    layer = viewer.add_computed(lambda b: b > 500, name="bright")
    assert (layer.id, layer.kind, layer.name) == (1, "computed", "bright")
    assert isinstance(layer.computed, ComputedImage)
    rec = Recorder()
    viewer.send = rec
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    message(viewer, viewport(1, [{"layer": 1, "channels": [0]}]))
    viewer.flush_now()
    np.testing.assert_array_equal(_mosaic(rec, 1, data.shape), data > 500)
    keys = {m["key"] for m, _ in rec.tiles() if m["layer"] == 1}

    rec.clear()
    layer.fn = lambda b: b > 900  # refreshes what is shown, under the same keys
    assert keys <= set(rec.dropped())
    viewer.flush_now()
    assert {m["key"] for m, _ in rec.tiles() if m["layer"] == 1} == keys
    np.testing.assert_array_equal(_mosaic(rec, 1, data.shape), data > 900)
    assert not any(m["layer"] == 0 for m, _ in rec.tiles())  # the image is not sent again
    viewer.close()


def test_an_error_in_fn_is_a_failed_tile_with_its_message(data: np.ndarray) -> None:
    def picky(block: np.ndarray) -> np.ndarray:
        if block.max() > 1000:
            raise RuntimeError("picky refuses this block")
        return block // 2

    data[150, 250] = 5000  # the chunk holding it fails
    viewer = Viewer(data, contrast_limits=(0, 1000))
    viewer.add_computed(picky, dtype=np.uint16)
    rec = Recorder()
    viewer.send = rec
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    message(viewer, viewport(1, [{"layer": 1, "channels": [0]}]))
    viewer.flush_now()
    errors = [m for m, _ in rec.of_type("tile_error") if m["layer"] == 1]
    tiles = [m for m, _ in rec.tiles() if m["layer"] == 1]
    assert len(errors) == 1 and "picky" in errors[0]["error"], errors
    (y0, x0, y1, x1) = errors[0]["bounds"]
    assert y0 <= 150 < y1 and x0 <= 250 < x1
    assert len(errors) + len(tiles) == len(viewer._layer_views["v"][1].wanted_keys)
    assert len([m for m, _ in rec.tiles() if m["layer"] == 0]) == len(
        viewer.views["v"].wanted_keys
    )
    viewer.close()


def test_a_computed_layer_of_a_label_layer_and_fn_of_other_layers(tmp_path: Any) -> None:
    base = np.zeros((64, 64), np.uint8)
    viewer = Viewer(base)
    labels = np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) % 7
    cells = viewer.add_labels(labels, name="cells")
    edges = viewer.add_computed(lambda b: (b == 3).astype(np.uint8), source=cells)
    with pytest.raises(AttributeError, match=r"Layer.fn: layer 1 'cells' is not computed"):
        cells.fn = abs
    rec = Recorder()
    viewer.send = rec
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    vp = viewport(1, [{"layer": 2, "channels": [0]}])
    vp["center"], vp["size"] = [32.0, 32.0], [64.0, 64.0]
    message(viewer, vp)
    viewer.flush_now()
    np.testing.assert_array_equal(_mosaic(rec, edges.id, labels.shape), labels == 3)
    viewer.close()


@pytest.mark.timeout(60)
def test_a_slow_fn_never_blocks_the_loop(data: np.ndarray) -> None:
    release = threading.Event()

    def slow(block: np.ndarray) -> np.ndarray:
        release.wait(30)  # bounded: a hung test fails, never hangs
        return block

    async def main() -> None:
        viewer = Viewer(data)
        viewer.add_computed(slow, dtype=np.uint16)
        rec = Recorder()
        viewer.send = rec
        message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
        message(viewer, viewport(1, [{"layer": 1, "channels": [0]}]))
        # The image's own tiles arrive while fn is stuck: the loop is free.
        base_wanted = len(viewer.views["v"].wanted_keys)
        await asyncio.wait_for(viewer.views["v"].wait_idle(), 30)
        assert len([m for m, _ in rec.tiles() if m["layer"] == 0]) == base_wanted
        assert not [m for m, _ in rec.tiles() if m["layer"] == 1]
        release.set()
        await asyncio.wait_for(viewer.wait_idle(), 30)
        np.testing.assert_array_equal(_mosaic(rec, 1, data.shape), data)
        viewer.close()

    asyncio.run(main())
