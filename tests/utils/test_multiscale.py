"""Tests of simplezarr.utils.multiscale against real zarr stores.

Every multiscales and bioformats2raw example of the OME-NGFF spec is written
into a store on disk with matching arrays; images written by ome-zarr-py and
ngff-zarr in the test itself are read back; error cases are malformed copies.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
import zarr.storage

from simplezarr._open import open as sz_open
from simplezarr.utils.multiscale import AxisInfo, ChannelInfo, MultiscaleInfo
from tests._tiff import write_ome_tiff_pyramid
from tests.utils._ngff_examples import (
    EXAMPLES,
    dataset_axes,
    example_attrs,
    example_group,
    load_json_with_comments,
    multiscales_of,
    write_image_group,
)

FN = "MultiscaleInfo.from_zarr_node()"
VERSIONS = ["0.4", "0.5", "0.6rc0"]

needs_examples = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="OME-NGFF examples missing")


def read(node: Any) -> list[MultiscaleInfo]:
    """from_zarr_node, with the expected warning for versions that are not final."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*0.6rc0.*is not known")
        return MultiscaleInfo.from_zarr_node(node)


def doc(version: str, name: str) -> dict[str, Any]:
    return dict(load_json_with_comments(EXAMPLES / version / name))


def reopen(group: zarr.Group) -> Any:
    """The group as a reader sees it: opened read-only from its path."""
    return sz_open(str(group.store_path).removeprefix("file://"))


# -- the spec's multiscales examples ------------------------------------------------------


@needs_examples
@pytest.mark.parametrize("version", VERSIONS)
def test_spec_multiscales_example(tmp_path: Path, version: str) -> None:
    d = doc(version, "multiscales_strict/multiscales_example.json")
    group, attrs = example_group(tmp_path / "img.zarr", d)
    if version == "0.6rc0":
        with pytest.warns(UserWarning, match=r"'0.6rc0'.*not known"):
            infos = MultiscaleInfo.from_zarr_node(reopen(group))
    else:
        infos = MultiscaleInfo.from_zarr_node(reopen(group))
    (info,) = infos
    assert info.name == "example" and info.version == version
    assert info.axes_names == ("t", "c", "z", "y", "x")
    assert [a.type for a in info.axes] == ["time", "channel", "space", "space", "space"]
    assert info.axes[0].unit == "millisecond" and info.axes[1].unit is None
    assert info.unit == "micrometer" and info.unit_factor == 1e-6
    # 0.4/0.5: voxel 0.5/1/2 um and a global time scale of 0.1; no translations, so the
    # default scale/2 - scale0/2 applies. 0.6rc0 writes the same image with explicit
    # translations (0.25, 0.75): both readings must agree.
    for level, (s, t) in enumerate([(0.5, 0.0), (1.0, 0.25), (2.0, 0.75)]):
        si = info.scales[level]
        assert si.level == level and si.path == ms_path(attrs, level)
        assert si.scale == pytest.approx((0.1, 1.0, s, s, s))
        assert si.offset == pytest.approx((0.0, 0.0, t, t, t))
        assert si.spatial_scale == pytest.approx((s, s, s))
        array = group[si.path]
        assert si.shape == array.shape and si.chunk_shape == array.chunks
        assert si.dtype == np.dtype("uint16") and si.shard_shape is None
        assert si.nchannels == array.shape[1] and si.ntimes == array.shape[0]
        assert si.array.shape == array.shape and si.array.read_only


def ms_path(attrs: dict[str, Any], level: int) -> str:
    return str(multiscales_of(attrs)[0]["datasets"][level]["path"])


@needs_examples
@pytest.mark.parametrize("version", VERSIONS)
def test_spec_global_transformations(tmp_path: Path, version: str) -> None:
    d = doc(version, "multiscales_strict/multiscales_transformations.json")
    group, _ = example_group(tmp_path / "img.zarr", d)
    (info,) = read(reopen(group))
    assert info.name == "image_with_coordinateTransformations"
    assert info.axes_names == ("y", "x") and info.unit == "micrometer"
    (si,) = info.scales
    # level scale 1 composed with the global scale 10
    assert si.scale == (10.0, 10.0) and si.offset == (0.0, 0.0)


@needs_examples
def test_spec_06_relative_example(tmp_path: Path) -> None:
    d = doc("0.6rc0", "multiscales_strict/multiscales_example_relative.json")
    group, _ = example_group(tmp_path / "img.zarr", d)
    (info,) = read(reopen(group))
    # datasets -> "intrinsic", then "additional_translation" (0, 0, 10, 20, 30) -> "world"
    shift = np.array([0, 0, 10, 20, 30])
    for si, (s, t) in zip(info.scales, [(1, 0.0), (2, 0.5), (4, 1.5)], strict=True):
        assert si.scale == pytest.approx((1, 1, s, s, s))
        assert si.offset == pytest.approx(tuple(np.array([0, 0, t, t, t]) + shift))
    assert info.axes_names == ("t", "c", "z", "y", "x")


@needs_examples
def test_spec_06_reference_to_label_ignores_transforms_of_other_paths(tmp_path: Path) -> None:
    d = doc("0.6rc0", "multiscales_strict/multiscales_reference_to_label.json")
    group, _ = example_group(tmp_path / "img.zarr", d)
    (info,) = read(reopen(group))
    (si,) = info.scales
    assert si.scale == (0.5, 0.5, 1.0) and si.offset == (0.0, 0.0, 0.0)
    assert info.axes_names == ("z", "y", "x")


@needs_examples
def test_spec_06_map_axis_permutes_the_axes(tmp_path: Path) -> None:
    # the multiscales document with mapAxis lives in subspace/
    d = doc("0.6rc0", "subspace/subspacePermute.json")
    group, _ = example_group(tmp_path / "img.zarr", d)
    (info,) = read(reopen(group))
    # mapAxis [1, 0] from array_coordinates to physical: array axis 0 is x, axis 1 is y
    assert info.axes_names == ("x", "y")
    assert info.unit == "micrometer"


@needs_examples
def test_spec_06_displacements_fail_clearly(tmp_path: Path) -> None:
    d = doc("0.6rc0", "transformations/displacements/multiscales.json")
    group, _ = example_group(tmp_path / "img.zarr", d)
    with pytest.raises(ValueError, match=r"'displacements'") as info:
        read(reopen(group))
    assert str(info.value).startswith(FN) and "img.zarr" in str(info.value)


def _multiscales_examples() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    found = []
    for path in sorted(EXAMPLES.rglob("*.json")):
        if multiscales_of(example_attrs(load_json_with_comments(path))[0]):
            found.append(path)
    return found


@pytest.mark.parametrize(
    "path", _multiscales_examples(), ids=lambda p: str(p.relative_to(EXAMPLES))
)
def test_every_multiscales_example_reads_or_fails_clearly(tmp_path: Path, path: Path) -> None:
    d = load_json_with_comments(path)
    group, attrs = example_group(tmp_path / "img.zarr", d)
    try:
        infos = read(reopen(group))
    except ValueError as exc:  # only what cannot be interpreted, named
        assert str(exc).startswith(FN), exc
        assert any(word in str(exc) for word in ("displacements", "values, expected")), exc
        return
    for ms, info in zip(multiscales_of(attrs), infos, strict=True):
        assert info.nlevels == len(ms["datasets"])
        assert len(info.axes) == len(dataset_axes(ms))
        for si in info.scales:
            assert si.shape == group[si.path].shape
            assert len(si.scale) == len(si.offset) == len(si.shape)
        assert [s.mean_scale for s in info.scales] == sorted(s.mean_scale for s in info.scales)


@needs_examples
@pytest.mark.parametrize("version", VERSIONS)
def test_spec_label_image_reads_as_an_image(tmp_path: Path, version: str) -> None:
    label, _ = example_attrs(doc(version, "label_strict/colors_properties.json"))
    image, fmt = example_attrs(doc(version, "multiscales_strict/multiscales_transformations.json"))
    merged = copy.deepcopy(image)
    if "ome" in merged and "ome" in label:
        merged["ome"].update(label["ome"])
    else:
        merged.update(label)
    group = zarr.open_group(tmp_path / "label.zarr", mode="w", zarr_format=fmt)  # type: ignore[arg-type]
    write_image_group(group, merged, dtype="uint32")
    (info,) = read(reopen(group))
    assert info.scales[0].dtype == np.dtype("uint32")


# -- bioformats2raw, plates and wells --------------------------------------------------------


def _bf2raw(tmp_path: Path, version: str, *, series: bool, nseries: int = 2) -> zarr.Group:
    root_attrs, fmt = example_attrs(doc(version, "bf2raw/image.json"))
    root = zarr.open_group(tmp_path / "bf.zarr", mode="w", zarr_format=fmt)  # type: ignore[arg-type]
    root.attrs.update(root_attrs)
    image, _ = example_attrs(doc(version, "multiscales_strict/multiscales_example.json"))
    for i in range(nseries):
        write_image_group(root.create_group(str(i)), image, base=16 * (i + 1))
    if series:
        ome_attrs, _ = example_attrs(doc(version, "ome/series-2.json"))
        root.create_group("OME").attrs.update(ome_attrs)
    return root


@needs_examples
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("series", [True, False], ids=["OME-series", "scan"])
def test_spec_bf2raw(tmp_path: Path, version: str, series: bool) -> None:
    root = _bf2raw(tmp_path, version, series=series)
    infos = read(reopen(root))
    assert len(infos) == 2
    for i, info in enumerate(infos):
        assert info.scales[0].path.startswith(f"{i}/")
        assert info.scales[0].shape == root[info.scales[0].path].shape
        assert info.scales[0].spatial_shape == (16 * (i + 1),) * 3
        assert info.unit == "micrometer"


@needs_examples
def test_bf2raw_series_list_is_used(tmp_path: Path) -> None:
    # three series groups exist but OME/ lists two ("0", "1"): the list wins
    root = _bf2raw(tmp_path, "0.4", series=True, nseries=3)
    assert len(read(reopen(root))) == 2
    del root["OME"]
    assert len(read(reopen(root))) == 3


def _well_fields(version: str) -> tuple[dict[str, Any], list[str]]:
    well, _ = example_attrs(doc(version, "well_strict/well_2fields.json"))
    meta = well["ome"] if "ome" in well else well
    return well, [im["path"] for im in meta["well"]["images"]]


@needs_examples
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "plate_doc", ["bf2raw/plate.json", "plate_strict/plate_2wells.json"], ids=["bf2raw", "hcs"]
)
def test_spec_plates(tmp_path: Path, version: str, plate_doc: str) -> None:
    plate, fmt = example_attrs(doc(version, plate_doc))
    root = zarr.open_group(tmp_path / "plate.zarr", mode="w", zarr_format=fmt)  # type: ignore[arg-type]
    root.attrs.update(plate)
    meta = plate["ome"] if "ome" in plate else plate
    wells = [w["path"] for w in meta["plate"]["wells"]]
    well_attrs, fields = _well_fields(version)
    image, _ = example_attrs(doc(version, "multiscales_strict/multiscales_transformations.json"))
    for w in wells:
        well = root.require_group(w)
        well.attrs.update(well_attrs)
        for f in fields:
            write_image_group(well.create_group(f), image)
    infos = read(reopen(root))
    expected = [f"{w}/{f}/{ms_path(image, 0)}" for w in wells for f in fields]
    assert [info.scales[0].path for info in infos] == expected
    assert all(info.scales[0].scale == (10.0, 10.0) for info in infos)


# -- images written by ome-zarr-py and ngff-zarr -----------------------------------------------


OMERO = {
    "channels": [
        {
            "label": "DAPI",
            "color": "0000FF",
            "active": True,
            "window": {"start": 10, "end": 900, "min": 0, "max": 4095},
        },
        {
            "label": "GFP",
            "color": "00FF00",
            "active": False,
            "window": {"start": 0, "end": 2000, "min": 0, "max": 65535},
        },
    ]
}


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_py_image(tmp_path: Path, version: str) -> None:
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image

    fmt = FormatV04() if version == "0.4" else FormatV05()
    data = np.arange(2 * 40 * 72, dtype="uint16").reshape(2, 40, 72)
    group = zarr.open_group(tmp_path / "oz.zarr", mode="w", zarr_format=fmt.zarr_format)
    pixel = {"c": 1.0, "y": 0.4, "x": 0.25}
    write_image(
        data,
        group,
        axes="cyx",
        fmt=fmt,
        scale_factors=(2, 4),
        scale=pixel,
        axes_units={"y": "micrometer", "x": "micrometer"},
        omero=copy.deepcopy(OMERO),
    )
    (info,) = MultiscaleInfo.from_zarr_node(reopen(group))
    assert info.version == version and info.nlevels == 3
    assert info.axes == (
        AxisInfo("c", "channel"),
        AxisInfo("y", "space", "micrometer"),
        AxisInfo("x", "space", "micrometer"),
    )
    for level, factor in enumerate([1, 2, 4]):
        si = info.scales[level]
        assert si.shape == (2, -(-40 // factor), -(-72 // factor))
        assert si.spatial_scale == pytest.approx((0.4 * factor, 0.25 * factor))
        # pixel-centre alignment with level 0: (factor - 1) / 2 level-0 pixels
        assert si.spatial_offset == pytest.approx(
            (0.4 * (factor - 1) / 2, 0.25 * (factor - 1) / 2)
        )
        assert si.nchannels == 2 and si.channel_axis == 0
    np.testing.assert_array_equal(info.scales[0].array[...], data)
    assert info.channels == (
        ChannelInfo("DAPI", "0000ff", 10, 900, 0, 4095, True),
        ChannelInfo("GFP", "00ff00", 0, 2000, 0, 65535, False),
    )


@pytest.mark.parametrize(
    ("version", "sharded"), [("0.4", False), ("0.5", False), ("0.5", True)]
)  # sharding needs zarr v3 (OME-NGFF 0.5)
def test_ngff_zarr_image(tmp_path: Path, version: str, sharded: bool) -> None:
    import ngff_zarr as nz

    data = np.random.default_rng(0).integers(0, 255, (12, 64, 80), dtype="uint8")
    image = nz.to_ngff_image(
        data,
        dims=["z", "y", "x"],
        scale={"z": 2.0, "y": 0.5, "x": 0.5},
        translation={"z": 1.0, "y": 100.0, "x": -50.0},
        axes_units={"z": "nanometer", "y": "nanometer", "x": "nanometer"},
        name="cells",
    )
    ms = nz.to_multiscales(image, scale_factors=[2], chunks=16)
    kwargs: dict[str, Any] = {"chunks_per_shard": 2} if sharded else {}
    nz.to_ngff_zarr(tmp_path / "nz.zarr", ms, version=version, **kwargs)
    (info,) = MultiscaleInfo.from_zarr_node(sz_open(tmp_path / "nz.zarr"))
    assert info.name == "cells" and info.version == version
    assert info.unit == "nanometer" and info.unit_factor == 1e-9
    for level, written in enumerate(ms.images):
        si = info.scales[level]
        dims = list(written.dims)
        assert si.axes_names == tuple(dims)
        assert si.shape == tuple(written.data.shape)
        assert si.scale == pytest.approx(tuple(written.scale[d] for d in dims))
        assert si.offset == pytest.approx(tuple(written.translation[d] for d in dims))
        assert si.chunk_shape == si.array.chunks
        if sharded:
            assert si.shard_shape == si.array.shards
            assert si.chunk_shape == si.array.chunks != si.shard_shape
        else:
            assert si.shard_shape is None
        assert si.chunk_grid_shape == tuple(
            -(-n // c) for n, c in zip(si.shape, si.array.chunks, strict=True)
        )
    np.testing.assert_array_equal(info.scales[0].array[...], data)


# -- zarr formats, sharding, zip, plain arrays ------------------------------------------------


def _simple_attrs(zarr_format: int, datasets: list[dict[str, Any]], **extra: Any) -> dict:
    ms = {
        "name": "img",
        "axes": [
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"},
        ],
        "datasets": datasets,
        **extra,
    }
    if zarr_format == 2:
        return {"multiscales": [{"version": "0.4", **ms}]}
    return {"ome": {"version": "0.5", "multiscales": [ms]}}


def _ds(path: str, scale: float, translation: float | None = None) -> dict[str, Any]:
    ts: list[dict[str, Any]] = [{"type": "scale", "scale": [scale, scale]}]
    if translation is not None:
        ts.append({"type": "translation", "translation": [translation, translation]})
    return {"path": path, "coordinateTransformations": ts}


def _write(store: Any, attrs: dict, shapes: dict[str, tuple[int, ...]], fmt: int, **kw: Any):
    group = zarr.open_group(store, mode="w", zarr_format=fmt, attributes=attrs)  # type: ignore[arg-type]
    for path, shape in shapes.items():
        group.create_array(path, shape=shape, dtype="float32", **kw)
    return group


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_v2_and_v3_read_the_same(tmp_path: Path, zarr_format: int) -> None:
    attrs = _simple_attrs(zarr_format, [_ds("0", 0.5), _ds("1", 1.0)])
    group = _write(tmp_path / "a.zarr", attrs, {"0": (50, 60), "1": (25, 30)}, zarr_format,
                   chunks=(10, 20))  # fmt: skip
    (info,) = MultiscaleInfo.from_zarr_node(sz_open(tmp_path / "a.zarr"))
    assert info.version == ("0.4" if zarr_format == 2 else "0.5")
    assert [s.shape for s in info.scales] == [group["0"].shape, group["1"].shape]
    assert [s.chunk_shape for s in info.scales] == [(10, 20), (10, 20)]
    assert [s.chunk_grid_shape for s in info.scales] == [(5, 3), (3, 2)]
    assert info.scales[1].offset == (0.25, 0.25)  # 1/2 - 0.5/2


def test_sharded_array_reports_the_inner_chunk(tmp_path: Path) -> None:
    attrs = _simple_attrs(3, [_ds("0", 1.0)])
    _write(tmp_path / "s.zarr", attrs, {"0": (100, 130)}, 3, chunks=(10, 10), shards=(50, 50))
    (info,) = MultiscaleInfo.from_zarr_node(sz_open(tmp_path / "s.zarr"))
    (si,) = info.scales
    assert si.chunk_shape == (10, 10) and si.shard_shape == (50, 50)
    assert si.chunk_grid_shape == (10, 13)


def test_zip_store(tmp_path: Path) -> None:
    attrs = _simple_attrs(3, [_ds("0", 1.0), _ds("1", 2.0)])
    path = tmp_path / "img.zip"
    store = zarr.storage.ZipStore(path, mode="w")
    _write(store, attrs, {"0": (8, 8), "1": (4, 4)}, 3)
    store.close()
    (info,) = MultiscaleInfo.from_zarr_node(sz_open(path))
    assert [s.shape for s in info.scales] == [(8, 8), (4, 4)]


def test_datasets_out_of_order_are_sorted_finest_first(tmp_path: Path) -> None:
    attrs = _simple_attrs(3, [_ds("coarse", 4.0), _ds("fine", 1.0), _ds("mid", 2.0, 7.0)])
    shapes = {"coarse": (4, 4), "fine": (16, 16), "mid": (8, 8)}
    group = _write(tmp_path / "o.zarr", attrs, shapes, 3)
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert [s.path for s in info.scales] == ["fine", "mid", "coarse"]
    assert [s.level for s in info.scales] == [0, 1, 2]
    # "mid" keeps its own translation; "coarse" gets 4/2 - 1/2 relative to the finest
    assert [s.offset[0] for s in info.scales] == [0.0, 7.0, 1.5]


def test_plain_array_and_numpy(tmp_path: Path) -> None:
    data = np.zeros((2, 5, 30, 40), dtype="int16")
    (info,) = MultiscaleInfo.from_zarr_node(sz_open(data))
    assert info.version is None and info.channels is None and info.unit is None
    assert info.unit_factor == 1.0
    assert info.axes_names == ("c", "z", "y", "x")
    (si,) = info.scales
    assert si.scale == (1.0,) * 4 and si.offset == (0.0,) * 4
    assert si.nchannels == 2 and si.spatial_shape == (5, 30, 40) and si.path == ""


def test_plain_group_of_levels_is_one_pyramid(tmp_path: Path) -> None:
    group = zarr.open_group(tmp_path / "p.zarr", mode="w")
    for i, shape in enumerate([(100, 101), (50, 51), (25, 26)]):
        group.create_array(f"s{i}", shape=shape, dtype="uint8")
    (info,) = MultiscaleInfo.from_zarr_node(sz_open(tmp_path / "p.zarr"))
    assert [s.path for s in info.scales] == ["s0", "s1", "s2"]
    assert [s.scale for s in info.scales] == [
        (1.0, 1.0),
        (2.0, 2.0),
        (4.0, 4.0),
    ]  # ceil(101 / 4) == 26
    assert info.scales[1].offset == (0.5, 0.5)


def test_plain_group_of_unrelated_arrays_gives_one_image_each(tmp_path: Path) -> None:
    group = zarr.open_group(tmp_path / "u.zarr", mode="w")
    group.create_array("image", shape=(64, 64), dtype="uint8")
    group.create_array("mask", shape=(64, 64, 3), dtype="uint8")
    infos = MultiscaleInfo.from_zarr_node(sz_open(tmp_path / "u.zarr"))
    assert [i.name for i in infos] == ["image", "mask"]
    assert infos[1].axes_names == ("y", "x", "c")


def test_group_of_ome_images_is_searched_one_level_down(tmp_path: Path) -> None:
    root = zarr.open_group(tmp_path / "r.zarr", mode="w")
    for name in ("a", "b"):
        sub = root.create_group(name)
        sub.attrs.update(_simple_attrs(3, [_ds("0", 1.0)]))
        sub.create_array("0", shape=(4, 4), dtype="uint8")
    root.create_group("empty")
    infos = MultiscaleInfo.from_zarr_node(sz_open(tmp_path / "r.zarr"))
    assert [i.scales[0].path for i in infos] == ["a/0", "b/0"]


def test_empty_group_raises(tmp_path: Path) -> None:
    zarr.open_group(tmp_path / "e.zarr", mode="w")
    with pytest.raises(ValueError, match=r"no multiscale image found in .*e.zarr"):
        MultiscaleInfo.from_zarr_node(sz_open(tmp_path / "e.zarr"))


def test_not_a_node_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"simplezarr.open\(\)"):
        MultiscaleInfo.from_zarr_node(np.zeros((3, 3)))


# -- older and newer versions, units, channels ---------------------------------------------


def test_ngff_03_axes_as_names_and_02_without_axes() -> None:
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=2)
    group.create_array("0", shape=(1, 2, 3, 8, 8), dtype="uint8")
    group.attrs["multiscales"] = [{"version": "0.2", "datasets": [{"path": "0"}]}]
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert info.axes_names == ("t", "c", "z", "y", "x") and info.version == "0.2"
    group.attrs["multiscales"] = [
        {"version": "0.3", "axes": ["t", "c", "z", "y", "x"], "datasets": [{"path": "0"}]}
    ]
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert [a.type for a in info.axes] == ["time", "channel", "space", "space", "space"]


def test_unknown_version_warns_and_reads() -> None:
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w")
    group.create_array("0", shape=(8, 8), dtype="uint8")
    attrs = _simple_attrs(3, [_ds("0", 3.0)])
    attrs["ome"]["version"] = "0.7"
    group.attrs.update(attrs)
    with pytest.warns(UserWarning, match=r"'0.7'"):
        (info,) = MultiscaleInfo.from_zarr_node(group)
    assert info.version == "0.7" and info.scales[0].scale == (3.0, 3.0)


@pytest.mark.parametrize(
    ("units", "unit", "factor", "warns"),
    [
        (("µm", "µm"), "micrometer", 1e-6, None),
        (("nm", "nanometer"), "nanometer", 1e-9, None),
        ((None, None), None, 1.0, None),
        (("furlong", "furlong"), "furlong", 1.0, "unknown spatial unit"),
        (("millimeter", "micrometer"), "micrometer", 1e-6, "different units"),
    ],
)
def test_units(units: tuple[Any, Any], unit: Any, factor: float, warns: str | None) -> None:
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w")
    group.create_array("0", shape=(8, 8), dtype="uint8")
    attrs = _simple_attrs(3, [_ds("0", 1.0)])
    for ax, u in zip(attrs["ome"]["multiscales"][0]["axes"], units, strict=True):
        ax.pop("unit")
        if u is not None:
            ax["unit"] = u
    group.attrs.update(attrs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (info,) = MultiscaleInfo.from_zarr_node(group)
    assert info.unit == unit and info.unit_factor == factor
    messages = [str(w.message) for w in caught]
    assert any(warns in m for m in messages) if warns else not messages


def test_channels_are_tolerant() -> None:
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w")
    group.create_array("0", shape=(3, 8, 8), dtype="uint8")
    attrs = {
        "ome": {
            "version": "0.5",
            "multiscales": [{"axes": ["c", "y", "x"], "datasets": [{"path": "0"}]}],
            "omero": {"channels": [{"color": "#ABC"}, {"label": "b", "window": {"end": 9}}, 5]},
        }
    }
    group.attrs.update(attrs)
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert info.channels == (
        ChannelInfo("0", "aabbcc"),
        ChannelInfo("b", None, None, 9.0),
        ChannelInfo("2"),
    )


# -- malformed metadata ---------------------------------------------------------------------


def _bad(mutate: Any) -> Any:
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w")
    group.create_array("0", shape=(8, 8), dtype="uint8")
    group.create_group("g")
    attrs = _simple_attrs(3, [_ds("0", 1.0)])
    mutate(attrs["ome"]["multiscales"][0])
    group.attrs.update(attrs)
    return group


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda ms: ms.pop("datasets"), r"'datasets' is missing or empty: None"),
        (lambda ms: ms.update(datasets=[]), r"'datasets' is missing or empty: \[\]"),
        (
            lambda ms: ms["datasets"][0].update(path="nope"),
            r"datasets\[0\]\.path 'nope' does not exist",
        ),
        (lambda ms: ms["datasets"][0].update(path="g"), r"datasets\[0\]\.path 'g' is a group"),
        (
            lambda ms: ms["datasets"][0].pop("path"),
            r"datasets\[0\]\.path must be a non-empty relative path",
        ),
        (lambda ms: ms["axes"].pop(), r"1 axes \['y'\] but dataset '0' has 2 dimensions"),
        (
            lambda ms: ms["datasets"][0].update(
                coordinateTransformations=[{"type": "scale", "scale": [1, 1, 1]}]
            ),
            r"scale \[1, 1, 1\] has 3 values, expected 2",
        ),
        (lambda ms: ms["axes"].append(7), r"axis 2 has no name: 7"),
        (lambda ms: ms.update(axes="yx"), r"'axes' must be a list, got 'yx'"),
    ],
)
def test_malformed_metadata_raises(mutate: Any, match: str) -> None:
    group = _bad(mutate)
    with pytest.raises(ValueError, match=match) as info:
        MultiscaleInfo.from_zarr_node(group)
    assert str(info.value).startswith(FN) and "memory://" in str(info.value)


def test_multiscales_not_a_list_raises() -> None:
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w")
    group.attrs["multiscales"] = {"datasets": []}
    with pytest.raises(ValueError, match=r"'multiscales' must be a non-empty list"):
        MultiscaleInfo.from_zarr_node(group)


# -- real files: OME-TIFF pyramids, plates named by path, labels, permuted axes ---------------


def test_ome_tiff_pyramid_gets_scales_from_shapes(tmp_path: Path) -> None:
    # tifffile's zarr store writes an OME-NGFF 0.1 group: no axes, no transforms
    tifffile = pytest.importorskip("tifffile")
    data = write_ome_tiff_pyramid(tmp_path / "p.ome.tif")
    store = tifffile.imread(tmp_path / "p.ome.tif", aszarr=True)
    try:
        group = zarr.open_group(store, mode="r")
        assert group.attrs["multiscales"][0]["version"] == "0.1"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # 0.1 has no transforms: nothing to warn about
            (info,) = MultiscaleInfo.from_zarr_node(group)
        assert info.axes_names == ("c", "y", "x")  # from tifffile's _ARRAY_DIMENSIONS "CYX"
        assert [s.shape for s in info.scales] == [(3, 1001, 777), (3, 500, 388), (3, 250, 194)]
        for level, f in enumerate([1.0, 2.0, 4.0]):
            si = info.scales[level]
            assert si.scale == (1.0, f, f)
            assert si.offset == (0.0, (f - 1) / 2, (f - 1) / 2)  # pixel centres line up
        np.testing.assert_array_equal(info.scales[0].array[...], data)
    finally:
        store.close()


def test_04_without_transforms_warns_and_uses_shape_ratios() -> None:
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=2)
    for path, shape in {"0": (3, 64, 96), "1": (3, 32, 48), "2": (3, 16, 24)}.items():
        group.create_array(path, shape=shape, dtype="uint8")
    axes = [{"name": "z", "type": "space"}, {"name": "y", "type": "space"}, {"name": "x"}]
    group.attrs["multiscales"] = [
        {
            "version": "0.4",
            "axes": axes,
            "datasets": [{"path": "0"}, {"path": "1"}, {"path": "2"}],
            "coordinateTransformations": [{"type": "scale", "scale": [5.0, 0.5, 0.5]}],
        }
    ]
    with pytest.warns(UserWarning, match=r"'1', '2' have no coordinateTransformations"):
        (info,) = MultiscaleInfo.from_zarr_node(group)
    # z keeps its size (factor 1), y and x halve; then the global scale applies
    assert [s.scale for s in info.scales] == [(5, 0.5, 0.5), (5, 1, 1), (5, 2, 2)]
    assert info.scales[2].offset == (0.0, 0.75, 0.75)  # (4 - 1) / 2 level-0 pixels of 0.5


def test_plate_images_are_named_by_path(tmp_path: Path) -> None:
    # iohub writes every field of a well as an image called "0"
    root = zarr.open_group(tmp_path / "plate.zarr", mode="w", zarr_format=3)
    wells = ["A/1", "A/2", "B/1"]
    root.attrs["ome"] = {
        "version": "0.5",
        "plate": {
            "columns": [{"name": "1"}, {"name": "2"}],
            "rows": [{"name": "A"}, {"name": "B"}],
            "wells": [{"path": w, "rowIndex": 0, "columnIndex": 0} for w in wells],
        },
    }
    for i, w in enumerate(wells):
        well = root.require_group(w)
        well.attrs["ome"] = {"version": "0.5", "well": {"images": [{"path": "0"}]}}
        field = well.create_group("0")
        attrs = _simple_attrs(3, [_ds("0", 1.0)])
        attrs["ome"]["multiscales"][0]["name"] = "0"
        field.attrs.update(attrs)
        field.create_array("0", shape=(8 + i, 8), dtype="uint8")
    infos = MultiscaleInfo.from_zarr_node(reopen(root))
    assert [i.name for i in infos] == ["0", "0", "0"]  # the metadata name stays a label
    assert [i.path for i in infos] == ["A/1/0", "A/2/0", "B/1/0"]
    assert [i.scales[0].path for i in infos] == ["A/1/0/0", "A/2/0/0", "B/1/0/0"]
    assert infos[1].scales[0].shape == (9, 8)
    assert not any(i.is_labels for i in infos)


def test_label_image_is_marked_and_keeps_its_axes(tmp_path: Path) -> None:
    from simplezarr.utils._pyramid import write_labels, write_multiscale

    image = np.zeros((2, 4, 32, 32), dtype="uint16")
    group = write_multiscale(image, str(tmp_path / "img.zarr"), axes="czyx", name="img")
    labels = np.zeros((4, 32, 32), dtype="uint32")
    labels[:, 4:9, 4:9] = 7
    write_labels(labels, group, "cells")
    (image_info,) = MultiscaleInfo.from_zarr_node(sz_open(tmp_path / "img.zarr"))
    (label,) = MultiscaleInfo.from_zarr_node(sz_open(tmp_path / "img.zarr" / "labels" / "cells"))
    assert label.is_labels and not image_info.is_labels
    assert "is_labels=True" in repr(label)
    # the c axis is real: the writer keeps the image's axes with one channel
    assert label.axes_names == ("c", "z", "y", "x") and label.scales[0].shape[0] == 1
    assert label.scales[0].nchannels == 1


# neuroglancer's all_0.6/simple/rotation.zarr: a rotation matrix that permutes z, y, x
ROTATION_06 = {
    "ome": {
        "version": "0.6.dev3",
        "multiscales": [
            {
                "name": "multiscales",
                "coordinateSystems": [
                    {
                        "name": "physical",
                        "axes": [
                            {"type": "space", "name": n, "unit": "micrometer"}
                            for n in ("z", "y", "x")
                        ],
                    }
                ],
                "datasets": [
                    {
                        "path": "array",
                        "coordinateTransformations": [
                            {
                                "type": "rotation",
                                "output": "physical",
                                "input": "array",
                                "rotation": [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
                            }
                        ],
                    }
                ],
            }
        ],
    }
}


def test_axis_permuting_transform_keeps_the_physical_plane_last() -> None:
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", attributes=ROTATION_06)
    group.create_array("array", shape=(4, 5, 6), dtype="uint8")
    with pytest.warns(UserWarning, match=r"'0.6.dev3'.*not known"):
        (info,) = MultiscaleInfo.from_zarr_node(group)
    (si,) = info.scales
    # physical z = array axis 2, y = array axis 0, x = array axis 1
    assert si.axes_names == ("y", "x", "z")
    assert si.axis_order == (2, 0, 1)
    assert si.spatial_axes == (2, 0, 1)  # world order: z, y, x
    y, x = si.spatial_axes[-2:]
    assert (si.axes[y].name, si.axes[x].name) == ("y", "x")  # the plane a viewer shows
    assert si.spatial_shape == (6, 4, 5)


def test_unpermuted_images_have_no_axis_order(tmp_path: Path) -> None:
    (info,) = MultiscaleInfo.from_zarr_node(sz_open(np.zeros((3, 8, 8), dtype="uint8")))
    assert info.scales[0].axis_order is None and info.scales[0].spatial_axes == (1, 2)


def test_plain_arrays_use_their_dimension_names() -> None:
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=3)
    group.create_array("a", shape=(5, 30, 40), dtype="uint8", dimension_names=["t", "y", "x"])
    group.create_array("b", shape=(5, 30, 40), dtype="uint8", dimension_names=["p", "q", "r"])
    a, b = MultiscaleInfo.from_zarr_node(group)
    assert a.axes_names == ("t", "y", "x") and a.axes[0].type == "time"
    assert b.axes_names == ("z", "y", "x")  # names without two spatial axes: guessed
