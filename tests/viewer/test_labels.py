"""Label layers: discovery in the OME ``labels`` group, exact ids on the wire, alignment errors."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from PIL import Image

from simplezarr.utils._pyramid import write_labels, write_multiscale
from simplezarr.viewer import Viewer
from simplezarr.viewer._protocol import PROTOCOL_VERSION
from simplezarr.viewer.encode import encode_labels, label_codes

from .conftest import Recorder


def message(viewer: Viewer, content: Any) -> None:
    viewer._handle_message(viewer, content, [])


def viewport(view: str, seq: int, scale: float, layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "viewport",
        "view": view,
        "seq": seq,
        "center": [64.0, 96.0],
        "scale": scale,
        "size": [128.0 / scale, 192.0 / scale],
        "dpr": 1.0,
        "channels": [0],
        "layers": layers,
    }


def label_ids(message: dict[str, Any], png: bytes) -> np.ndarray:
    """A label tile's ids, decoded with Pillow by the documented mapping."""
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGBA" and message["encoding"] == "label"
    p = np.asarray(image).astype(np.int64)
    return p[..., 0] + 256 * p[..., 1] + 65536 * p[..., 2] + 2**24 * (255 - p[..., 3])


def _labels(shape: tuple[int, int]) -> np.ndarray:
    """Blocks of ids, the largest 32-bit ones among them, and a background of 0."""
    y, x = np.indices(shape)
    ids = (y // 16 * 100 + x // 16 + 1).astype(np.uint32)
    ids[(y // 16 + x // 16) % 5 == 0] = 0
    ids[:16, 16:32] = 2**32 - 1
    ids[16:32, :16] = 2**24 + 7  # A = 254: the top byte travels in alpha
    return ids


@pytest.fixture
def image_with_labels(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 4000, (128, 192), dtype=np.uint16)
    labels = _labels((128, 192))
    path = tmp_path / "img.ome.zarr"
    group = write_multiscale(
        data, str(path), axes="yx", scale=[0.5, 0.5], units="micrometer", chunks=64, levels=2
    )
    write_labels(
        labels,
        group,
        "blobs",
        colors={1: [255, 0, 0, 255], 2: [0, 255, 0, 128]},
        properties=[{"label-value": 3, "area (px)": 256, "class": "nucleus"}],
    )
    return path, data, labels


def test_the_labels_group_is_listed_as_a_layer_with_its_colours(
    image_with_labels: tuple[Path, np.ndarray, np.ndarray],
) -> None:
    path, _, _ = image_with_labels
    viewer = Viewer(str(path))
    assert [(la.id, la.name, la.kind) for la in viewer.layers] == [
        (0, viewer.name, "image"),
        (1, "blobs", "labels"),
    ]
    (base, blobs) = viewer.get_state()["layers"]
    assert blobs["colors"] == [[1, "#ff0000ff"], [2, "#00ff0080"]]
    assert blobs["levels"] == base["levels"]  # the label pyramid lies on the image's grid
    assert blobs["visible"] and blobs["opacity"] == 0.5 and not blobs["outline"]
    assert Viewer(str(path), labels=False).layers[1:] == []
    viewer.close()


def test_label_ids_travel_exactly_and_zoomed_out_from_the_label_pyramid(
    image_with_labels: tuple[Path, np.ndarray, np.ndarray],
) -> None:
    path, _, labels = image_with_labels
    viewer = Viewer(str(path))
    rec = Recorder()
    viewer.send = rec
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    message(viewer, viewport("v", 1, 0.5, [{"layer": 1, "channels": [0]}]))
    viewer.flush_now()
    tiles = [(m, b) for m, b in rec.tiles() if m["layer"] == 1]
    assert len(tiles) == 6 and all(m["key"].startswith("1:0/") for m, _ in tiles)
    mosaic = np.zeros(labels.shape, np.int64)
    for m, png in tiles:
        iy, ix = m["chunk"]
        mosaic[iy * 64 : iy * 64 + 64, ix * 64 : ix * 64 + 64] = label_ids(m, png)
    np.testing.assert_array_equal(mosaic, labels)

    # Zoomed out: level 1 of the label pyramid (written by the mode), never a blend of ids.
    rec.clear()
    message(viewer, viewport("v", 2, 1.0, [{"layer": 1, "channels": [0]}]))
    viewer.flush_now()
    level1 = zarr.open_group(str(path / "labels" / "blobs"), mode="r")["1"][:]
    tiles = [(m, b) for m, b in rec.tiles() if m["layer"] == 1]
    assert {m["level"] for m, _ in tiles} == {1}
    for m, png in tiles:
        iy, ix = m["chunk"]
        np.testing.assert_array_equal(
            label_ids(m, png), level1[iy * 64 : iy * 64 + 64, ix * 64 : ix * 64 + 64]
        )
    assert set(np.unique(level1)) <= set(np.unique(labels))
    viewer.close()


def test_a_layer_left_out_of_the_viewport_is_dropped(
    image_with_labels: tuple[Path, np.ndarray, np.ndarray],
) -> None:
    path, _, _ = image_with_labels
    viewer = Viewer(str(path))
    rec = Recorder()
    viewer.send = rec
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    message(viewer, viewport("v", 1, 0.5, [{"layer": 1, "channels": [0]}]))
    viewer.flush_now()
    label_keys = {m["key"] for m, _ in rec.tiles() if m["layer"] == 1}
    assert label_keys
    message(viewer, viewport("v", 2, 0.5, []))  # hidden: its tiles are dropped
    assert label_keys <= set(rec.dropped())
    assert not any(k.startswith("1:") for k in viewer.views["v"].sent_keys)
    viewer.close()


def test_a_probe_of_a_label_layer_answers_the_id_and_its_properties(
    image_with_labels: tuple[Path, np.ndarray, np.ndarray],
) -> None:
    path, _, labels = image_with_labels
    viewer = Viewer(str(path))
    rec = Recorder()
    viewer.send = rec
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    message(viewer, viewport("v", 1, 0.5, [{"layer": 1, "channels": [0]}]))
    y, x = np.argwhere(labels == 3)[3]
    message(viewer, {"type": "probe", "view": "v", "id": 1, "world": [y * 0.5, x * 0.5]})
    answers = {m["layer"]: m for m, _ in rec.of_type("probe")}
    assert answers[1]["values"][0]["value"] == 3
    assert answers[1]["properties"] == {"area (px)": 256, "class": "nucleus"}
    assert answers[0]["properties"] is None and answers[0]["index"] == [int(y), int(x)]
    y, x = np.argwhere(labels == 2**32 - 1)[0]
    message(viewer, {"type": "probe", "view": "v", "id": 2, "world": [y * 0.5, x * 0.5]})
    last = [m for m, _ in rec.of_type("probe") if m["layer"] == 1][-1]
    assert last["values"][0]["value"] == 2**32 - 1 and last["properties"] is None
    viewer.close()


def test_a_label_image_opened_alone_is_shown_as_labels(
    image_with_labels: tuple[Path, np.ndarray, np.ndarray],
) -> None:
    path, _, labels = image_with_labels
    viewer = Viewer(str(path / "labels" / "blobs"))
    assert [(la.id, la.kind) for la in viewer.layers] == [(0, "labels")]
    assert viewer.get_state()["layers"][0]["colors"][0] == [1, "#ff0000ff"]
    rec = Recorder()
    viewer.send = rec
    message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION})
    message(viewer, viewport("v", 1, 0.5, []))
    viewer.flush_now()
    m, png = next((m, b) for m, b in rec.tiles() if m["chunk"] == [0, 0])
    assert m["layer"] == 0 and m["encoding"] == "label"
    np.testing.assert_array_equal(label_ids(m, png), labels[:64, :64])
    viewer.close()


def test_add_labels_takes_an_integer_array_on_the_images_grid() -> None:
    data = np.zeros((96, 128), np.uint16)
    viewer = Viewer(data)
    labels = _labels((96, 128))
    layer = viewer.add_labels(labels, name="mine", opacity=0.8, outline=True)
    assert (layer.id, layer.name, layer.kind, layer.opacity, layer.outline) == (
        1, "mine", "labels", 0.8, True,
    )  # fmt: skip
    assert viewer.layers[-1] is layer
    viewer.close()


def test_add_labels_that_do_not_align_names_what_differs(tmp_path: Path) -> None:
    data = np.zeros((96, 128), np.uint16)
    viewer = Viewer(data)
    with pytest.raises(ValueError, match=r"add_labels\(\).*shape \(96, 64\).*\(96, 128\)"):
        viewer.add_labels(np.zeros((96, 64), np.uint32))
    with pytest.raises(TypeError, match=r"add_labels\(\).*integers.*float32"):
        viewer.add_labels(np.zeros((96, 128), np.float32))
    scaled = write_multiscale(
        np.zeros((96, 128), np.uint32), str(tmp_path / "s.zarr"), axes="yx", scale=[2.0, 2.0]
    )
    with pytest.raises(ValueError, match=r"add_labels\(\).*scale \(2\.0, 2\.0\).*\(1\.0, 1\.0\)"):
        viewer.add_labels(str(tmp_path / "s.zarr"))
    moved = write_multiscale(
        np.zeros((96, 128), np.uint32), str(tmp_path / "t.zarr"), axes="yx", translation=[5, 0]
    )
    with pytest.raises(
        ValueError, match=r"add_labels\(\).*translation \(5\.0, 0\.0\).*\(0\.0, 0\.0\)"
    ):
        viewer.add_labels(str(tmp_path / "t.zarr"))
    assert len(viewer.layers) == 1 and scaled is not None and moved is not None
    viewer.close()


def test_label_codes_carry_32_bits_and_refuse_what_does_not_fit() -> None:
    ids = np.array([[0, 1, 255, 256], [65535, 65536, 2**24, 2**32 - 1]], np.int64)
    codes = label_codes(ids).astype(np.int64)
    back = (
        codes[..., 0].astype(np.int64)
        + 256 * codes[..., 1]
        + 65536 * codes[..., 2]
        + 2**24 * (255 - codes[..., 3])
    )
    np.testing.assert_array_equal(back, ids)
    assert (codes[0, :, 3] == 255).all()  # ids below 2**24 are opaque
    with pytest.raises(ValueError, match=r"label_codes\(\): label id -3 is outside"):
        label_codes(np.array([[1, -3]], np.int32))
    with pytest.raises(ValueError, match=r"label_codes\(\): label id 4294967296 is outside"):
        label_codes(np.array([[2**32]], np.int64))
    with pytest.raises(TypeError, match=r"label_codes\(\).*float64"):
        label_codes(np.zeros((2, 2)))
    assert encode_labels(ids).encoding == "label"
