"""Tests for simplezarr/utils/_pyramid.py (write_multiscale, write_labels, downsample).

Everything is written to real stores (a directory under tmp_path, or a
MemoryStore) and read back with zarr, this project's multiscale module,
ome-zarr-py's reader and ngff-zarr.
"""

from __future__ import annotations

import json
import tracemalloc
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from simplezarr.utils._pyramid import downsample, write_labels, write_multiscale


def _reference_mean(values: np.ndarray, ratio: tuple[int, ...]) -> np.ndarray:
    """Mean of each block of pixels that exist (NaN padding, nanmean)."""
    out_shape = [-(-s // r) for s, r in zip(values.shape, ratio, strict=True)]
    padded = np.full([o * r for o, r in zip(out_shape, ratio, strict=True)], np.nan)
    padded[tuple(slice(0, s) for s in values.shape)] = values
    split = [v for o, r in zip(out_shape, ratio, strict=True) for v in (o, r)]
    return np.nanmean(padded.reshape(split), axis=tuple(range(1, 2 * len(ratio), 2)))


def _expected_levels(
    shape: tuple[int, ...], ratio: tuple[int, ...], n: int
) -> list[tuple[int, ...]]:
    shapes = [shape]
    for _ in range(n - 1):
        shapes.append(tuple(-(-s // r) for s, r in zip(shapes[-1], ratio, strict=True)))
    return shapes


def _transforms(ms: dict[str, Any]) -> list[tuple[list[float], list[float]]]:
    out = []
    for ds in ms["datasets"]:
        ct = {t["type"]: t for t in ds["coordinateTransformations"]}
        out.append((ct["scale"]["scale"], ct["translation"]["translation"]))
    return out


# -- downsample --------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "ratio", "dtype"),
    [
        ((64, 64), (2, 2), np.uint16),
        ((65, 63), (2, 2), np.uint8),
        ((5, 33, 17), (1, 2, 3), np.float32),
        ((7, 9, 11), (2, 2, 2), np.int16),
    ],
)
def test_downsample_mean_is_the_mean_of_existing_pixels(
    shape: tuple[int, ...], ratio: tuple[int, ...], dtype: Any
) -> None:
    rng = np.random.default_rng(1)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    else:
        values = rng.normal(size=shape).astype(dtype)
    got = downsample(values, ratio, "mean")
    ref = _reference_mean(values.astype(np.float64), ratio)
    assert got.dtype == values.dtype
    assert got.shape == ref.shape
    if np.issubdtype(dtype, np.integer):
        assert np.abs(got.astype(np.float64) - ref).max() <= 0.5 + 1e-6
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_downsample_mode_takes_the_most_frequent_label_ties_to_the_largest() -> None:
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 4, (31, 29)).astype(np.uint32)
    got = downsample(labels, (2, 2), "mode")
    padded = np.pad(labels, [(0, 1), (0, 1)], mode="edge")
    for i in range(got.shape[0]):
        for j in range(got.shape[1]):
            counts = Counter(padded[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].ravel().tolist())
            top = max(counts.values())
            assert got[i, j] == max(v for v, c in counts.items() if c == top)


def test_downsample_nearest_takes_the_first_pixel() -> None:
    labels = np.arange(7 * 9, dtype=np.uint16).reshape(7, 9)
    np.testing.assert_array_equal(downsample(labels, (2, 3), "nearest"), labels[::2, ::3])


# -- write_multiscale ----------------------------------------------------------


def test_levels_are_the_downsampled_levels_above_with_pixel_centre_transforms(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 60000, (1000, 1300), dtype=np.uint16)
    group = write_multiscale(
        data, tmp_path / "img.zarr", chunks=256, scale=[0.5, 0.25], translation=[10.0, -4.0]
    )
    keys = sorted(group.array_keys(), key=int)
    # levels until both sides fit one 256 chunk: 1300 -> 650 -> 325 -> 163
    assert [group[k].shape for k in keys] == _expected_levels(data.shape, (2, 2), 4)
    np.testing.assert_array_equal(group["0"][...], data)
    for lvl in range(1, len(keys)):
        above = group[str(lvl - 1)][...]
        np.testing.assert_array_equal(group[str(lvl)][...], downsample(above, (2, 2), "mean"))
        assert group[str(lvl)].chunks == tuple(min(256, s) for s in group[str(lvl)].shape)
    ome = group.attrs["ome"]
    assert ome["version"] == "0.5"
    ms = ome["multiscales"][0]
    assert [a["name"] for a in ms["axes"]] == ["y", "x"]
    for lvl, (scale, translation) in enumerate(_transforms(ms)):
        f = 2**lvl
        assert scale == [0.5 * f, 0.25 * f]
        assert translation == [10.0 + (f - 1) / 2 * 0.5, -4.0 + (f - 1) / 2 * 0.25]
    assert group["0"].metadata.dimension_names == ("y", "x")


def test_levels_argument_and_per_axis_downscale(tmp_path: Path) -> None:
    data = np.random.default_rng(4).random((3, 10, 300, 200)).astype(np.float32)
    group = write_multiscale(
        data,
        tmp_path / "img.zarr",
        axes="czyx",
        chunks=[1, 5, 64, 64],
        downscale={"y": 2, "x": 2},
        levels=3,
        units="micrometer",
    )
    assert [group[str(i)].shape for i in range(3)] == _expected_levels(data.shape, (1, 1, 2, 2), 3)
    assert "3" not in group
    assert group["0"].chunks == (1, 5, 64, 64)
    ms = group.attrs["ome"]["multiscales"][0]
    assert [a.get("unit") for a in ms["axes"]] == [None, "micrometer", "micrometer", "micrometer"]
    assert [a.get("type") for a in ms["axes"]] == ["channel", "space", "space", "space"]
    scale, translation = _transforms(ms)[2]
    assert scale == [1.0, 1.0, 4.0, 4.0] and translation == [0.0, 0.0, 1.5, 1.5]
    ref = downsample(downsample(data, (1, 1, 2, 2), "mean"), (1, 1, 2, 2), "mean")
    np.testing.assert_allclose(group["2"][...], ref, rtol=1e-6)


def test_levels_stop_when_the_plane_fits_one_chunk(tmp_path: Path) -> None:
    data = np.zeros((16, 1100, 1000), np.uint8)
    group = write_multiscale(data, tmp_path / "img.zarr")  # zyx, chunks (1, 512, 512)
    shapes = [group[k].shape for k in sorted(group.array_keys(), key=int)]
    # y, x: 1100 -> 550 -> 275 fits; z halves along with them
    assert shapes == [(16, 1100, 1000), (8, 550, 500), (4, 275, 250)]
    assert group["0"].chunks == (1, 512, 512)


def test_version_04_writes_zarr_v2_with_consolidated_metadata(tmp_path: Path) -> None:
    data = np.arange(600 * 500, dtype=np.int32).reshape(600, 500)
    path = tmp_path / "img.zarr"
    group = write_multiscale(data, path, version="0.4", chunks=128, name="ramp")
    assert group.metadata.zarr_format == 2
    attrs = json.loads((path / ".zattrs").read_text())
    ms = attrs["multiscales"][0]
    assert ms["version"] == "0.4" and ms["name"] == "ramp"
    zarray = json.loads((path / "0" / ".zarray").read_text())
    assert zarray["dimension_separator"] == "/" and zarray["chunks"] == [128, 128]
    consolidated = json.loads((path / ".zmetadata").read_text())["metadata"]
    assert {f"{d['path']}/.zarray" for d in ms["datasets"]} <= set(consolidated)
    assert consolidated[".zattrs"]["multiscales"] == attrs["multiscales"]
    reopened = zarr.open_group(str(path), mode="r", use_consolidated=True)
    np.testing.assert_array_equal(reopened["0"][...], data)


def test_sharded_write_reads_back(tmp_path: Path) -> None:
    data = np.random.default_rng(5).integers(0, 255, (1100, 900), dtype=np.uint8)
    group = write_multiscale(data, tmp_path / "img.zarr", chunks=128, shards=512)
    assert group["0"].shards == (512, 512) and group["0"].chunks == (128, 128)
    np.testing.assert_array_equal(group["0"][...], data)
    np.testing.assert_array_equal(group["1"][...], downsample(data, (2, 2), "mean"))
    # a level smaller than the shard gets a shard of whole chunks covering it
    last = group[str(len(list(group.array_keys())) - 1)]
    assert all(s % c == 0 for s, c in zip(last.shards, last.chunks, strict=True))


def test_sources_zarr_and_dask(tmp_path: Path) -> None:
    da = pytest.importorskip("dask.array")
    data = np.random.default_rng(6).integers(0, 1000, (700, 600), dtype=np.uint16)
    src = zarr.create_array(
        zarr.storage.MemoryStore(), shape=data.shape, chunks=(100, 150), dtype=data.dtype
    )
    src[...] = data
    a = write_multiscale(src, tmp_path / "from_zarr.zarr", chunks=256)
    b = write_multiscale(
        da.from_array(data, chunks=(333, 77)), tmp_path / "from_dask.zarr", chunks=256
    )
    for lvl in a.array_keys():
        np.testing.assert_array_equal(a[lvl][...], b[lvl][...])
    np.testing.assert_array_equal(a["0"][...], data)


def test_channels_get_omero_with_windows_from_the_coarsest_level(tmp_path: Path) -> None:
    data = np.stack([np.full((300, 300), 100 * (c + 1), np.uint16) for c in range(2)])
    data[1, :150] = 4000
    group = write_multiscale(
        data,
        tmp_path / "img.zarr",
        axes="cyx",
        chunks=128,
        channels=["dapi", {"label": "gfp", "color": "00FF00", "window": {"start": 1, "end": 2}}],
    )
    omero = group.attrs["ome"]["omero"]
    coarsest = group[str(len(list(group.array_keys())) - 1)][...]
    dapi, gfp = omero["channels"]
    assert dapi["label"] == "dapi"
    p0, p1 = np.percentile(coarsest[0], [0.1, 99.9])
    assert dapi["window"]["start"] == pytest.approx(p0)
    assert dapi["window"]["end"] == pytest.approx(max(p1, p0 + 1))
    assert (dapi["window"]["min"], dapi["window"]["max"]) == (0, 65535)
    assert gfp["color"] == "00FF00" and (gfp["window"]["start"], gfp["window"]["end"]) == (1, 2)


def test_progress_bar_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    data = np.zeros((600, 600), np.uint8)
    write_multiscale(data, tmp_path / "a.zarr", chunks=128, progress=True, name="demo")
    err = capsys.readouterr().err
    # 5 x 5 + 3 x 3 + 2 x 2 + 1 blocks over the four levels
    assert "demo" in err and "39/39" in err
    write_multiscale(data, tmp_path / "b.zarr", chunks=128, progress=False)
    assert capsys.readouterr().err == ""


def test_existing_destination_needs_overwrite(tmp_path: Path) -> None:
    data = np.zeros((64, 64), np.uint8)
    write_multiscale(data, tmp_path / "img.zarr")
    with pytest.raises(FileExistsError, match=r"write_multiscale\(\).*overwrite=True"):
        write_multiscale(data, tmp_path / "img.zarr")
    group = write_multiscale(data + 7, tmp_path / "img.zarr", overwrite=True)
    assert int(group["0"][0, 0]) == 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "median"}, "method 'median'"),
        ({"version": "0.3"}, "version '0.3'"),
        ({"axes": "zyx"}, "has 3 names for 2-d data"),
        ({"axes": "ab"}, "2 or 3 space axes"),
        ({"version": "0.4", "shards": 256}, "needs version '0.5'"),
        ({"scale": [1, 2, 3]}, "needs 2 values"),
        ({"downscale": {"q": 2}}, "unknown axes"),
        ({"levels": 0}, "levels=0"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=r"write_multiscale\(\)") as info:
        write_multiscale(np.zeros((32, 32), np.uint8), zarr.storage.MemoryStore(), **kwargs)
    assert message in str(info.value)


class _Ramp:
    """A lazily computed uint16 image: value = (y * 7 + x * 3) mod 65536, block by block."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.dtype = np.dtype(np.uint16)

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        ys, xs = key
        y = np.arange(ys.start, min(ys.stop, self.shape[0]), dtype=np.uint32)[:, None]
        x = np.arange(xs.start, min(xs.stop, self.shape[1]), dtype=np.uint32)[None, :]
        return ((y * 7 + x * 3) % 65536).astype(np.uint16)


def test_a_pyramid_larger_than_the_memory_it_uses(tmp_path: Path) -> None:
    source = _Ramp((8192, 8192))  # 128 MiB at level 0, ~170 MiB with its levels
    image_bytes = 8192 * 8192 * 2
    tracemalloc.start()
    try:
        group = write_multiscale(source, tmp_path / "big.zarr", chunks=512, workers=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < image_bytes / 8, f"peak {peak / 2**20:.1f} MiB"
    # spot checks against the source and the level above
    np.testing.assert_array_equal(group["0"][3000:3600, 7000:8192], source[3000:3600, 7000:8192])
    above = group["2"][512:1024, 0:1024]
    np.testing.assert_array_equal(group["3"][256:512, 0:512], downsample(above, (2, 2), "mean"))
    assert group[str(len(list(group.array_keys())) - 1)].shape == (512, 512)


# -- write_labels --------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.5", "0.4"])
def test_write_labels_matches_the_image(tmp_path: Path, version: str) -> None:
    rng = np.random.default_rng(7)
    image = rng.integers(0, 4000, (2, 6, 300, 260), dtype=np.uint16)
    labels = np.zeros((6, 300, 260), np.uint32)
    labels[:, 20:120, 30:90] = 5
    labels[:, 150:290, 100:250] = 9
    group = write_multiscale(
        image,
        tmp_path / "img.zarr",
        axes="czyx",
        chunks=[1, 2, 128, 128],
        downscale={"y": 2, "x": 2},
        scale=[1, 2, 0.5, 0.5],
        version=version,  # type: ignore[arg-type]
    )
    colors = {5: [255, 0, 0, 255], 9: [0, 0, 255, 128]}
    lab = write_labels(labels, group, "cells", colors=colors)
    image_keys = sorted(group.array_keys(), key=int)
    assert sorted(lab.array_keys(), key=int) == image_keys
    for k in image_keys:
        assert lab[k].shape == (1, *group[k].shape[1:])
        assert lab[k].dtype == np.uint32
    for lvl in range(1, len(image_keys)):
        np.testing.assert_array_equal(
            lab[str(lvl)][...], downsample(lab[str(lvl - 1)][...], (1, 1, 2, 2), "mode")
        )
    root = zarr.open_group(str(tmp_path / "img.zarr"), mode="r")
    attrs = dict(root["labels"].attrs)
    lattrs = dict(lab.attrs)
    if version == "0.5":
        attrs, lattrs = attrs["ome"], lattrs["ome"]
    assert attrs["labels"] == ["cells"]
    assert lattrs["image-label"]["source"] == {"image": "../../"}
    assert {c["label-value"]: c["rgba"] for c in lattrs["image-label"]["colors"]} == colors
    assert _transforms(lattrs["multiscales"][0]) == _transforms(
        dict(group.attrs).get("ome", dict(group.attrs))["multiscales"][0]
    )


def test_write_labels_rejects_a_wrong_shape(tmp_path: Path) -> None:
    group = write_multiscale(np.zeros((100, 100), np.uint8), tmp_path / "img.zarr")
    with pytest.raises(ValueError, match=r"write_labels\(\): labels shape \(99, 100\)"):
        write_labels(np.zeros((99, 100), np.uint16), group, "x")
    with pytest.raises(TypeError, match="not an integer type"):
        write_labels(np.zeros((100, 100), np.float32), group, "x")


# -- round trips through other readers -----------------------------------------------


def _write_sample(path: Path, version: str) -> tuple[list[tuple[int, ...]], list[Any]]:
    data = np.random.default_rng(8).integers(0, 255, (2, 700, 900), dtype=np.uint8)
    group = write_multiscale(
        data,
        path,
        axes="cyx",
        chunks=256,
        scale=[1.0, 0.4, 0.3],
        translation=[0.0, 5.0, -2.0],
        units={"y": "micrometer", "x": "micrometer"},
        version=version,  # type: ignore[arg-type]
    )
    keys = sorted(group.array_keys(), key=int)
    attrs = dict(group.attrs)
    ms = attrs.get("ome", attrs)["multiscales"][0]
    return [group[k].shape for k in keys], _transforms(ms)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_round_trip_multiscale_info(tmp_path: Path, version: str) -> None:
    from simplezarr.utils.multiscale import MultiscaleInfo

    shapes, transforms = _write_sample(tmp_path / "img.zarr", version)
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(str(tmp_path / "img.zarr"), mode="r"))
    assert [s.shape for s in info.scales] == shapes
    for s, (scale, translation) in zip(info.scales, transforms, strict=True):
        assert list(s.scale) == pytest.approx(scale)
        assert list(s.offset) == pytest.approx(translation)
    assert info.axes_names == ("c", "y", "x")


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_round_trip_ome_zarr_py(tmp_path: Path, version: str) -> None:
    pytest.importorskip("ome_zarr")
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    shapes, transforms = _write_sample(tmp_path / "img.zarr", version)
    fmt = FormatV04() if version == "0.4" else FormatV05()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        node = next(iter(Reader(parse_url(str(tmp_path / "img.zarr"), fmt=fmt))()))
    assert [tuple(d.shape) for d in node.data] == shapes
    got = [
        (
            {t["type"]: t for t in ct}["scale"]["scale"],
            {t["type"]: t for t in ct}["translation"]["translation"],
        )
        for ct in node.metadata["coordinateTransformations"]
    ]
    assert got == transforms


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_round_trip_ngff_zarr(tmp_path: Path, version: str) -> None:
    ngff_zarr = pytest.importorskip("ngff_zarr")
    shapes, transforms = _write_sample(tmp_path / "img.zarr", version)
    ms = ngff_zarr.from_ngff_zarr(str(tmp_path / "img.zarr"))
    assert [tuple(im.data.shape) for im in ms.images] == shapes
    for im, (scale, translation) in zip(ms.images, transforms, strict=True):
        assert [im.scale[d] for d in im.dims] == pytest.approx(scale)
        assert [im.translation[d] for d in im.dims] == pytest.approx(translation)
