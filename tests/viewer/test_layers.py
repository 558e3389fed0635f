"""Layers: add_image aligned by its transforms, sliders followed, ``v.layers`` both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import traitlets

from simplezarr.utils._pyramid import write_multiscale
from simplezarr.viewer import Viewer
from simplezarr.viewer._protocol import PROTOCOL_VERSION

from .conftest import Recorder, decode_values


def message(viewer: Viewer, content: Any) -> None:
    viewer._handle_message(viewer, content, [])


def viewport(seq: int, center: list[float], scale: float, size: list[float], layers: Any) -> Any:
    return {
        "type": "viewport", "view": "v", "seq": seq, "center": center, "scale": scale,
        "size": size, "dpr": 1.0, "channels": [0], "layers": layers,
    }  # fmt: skip


def _blob_image(shape: tuple[int, int]) -> np.ndarray:
    """A dark field with one bright square (the known feature) at rows 40..47, columns 80..87."""
    data = np.full(shape, 10, np.uint16)
    data[40:48, 80:88] = 5000
    return data


def _values_at(rec: Recorder, layer: int, world: tuple[float, float]) -> float:
    """The value the tiles of ``layer`` carry at a world point (from their bounds and shape)."""
    for m, png in rec.tiles():
        y0, x0, y1, x1 = m["bounds"]
        if m["layer"] == layer and y0 <= world[0] < y1 and x0 <= world[1] < x1:
            values = decode_values(m, png)
            h, w = m["shape"]
            iy = int((world[0] - y0) / (y1 - y0) * h)
            ix = int((world[1] - x0) / (x1 - x0) * w)
            return float(values[iy, ix])
    raise AssertionError(f"no tile of layer {layer} holds {world}")


def test_an_image_of_another_scale_and_translation_lines_up_in_world_units(
    tmp_path: Path,
) -> None:
    base = _blob_image((128, 256))
    viewer = Viewer(base, contrast_limits=(0, 5000))
    # The same scene at half the resolution, written with its own scale and translation.
    half = base.reshape(64, 2, 128, 2).mean(axis=(1, 3)).astype(np.uint16)
    write_multiscale(
        half, str(tmp_path / "half.zarr"), axes="yx", scale=[2.0, 2.0], translation=[0.5, 0.5],
        levels=1,
    )  # fmt: skip
    layer = viewer.add_image(str(tmp_path / "half.zarr"), name="half", opacity=0.5)
    assert (layer.id, layer.kind, layer.name, [c.name for c in layer.channels]) == (
        1, "image", "half", [layer.channels[0].name],
    )  # fmt: skip
    (_, entry) = viewer.get_state()["layers"]
    assert entry["levels"][0]["scale"] == [2.0, 2.0] and entry["levels"][0]["offset"] == [0.5, 0.5]
    rec = Recorder()
    viewer.send = rec
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    message(
        viewer, viewport(1, [64.0, 128.0], 1.0, [128.0, 256.0], [{"layer": 1, "channels": [0]}])
    )
    viewer.flush_now()
    # The feature is at the same world point in both layers, and only there.
    for world, expected in (((43.5, 83.5), 5000.0), ((20.0, 30.0), 10.0), ((43.5, 100.0), 10.0)):
        assert _values_at(rec, 0, world) == expected
        assert _values_at(rec, 1, world) == expected
    viewer.close()


def test_an_image_in_nanometres_over_micrometres_is_converted(tmp_path: Path) -> None:
    base = write_multiscale(
        np.zeros((64, 64), np.uint8), str(tmp_path / "um.zarr"), axes="yx",
        scale=[0.1, 0.1], units="micrometer", levels=1,
    )  # fmt: skip
    write_multiscale(
        np.zeros((32, 32), np.uint8), str(tmp_path / "nm.zarr"), axes="yx",
        scale=[200.0, 200.0], units="nanometer", levels=1,
    )  # fmt: skip
    viewer = Viewer(str(tmp_path / "um.zarr"))
    viewer.add_image(str(tmp_path / "nm.zarr"))
    level = viewer.get_state()["layers"][1]["levels"][0]
    assert level["scale"] == pytest.approx([0.2, 0.2])
    assert base is not None
    viewer.close()


def test_add_image_refuses_axes_or_units_it_cannot_match(tmp_path: Path) -> None:
    write_multiscale(
        np.zeros((64, 64), np.uint8), str(tmp_path / "um.zarr"), axes="yx", units="micrometer",
        levels=1,
    )  # fmt: skip
    write_multiscale(
        np.zeros((64, 64), np.uint8), str(tmp_path / "s.zarr"), axes="yx", units="second",
        levels=1,
    )  # fmt: skip
    write_multiscale(
        np.zeros((8, 64), np.uint8), str(tmp_path / "zx.zarr"), axes="zx", levels=1
    )  # fmt: skip
    viewer = Viewer(str(tmp_path / "um.zarr"))
    with (
        pytest.warns(UserWarning, match="unknown spatial unit 'second'"),
        pytest.raises(ValueError, match=r"add_image\(\).*'second'.*'micrometer'"),
    ):
        viewer.add_image(str(tmp_path / "s.zarr"))
    with pytest.raises(ValueError, match=r"add_image\(\).*\('z', 'x'\).*\('y', 'x'\)"):
        viewer.add_image(str(tmp_path / "zx.zarr"))
    assert len(viewer.layers) == 1
    viewer.close()


def test_a_layer_follows_the_base_images_z_through_world_coordinates(tmp_path: Path) -> None:
    stack = np.arange(8, dtype=np.uint8)[:, None, None].repeat(32, 1).repeat(32, 2)
    write_multiscale(stack, str(tmp_path / "fine.zarr"), axes="zyx", scale=[0.5, 1, 1], levels=1)
    coarse = stack[::2] * 10  # z step 1.0: plane k holds 20 k
    write_multiscale(coarse, str(tmp_path / "coarse.zarr"), axes="zyx", scale=[1, 1, 1], levels=1)
    viewer = Viewer(str(tmp_path / "fine.zarr"), position={"z": 6})  # z = 3.0
    viewer.add_image(str(tmp_path / "coarse.zarr"))
    rec = Recorder()
    viewer.send = rec
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    message(viewer, viewport(1, [16.0, 16.0], 1.0, [32.0, 32.0], [{"layer": 1, "channels": [0]}]))
    viewer.flush_now()
    assert _values_at(rec, 0, (3.0, 3.0)) == 6 and _values_at(rec, 1, (3.0, 3.0)) == 60
    (tile,) = [m for m, _ in rec.tiles() if m["layer"] == 1]
    assert tile["plane"] == "z=6"  # keyed by the base image's plane
    rec.clear()
    viewer.position = {"z": 2}  # z = 1.0: the coarse plane 1
    viewer.flush_now()
    assert _values_at(rec, 1, (3.0, 3.0)) == 20
    viewer.close()


def test_layers_reorder_and_apply_the_front_ends_state() -> None:
    viewer = Viewer(np.zeros((64, 64), np.uint8))
    labels = viewer.add_labels(np.ones((64, 64), np.uint16), name="a")
    image = viewer.add_image(np.zeros((64, 64), np.uint8), name="b")
    base = viewer.layers[0]
    viewer.layers = [image, base, labels]
    assert [la.id for la in viewer.layers] == [2, 0, 1]
    assert [e["id"] for e in viewer.get_state()["layers"]] == [2, 0, 1]
    with pytest.raises(traitlets.TraitError, match=r"Viewer.layers: only the order"):
        viewer.layers = [image, base]
    with pytest.raises(traitlets.TraitError, match=r"Layer.opacity: 2.0 must be in \[0, 1\]"):
        labels.opacity = 2.0
    state = viewer.get_state()["layers"]
    state = [state[2], state[0], state[1]]
    state[0]["opacity"], state[0]["outline"], state[1]["visible"] = 0.25, True, False
    viewer.set_state({"layers": state})
    assert [la.id for la in viewer.layers] == [1, 2, 0]
    assert (labels.opacity, labels.outline, image.visible) == (0.25, True, False)
    viewer.close()


def test_max_tiles_and_the_view_memory_are_split_between_the_layers() -> None:
    viewer = Viewer(np.zeros((512, 512), np.uint8), max_tiles=12, memory=1 << 24)
    viewer.add_labels(np.zeros((512, 512), np.uint32))
    viewer.add_labels(np.zeros((512, 512), np.uint32))
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    layers = [{"layer": 1, "channels": [0]}, {"layer": 2, "channels": [0]}]
    message(viewer, viewport(1, [256.0, 256.0], 0.25, [2048.0, 2048.0], layers))
    base = viewer.views["v"]
    per_view = viewer._layer_views["v"]
    assert [base._budget.max_chunks, *(s._budget.max_chunks for s in per_view.values())] == [4] * 3
    total = len(base.wanted_keys) + sum(len(s.wanted_keys) for s in per_view.values())
    assert total <= 12
    viewer.close()


def test_malformed_layers_in_a_viewport_are_one_warning_and_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    viewer = Viewer(np.zeros((64, 64), np.uint8))
    viewer.add_labels(np.zeros((64, 64), np.uint16))
    rec = Recorder()
    viewer.send = rec
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    bad = [
        [{"layer": 7, "channels": [0]}],  # no such layer
        [{"layer": 1, "channels": [1]}],  # labels have one channel
        [{"layer": 1, "channels": [0]}] * 2,  # repeated
        [{"layer": True, "channels": [0]}],
        "1",
        [{"layer": 1}] * 100,
    ]
    for i, layers in enumerate(bad):
        with caplog.at_level("WARNING", logger="simplezarr"):
            caplog.clear()
            message(viewer, viewport(i + 1, [32.0, 32.0], 1.0, [64.0, 64.0], layers))
        assert len(caplog.records) == 1 and "layers" in caplog.records[0].getMessage()
    assert viewer.views["v"].seq == -1 and viewer._layer_views == {}  # none was served
    viewer.close()
