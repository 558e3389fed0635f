"""Real files in the Viewer (no browser): permuted axes show the physical plane, plate fields
are selected by path, an OME-TIFF opens with its levels lined up.

The metadata side is tested in tests/utils/test_multiscale.py; here the Viewer is driven by
direct viewport messages in plain Python (sync mode) and the tiles it sends are decoded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
import zarr.storage

from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._protocol import PROTOCOL_VERSION
from simplezarr.viewer.widget import Viewer
from tests._tiff import write_ome_tiff_pyramid
from tests.viewer.conftest import Recorder, decode_values

pytestmark = [
    pytest.mark.skipif(not widget_module._BUNDLE_FOUND, reason="front-end bundle not built"),
    pytest.mark.filterwarnings("ignore:.*OME-NGFF version '0.6' .* is not known"),
]


def _show_all(viewer: Viewer) -> Recorder:
    """Ask for the whole image at level 0 and return what the viewer sent."""
    rec = Recorder()
    viewer.send = rec  # type: ignore[method-assign]
    (h, w), (sy, sx) = viewer.levels[0]["shape"], viewer.levels[0]["scale"]
    center = [(h - 1) * sy / 2, (w - 1) * sx / 2]
    size = [float(h), float(w)]
    message = {"type": "viewport", "view": "v", "seq": 1, "center": center,
               "scale": min(sy, sx), "size": size, "dpr": 1.0, "channels": [0]}  # fmt: skip
    viewer._handle_message(viewer, {"type": "ready", "view": "v", "version": PROTOCOL_VERSION}, [])
    viewer._handle_message(viewer, message, [])
    viewer.flush_now()
    return rec


def _mosaic(rec: Recorder, shape: tuple[int, int], chunk: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, -1.0)
    for m, png in rec.tiles():
        if m["level"] != 0:
            continue
        iy, ix = m["chunk"]
        values = decode_values(m, png)
        out[iy * chunk[0] : iy * chunk[0] + values.shape[0],
            ix * chunk[1] : ix * chunk[1] + values.shape[1]] = values  # fmt: skip
    return out


def _06_image(data: np.ndarray, map_axis: list[int], names: list[str]) -> zarr.Group:
    ms = {
        "name": "permuted",
        "coordinateSystems": [
            {"name": "physical", "axes": [{"name": n, "type": "space"} for n in names]}
        ],
        "datasets": [
            {
                "path": "0",
                "coordinateTransformations": [
                    {"type": "mapAxis", "mapAxis": map_axis, "input": "0", "output": "physical"}
                ],
            }
        ],
    }
    attrs = {"ome": {"version": "0.6", "multiscales": [ms]}}
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", attributes=attrs)
    group.create_array("0", data=data, chunks=(16,) * data.ndim)
    return group


def test_a_transposed_image_is_shown_upright() -> None:
    # array axis 0 is world x, axis 1 is world y (OME-NGFF 0.6 mapAxis [1, 0])
    upright = np.arange(40 * 56, dtype="uint16").reshape(40, 56)  # world (y, x)
    viewer = Viewer(_06_image(np.ascontiguousarray(upright.T), [1, 0], ["y", "x"]))
    assert viewer.levels[0]["shape"] == [40, 56]
    rec = _show_all(viewer)
    np.testing.assert_array_equal(_mosaic(rec, (40, 56), (16, 16)), upright)


def test_a_permuted_volume_shows_the_physical_yx_plane() -> None:
    # neuroglancer's rotation.zarr: world (z, y, x) = array axes (2, 0, 1)
    volume = np.arange(5 * 40 * 56, dtype="uint16").reshape(5, 40, 56)  # world (z, y, x)
    array = np.ascontiguousarray(volume.transpose(1, 2, 0))  # array (y, x, z)
    viewer = Viewer(_06_image(array, [2, 0, 1], ["z", "y", "x"]))
    assert [s["name"] for s in viewer.sliders] == ["z"]  # no slider named y over a y-z plane
    assert viewer.levels[0]["shape"] == [40, 56]
    viewer.position = {"z": 3}
    rec = _show_all(viewer)
    np.testing.assert_array_equal(_mosaic(rec, (40, 56), (16, 16)), volume[3])


def _plate(path: Path) -> list[np.ndarray]:
    root = zarr.open_group(path, mode="w", zarr_format=3)
    wells = ["A/1", "A/2"]
    root.attrs["ome"] = {
        "version": "0.5",
        "plate": {"rows": [{"name": "A"}], "columns": [{"name": "1"}, {"name": "2"}],
                  "wells": [{"path": w, "rowIndex": 0, "columnIndex": i}
                            for i, w in enumerate(wells)]},
    }  # fmt: skip
    images = []
    for i, w in enumerate(wells):
        well = root.require_group(w)
        well.attrs["ome"] = {"version": "0.5", "well": {"images": [{"path": "0"}]}}
        field = well.create_group("0")
        axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
        scale = [{"type": "scale", "scale": [1.0, 1.0]}]
        ms = {
            "name": "0",
            "axes": axes,
            "datasets": [{"path": "0", "coordinateTransformations": scale}],
        }
        field.attrs["ome"] = {"version": "0.5", "multiscales": [ms]}
        data = np.full((24, 24), 100 * (i + 1), dtype="uint16")
        field.create_array("0", data=data)
        images.append(data)
    return images


def test_plate_fields_are_selected_by_path(tmp_path: Path) -> None:
    _plate(tmp_path / "plate.zarr")
    viewer = Viewer(str(tmp_path / "plate.zarr"), image="A/2/0")
    assert viewer.multiscale_info.path == "A/2/0" and viewer.name == "0"
    rec = _show_all(viewer)
    assert np.all(_mosaic(rec, (24, 24), (24, 24)) == 200)
    assert Viewer(str(tmp_path / "plate.zarr"), image="0").multiscale_info.path == "A/1/0"
    with pytest.raises(ValueError, match=r"no image named 'B/1/0'.*paths \['A/1/0', 'A/2/0'\]"):
        Viewer(str(tmp_path / "plate.zarr"), image="B/1/0")


def test_an_ome_tiff_pyramid_lines_up_in_the_viewer(tmp_path: Path) -> None:
    write_ome_tiff_pyramid(tmp_path / "x.ome.tif", shape=(2, 300, 200), physical=(0.5, 0.5))
    viewer = Viewer(str(tmp_path / "x.ome.tif"))
    levels: list[dict[str, Any]] = viewer.levels
    assert [lv["shape"] for lv in levels] == [[300, 200], [150, 100], [75, 50]]
    assert [lv["scale"] for lv in levels] == [[0.5, 0.5], [1.0, 1.0], [2.0, 2.0]]
    # every level covers the same world extent (to within one coarse pixel's rounding)
    for lv in levels:
        (h, w), (sy, sx), (oy, ox) = lv["shape"], lv["scale"], lv["offset"]
        assert oy - sy / 2 == pytest.approx(-0.25) and ox - sx / 2 == pytest.approx(-0.25)
        assert h * sy == pytest.approx(150) and w * sx == pytest.approx(100)


def _image_with(omero: Any = None, translation: float = 0.0) -> zarr.Group:
    ms = {
        "name": "img",
        "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space"},
                 {"name": "x", "type": "space"}],
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, 1.0, 1.0]},
            {"type": "translation", "translation": [0.0, translation, 0.0]}]}],
    }  # fmt: skip
    attrs = {"ome": {"version": "0.5", "multiscales": [ms], "omero": omero}}
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", attributes=attrs)
    data = np.arange(2 * 32 * 32, dtype="uint16").reshape(2, 32, 32)
    group.create_array("0", data=data, chunks=(1, 32, 32))
    return group


def test_a_window_of_minus_infinity_falls_back_like_nan() -> None:
    omero = {"channels": [{"label": "a", "window": {"start": -np.inf, "end": 900}},
                          {"label": "b", "window": {"start": 10**400, "end": 20}}]}  # fmt: skip
    with pytest.warns(UserWarning, match=r"window.start -inf is not a finite number"):
        viewer = Viewer(_image_with(omero))
    lo, hi = viewer.contrast_limits
    assert np.isfinite(lo) and np.isfinite(hi) and lo < hi  # the data's percentiles


def test_a_translation_of_1e308_is_refused_before_the_viewer() -> None:
    with pytest.raises(ValueError, match=r"axis 'y': .*beyond the finite range"):
        Viewer(_image_with(translation=1e308))
